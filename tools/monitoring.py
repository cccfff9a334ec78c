"""Tools of the monitoring agent: system overview, agent health, performance metrics measured
from every graph run, tool call and model call; heartbeats and system alerts live in
tools/monitoring_alerts.py (imported here, so loading this module registers them too)."""

import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from core.settings import get_settings
from db.base import as_utc, utc_now
from db.models import (
    AgentHeartbeat,
    AgentMetric,
    AlertSeverity,
    HealthStatus,
    MetricKind,
    Order,
    RiskAlert,
    SystemAlert,
)
from tools.base import AGENTS, ProviderError, ToolContext, tool
from tools.common import setting as _setting
from tools.monitoring_alerts import (
    ACTIVE,
    SystemAlertOut,
    check_agent,
    list_system_alerts,
    raise_alert,
    raise_system_alert,
    record_heartbeat,
    resolve_alert,
    resolve_system_alert,
)

__all__ = [
    "SystemAlertOut",
    "agents_health",
    "list_system_alerts",
    "performance_metrics",
    "raise_alert",
    "raise_system_alert",
    "record_heartbeat",
    "record_metric",
    "resolve_alert",
    "resolve_system_alert",
    "system_overview",
]

SEVERITY_ORDER = list(AlertSeverity)
# Refusals a caller caused (bad input, missing rights, business rules) are not failures of
# the system; every other unsuccessful call is.
REFUSALS = {"bad_request", "invalid_input", "not_found", "conflict", "forbidden", "unauthorized"}
TARGET_P95_MS = 200.0
TARGET_ERROR_RATE = 0.001

# -- metrics, written by run_tool and the graph ------------------------------------------


def record_metric(
    session: Session,
    *,
    agent: str,
    kind: MetricKind,
    name: str,
    duration_ms: float,
    success: bool,
    error_code: str | None = None,
    tokens_in: int = 0,
    tokens_out: int = 0,
) -> None:
    """Add one measurement to the session (the caller commits). Not an audited change."""
    session.add(
        AgentMetric(
            agent=agent[:40],
            kind=kind,
            name=name[:80],
            duration_ms=max(0.0, float(duration_ms)),
            success=success,
            error_code=error_code[:40] if error_code else None,
            tokens_in=max(0, tokens_in),
            tokens_out=max(0, tokens_out),
            recorded_at=utc_now(),
        )
    )


# -- overview and health -------------------------------------------------------------------


class Heartbeat(BaseModel):
    agent: str
    status: HealthStatus | None = Field(description="Last reported status; None if never.")
    detail: str | None = None
    recorded_at: datetime | None = None


class DatabaseCheck(BaseModel):
    backend: str
    ok: bool
    latency_ms: float
    error: str | None = None


class SystemOverview(BaseModel):
    generated_at: datetime
    database: DatabaseCheck
    open_system_alerts: dict[str, int] = Field(description="Open or acknowledged, by severity.")
    open_system_alerts_total: int
    open_risk_alerts: int
    orders_today: int = Field(
        description="Orders placed since midnight UTC, in any status (unpaid and cancelled too)."
    )
    agents: list[Heartbeat]


def _check_database(session: Session) -> DatabaseCheck:
    backend = session.get_bind().dialect.name
    started = time.perf_counter()
    try:
        session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        return DatabaseCheck(
            backend=backend,
            ok=False,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            error=type(getattr(error, "orig", None) or error).__name__,
        )
    return DatabaseCheck(
        backend=backend, ok=True, latency_ms=round((time.perf_counter() - started) * 1000, 2)
    )


def _last_heartbeats(session: Session) -> dict[str, AgentHeartbeat]:
    latest = (
        select(AgentHeartbeat.agent, func.max(AgentHeartbeat.id).label("id"))
        .group_by(AgentHeartbeat.agent)
        .subquery()
    )
    rows = session.exec(
        select(AgentHeartbeat).join(latest, AgentHeartbeat.id == latest.c.id)  # type: ignore[arg-type]
    ).all()
    return {row.agent: row for row in rows}


