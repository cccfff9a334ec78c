"""The merchant's system configuration, part of the backoffice agent's tools (registered by
tools/backoffice.py): typed settings, set by admins, with their history from the audit log."""

import re
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from db.base import as_utc, utc_now
from db.models import AuditChannel, AuditEntry, ConfigValueType, SystemSetting
from tools.base import ADMINS, Conflict, InvalidInput, NotFound, ToolContext, tool
from tools.common import Cursor, Limit, Page, paginate

ConfigKey = Annotated[
    str,
    Field(
        min_length=3,
        max_length=40,
        pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
        description="Setting key, dotted lowercase, e.g. returns.window_days.",
    ),
]
RATIOS = {"inventory.critical_ratio", "quality.defect_rate_alert"}
NON_NEGATIVE = ("_days", "_minutes", "_hours", "_cents", "_points", "_euro", "_ratio", "_alert")
FRAUD_THRESHOLDS = ("fraud.flag_threshold", "fraud.review_threshold", "fraud.block_threshold")


class ConfigOut(BaseModel):
    key: str
    value: Any
    value_type: ConfigValueType
    description: str
    updated_at: datetime
    updated_by: str


class ConfigSet(ConfigOut):
    previous_value: Any = Field(description="The value before this change (None if new).")
    changed: bool = Field(description="False when the value was already this one.")


def insert_unique(ctx: ToolContext, row: Any, message: str, field: str) -> None:
    """Insert a row whose unique key was checked free; if a concurrent request took it
    meanwhile (PostgreSQL), answer a Conflict instead of a 500."""
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
    except sa.exc.IntegrityError:
        raise Conflict(message, field=field) from None


def _out(row: SystemSetting) -> ConfigOut:
    return ConfigOut(
        key=row.key,
        value=row.value,
        value_type=row.value_type,
        description=row.description,
        updated_at=as_utc(row.updated_at),
        updated_by=row.updated_by,
    )


def _check_type(key: str, value: Any, value_type: ConfigValueType) -> Any:
    ok = {
        ConfigValueType.STRING: isinstance(value, str),
        ConfigValueType.INTEGER: isinstance(value, int) and not isinstance(value, bool),
        ConfigValueType.NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        ConfigValueType.BOOLEAN: isinstance(value, bool),
        ConfigValueType.JSON: isinstance(value, dict | list),
    }[value_type]
    if not ok:
        shown = f"{type(value).__name__} {value!r}"
        raise InvalidInput(
            f"{key} holds a {value_type.value} value; got the {shown}", field="value"
        )
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_rules(session: Session, key: str, value: Any, current: Any) -> None:
    """Rules of the settings Comptoir itself reads: ranges that keep the system sensible."""
    if key in RATIOS and not 0 < value <= 1:
        raise InvalidInput(f"{key} is a share: between 0 (excluded) and 1", field="value")
    if key in FRAUD_THRESHOLDS:
        levels: dict[str, Any] = {}
        for name in FRAUD_THRESHOLDS:
            row = session.get(SystemSetting, name)
            levels[name] = value if name == key else (row.value if row else None)
        if not 0 <= value <= 100:
            raise InvalidInput(f"{key} is a fraud score: between 0 and 100", field="value")
        ordered: list[float] = [levels[n] for n in FRAUD_THRESHOLDS if levels[n] is not None]
        if ordered != sorted(ordered):
            raise InvalidInput(
                "fraud thresholds must stay in order flag <= review <= block (now "
                + ", ".join(f"{n.split('.')[1]}={levels[n]}" for n in FRAUD_THRESHOLDS)
                + ")",
                field="value",
            )
    elif _is_number(value) and value < 0 and key.endswith(NON_NEGATIVE):
        raise InvalidInput(f"{key} cannot be negative", field="value")
    if key == "automations.enabled" and isinstance(current, dict):
        unknown = sorted(set(value) - set(current))
        if unknown:
            raise InvalidInput(
                f"unknown automations {unknown}; known: {sorted(current)}", field="value"
            )
        if not all(isinstance(v, bool) for v in value.values()):
            raise InvalidInput(
                "each automation is switched on or off: true or false", field="value"
            )
    if key == "documents.invoice_prefix" and not re.fullmatch(r"[A-Z0-9-]{1,10}", value):
        raise InvalidInput(
            "the invoice prefix is 1-10 capital letters, digits or dashes", field="value"
        )


