"""Risk assessment by category, part of the risk agent's tools (registered by tools/risk.py).

Each category is scored from a few factors read from the database. A factor scores 0 at its
normal level and its full weight at its alarming level, linearly in between; the weights of
a category add up to 100, so the score reads as a percentage of "everything alarming".
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.base import as_utc, utc_now
from db.models import (
    SOLD_STATUSES,
    AlertStatus,
    ConnectionStatus,
    DailyOrders,
    DailySales,
    FraudCheck,
    FraudDecision,
    MarketplaceConnection,
    MarketplaceMessage,
    MarketplaceOffer,
    MarketplaceOrder,
    MessageDirection,
    OfferStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    ProductVariant,
    Refund,
    RefundStatus,
    ReturnRequest,
    RiskAlert,
    RiskCategory,
    StockLevel,
    SyncStatus,
)
from tools.base import InvalidInput, ToolContext, tool
from tools.common import get_or_404, on_days, setting

BASELINE_DAYS = 90
METHOD = (
    "each factor scores 0 at its normal level and its full weight at its alarming level, "
    "linearly in between; weights add up to 100. Baselines are the 90 days before the window."
)


class RiskFactor(BaseModel):
    name: str
    value: float
    normal: float
    alarming: float
    weight: int
    points: float
    detail: str


class RiskAssessment(BaseModel):
    category: Literal["refunds", "stock", "cancellations", "fraud", "marketplace"]
    subject: str
    start: date
    end: date
    score: float = Field(description="0 (no risk) to 100.")
    level: Literal["low", "medium", "high", "critical"]
    method: str
    factors: list[RiskFactor]
    breakdown: dict[str, int] = Field(description="Counts behind the figures (e.g. reasons).")
    open_alerts: int = Field(description="Active risk alerts in this category.")


def factor(
    name: str, value: float, normal: float, alarming: float, weight: int, detail: str
) -> RiskFactor:
    span = alarming - normal
    share = 1.0 if span <= 0 and value > normal else 0.0 if span <= 0 else (value - normal) / span
    share = min(max(share, 0.0), 1.0)
    return RiskFactor(
        name=name,
        value=round(value, 4),
        normal=round(normal, 4),
        alarming=round(alarming, 4),
        weight=weight,
        points=round(weight * share, 1),
        detail=detail,
    )


def count_if(condition: Any) -> Any:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), 0 on no rows."""
    return func.coalesce(func.sum(sa.case((condition, 1), else_=0)), 0)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


class Window:
    def __init__(self, end: date, days: int) -> None:
        self.start = end - timedelta(days=days - 1)
        self.end = end
        self.since = datetime.combine(self.start, time.min, tzinfo=UTC)
        self.until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
        self.base_since = self.since - timedelta(days=BASELINE_DAYS)


def _count(session: Session, statement: Any) -> int:
    return int(session.exec(statement).one() or 0)


def _between(column: Any, since: datetime, until: datetime) -> Any:
    return sa.and_(col(column) >= since, col(column) < until)


def _revenue(session: Session, since: datetime, until: datetime) -> int:
    return _count(
        session,
        select(func.coalesce(func.sum(DailyOrders.total_cents), 0)).where(
            col(DailyOrders.status).in_(SOLD_STATUSES), on_days(col(DailyOrders.day), since, until)
        ),
    )


def _refunded(session: Session, since: datetime, until: datetime) -> int:
    return _count(
        session,
        select(func.coalesce(func.sum(Refund.amount_cents), 0)).where(
            Refund.status == RefundStatus.SUCCEEDED, _between(Refund.created_at, since, until)
        ),
    )