@tool(agent="monitoring", path="/monitoring/overview")
def system_overview(ctx: ToolContext) -> SystemOverview:
    """The state of the system at a glance: database latency, open system alerts by severity,
    active risk alerts, orders placed today and each agent's last heartbeat."""
    now = utc_now()
    database = _check_database(ctx.session)
    if not database.ok:
        raise ProviderError(
            f"the {database.backend} database does not answer ({database.error}); "
            "see agents_health for the other components"
        )
    by_severity = dict(
        ctx.session.exec(
            select(SystemAlert.severity, func.count())
            .where(SystemAlert.status.in_(ACTIVE))  # type: ignore[attr-defined]
            .group_by(SystemAlert.severity)
        ).all()
    )
    risk = ctx.session.exec(
        select(func.count()).select_from(RiskAlert).where(RiskAlert.status.in_(ACTIVE))  # type: ignore[attr-defined]
    ).one()
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=now.tzinfo)
    orders_today = ctx.session.exec(
        select(func.count()).select_from(Order).where(Order.placed_at >= midnight)
    ).one()
    beats = _last_heartbeats(ctx.session)
    return SystemOverview(
        generated_at=now,
        database=database,
        open_system_alerts={s.value: by_severity.get(s, 0) for s in SEVERITY_ORDER},
        open_system_alerts_total=sum(by_severity.values()),
        open_risk_alerts=risk,
        orders_today=orders_today,
        agents=[_heartbeat_out(agent, beats.get(agent)) for agent in AGENTS],
    )


def _heartbeat_out(agent: str, beat: AgentHeartbeat | None) -> Heartbeat:
    if beat is None:
        return Heartbeat(agent=agent, status=None)
    return Heartbeat(
        agent=agent, status=beat.status, detail=beat.detail, recorded_at=as_utc(beat.recorded_at)
    )


CheckStatus = Literal["ok", "down", "not_configured"]


class ComponentCheck(BaseModel):
    component: Literal["database", "vector_store", "llm_endpoint"]
    status: CheckStatus
    detail: str
    latency_ms: float | None = None


class AgentHealth(BaseModel):
    agent: str
    status: Literal["healthy", "degraded", "down", "unknown"]
    last_heartbeat: Heartbeat
    heartbeat_age_s: float | None
    calls_last_hour: int = Field(description="Tool calls measured in the last hour.")
    failures_last_hour: int = Field(description="Of those, failures other than refusals.")
    reasons: list[str] = Field(description="Why the status is what it is.")


class AgentsHealth(BaseModel):
    generated_at: datetime
    status: Literal["healthy", "degraded", "down"]
    checks: list[ComponentCheck]
    agents: list[AgentHealth]


def _probe(url: str, headers: dict[str, str] | None = None) -> tuple[bool, str, float]:
    started = time.perf_counter()
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            ok, detail = response.status < 400, f"HTTP {response.status} from {url}"
    except urllib.error.HTTPError as error:
        ok, detail = False, f"HTTP {error.code} from {url}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        ok, detail = False, f"{url} unreachable: {reason}"
    return ok, detail, round((time.perf_counter() - started) * 1000, 1)


def _vector_store_check() -> ComponentCheck:
    settings = get_settings()
    if settings.chroma_url:
        base = settings.chroma_url.rstrip("/")
        ok, detail, ms = _probe(f"{base}/api/v2/heartbeat")
        if not ok:
            ok, detail, ms = _probe(f"{base}/api/v1/heartbeat")
        return ComponentCheck(
            component="vector_store", status="ok" if ok else "down", detail=detail, latency_ms=ms
        )
    folder = Path(settings.data_dir) / "chroma"
    if folder.is_dir():
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        return ComponentCheck(
            component="vector_store",
            status="ok" if files else "down",
            detail=f"local index folder {folder} holds {files} files",
        )
    return ComponentCheck(
        component="vector_store",
        status="not_configured",
        detail=f"no CHROMA_URL and no local index at {folder} yet; the first knowledge "
        "search builds it (or run `comptoir kb reindex`)",
    )


def _llm_check() -> ComponentCheck:
    settings = get_settings()
    if not settings.openai_base_url and not settings.openai_api_key:
        return ComponentCheck(
            component="llm_endpoint",
            status="not_configured",
            detail="not configured: no OPENAI_BASE_URL or OPENAI_API_KEY; "
            "the offline planner serves chat",
        )
    base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {"Authorization": f"Bearer {settings.openai_api_key}"}
    ok, detail, ms = _probe(f"{base}/models", headers if settings.openai_api_key else None)
    return ComponentCheck(
        component="llm_endpoint", status="ok" if ok else "down", detail=detail, latency_ms=ms
    )


