"""System alerts and agent heartbeats, part of the monitoring agent's tools.

Other domains raise alerts through `raise_alert` (deduplicated by key) and resolve them
through `resolve_alert`; both write the audit entry and the event.
"""

from datetime import datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from db.base import as_utc, utc_now
from db.models import AgentHeartbeat, AlertSeverity, AlertStatus, HealthStatus, SystemAlert
from tools.base import AGENTS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate

AgentName = Annotated[
    str,
    Field(
        description="Agent name, e.g. orders or inventory.",
        json_schema_extra={"enum": list(AGENTS)},
    ),
]
AlertId = Annotated[int, Field(ge=1, description="Id of the system alert.")]
ACTIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


def check_agent(name: str) -> str:
    if name not in AGENTS:
        raise InvalidInput(
            f"there is no agent named {name!r}; agents are {', '.join(AGENTS)}", field="agent"
        )
    return name


class HeartbeatOut(BaseModel):
    id: int
    agent: str
    status: HealthStatus
    detail: str | None
    recorded_at: datetime
    alert_id: int | None = Field(
        default=None, description="System alert raised or resolved because of this heartbeat."
    )


@tool(agent="monitoring", path="/monitoring/heartbeats", writes=True)
def record_heartbeat(
    ctx: ToolContext,
    agent: AgentName,
    status: Annotated[HealthStatus, Field(description="healthy, degraded or down.")],
    detail: Annotated[
        str | None, Field(max_length=300, description="What the agent observed, if anything.")
    ] = None,
) -> HeartbeatOut:
    """Record an agent's heartbeat. A degraded or down heartbeat raises a system alert for
    that agent (once); the next healthy heartbeat resolves it."""
    check_agent(agent)
    beat = AgentHeartbeat(agent=agent, status=status, detail=detail, recorded_at=utc_now())
    ctx.session.add(beat)
    ctx.session.flush()
    ctx.record(
        action="record_heartbeat",
        entity_type="agent",
        entity_id=agent,
        event="agent_heartbeat_recorded",
        domain="monitoring",
        after={"heartbeat_id": beat.id, "status": status.value, "detail": detail},
    )
    key = f"agent_health:{agent}"
    alert_id = None
    if status == HealthStatus.HEALTHY:
        current = open_alert(ctx.session, key)
        if current is not None:
            resolve_alert(ctx, current)
            alert_id = current.id
    else:
        alert, _ = raise_alert(
            ctx,
            source=agent,
            severity=AlertSeverity.HIGH if status == HealthStatus.DOWN else AlertSeverity.MEDIUM,
            title=f"Agent {agent} is {status.value}",
            message=detail or f"the {agent} agent reported itself {status.value}",
            dedupe_key=key,
        )
        alert_id = alert.id
    return HeartbeatOut(
        id=beat.id or 0,
        agent=agent,
        status=status,
        detail=detail,
        recorded_at=beat.recorded_at,
        alert_id=alert_id,
    )


# -- system alerts -------------------------------------------------------------------------


class SystemAlertOut(BaseModel):
    id: int
    source: str
    severity: AlertSeverity
    status: AlertStatus
    title: str
    message: str
    dedupe_key: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None


class RaisedAlert(SystemAlertOut):
    deduplicated: bool = Field(description="True when an open alert with that key was returned.")


def _alert_out(alert: SystemAlert) -> SystemAlertOut:
    out = SystemAlertOut.model_validate(alert, from_attributes=True)
    out.created_at = as_utc(out.created_at)
    out.resolved_at = as_utc(out.resolved_at) if out.resolved_at else None
    return out


StatusFilter = Literal["active", "open", "acknowledged", "resolved", "all"]


