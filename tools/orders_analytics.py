"""Order analytics: sales KPIs over a period, by sales channel and by day, from the orders."""

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, func, select

from db.models import (
    SOLD_STATUSES,
    DailyOrders,
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    SalesChannel,
)
from tools.base import ToolContext, tool
from tools.common import as_date, euros, on_days, period

# -- analytics ---------------------------------------------------------------------------


class SalesFigures(BaseModel):
    orders: int = Field(description="Orders placed, whatever became of them.")
    sold_orders: int = Field(description="Orders paid and not cancelled.")
    cancelled: int
    revenue_cents: int = Field(description="Total of sold orders, VAT and shipping included.")
    average_order_value_cents: int | None = Field(description="revenue / sold orders.")
    cancellation_rate: float | None = Field(description="cancelled / orders, 0 to 1.")


class ChannelFigures(SalesFigures):
    channel: SalesChannel


class DayFigures(BaseModel):
    day: date
    orders: int
    cancelled: int
    revenue_cents: int


class OrderAnalytics(SalesFigures):
    start: date
    end: date
    revenue: str = Field(description="Revenue written in euros.")
    refunded_cents: int = Field(description="Refunds paid in the period, on any order.")
    net_revenue_cents: int = Field(description="revenue - refunds paid in the period.")
    by_channel: list[ChannelFigures]
    by_day: list[DayFigures] = Field(description="Every day of the period, oldest first.")


def _figures(orders: int, sold: int, cancelled: int, revenue: int) -> dict[str, object]:
    return {
        "orders": orders,
        "sold_orders": sold,
        "cancelled": cancelled,
        "revenue_cents": revenue,
        "average_order_value_cents": round(revenue / sold) if sold else None,
        "cancellation_rate": round(cancelled / orders, 4) if orders else None,
    }


@tool(agent="orders", path="/orders/analytics")
def order_analytics(
    ctx: ToolContext,
    start: Annotated[date | None, Field(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Field(description="Last day, included (default: today).")] = None,
    channel: Annotated[
        SalesChannel | None, Field(description="Only this sales channel (shop or a marketplace).")
    ] = None,
) -> OrderAnalytics:
    """Sales KPIs over a period, from the orders placed in it: order count, revenue (orders paid
    and not cancelled, VAT and shipping included), average order value, cancellation rate,
    refunds paid, split by sales channel and by day (UTC)."""
    since, until = period(start, end)
    statement = sa.select(
        col(DailyOrders.day),
        col(DailyOrders.channel),
        col(DailyOrders.status),
        col(DailyOrders.orders),
        col(DailyOrders.total_cents),
    ).where(on_days(col(DailyOrders.day), since, until), col(DailyOrders.orders) != 0)
    refunds = (
        select(func.coalesce(func.sum(Refund.amount_cents), 0))
        .select_from(Refund)
        .where(
            Refund.status == RefundStatus.SUCCEEDED,
            Refund.created_at >= since,
            Refund.created_at < until,
        )
    )
    if channel is not None:
        statement = statement.where(col(DailyOrders.channel) == channel)
        refunds = refunds.join(Order, col(Order.id) == Refund.order_id).where(
            Order.channel == channel
        )
    first_day, last_day = since.date(), (until - timedelta(days=1)).date()
    days = {
        first_day + timedelta(days=n): [0, 0, 0] for n in range((last_day - first_day).days + 1)
    }
    channels: dict[SalesChannel, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for placed_on, order_channel, status, count, total in ctx.session.execute(statement).all():
        figures = channels[SalesChannel(order_channel)]
        day_figures = days[as_date(placed_on)]
        day_figures[0] += count
        figures[0] += count
        if status == OrderStatus.CANCELLED:
            day_figures[1] += count
            figures[2] += count
        elif status in SOLD_STATUSES:
            day_figures[2] += int(total)
            figures[1] += count
            figures[3] += int(total)
    orders, sold, cancelled, revenue = (sum(f[i] for f in channels.values()) for i in range(4))
    refunded = ctx.session.exec(refunds).one()
    return OrderAnalytics(
        start=first_day,
        end=last_day,
        **_figures(orders, sold, cancelled, revenue),  # type: ignore[arg-type]
        revenue=euros(revenue),
        refunded_cents=refunded,
        net_revenue_cents=revenue - refunded,
        by_channel=[
            ChannelFigures(channel=name, **_figures(*f))  # type: ignore[arg-type]
            for name, f in sorted(channels.items(), key=lambda item: -item[1][3])
        ],
        by_day=[
            DayFigures(day=day, orders=n, cancelled=c, revenue_cents=r)
            for day, (n, c, r) in days.items()
        ],
    )