def _refunds(session: Session, w: Window) -> tuple[list[RiskFactor], dict[str, int]]:
    revenue, refunded = _revenue(session, w.since, w.until), _refunded(session, w.since, w.until)
    rate = _ratio(refunded, revenue)
    base = _ratio(
        _refunded(session, w.base_since, w.since), _revenue(session, w.base_since, w.since)
    )
    delivered = _count(
        session,
        select(func.count())
        .select_from(Order)
        .where(_between(Order.delivered_at, w.since, w.until)),
    )
    returns = dict(
        session.exec(
            select(ReturnRequest.reason, func.count())
            .where(_between(ReturnRequest.requested_at, w.since, w.until))
            .group_by(ReturnRequest.reason)
        ).all()
    )
    requested = sum(returns.values())
    return_rate = _ratio(requested, delivered)
    factors = [
        factor(
            "refund_rate_vs_baseline",
            rate,
            base,
            max(2 * base, base + 0.02),
            40,
            f"{refunded / 100:,.2f} EUR refunded on {revenue / 100:,.2f} EUR of sales "
            f"({rate:.1%}), against {base:.1%} over the previous {BASELINE_DAYS} days",
        ),
        factor("refund_rate", rate, 0.03, 0.10, 30, f"{rate:.1%} of sales refunded"),
        factor(
            "return_rate",
            return_rate,
            0.05,
            0.15,
            30,
            f"{requested} returns requested for {delivered} orders delivered ({return_rate:.1%})",
        ),
    ]
    return factors, {f"returns_{getattr(k, 'value', k)}": v for k, v in returns.items()}


def _cancellations(session: Session, w: Window) -> tuple[list[RiskFactor], dict[str, int]]:
    def rate(since: datetime, until: datetime) -> tuple[float, int, int]:
        cancelled_orders = sa.case(
            (col(DailyOrders.status) == OrderStatus.CANCELLED, DailyOrders.orders), else_=0
        )
        total, cancelled = session.exec(
            select(
                func.coalesce(func.sum(DailyOrders.orders), 0),
                func.coalesce(func.sum(cancelled_orders), 0),
            ).where(on_days(col(DailyOrders.day), since, until))
        ).one()
        return _ratio(cancelled, total), int(cancelled), int(total)

    current, cancelled, total = rate(w.since, w.until)
    base, _, _ = rate(w.base_since, w.since)
    payments, failed = session.exec(
        select(
            func.count(),
            count_if(col(Payment.status) == PaymentStatus.FAILED),
        ).where(_between(Payment.created_at, w.since, w.until))
    ).one()
    reasons = session.exec(
        select(Order.cancel_reason, func.count())
        .where(Order.status == OrderStatus.CANCELLED, _between(Order.placed_at, w.since, w.until))
        .group_by(col(Order.cancel_reason))
    ).all()
    failed_share = _ratio(failed, payments)
    factors = [
        factor(
            "cancellation_rate_vs_baseline",
            current,
            base,
            max(2 * base, base + 0.02),
            40,
            f"{cancelled} of {total} orders cancelled ({current:.1%}), against {base:.1%} over "
            f"the previous {BASELINE_DAYS} days",
        ),
        factor("cancellation_rate", current, 0.03, 0.10, 30, f"{current:.1%} of orders cancelled"),
        factor(
            "failed_payments",
            failed_share,
            0.03,
            0.10,
            30,
            f"{failed} of {payments} payments failed ({failed_share:.1%})",
        ),
    ]
    return factors, {reason or "no reason given": int(n) for reason, n in reasons}


def _stock(session: Session, w: Window) -> tuple[list[RiskFactor], dict[str, int]]:
    available = (
        select(
            StockLevel.variant_id,
            func.sum(StockLevel.on_hand - StockLevel.reserved).label("available"),
        )
        .group_by(col(StockLevel.variant_id))
        .subquery()
    )
    out_ids = set(
        session.exec(
            select(ProductVariant.id)
            .outerjoin(available, available.c.variant_id == ProductVariant.id)
            .where(
                ProductVariant.is_active,
                func.coalesce(available.c.available, 0) <= 0,
            )
        ).all()
    )
    active = _count(
        session, select(func.count()).select_from(ProductVariant).where(ProductVariant.is_active)
    )
    levels, below = session.exec(
        select(
            func.count(),
            count_if(
                col(StockLevel.on_hand) - col(StockLevel.reserved) < col(StockLevel.reorder_point)
            ),
        ).where(StockLevel.reorder_point > 0)
    ).one()
    sold = session.exec(
        select(DailySales.variant_id, func.sum(DailySales.units))
        .where(col(DailySales.day) >= w.start, col(DailySales.day) <= w.end)
        .group_by(col(DailySales.variant_id))
    ).all()
    units = sum(int(n) for _, n in sold)
    at_risk = sum(int(n) for variant, n in sold if variant in out_ids)
    out_share, below_share = _ratio(len(out_ids), active), _ratio(below, levels)
    demand = _ratio(at_risk, units)
    factors = [
        factor(
            "out_of_stock_skus",
            out_share,
            0.02,
            0.10,
            40,
            f"{len(out_ids)} of {active} active SKUs have no available unit in any warehouse",
        ),
        factor(
            "below_reorder_point",
            below_share,
            0.05,
            0.20,
            30,
            f"{below} of {levels} stock levels are below their reorder point",
        ),
        factor(
            "demand_on_out_of_stock",
            demand,
            0.02,
            0.10,
            30,
            f"{at_risk} of {units} units sold in the window are SKUs now out of stock",
        ),
    ]
    return factors, {"out_of_stock_skus": len(out_ids), "below_reorder_point": int(below)}


