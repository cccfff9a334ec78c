"""Who is calling: API keys sent as bearer tokens, resolved to an active staff user."""

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.security import hash_api_key
from db.base import as_utc, utc_now
from db.models import ApiKey, AuditChannel, StaffUser
from tools.base import Actor, Unauthorized

# A Core query on every request: cheap enough that keys need no cache, so a revoked or
# expired key stops working at once.
_KEY_LOOKUP = (
    sa.select(
        ApiKey.revoked_at,
        ApiKey.expires_at,
        StaffUser.id,
        StaffUser.email,  # type: ignore[call-overload]
        StaffUser.role,
        StaffUser.is_active,
    )
    .join(StaffUser, StaffUser.id == ApiKey.user_id)
    .where(ApiKey.key_hash == sa.bindparam("key_hash"))
)


MISSING_KEY = "an API key is required: send 'Authorization: Bearer <key>'"


def authenticate(
    engine: Engine, token: str | None, channel: AuditChannel, request_id: str | None = None
) -> Actor:
    """The active staff user holding this API key, looked up on a connection of its own."""
    if not token:
        raise Unauthorized(MISSING_KEY)
    with engine.connect() as connection:
        return identify(connection, token, channel, request_id)


def identify(
    connection: sa.Connection,
    token: str | None,
    channel: AuditChannel,
    request_id: str | None = None,
) -> Actor:
    """The active staff user holding this API key, looked up on the caller's connection (REST
    looks it up in the tool's own transaction: see run_tool_for_caller)."""
    if not token:
        raise Unauthorized(MISSING_KEY)
    row = connection.execute(_KEY_LOOKUP, {"key_hash": hash_api_key(token)}).first()
    if row is None:
        raise Unauthorized("this API key is not valid")
    revoked_at, expires_at, user_id, email, role, is_active = row
    if revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    if expires_at is not None and as_utc(expires_at) <= utc_now():
        raise Unauthorized("this API key has expired")
    if not is_active:
        raise Unauthorized(f"the account {email} is deactivated")
    return Actor(user_id=user_id, email=email, role=role, channel=channel, request_id=request_id)