@tool(agent="monitoring", path="/monitoring/agents/health")
def agents_health(ctx: ToolContext) -> AgentsHealth:
    """Health of every agent, from its last heartbeat, from the tool calls measured in the last
    hour, and from live checks of the database (SELECT 1), the vector store (CHROMA_URL or the
    local index folder) and the LLM endpoint; absent settings are reported as not configured."""
    now = utc_now()
    db_check = _check_database(ctx.session)
    checks = [
        ComponentCheck(
            component="database",
            status="ok" if db_check.ok else "down",
            detail=f"{db_check.backend}: SELECT 1 "
            + ("answered" if db_check.ok else f"failed ({db_check.error})"),
            latency_ms=db_check.latency_ms,
        ),
        _vector_store_check(),
        _llm_check(),
    ]
    calls: dict[str, list[int]] = {agent: [0, 0] for agent in AGENTS}
    if not db_check.ok:  # nothing more can be read: every agent needs the database
        agents = [
            AgentHealth(
                agent=a,
                status="down",
                last_heartbeat=Heartbeat(agent=a, status=None),
                heartbeat_age_s=None,
                calls_last_hour=0,
                failures_last_hour=0,
                reasons=["the database does not answer; heartbeats and metrics are unreadable"],
            )
            for a in AGENTS
        ]
        return AgentsHealth(generated_at=now, status="down", checks=checks, agents=agents)
    stale_after = float(_setting(ctx.session, "monitoring.heartbeat_stale_minutes", 15)) * 60
    beats = _last_heartbeats(ctx.session)
    for agent, success, code in ctx.session.exec(
        select(AgentMetric.agent, AgentMetric.success, AgentMetric.error_code).where(
            AgentMetric.kind == MetricKind.TOOL_CALL,
            AgentMetric.recorded_at >= now - timedelta(hours=1),
        )
    ).all():
        if agent in calls:
            calls[agent][0] += 1
            calls[agent][1] += int(not success and code not in REFUSALS)
    agents = [
        _agent_health(agent, beats.get(agent), calls[agent], checks, now, stale_after)
        for agent in AGENTS
    ]
    worst = {c.status for c in checks} | {a.status for a in agents}
    status: Literal["healthy", "degraded", "down"] = (
        "down" if "down" in worst else "degraded" if "degraded" in worst else "healthy"
    )
    return AgentsHealth(generated_at=now, status=status, checks=checks, agents=agents)


def _agent_health(
    agent: str,
    beat: AgentHeartbeat | None,
    calls: list[int],
    checks: list[ComponentCheck],
    now: datetime,
    stale_after: float,
) -> AgentHealth:
    ranks = {"unknown": 0, "healthy": 1, "degraded": 2, "down": 3}
    status, reasons = "unknown", []
    age = None
    if beat is None:
        reasons.append("no heartbeat recorded")
    else:
        age = round((now - as_utc(beat.recorded_at)).total_seconds(), 1)
        if age > stale_after:
            reasons.append(f"last heartbeat {age / 60:.0f} min ago ({beat.status.value}), stale")
        else:
            status = beat.status.value
            reasons.append(f"heartbeat {beat.status.value} {age:.0f} s ago")
    total, failures = calls
    if total:
        rate = failures / total
        from_calls = "degraded" if failures >= 2 and rate >= 0.25 else "healthy"
        reasons.append(f"{total} tool calls in the last hour, {failures} failed")
        if ranks[from_calls] > ranks[status]:
            status = from_calls
    by_component = {c.component: c for c in checks}
    if by_component["database"].status == "down":
        status = "down"
        reasons.append("the database does not answer")
    if agent == "knowledge" and by_component["vector_store"].status == "down":
        status = "down" if status == "down" else "degraded"
        reasons.append("the vector store does not answer")
    return AgentHealth(
        agent=agent,
        status=status,  # type: ignore[arg-type]
        last_heartbeat=_heartbeat_out(agent, beat),
        heartbeat_age_s=age,
        calls_last_hour=total,
        failures_last_hour=failures,
        reasons=reasons,
    )


# -- performance ---------------------------------------------------------------------------


class KindStats(BaseModel):
    agent: str
    kind: MetricKind
    count: int
    errors: int = Field(description="Unsuccessful calls, refusals included.")
    failures: int = Field(description="Unsuccessful calls other than refusals (bad input, rules).")
    error_rate: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    tokens_in: int
    tokens_out: int
    error_codes: dict[str, int]


class AgentPerformance(BaseModel):
    agent: str
    tool_calls: int
    model_calls: int
    graph_runs: int
    error_rate: float
    p95_ms: float | None = Field(description="p95 latency of its tool calls.")
    tokens_in: int
    tokens_out: int


