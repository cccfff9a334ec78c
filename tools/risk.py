"""Tools of the risk agent: anomaly detection in daily business metrics read from the
database, and the risk alerts it raises (list, acknowledge, resolve). Risk assessment by
category lives in tools/risk_assessment.py (imported here, so it registers with this module).
"""

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.base import as_utc, utc_now
from db.models import (
    AlertSeverity,
    AlertStatus,
    FraudCheck,
    FraudDecision,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    RiskAlert,
    RiskCategory,
    StockMovement,
)
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, day_of, get_or_404, paginate
from tools.risk_assessment import assess_risk, setting

MetricName = Literal[
    "daily_revenue", "refund_rate", "cancellation_rate", "stock_movements", "fraud_blocks"
]
METRICS: tuple[MetricName, ...] = (
    "daily_revenue",
    "refund_rate",
    "cancellation_rate",
    "stock_movements",
    "fraud_blocks",
)
CATEGORY: dict[str, RiskCategory] = {
    "daily_revenue": RiskCategory.REVENUE,
    "refund_rate": RiskCategory.REFUNDS,
    "cancellation_rate": RiskCategory.CANCELLATIONS,
    "stock_movements": RiskCategory.STOCK,
    "fraud_blocks": RiskCategory.FRAUD,
}
LABEL = {
    "daily_revenue": "Daily revenue",
    "refund_rate": "Refund rate",
    "cancellation_rate": "Cancellation rate",
    "stock_movements": "Stock movements",
    "fraud_blocks": "Fraud blocks",
}
# Only rises are risks for rates and blocks; revenue and stock movements are watched both ways.
TWO_SIDED = {"daily_revenue", "stock_movements"}
# Scale used when the baseline has no spread at all (every day the same value).
MIN_SCALE = {
    "daily_revenue": 100.0,
    "refund_rate": 0.01,
    "cancellation_rate": 0.01,
    "stock_movements": 1.0,
    "fraud_blocks": 1.0,
}
BASELINE_DAYS = 28
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


def stored_metric(metric: str) -> str:
    """The name stored on risk alerts: daily_<metric>, as the demo's outage alert has it."""
    return metric if metric.startswith("daily_") else f"daily_{metric}"


def day_label(day: date) -> str:
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def _by_day(session: Session, column: Any, since: datetime, until: datetime, *values: Any) -> Any:
    day = day_of(session, column)
    statement = sa.select(day, *values).where(column >= since, column < until).group_by(day)
    return {date.fromisoformat(str(row[0])[:10]): row[1:] for row in session.execute(statement)}


@dataclass
class DailySeries:
    orders: dict[date, int]
    values: dict[str, dict[date, float]]


def daily_series(session: Session, first: date, last: date) -> DailySeries:
    """Every metric for each day from `first` to `last`, from orders, refunds, movements and
    fraud checks."""
    since = datetime.combine(first, time.min, tzinfo=UTC)
    until = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    kept = col(Order.status).not_in([OrderStatus.PENDING, OrderStatus.CANCELLED])
    orders = _by_day(
        session,
        col(Order.placed_at),
        since,
        until,
        func.count(),
        func.sum(sa.case((col(Order.status) == OrderStatus.CANCELLED, 1), else_=0)),
        func.sum(sa.case((kept, col(Order.total_cents)), else_=0)),
    )
    refunds = _by_day(
        session,
        col(Refund.created_at),
        since,
        until,
        func.count().filter(col(Refund.status) == RefundStatus.SUCCEEDED),
    )
    moved = _by_day(
        session,
        col(StockMovement.created_at),
        since,
        until,
        func.sum(func.abs(col(StockMovement.quantity))),
    )
    blocks = _by_day(
        session,
        col(FraudCheck.created_at),
        since,
        until,
        func.count().filter(col(FraudCheck.decision) == FraudDecision.BLOCK),
    )
    counts = {day: int(row[0]) for day, row in orders.items()}
    values: dict[str, dict[date, float]] = {m: {} for m in METRICS}
    day = first
    while day <= last:
        n, cancelled, revenue = orders.get(day, (0, 0, 0))
        values["daily_revenue"][day] = float(revenue or 0)
        values["stock_movements"][day] = float((moved.get(day) or (0,))[0] or 0)
        values["fraud_blocks"][day] = float((blocks.get(day) or (0,))[0] or 0)
        if n:
            values["cancellation_rate"][day] = (cancelled or 0) / n
            values["refund_rate"][day] = float((refunds.get(day) or (0,))[0] or 0) / n
        day += timedelta(days=1)
    return DailySeries(orders=counts, values=values)


