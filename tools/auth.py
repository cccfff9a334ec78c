"""Who is calling: API keys sent as bearer tokens, resolved to an active staff user."""

from sqlmodel import Session, select

from core.security import hash_api_key
from db.base import as_utc, utc_now
from db.models import ApiKey, AuditChannel, StaffUser
from tools.base import Actor, Unauthorized


def authenticate(
    session: Session, token: str | None, channel: AuditChannel, request_id: str | None = None
) -> Actor:
    if not token:
        raise Unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    row = session.exec(
        select(ApiKey, StaffUser)
        .join(StaffUser, StaffUser.id == ApiKey.user_id)  # type: ignore[arg-type]
        .where(ApiKey.key_hash == hash_api_key(token))
    ).first()
    if row is None:
        raise Unauthorized("this API key is not valid")
    key, user = row
    now = utc_now()
    if key.revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    if key.expires_at is not None and as_utc(key.expires_at) <= now:
        raise Unauthorized("this API key has expired")
    if not user.is_active:
        raise Unauthorized(f"the account {user.email} is deactivated")
    return Actor(
        user_id=user.id, email=user.email, role=user.role, channel=channel, request_id=request_id
    )
