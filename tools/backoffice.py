"""Tools of the backoffice agent: staff users and their roles, API keys. The merchant's
configuration lives in tools/backoffice_config.py and the sales report and dashboard in
tools/backoffice_reports.py; both are imported here so loading this module registers them."""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from core.security import generate_api_key, hash_api_key, key_prefix
from db.base import as_utc, utc_now
from db.models import ApiKey, Role, StaffUser
from tools.backoffice_config import (
    ConfigOut,
    config_history,
    get_config,
    insert_unique,
    list_config,
    set_config,
)
from tools.backoffice_reports import dashboard_metrics, sales_report
from tools.base import ADMINS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate

__all__ = [
    "ConfigOut",
    "config_history",
    "dashboard_metrics",
    "get_config",
    "list_config",
    "sales_report",
    "set_config",
]

UserId = Annotated[int, Field(ge=1, description="Id of the staff user.")]
KeyId = Annotated[int, Field(ge=1, description="Id of the API key (not the key itself).")]
FullName = Annotated[str, Field(min_length=2, max_length=120, description="First and last name.")]
RoleArg = Annotated[Role, Field(description="admin, manager, support or viewer.")]


class StaffUserOut(BaseModel):
    id: int
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_seen_at: datetime | None
    active_api_keys: int = Field(description="Keys neither revoked nor expired.")


def _usable_keys(session: Session, user_ids: list[int]) -> dict[int, int]:
    now = utc_now()
    rows = session.exec(
        select(ApiKey.user_id, func.count())
        .where(
            col(ApiKey.user_id).in_(user_ids),
            col(ApiKey.revoked_at).is_(None),
            (col(ApiKey.expires_at).is_(None)) | (col(ApiKey.expires_at) > now),
        )
        .group_by(col(ApiKey.user_id))
    ).all()
    return dict(rows)


def _user_out(user: StaffUser, keys: int) -> StaffUserOut:
    return StaffUserOut(
        id=user.id or 0,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        is_active=user.is_active,
        created_at=as_utc(user.created_at),
        last_seen_at=as_utc(user.last_seen_at) if user.last_seen_at else None,
        active_api_keys=keys,
    )


def _snapshot(user: StaffUser) -> dict[str, object]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "role": Role(user.role).value,
        "is_active": user.is_active,
    }


@tool(agent="backoffice", path="/backoffice/staff", writes=True, roles=ADMINS)
def create_staff_user(
    ctx: ToolContext,
    email: Annotated[
        str,
        Field(
            max_length=254,
            pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$",
            description="Work email address; it is the login and must be unused.",
        ),
    ],
    full_name: FullName,
    role: RoleArg,
) -> StaffUserOut:
    """Create a staff account with a role (admin, manager, support, viewer). It can use the API
    once an admin creates an API key for it (create_api_key)."""
    email = email.strip().lower()
    if ctx.session.exec(select(StaffUser).where(func.lower(StaffUser.email) == email)).first():
        raise Conflict(f"a staff user with email {email} already exists", field="email")
    user = StaffUser(email=email, full_name=full_name.strip(), role=role, created_at=utc_now())
    insert_unique(ctx, user, f"a staff user with email {email} already exists", "email")
    ctx.record(
        action="create_staff_user",
        entity_type="staff_user",
        entity_id=user.id,
        event="staff_user_created",
        domain="backoffice",
        after=_snapshot(user),
    )
    return _user_out(user, 0)