def _fraud(session: Session, w: Window) -> tuple[list[RiskFactor], dict[str, int]]:
    def stats(since: datetime, until: datetime) -> tuple[int, int, float]:
        total, flagged, average = session.exec(
            select(
                func.count(),
                count_if(col(FraudCheck.decision).in_([FraudDecision.REVIEW, FraudDecision.BLOCK])),
                func.coalesce(func.avg(FraudCheck.score), 0),
            ).where(_between(FraudCheck.created_at, since, until))
        ).one()
        return int(total), int(flagged), float(average)

    total, flagged, average = stats(w.since, w.until)
    base_total, base_flagged, base_average = stats(w.base_since, w.since)
    share, base_share = _ratio(flagged, total), _ratio(base_flagged, base_total)
    decisions = session.exec(
        select(FraudCheck.decision, func.count())
        .where(_between(FraudCheck.created_at, w.since, w.until))
        .group_by(FraudCheck.decision)
    ).all()
    factors = [
        factor(
            "held_share",
            share,
            0.03,
            0.10,
            35,
            f"{flagged} of {total} fraud checks sent to review or blocked ({share:.1%})",
        ),
        factor(
            "held_share_vs_baseline",
            share,
            base_share,
            max(2 * base_share, base_share + 0.02),
            35,
            f"{share:.1%} held, against {base_share:.1%} over the previous {BASELINE_DAYS} days",
        ),
        factor(
            "average_score_vs_baseline",
            average,
            base_average,
            base_average + 15,
            30,
            f"average fraud score {average:.1f}, against {base_average:.1f} before",
        ),
    ]
    return factors, {str(d.value if hasattr(d, "value") else d): int(n) for d, n in decisions}


def _marketplace(
    session: Session, w: Window, connection: MarketplaceConnection
) -> tuple[list[RiskFactor], dict[str, int]]:
    now = utc_now()
    status_value = {
        ConnectionStatus.ACTIVE: 0.0,
        ConnectionStatus.PAUSED: 0.5,
        ConnectionStatus.ERROR: 1.0,
    }[ConnectionStatus(connection.status)]
    synced = connection.last_synced_at or connection.created_at
    hours = (now - as_utc(synced)).total_seconds() / 3600
    received, failed = session.exec(
        select(
            func.count(),
            count_if(col(MarketplaceOrder.sync_status) == SyncStatus.FAILED),
        ).where(
            MarketplaceOrder.connection_id == connection.id,
            _between(MarketplaceOrder.received_at, w.since, w.until),
        )
    ).one()
    sla = float(setting(session, "marketplace.reply_sla_hours", 24))
    overdue = _count(
        session,
        select(func.count())
        .select_from(MarketplaceMessage)
        .where(
            MarketplaceMessage.connection_id == connection.id,
            MarketplaceMessage.direction == MessageDirection.INBOUND,
            col(MarketplaceMessage.is_read).is_(False),
            MarketplaceMessage.sent_at < now - timedelta(hours=sla),
        ),
    )
    offers, rejected = session.exec(
        select(
            func.count(),
            count_if(col(MarketplaceOffer.status) == OfferStatus.REJECTED),
        ).where(MarketplaceOffer.connection_id == connection.id)
    ).one()
    failed_share, rejected_share = _ratio(failed, received), _ratio(rejected, offers)
    factors = [
        factor(
            "connection_status",
            status_value,
            0,
            1,
            30,
            f"the connection is {ConnectionStatus(connection.status).value}",
        ),
        factor(
            "hours_since_sync",
            hours,
            2,
            24,
            20,
            f"never synced; connected {hours:.0f} hours ago"
            if connection.last_synced_at is None
            else f"last synced {hours:.1f} hours ago",
        ),
        factor(
            "failed_order_syncs",
            failed_share,
            0.01,
            0.10,
            20,
            f"{failed} of {received} orders received in the window failed to sync",
        ),
        factor(
            "messages_past_sla",
            overdue,
            0,
            10,
            15,
            f"{overdue} unread buyer messages older than the {sla:g} h reply deadline",
        ),
        factor(
            "rejected_offers",
            rejected_share,
            0.02,
            0.15,
            15,
            f"{rejected} of {offers} offers rejected by the marketplace",
        ),
    ]
    breakdown = {
        "orders_received": int(received),
        "orders_failed": int(failed),
        "messages_past_sla": overdue,
        "offers": int(offers),
        "offers_rejected": int(rejected),
    }
    return factors, breakdown