def robust_z(value: float, baseline: list[float], min_scale: float) -> tuple[float, float, float]:
    """(z, median, scale): z = (value - median) / scale with scale = 1.4826 * MAD, or
    1.2533 * mean absolute deviation when the MAD is 0, or `min_scale` when both are 0."""
    median = statistics.median(baseline)
    deviations = [abs(x - median) for x in baseline]
    scale = 1.4826 * statistics.median(deviations)
    if scale == 0:
        scale = 1.2533 * statistics.fmean(deviations)
    scale = max(scale, 0.0) or min_scale
    return (value - median) / scale, median, scale


class Anomaly(BaseModel):
    metric: MetricName
    category: RiskCategory
    day: date
    observed: float
    expected: float = Field(description="Median of the previous 28 days.")
    scale: float = Field(description="Robust spread used as the z-score's denominator.")
    z: float
    direction: Literal["spike", "drop"]
    orders: int = Field(description="Orders placed that day.")
    alert_id: int
    new_alert: bool = Field(description="False when an alert for this metric and day existed.")


class MetricCheck(BaseModel):
    metric: MetricName
    days_checked: int
    days_skipped: int = Field(description="Days with too few orders or too short a baseline.")
    anomalies: int


class Detection(BaseModel):
    start: date
    end: date
    method: str
    threshold: float
    min_orders: int
    metrics: list[MetricCheck]
    anomalies: list[Anomaly]
    alerts_created: int


def method_text(threshold: float, min_orders: int) -> str:
    return (
        f"robust z-score of each day against the previous {BASELINE_DAYS} days: "
        f"(x - median) / (1.4826 MAD), or 1.2533 x mean absolute deviation when the MAD is 0; "
        f"|z| >= {threshold:g}; days with fewer than {min_orders} orders skipped"
    )


@tool(agent="risk", path="/risk/anomalies/detect", writes=True)
def detect_anomalies(
    ctx: ToolContext,
    end: Annotated[
        date | None, Field(description="Last day checked (default: yesterday, a full day).")
    ] = None,
    days: Annotated[int, Field(ge=1, le=90, description="How many days to check.")] = 7,
    metrics: Annotated[
        list[MetricName] | None,
        Field(
            description="Metrics to check (default all): daily_revenue, refund_rate, "
            "cancellation_rate, stock_movements, fraud_blocks."
        ),
    ] = None,
) -> Detection:
    """Look for anomalies in daily business metrics computed from the database (revenue,
    refund rate, cancellation rate, units of stock moved, fraud blocks): each day of the
    window is compared with the previous 28 days by a robust z-score (median and MAD,
    |z| >= 3.5), skipping days with too few orders. Each new anomaly becomes a risk alert;
    an anomaly already alerted for the same metric and day is reported, not alerted twice."""
    today = utc_now().date()
    end = end or today - timedelta(days=1)
    if end > today:
        raise InvalidInput(f"{end} is in the future; check days up to {today}", field="end")
    start = end - timedelta(days=days - 1)
    if ctx.session.get_bind().dialect.name == "postgresql":
        # Concurrent detections queue here, so none alerts a metric and day another just did.
        ctx.session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('detect_anomalies'))"))
    threshold = float(setting(ctx.session, "risk.anomaly_z_threshold", 3.5))
    min_orders = int(setting(ctx.session, "risk.anomaly_min_orders", 5))
    series = daily_series(ctx.session, start - timedelta(days=BASELINE_DAYS), end)
    checks, anomalies = [], []
    for metric in dict.fromkeys(metrics or METRICS):
        checked = skipped = found = 0
        for offset in range(days):
            day = start + timedelta(days=offset)
            z = _score(series, metric, day, min_orders)
            if z is None:
                skipped += 1
                continue
            checked += 1
            score, median, scale = z
            rising = score > 0
            if abs(score) < threshold or (not rising and metric not in TWO_SIDED):
                continue
            found += 1
            observed = series.values[metric][day]
            alert, new = _alert_for(
                ctx, metric, day, observed, median, score, series.orders.get(day, 0), threshold
            )
            anomalies.append(
                Anomaly(
                    metric=metric,
                    category=CATEGORY[metric],
                    day=day,
                    observed=round(observed, 4),
                    expected=round(median, 4),
                    scale=round(scale, 4),
                    z=round(score, 2),
                    direction="spike" if rising else "drop",
                    orders=series.orders.get(day, 0),
                    alert_id=alert.id or 0,
                    new_alert=new,
                )
            )
        checks.append(
            MetricCheck(metric=metric, days_checked=checked, days_skipped=skipped, anomalies=found)
        )
    return Detection(
        start=start,
        end=end,
        method=method_text(threshold, min_orders),
        threshold=threshold,
        min_orders=min_orders,
        metrics=checks,
        anomalies=anomalies,
        alerts_created=sum(a.new_alert for a in anomalies),
    )