class PerformanceReport(BaseModel):
    since: datetime
    until: datetime
    method: str
    measurements: int
    error_rate: float | None
    p95_ms: float | None
    meets_targets: bool | None = Field(description="p95 under 200 ms and error rate under 0.1%.")
    by_agent: list[AgentPerformance]
    by_kind: list[KindStats]


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@tool(agent="monitoring", path="/monitoring/metrics")
def performance_metrics(
    ctx: ToolContext,
    hours: Annotated[int, Field(ge=1, le=24 * 90, description="Window: the last N hours.")] = 24,
    agent: Annotated[str | None, Field(description="Only this agent.")] = None,
) -> PerformanceReport:
    """Performance over a window from the measured graph runs, tool calls, model calls and HTTP
    requests: per agent and kind the count, error rate, p50/p95 latency, model calls and
    tokens, and whether the p95 < 200 ms and error rate < 0.1% targets are met."""
    if agent is not None:
        check_agent(agent)
    until = utc_now()
    since = until - timedelta(hours=hours)
    statement = sa.select(
        col(AgentMetric.agent),
        col(AgentMetric.kind),
        col(AgentMetric.duration_ms),
        col(AgentMetric.success),
        col(AgentMetric.error_code),
        col(AgentMetric.tokens_in),
        col(AgentMetric.tokens_out),
    ).where(col(AgentMetric.recorded_at) >= since, col(AgentMetric.recorded_at) <= until)
    if agent is not None:
        statement = statement.where(col(AgentMetric.agent) == agent)
    groups: dict[tuple[str, MetricKind], list[Any]] = {}
    for row in ctx.session.execute(statement).all():
        groups.setdefault((row[0], MetricKind(row[1])), []).append(row)
    by_kind = [_kind_stats(a, k, rows) for (a, k), rows in sorted(groups.items())]
    by_agent = []
    for name in sorted({a for a, _ in groups}):
        mine = {k: rows for (a, k), rows in groups.items() if a == name}
        tools_ = mine.get(MetricKind.TOOL_CALL, [])
        everything = [row for rows in mine.values() for row in rows]
        by_agent.append(
            AgentPerformance(
                agent=name,
                tool_calls=len(tools_),
                model_calls=len(mine.get(MetricKind.MODEL_CALL, [])),
                graph_runs=len(mine.get(MetricKind.GRAPH_RUN, [])),
                error_rate=round(sum(not r[3] for r in everything) / len(everything), 4),
                p95_ms=round(percentile([r[2] for r in tools_], 0.95), 1) if tools_ else None,
                tokens_in=sum(r[5] for r in everything),
                tokens_out=sum(r[6] for r in everything),
            )
        )
    rows = [row for rows in groups.values() for row in rows]
    calls = [r for r in rows if r[1] in (MetricKind.TOOL_CALL, MetricKind.HTTP_REQUEST)]
    failed = sum(not r[3] and r[4] not in REFUSALS for r in calls)
    error_rate = round(failed / len(calls), 4) if calls else None
    p95 = round(percentile([r[2] for r in calls], 0.95), 1) if calls else None
    return PerformanceReport(
        since=since,
        until=until,
        method="latency percentiles by linear interpolation over every measurement in the "
        "window; target error rate counts failures of tool calls and HTTP requests "
        "(refusals such as invalid input or not found excluded)",
        measurements=len(rows),
        error_rate=error_rate,
        p95_ms=p95,
        meets_targets=None
        if p95 is None or error_rate is None
        else p95 < TARGET_P95_MS and error_rate < TARGET_ERROR_RATE,
        by_agent=by_agent,
        by_kind=by_kind,
    )


def _kind_stats(agent: str, kind: MetricKind, rows: list[Any]) -> KindStats:
    durations = [r[2] for r in rows]
    codes: dict[str, int] = {}
    for r in rows:
        if not r[3]:
            codes[r[4] or "unknown"] = codes.get(r[4] or "unknown", 0) + 1
    errors = sum(codes.values())
    return KindStats(
        agent=agent,
        kind=kind,
        count=len(rows),
        errors=errors,
        failures=sum(n for code, n in codes.items() if code not in REFUSALS),
        error_rate=round(errors / len(rows), 4),
        p50_ms=round(percentile(durations, 0.5), 1),
        p95_ms=round(percentile(durations, 0.95), 1),
        max_ms=round(max(durations), 1),
        tokens_in=sum(r[5] for r in rows),
        tokens_out=sum(r[6] for r in rows),
        error_codes=codes,
    )