Category = Literal["refunds", "stock", "cancellations", "fraud", "marketplace"]
ALERT_CATEGORY = {
    "refunds": RiskCategory.REFUNDS,
    "stock": RiskCategory.STOCK,
    "cancellations": RiskCategory.CANCELLATIONS,
    "fraud": RiskCategory.FRAUD,
    "marketplace": RiskCategory.MARKETPLACE,
}


@tool(agent="risk", path="/risk/assessment")
def assess_risk(
    ctx: ToolContext,
    category: Annotated[
        Category,
        Field(
            description="refunds, stock (stock-outs), cancellations, fraud, or marketplace "
            "(one connection: give connection_id)."
        ),
    ],
    connection_id: Annotated[
        int | None,
        Field(ge=1, description="Marketplace connection to assess (category marketplace)."),
    ] = None,
    days: Annotated[int, Field(ge=7, le=180, description="Window length in days.")] = 30,
    end: Annotated[
        date | None, Field(description="Last day of the window (default today).")
    ] = None,
) -> RiskAssessment:
    """Assess the risk in one category (refunds, stock-outs, cancellations, fraud) or of one
    marketplace connection: a 0-100 score with each contributing figure, its normal and
    alarming levels and the points it adds, read from the database over a window."""
    today = utc_now().date()
    end = end or today
    if end > today:
        raise InvalidInput(f"{end} is in the future", field="end")
    if (category == "marketplace") != (connection_id is not None):
        raise InvalidInput(
            "connection_id is needed for category marketplace, and only for it",
            field="connection_id",
        )
    window = Window(end, days)
    subject = {
        "refunds": "refunds and returns",
        "stock": "stock-outs",
        "cancellations": "order cancellations",
        "fraud": "fraud",
    }.get(category, "")
    if category == "marketplace":
        connection = get_or_404(
            ctx.session, MarketplaceConnection, connection_id, "marketplace connection"
        )
        factors, breakdown = _marketplace(ctx.session, window, connection)
        subject = f"{connection.name} (connection {connection.id})"
    else:
        scorer = {
            "refunds": _refunds,
            "stock": _stock,
            "cancellations": _cancellations,
            "fraud": _fraud,
        }[category]
        factors, breakdown = scorer(ctx.session, window)
    score = round(min(100.0, sum(f.points for f in factors)), 1)
    level: Literal["low", "medium", "high", "critical"] = (
        "critical" if score >= 75 else "high" if score >= 50 else "medium" if score >= 25 else "low"
    )
    open_alerts = _count(
        ctx.session,
        select(func.count())
        .select_from(RiskAlert)
        .where(
            RiskAlert.category == ALERT_CATEGORY[category],
            col(RiskAlert.status).in_([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED]),
        ),
    )
    return RiskAssessment(
        category=category,
        subject=subject,
        start=window.start,
        end=window.end,
        score=score,
        level=level,
        method=METHOD,
        factors=factors,
        breakdown=breakdown,
        open_alerts=open_alerts,
    )