def _score(
    series: DailySeries, metric: str, day: date, min_orders: int
) -> tuple[float, float, float] | None:
    if series.orders.get(day, 0) < min_orders:
        return None
    baseline = [
        series.values[metric][d]
        for d in (day - timedelta(days=i) for i in range(1, BASELINE_DAYS + 1))
        if series.orders.get(d, 0) >= min_orders and d in series.values[metric]
    ]
    if len(baseline) < BASELINE_DAYS // 2 or day not in series.values[metric]:
        return None
    return robust_z(series.values[metric][day], baseline, MIN_SCALE[metric])


def _describe(metric: str, observed: float, median: float) -> tuple[str, str]:
    if metric == "daily_revenue":
        return f"{observed / 100:,.2f} EUR", f"{median / 100:,.2f} EUR"
    if metric.endswith("_rate"):
        return f"{observed:.1%}", f"{median:.1%}"
    return f"{observed:g}", f"{median:g}"


def _alert_for(
    ctx: ToolContext,
    metric: str,
    day: date,
    observed: float,
    median: float,
    z: float,
    orders: int,
    threshold: float,
) -> tuple[RiskAlert, bool]:
    stored, suffix = stored_metric(metric), f" on {day_label(day)}"
    existing = ctx.session.exec(
        select(RiskAlert)
        .where(RiskAlert.metric == stored, col(RiskAlert.title).endswith(suffix))
        .order_by(col(RiskAlert.id))
    ).first()
    if existing is not None:
        return existing, False
    severity = (
        AlertSeverity.CRITICAL
        if abs(z) >= 2 * threshold + 1
        else AlertSeverity.HIGH
        if abs(z) >= threshold + 1.5
        else AlertSeverity.MEDIUM
    )
    seen, usual = _describe(metric, observed, median)
    direction = "spike" if z > 0 else "drop"
    alert = RiskAlert(
        category=CATEGORY[metric],
        severity=severity,
        title=f"{LABEL[metric]} {direction}{suffix}",
        metric=stored,
        observed_value=round(observed, 4),
        expected_value=round(median, 4),
        method=f"robust z-score against the previous {BASELINE_DAYS} days: (x - median) / "
        f"(1.4826 MAD, or 1.2533 x mean abs. deviation if MAD = 0), |z| >= {threshold:g}",
        detail=f"{LABEL[metric]} {seen} on {day.isoformat()} against a median of {usual} "
        f"over the previous {BASELINE_DAYS} days (z = {z:.1f}; {orders} orders that day).",
        detected_at=utc_now(),
    )
    ctx.session.add(alert)
    ctx.session.flush()
    ctx.record(
        action="detect_anomalies",
        entity_type="risk_alert",
        entity_id=alert.id,
        event="risk_alert_created",
        domain="risk",
        after=_out(alert).model_dump(mode="json"),
    )
    return alert, True


# -- risk alerts ---------------------------------------------------------------------------


class RiskAlertOut(BaseModel):
    id: int
    category: RiskCategory
    severity: AlertSeverity
    status: AlertStatus
    title: str
    metric: str
    observed_value: float
    expected_value: float
    method: str
    detail: str
    detected_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