@tool(
    agent="backoffice",
    path="/backoffice/config/{key}",
    method="PATCH",
    writes=True,
    roles=ADMINS,
)
def set_config(
    ctx: ToolContext,
    key: ConfigKey,
    value: Annotated[
        Any,
        Field(description='New value, of the setting\'s type: 30, 0.5, true, "FA" or {...}.'),
    ],
    value_type: Annotated[
        ConfigValueType | None,
        Field(
            description="string, integer, number, boolean or json. Needed for a new key; for "
            "an existing key it must match its type."
        ),
    ] = None,
    description: Annotated[
        str | None, Field(max_length=300, description="What the setting does (new keys).")
    ] = None,
) -> ConfigSet:
    """Change a system setting (return window, fraud thresholds, free-shipping threshold,
    automations...). The value must have the setting's type; a new key needs value_type.
    Every change is audited with the old and new value (see config_history)."""
    row = ctx.session.exec(
        select(SystemSetting).where(SystemSetting.key == key).with_for_update()
    ).first()
    if row is None:
        if value_type is None:
            raise InvalidInput(
                f"{key} is not a known setting; to create it, give its value_type",
                field="value_type",
            )
        _check_type(key, value, value_type)
        row = SystemSetting(
            key=key,
            value=value,
            value_type=value_type,
            description=(description or "").strip(),
            updated_at=utc_now(),
            updated_by=ctx.actor.email,
        )
        insert_unique(ctx, row, f"{key} was just created by someone else; read it again", "key")
        _record(ctx, key, None, row)
        return ConfigSet(**_out(row).model_dump(), previous_value=None, changed=True)
    if value_type is not None and value_type != row.value_type:
        raise InvalidInput(
            f"{key} is a {row.value_type.value} setting; its type cannot change",
            field="value_type",
        )
    _check_type(key, value, row.value_type)
    _check_rules(ctx.session, key, value, row.value)
    previous = row.value
    described = description is not None and description.strip() != row.description
    if previous == value and type(previous) is type(value) and not described:
        return ConfigSet(**_out(row).model_dump(), previous_value=previous, changed=False)
    before = {"value": previous, "value_type": row.value_type.value, "description": row.description}
    row.value = value
    if described:
        row.description = (description or "").strip()
    row.updated_at = utc_now()
    row.updated_by = ctx.actor.email
    ctx.session.add(row)
    _record(ctx, key, before, row)
    return ConfigSet(**_out(row).model_dump(), previous_value=previous, changed=True)


def _record(ctx: ToolContext, key: str, before: dict[str, Any] | None, row: SystemSetting) -> None:
    after = {"value": row.value, "value_type": row.value_type.value, "description": row.description}
    ctx.record(
        action="set_config",
        entity_type="system_setting",
        entity_id=key,
        event="config_changed",
        domain="backoffice",
        payload={
            "key": key,
            "old": None if before is None else before["value"],
            "new": row.value,
            "value_type": row.value_type.value,
        },
        before=before,
        after=after,
    )


@tool(agent="backoffice", path="/backoffice/config/{key}")
def get_config(ctx: ToolContext, key: ConfigKey) -> ConfigOut:
    """Get one system setting (return window, a fraud threshold...): its current value, type,
    description and who changed it last."""
    row = ctx.session.get(SystemSetting, key)
    if row is None:
        raise NotFound(f"there is no setting {key}; list_config shows them all", field="key")
    return _out(row)


@tool(agent="backoffice", path="/backoffice/config")
def list_config(
    ctx: ToolContext,
    prefix: Annotated[
        str | None,
        Field(max_length=40, description="Only keys starting with this, e.g. 'fraud.'."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ConfigOut]:
    """List the system settings (return window, fraud thresholds, free-shipping threshold,
    automations...) in key order, with their current values and types."""
    statement = select(SystemSetting).order_by(col(SystemSetting.key))
    if prefix:
        statement = statement.where(col(SystemSetting.key).startswith(prefix))
    start = cursor or 0  # settings are keyed by name: the cursor counts the rows already seen
    rows = list(ctx.session.exec(statement.offset(start).limit(limit + 1)).all())
    more = len(rows) > limit
    return Page(items=[_out(r) for r in rows[:limit]], next_cursor=start + limit if more else None)


class ConfigChange(BaseModel):
    audit_id: int
    key: str
    changed_at: datetime
    changed_by: str
    channel: AuditChannel
    old_value: Any
    new_value: Any
    value_type: str | None


@tool(agent="backoffice", path="/backoffice/config/{key}/history")
def config_history(
    ctx: ToolContext, key: ConfigKey, limit: Limit = 50, cursor: Cursor = None
) -> Page[ConfigChange]:
    """Who changed a setting, when, from which value to which, newest first (from the audit
    log)."""
    statement = select(AuditEntry).where(
        AuditEntry.entity_type == "system_setting", AuditEntry.entity_id == key
    )
    rows = list(ctx.session.exec(statement.limit(1)).all())
    if not rows and ctx.session.get(SystemSetting, key) is None:
        raise NotFound(f"there is no setting {key} and no history of one", field="key")
    entries, next_cursor = paginate(ctx.session, statement, AuditEntry.id, limit, cursor)
    return Page(
        items=[
            ConfigChange(
                audit_id=e.id or 0,
                key=key,
                changed_at=as_utc(e.created_at),
                changed_by=e.actor,
                channel=e.channel,
                old_value=(e.before or {}).get("value"),
                new_value=(e.after or {}).get("value"),
                value_type=(e.after or {}).get("value_type"),
            )
            for e in entries
        ],
        next_cursor=next_cursor,
    )