@tool(agent="monitoring", path="/monitoring/alerts")
def list_system_alerts(
    ctx: ToolContext,
    status: Annotated[
        StatusFilter,
        Field(description="active (open or acknowledged, the default), or one status."),
    ] = "active",
    severity: Annotated[AlertSeverity | None, Field(description="Only this severity.")] = None,
    source: Annotated[
        str | None, Field(max_length=40, description="Only alerts raised by this component.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[SystemAlertOut]:
    """List system alerts (low stock, failing agents, provider incidents), newest first."""
    statement = select(SystemAlert)
    if status == "active":
        statement = statement.where(SystemAlert.status.in_(ACTIVE))  # type: ignore[attr-defined]
    elif status != "all":
        statement = statement.where(SystemAlert.status == AlertStatus(status))
    if severity is not None:
        statement = statement.where(SystemAlert.severity == severity)
    if source:
        statement = statement.where(SystemAlert.source == source)
    rows, next_cursor = paginate(ctx.session, statement, SystemAlert.id, limit, cursor)
    return Page(items=[_alert_out(a) for a in rows], next_cursor=next_cursor)


def open_alert(session: Session, dedupe_key: str) -> SystemAlert | None:
    return session.exec(
        select(SystemAlert)
        .where(SystemAlert.dedupe_key == dedupe_key, SystemAlert.status.in_(ACTIVE))  # type: ignore[attr-defined]
        .order_by(col(SystemAlert.id))
        .with_for_update()
    ).first()


def raise_alert(
    ctx: ToolContext,
    *,
    source: str,
    severity: AlertSeverity,
    title: str,
    message: str,
    dedupe_key: str | None,
) -> tuple[SystemAlert, bool]:
    """The open alert with this dedupe key, or a new one; True when it already existed."""
    if dedupe_key:
        if ctx.session.get_bind().dialect.name == "postgresql":
            # Two requests raising the same key queue here instead of both inserting.
            ctx.session.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": dedupe_key}
            )
        existing = open_alert(ctx.session, dedupe_key)
        if existing is not None:
            return existing, True
    alert = SystemAlert(
        source=source,
        severity=severity,
        title=title,
        message=message,
        dedupe_key=dedupe_key,
        created_at=utc_now(),
    )
    ctx.session.add(alert)
    ctx.session.flush()
    ctx.record(
        action="raise_system_alert",
        entity_type="system_alert",
        entity_id=alert.id,
        event="system_alert_raised",
        domain="monitoring",
        after=_alert_out(alert).model_dump(mode="json"),
    )
    return alert, False


@tool(agent="monitoring", path="/monitoring/alerts", writes=True)
def raise_system_alert(
    ctx: ToolContext,
    source: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_.-]{1,39}$",
            description="Agent or component raising it, lowercase, e.g. transport or kafka.",
        ),
    ],
    severity: Annotated[AlertSeverity, Field(description="info, low, medium, high or critical.")],
    title: Annotated[str, Field(min_length=3, max_length=200, description="One-line summary.")],
    message: Annotated[
        str, Field(max_length=2000, description="What happened and what to check.")
    ] = "",
    dedupe_key: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=120,
            description="Identifies the problem; while an alert with this key is open, raising "
            "it again returns that alert instead of a duplicate.",
        ),
    ] = None,
) -> RaisedAlert:
    """Raise a system alert (something wrong with the system, a provider or the stock). With a
    dedupe_key, an alert already open for the same problem is returned, not duplicated."""
    alert, existed = raise_alert(
        ctx,
        source=source,
        severity=severity,
        title=title.strip(),
        message=message.strip(),
        dedupe_key=dedupe_key,
    )
    return RaisedAlert(**_alert_out(alert).model_dump(), deduplicated=existed)


def resolve_alert(ctx: ToolContext, alert: SystemAlert) -> None:
    before = {"status": alert.status.value}
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = utc_now()
    alert.resolved_by = ctx.actor.email
    ctx.session.add(alert)
    ctx.record(
        action="resolve_system_alert",
        entity_type="system_alert",
        entity_id=alert.id,
        event="system_alert_resolved",
        domain="monitoring",
        before=before,
        after={"status": "resolved", "resolved_by": ctx.actor.email, "title": alert.title},
    )


@tool(agent="monitoring", path="/monitoring/alerts/{alert_id}/resolve", writes=True)
def resolve_system_alert(ctx: ToolContext, alert_id: AlertId) -> SystemAlertOut:
    """Mark a system alert resolved once the problem is fixed."""
    alert = get_or_404(ctx.session, SystemAlert, alert_id, "system alert", lock=True)
    if alert.status == AlertStatus.RESOLVED:
        raise Conflict(
            f"system alert {alert_id} was already resolved by {alert.resolved_by}",
            field="alert_id",
        )
    resolve_alert(ctx, alert)
    return _alert_out(alert)