@tool(agent="backoffice", path="/backoffice/staff")
def list_staff_users(
    ctx: ToolContext,
    role: Annotated[Role | None, Field(description="Only users with this role.")] = None,
    active: Annotated[
        bool | None, Field(description="true: active accounts only; false: deactivated only.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StaffUserOut]:
    """List staff users with their role, status and number of usable API keys."""
    statement = select(StaffUser)
    if role is not None:
        statement = statement.where(StaffUser.role == role)
    if active is not None:
        statement = statement.where(StaffUser.is_active == active)
    rows, next_cursor = paginate(
        ctx.session, statement, StaffUser.id, limit, cursor, descending=False
    )
    keys = _usable_keys(ctx.session, [u.id for u in rows if u.id])
    return Page(items=[_user_out(u, keys.get(u.id or 0, 0)) for u in rows], next_cursor=next_cursor)


@tool(agent="backoffice", path="/backoffice/staff/{user_id}")
def get_staff_user(ctx: ToolContext, user_id: UserId) -> StaffUserOut:
    """Get one staff user by id."""
    user = get_or_404(ctx.session, StaffUser, user_id, "staff user")
    return _user_out(user, _usable_keys(ctx.session, [user_id]).get(user_id, 0))


def _active_admins(session: Session) -> list[StaffUser]:
    """Active admins, locked so two requests cannot both remove 'the other' admin."""
    return list(
        session.exec(
            select(StaffUser)
            .where(StaffUser.role == Role.ADMIN, col(StaffUser.is_active).is_(True))
            .order_by(col(StaffUser.id))
            .with_for_update()
        ).all()
    )


@tool(
    agent="backoffice",
    path="/backoffice/staff/{user_id}",
    method="PATCH",
    writes=True,
    roles=ADMINS,
)
def update_staff_user(
    ctx: ToolContext,
    user_id: UserId,
    full_name: Annotated[
        str | None, Field(min_length=2, max_length=120, description="New full name.")
    ] = None,
    role: Annotated[Role | None, Field(description="New role.")] = None,
    is_active: Annotated[
        bool | None,
        Field(
            description="true reactivates a deactivated account; use deactivate_staff_user "
            "to deactivate one."
        ),
    ] = None,
) -> StaffUserOut:
    """Rename a staff user, change their role or reactivate their account. The last active
    admin cannot be demoted."""
    if is_active is False:
        raise InvalidInput(
            "use deactivate_staff_user to deactivate an account (it needs approval)",
            field="is_active",
        )
    if full_name is None and role is None and is_active is None:
        raise InvalidInput("nothing to change: give full_name, role or is_active", field=None)
    admins = _active_admins(ctx.session)
    user = get_or_404(ctx.session, StaffUser, user_id, "staff user", lock=True)
    before = _snapshot(user)
    if role is not None and role != Role.ADMIN and [a.id for a in admins] == [user.id]:
        raise Conflict(
            f"{user.email} is the last active admin; make another user admin before "
            "changing this role",
            field="role",
        )
    if full_name is not None:
        user.full_name = full_name.strip()
    if role is not None:
        user.role = role
    if is_active:
        user.is_active = True
    after = _snapshot(user)
    if after != before:
        ctx.session.add(user)
        ctx.record(
            action="update_staff_user",
            entity_type="staff_user",
            entity_id=user.id,
            event="staff_user_updated",
            domain="backoffice",
            before=before,
            after=after,
        )
    return _user_out(user, _usable_keys(ctx.session, [user_id]).get(user_id, 0))


class Deactivated(StaffUserOut):
    revoked_api_keys: list[int] = Field(description="Ids of the API keys revoked with it.")


@tool(
    agent="backoffice",
    path="/backoffice/staff/{user_id}/deactivate",
    writes=True,
    approval=True,
    roles=ADMINS,
)
def deactivate_staff_user(ctx: ToolContext, user_id: UserId) -> Deactivated:
    """Deactivate a staff account: it can no longer sign in and its API keys are revoked. The
    history it wrote is kept. You cannot deactivate yourself nor the last active admin."""
    admins = _active_admins(ctx.session)
    user = get_or_404(ctx.session, StaffUser, user_id, "staff user", lock=True)
    if not user.is_active:
        raise Conflict(f"{user.email} is already deactivated", field="user_id")
    if user.id == ctx.actor.user_id:
        raise Conflict("you cannot deactivate your own account; ask another admin", field="user_id")
    if [a.id for a in admins] == [user.id]:
        raise Conflict(f"{user.email} is the last active admin; it cannot be deactivated")
    before = _snapshot(user)
    user.is_active = False
    ctx.session.add(user)
    revoked = []
    for key in ctx.session.exec(
        select(ApiKey)
        .where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
        .with_for_update()
    ).all():
        _revoke(ctx, key, reason=f"account {user.email} deactivated")
        revoked.append(key.id or 0)
    ctx.record(
        action="deactivate_staff_user",
        entity_type="staff_user",
        entity_id=user.id,
        event="staff_user_deactivated",
        domain="backoffice",
        before=before,
        after={**_snapshot(user), "revoked_api_keys": revoked},
    )
    return Deactivated(**_user_out(user, 0).model_dump(), revoked_api_keys=revoked)


# -- API keys ------------------------------------------------------------------------------


class ApiKeyOut(BaseModel):
    id: int
    user_id: int
    user_email: str
    name: str
    prefix: str = Field(description="First characters of the key, to recognise it.")
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself. Shown this once: only its hash is stored.")


def _key_out(key: ApiKey, email: str) -> ApiKeyOut:
    expires = as_utc(key.expires_at)
    status: Literal["active", "expired", "revoked"] = (
        "revoked"
        if key.revoked_at
        else "expired"
        if expires is not None and expires <= utc_now()
        else "active"
    )
    return ApiKeyOut(
        id=key.id or 0,
        user_id=key.user_id,
        user_email=email,
        name=key.name,
        prefix=key.prefix,
        status=status,
        created_at=as_utc(key.created_at),
        expires_at=expires,
        last_used_at=as_utc(key.last_used_at),
        revoked_at=as_utc(key.revoked_at),
    )


@tool(agent="backoffice", path="/backoffice/api-keys", writes=True, roles=ADMINS)
def create_api_key(
    ctx: ToolContext,
    user_id: Annotated[int, Field(ge=1, description="Staff user the key acts as.")],
    name: Annotated[
        str, Field(min_length=2, max_length=80, description="What the key is for, e.g. 'ERP sync'.")
    ],
    expires_in_days: Annotated[
        int | None, Field(ge=1, le=3650, description="Days until it expires; none: never.")
    ] = None,
) -> ApiKeyCreated:
    """Create an API key for an active staff user. The key is returned once, in this result;
    only its SHA-256 is stored, so it cannot be shown again (revoke and create a new one)."""
    user = get_or_404(ctx.session, StaffUser, user_id, "staff user")
    if not user.is_active:
        raise Conflict(
            f"{user.email} is deactivated; reactivate the account first", field="user_id"
        )
    secret = generate_api_key()
    while ctx.session.exec(select(ApiKey).where(ApiKey.prefix == key_prefix(secret))).first():
        secret = generate_api_key()
    now = utc_now()
    key = ApiKey(
        user_id=user_id,
        name=name.strip(),
        prefix=key_prefix(secret),
        key_hash=hash_api_key(secret),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    ctx.session.add(key)
    ctx.session.flush()
    out = _key_out(key, user.email)
    ctx.record(
        action="create_api_key",
        entity_type="api_key",
        entity_id=key.id,
        event="api_key_created",
        domain="backoffice",
        after=out.model_dump(mode="json"),
    )
    return ApiKeyCreated(**out.model_dump(), key=secret)


def _revoke(ctx: ToolContext, key: ApiKey, *, reason: str) -> None:
    key.revoked_at = utc_now()
    ctx.session.add(key)
    ctx.record(
        action="revoke_api_key",
        entity_type="api_key",
        entity_id=key.id,
        event="api_key_revoked",
        domain="backoffice",
        before={"revoked_at": None},
        after={"prefix": key.prefix, "user_id": key.user_id, "reason": reason},
    )


@tool(
    agent="backoffice",
    path="/backoffice/api-keys/{key_id}/revoke",
    writes=True,
    approval=True,
    roles=ADMINS,
)
def revoke_api_key(
    ctx: ToolContext,
    key_id: KeyId,
    reason: Annotated[
        str, Field(min_length=3, max_length=200, description="Why, e.g. 'leaked in a log'.")
    ] = "revoked by an admin",
) -> ApiKeyOut:
    """Revoke an API key: requests made with it are refused from now on. The last usable key
    of the active admins cannot be revoked (nobody could administer Comptoir any more)."""
    admins = _active_admins(ctx.session)
    key = get_or_404(ctx.session, ApiKey, key_id, "API key", lock=True)
    user = get_or_404(ctx.session, StaffUser, key.user_id, "staff user")
    if key.revoked_at is not None:
        raise Conflict(f"API key {key.prefix}… was already revoked", field="key_id")
    expired = key.expires_at is not None and as_utc(key.expires_at) <= utc_now()
    if user.id in {a.id for a in admins} and not expired:
        usable = _usable_keys(ctx.session, [a.id or 0 for a in admins])
        if sum(usable.values()) <= 1:
            raise Conflict(
                f"{key.prefix}… is the last usable key of an active admin; create another admin "
                "key before revoking it",
                field="key_id",
            )
    _revoke(ctx, key, reason=reason.strip())
    return _key_out(key, user.email)


@tool(agent="backoffice", path="/backoffice/api-keys", roles=ADMINS)
def list_api_keys(
    ctx: ToolContext,
    user_id: Annotated[int | None, Field(ge=1, description="Only this user's keys.")] = None,
    include_revoked: Annotated[bool, Field(description="Also list revoked keys.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ApiKeyOut]:
    """List API keys with their prefix, owner, status and dates; never the key itself."""
    statement = select(ApiKey)
    if user_id is not None:
        statement = statement.where(ApiKey.user_id == user_id)
    if not include_revoked:
        statement = statement.where(col(ApiKey.revoked_at).is_(None))
    rows, next_cursor = paginate(ctx.session, statement, ApiKey.id, limit, cursor, descending=False)
    emails = dict(
        ctx.session.exec(
            select(StaffUser.id, StaffUser.email).where(
                col(StaffUser.id).in_({k.user_id for k in rows})
            )
        ).all()
    )
    return Page(
        items=[_key_out(k, emails.get(k.user_id, "")) for k in rows], next_cursor=next_cursor
    )