def _out(alert: RiskAlert) -> RiskAlertOut:
    out = RiskAlertOut.model_validate(alert, from_attributes=True)
    for name in ("detected_at", "acknowledged_at", "resolved_at"):
        moment = getattr(out, name)
        setattr(out, name, as_utc(moment) if moment else None)
    return out


AlertId = Annotated[int, Field(ge=1, description="Id of the risk alert.")]


@tool(agent="risk", path="/risk/alerts")
def list_risk_alerts(
    ctx: ToolContext,
    status: Annotated[
        Literal["active", "open", "acknowledged", "resolved", "all"],
        Field(description="active (open or acknowledged, the default), one status, or all."),
    ] = "active",
    category: Annotated[RiskCategory | None, Field(description="Only this category.")] = None,
    severity: Annotated[AlertSeverity | None, Field(description="Only this severity.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RiskAlertOut]:
    """List risk alerts (anomalies in revenue, refunds, cancellations, stock or fraud),
    newest first; by default the active ones, not yet resolved."""
    statement = select(RiskAlert)
    if status == "active":
        statement = statement.where(
            col(RiskAlert.status).in_([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED])
        )
    elif status != "all":
        statement = statement.where(RiskAlert.status == AlertStatus(status))
    if category is not None:
        statement = statement.where(RiskAlert.category == category)
    if severity is not None:
        statement = statement.where(RiskAlert.severity == severity)
    rows, next_cursor = paginate(ctx.session, statement, RiskAlert.id, limit, cursor)
    return Page(items=[_out(a) for a in rows], next_cursor=next_cursor)


@tool(agent="risk", path="/risk/alerts/{alert_id}/acknowledge", writes=True)
def acknowledge_risk_alert(ctx: ToolContext, alert_id: AlertId) -> RiskAlertOut:
    """Acknowledge a risk alert: someone is looking into it. It stays active until resolved."""
    alert = get_or_404(ctx.session, RiskAlert, alert_id, "risk alert", lock=True)
    if alert.status != AlertStatus.OPEN:
        by = alert.resolved_by if alert.status == AlertStatus.RESOLVED else alert.acknowledged_by
        raise Conflict(
            f"risk alert {alert_id} is already {alert.status.value} (by {by})", field="alert_id"
        )
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = utc_now()
    alert.acknowledged_by = ctx.actor.email
    ctx.session.add(alert)
    ctx.record(
        action="acknowledge_risk_alert",
        entity_type="risk_alert",
        entity_id=alert.id,
        event="risk_alert_acknowledged",
        domain="risk",
        before={"status": "open"},
        after={"status": "acknowledged", "acknowledged_by": ctx.actor.email},
    )
    return _out(alert)


@tool(agent="risk", path="/risk/alerts/{alert_id}/resolve", writes=True, roles=MANAGERS)
def resolve_risk_alert(
    ctx: ToolContext,
    alert_id: AlertId,
    note: Annotated[
        str,
        Field(min_length=3, max_length=300, description="What was found and done about it."),
    ],
) -> RiskAlertOut:
    """Resolve a risk alert with a note saying what caused it and what was done."""
    alert = get_or_404(ctx.session, RiskAlert, alert_id, "risk alert", lock=True)
    if alert.status == AlertStatus.RESOLVED:
        raise Conflict(
            f"risk alert {alert_id} was already resolved by {alert.resolved_by}: "
            f"{alert.resolution_note}",
            field="alert_id",
        )
    before = {"status": alert.status.value}
    now = utc_now()
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = now
    alert.resolved_by = ctx.actor.email
    alert.resolution_note = note.strip()
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, ctx.actor.email
    ctx.session.add(alert)
    ctx.record(
        action="resolve_risk_alert",
        entity_type="risk_alert",
        entity_id=alert.id,
        event="risk_alert_resolved",
        domain="risk",
        before=before,
        after={"status": "resolved", "resolved_by": ctx.actor.email, "note": note.strip()},
    )
    return _out(alert)


__all__ = [
    "Detection",
    "RiskAlertOut",
    "acknowledge_risk_alert",
    "assess_risk",
    "daily_series",
    "detect_anomalies",
    "list_risk_alerts",
    "resolve_risk_alert",
    "robust_z",
]
