"""Payments analytics, per day: payment attempts and failures, captures, refunds, fees."""

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlmodel import col, func, select

from db.models import Payment, PaymentGateway, PaymentStatus, Refund, RefundStatus
from tools.base import InvalidInput, NotFound, ToolContext, tool
from tools.common import as_date, day_of, euros, period

MAX_DAYS = 366


class PaymentDay(BaseModel):
    day: date
    attempts: int = Field(description="Payments created that day (authorizations tried).")
    failed: int = Field(description="Of those, declined or refused.")
    failure_rate: float | None = Field(description="failed / attempts; None without attempts.")
    captures: int
    captured_cents: int
    refunds: int
    refunded_cents: int
    net_cents: int = Field(description="Captured minus refunded that day.")
    fees_cents: int = Field(description="Provider fees on that day's captures.")


class PaymentAnalytics(BaseModel):
    start: date
    end: date
    gateway: str | None
    attempts: int
    failed: int
    failure_rate: float | None
    captured_cents: int
    refunded_cents: int
    net_cents: int
    fees_cents: int
    summary: str
    days: list[PaymentDay]


@tool(agent="payments", path="/payments/analytics")
def payment_analytics(
    ctx: ToolContext,
    start: Annotated[date | None, Field(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Field(description="Last day (default: today).")] = None,
    gateway: Annotated[
        str | None, Field(max_length=40, description="Only this gateway code, e.g. sandbox_card.")
    ] = None,
) -> PaymentAnalytics:
    """Payments per day over a period (UTC days, at most 366): attempts, failures and failure
    rate, amounts captured and refunded, net revenue (captured minus refunded) and provider
    fees, with the period's totals. Every day of the period is listed, quiet days included."""
    session = ctx.session
    since, until = period(start, end)
    days_count = (until - since).days
    if days_count > MAX_DAYS:
        raise InvalidInput(f"analytics cover {MAX_DAYS} days at most", field="start")
    gateway_id = None
    if gateway is not None:
        gateway_id = session.exec(
            select(PaymentGateway.id).where(PaymentGateway.code == gateway)
        ).first()
        if gateway_id is None:
            raise NotFound(f"there is no payment gateway {gateway!r}", field="gateway")
    stats: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    day = day_of(session, Payment.created_at)
    rows = session.exec(
        _where(
            select(
                day, func.count(), func.count().filter(col(Payment.status) == PaymentStatus.FAILED)
            ).where(Payment.created_at >= since, Payment.created_at < until),  # type: ignore[operator]
            gateway_id,
        ).group_by(day)
    ).all()
    for value, attempts, failed in rows:
        stats[as_date(value)].update(attempts=attempts, failed=failed)

    day = day_of(session, Payment.captured_at)
    rows = session.exec(
        _where(
            select(
                day,
                func.count(),
                func.coalesce(func.sum(Payment.captured_cents), 0),
                func.coalesce(func.sum(Payment.fee_cents), 0),
            ).where(
                Payment.captured_at >= since,  # type: ignore[operator]
                Payment.captured_at < until,  # type: ignore[operator]
                Payment.captured_cents > 0,
            ),
            gateway_id,
        ).group_by(day)
    ).all()
    for value, captures, captured, fees in rows:
        stats[as_date(value)].update(captures=captures, captured=captured, fees=fees)

    day = day_of(session, Refund.created_at)
    statement = (
        select(day, func.count(), func.coalesce(func.sum(Refund.amount_cents), 0))
        .join(Payment, Payment.id == Refund.payment_id)  # type: ignore[arg-type]
        .where(
            Refund.created_at >= since,  # type: ignore[operator]
            Refund.created_at < until,  # type: ignore[operator]
            Refund.status == RefundStatus.SUCCEEDED,
        )
    )
    for value, refunds, refunded in session.exec(_where(statement, gateway_id).group_by(day)):
        stats[as_date(value)].update(refunds=refunds, refunded=refunded)

    days = []
    for offset in range(days_count):
        current = since.date() + timedelta(days=offset)
        s = stats.get(current, {})
        attempts, failed = s.get("attempts", 0), s.get("failed", 0)
        captured, refunded = s.get("captured", 0), s.get("refunded", 0)
        days.append(
            PaymentDay(
                day=current,
                attempts=attempts,
                failed=failed,
                failure_rate=round(failed / attempts, 4) if attempts else None,
                captures=s.get("captures", 0),
                captured_cents=captured,
                refunds=s.get("refunds", 0),
                refunded_cents=refunded,
                net_cents=captured - refunded,
                fees_cents=s.get("fees", 0),
            )
        )
    attempts, failed = sum(d.attempts for d in days), sum(d.failed for d in days)
    captured, refunded = sum(d.captured_cents for d in days), sum(d.refunded_cents for d in days)
    fees = sum(d.fees_cents for d in days)
    rate = round(failed / attempts, 4) if attempts else None
    summary = (
        f"{since.date()} to {days[-1].day}: captured {euros(captured)}, refunded "
        f"{euros(refunded)}, net {euros(captured - refunded)}, fees {euros(fees)}; "
        f"{failed} of {attempts} payment attempts failed"
        + (f" ({rate:.1%})" if rate is not None else "")
    )
    return PaymentAnalytics(
        start=since.date(),
        end=days[-1].day,
        gateway=gateway,
        attempts=attempts,
        failed=failed,
        failure_rate=rate,
        captured_cents=captured,
        refunded_cents=refunded,
        net_cents=captured - refunded,
        fees_cents=fees,
        summary=summary,
        days=days,
    )


def _where(statement: Any, gateway_id: int | None) -> Any:
    return statement if gateway_id is None else statement.where(Payment.gateway_id == gateway_id)
