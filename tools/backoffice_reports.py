"""The sales report and the dashboard, part of the backoffice agent's tools (registered by
tools/backoffice.py). Every figure is computed from orders, refunds, returns, stock levels,
marketplace messages and alerts; nothing is estimated."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.base import utc_now
from db.models import (
    SOLD_STATUSES,
    AlertStatus,
    Category,
    DailyCategoryOrders,
    DailyOrders,
    DailySales,
    MarketplaceMessage,
    MessageDirection,
    Order,
    OrderStatus,
    Product,
    ProductVariant,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    RiskAlert,
    SalesChannel,
    StockLevel,
    SystemAlert,
)
from tools.base import ToolContext, tool
from tools.common import on_days, period

OPEN_RETURNS = (ReturnStatus.REQUESTED, ReturnStatus.AUTHORIZED, ReturnStatus.RECEIVED,
                ReturnStatus.INSPECTED)  # fmt: skip
ACTIVE_ALERTS = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class ChannelSales(BaseModel):
    channel: SalesChannel
    orders: int
    gross_revenue_cents: int
    refunds_cents: int
    net_revenue_cents: int
    average_order_value_cents: int


class CategorySales(BaseModel):
    category: str
    orders: int
    units: int
    revenue_cents: int = Field(description="Sum of the lines, VAT included, shipping excluded.")


class ProductSales(BaseModel):
    product_id: int
    name: str
    units: int
    revenue_cents: int


class SalesReport(BaseModel):
    start: date
    end: date
    orders: int = Field(description="Orders placed in the period and paid, not cancelled.")
    cancelled_orders: int
    units: int
    gross_revenue_cents: int = Field(description="Order totals, VAT and shipping included.")
    shipping_cents: int
    discount_cents: int
    tax_cents: int
    refunds_cents: int = Field(description="Refunds issued in the period (succeeded).")
    net_revenue_cents: int = Field(description="Gross revenue minus refunds.")
    average_order_value_cents: int
    by_channel: list[ChannelSales]
    by_category: list[CategorySales]
    top_products: list[ProductSales]


def _refunds_by_channel(session: Session, since: datetime, until: datetime) -> dict[str, int]:
    rows = session.exec(
        select(Order.channel, func.sum(Refund.amount_cents))
        .join(Order, col(Order.id) == Refund.order_id)
        .where(
            Refund.status == RefundStatus.SUCCEEDED,
            col(Refund.created_at) >= since,
            col(Refund.created_at) < until,
        )
        .group_by(col(Order.channel))
    ).all()
    return {SalesChannel(channel).value: int(total or 0) for channel, total in rows}


@tool(agent="backoffice", path="/backoffice/reports/sales")
def sales_report(
    ctx: ToolContext,
    start: Annotated[date | None, Field(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Field(description="Last day, included (default: today).")] = None,
    top: Annotated[int, Field(ge=1, le=50, description="How many top products to list.")] = 10,
) -> SalesReport:
    """Sales over a period from the real orders: orders, gross revenue, refunds issued, net
    revenue and average order value, by channel and by category, and the best-selling
    products. Pending and cancelled orders are not sales."""
    since, until = period(start, end)
    s = ctx.session
    in_period = on_days(col(DailyOrders.day), since, until)
    channels = s.execute(
        sa.select(
            col(DailyOrders.channel),
            *(
                func.sum(column)
                for column in (
                    DailyOrders.orders,
                    DailyOrders.total_cents,
                    DailyOrders.shipping_cents,
                    DailyOrders.discount_cents,
                    DailyOrders.tax_cents,
                )
            ),
        )
        .where(in_period, col(DailyOrders.status).in_(SOLD_STATUSES))
        .group_by(col(DailyOrders.channel))
        .having(func.sum(DailyOrders.orders) != 0)
    ).all()
    refunds = _refunds_by_channel(s, since, until)
    by_channel, totals = [], [0, 0, 0, 0, 0]
    for channel, orders, gross, shipping, discount, tax in channels:
        name = SalesChannel(channel)
        for i, figure in enumerate((orders, gross, shipping, discount, tax)):
            totals[i] += int(figure or 0)
        refunded = refunds.get(name.value, 0)
        by_channel.append(
            ChannelSales(
                channel=name,
                orders=orders,
                gross_revenue_cents=int(gross or 0),
                refunds_cents=refunded,
                net_revenue_cents=int(gross or 0) - refunded,
                average_order_value_cents=round(int(gross or 0) / orders) if orders else 0,
            )
        )
    for channel_name, refunded in refunds.items():  # refunds on channels with no sales now
        if channel_name not in {c.channel.value for c in by_channel}:
            by_channel.append(
                ChannelSales(
                    channel=SalesChannel(channel_name),
                    orders=0,
                    gross_revenue_cents=0,
                    refunds_cents=refunded,
                    net_revenue_cents=-refunded,
                    average_order_value_cents=0,
                )
            )
    by_channel.sort(key=lambda c: -c.gross_revenue_cents)
    orders, gross, shipping, discount, tax = totals
    # Per category and per product from the daily sales, which sum the same lines.
    days = on_days(col(DailySales.day), since, until)
    units_sum, revenue_sum = func.sum(DailySales.units), func.sum(DailySales.revenue_cents)
    by_product = (
        sa.select(col(Product.id))
        .select_from(DailySales)
        .join(ProductVariant, col(ProductVariant.id) == DailySales.variant_id)
        .join(Product, col(Product.id) == ProductVariant.product_id)
        .where(days)
    )
    category_figures = s.execute(
        by_product.with_only_columns(col(Product.category_id), units_sum, revenue_sum).group_by(
            col(Product.category_id)
        )
    ).all()
    category_orders = dict(
        s.execute(
            sa.select(col(DailyCategoryOrders.category_id), func.sum(DailyCategoryOrders.orders))
            .where(on_days(col(DailyCategoryOrders.day), since, until))
            .group_by(col(DailyCategoryOrders.category_id))
        ).all()
    )
    names = dict(s.execute(sa.select(col(Category.id), col(Category.name))).all())
    by_category = [
        (names[category], int(category_orders.get(category, 0)), u, r)
        for category, u, r in category_figures
        if u or category_orders.get(category)
    ]
    top_products = s.execute(
        by_product.with_only_columns(col(Product.id), col(Product.name), units_sum, revenue_sum)
        .group_by(col(Product.id), col(Product.name))
        .having(units_sum != 0)
        .order_by(revenue_sum.desc(), col(Product.id))
        .limit(top)
    ).all()
    units = sum(int(row[2]) for row in by_category)
    refunded_total = sum(refunds.values())
    return SalesReport(
        start=since.date(),
        end=(until - timedelta(days=1)).date(),
        orders=orders,
        cancelled_orders=s.exec(
            select(func.coalesce(func.sum(DailyOrders.orders), 0)).where(
                in_period, DailyOrders.status == OrderStatus.CANCELLED
            )
        ).one(),
        units=units,
        gross_revenue_cents=gross,
        shipping_cents=shipping,
        discount_cents=discount,
        tax_cents=tax,
        refunds_cents=refunded_total,
        net_revenue_cents=gross - refunded_total,
        average_order_value_cents=round(gross / orders) if orders else 0,
        by_channel=by_channel,
        by_category=sorted(
            (
                CategorySales(category=name, orders=n, units=int(u), revenue_cents=int(r))
                for name, n, u, r in by_category
            ),
            key=lambda c: -c.revenue_cents,
        ),
        top_products=[
            ProductSales(product_id=pid, name=name, units=int(u), revenue_cents=int(r))
            for pid, name, u, r in top_products
        ],
    )


class Figures(BaseModel):
    orders: int = Field(description="Orders placed and paid; unpaid and cancelled ones left out.")
    revenue_cents: int = Field(description="Totals of the orders placed and paid, VAT included.")
    average_order_value_cents: int


class Dashboard(BaseModel):
    day: date
    generated_at: datetime
    today: Figures
    last_7_days: Figures = Field(description="The 7 days ending on `day`, included.")
    open_returns: int = Field(description="Returns requested, authorized, received or inspected.")
    low_stock_skus: int = Field(description="SKUs below their reorder point in some warehouse.")
    unread_marketplace_messages: int
    open_system_alerts: int
    open_risk_alerts: int


def _figures(session: Session, since: datetime, until: datetime) -> Figures:
    orders, revenue = session.exec(
        select(
            func.coalesce(func.sum(DailyOrders.orders), 0),
            func.coalesce(func.sum(DailyOrders.total_cents), 0),
        ).where(
            on_days(col(DailyOrders.day), since, until),
            col(DailyOrders.status).in_(SOLD_STATUSES),
        )
    ).one()
    return Figures(
        orders=orders,
        revenue_cents=int(revenue),
        average_order_value_cents=round(int(revenue) / orders) if orders else 0,
    )


@tool(agent="backoffice", path="/backoffice/dashboard")
def dashboard_metrics(
    ctx: ToolContext,
    day: Annotated[date | None, Field(description="The day to show (default: today, UTC).")] = None,
) -> Dashboard:
    """The merchant's dashboard: orders, revenue and average order value today and over the
    last 7 days, open returns, low-stock SKUs, unread marketplace messages and open alerts."""
    s = ctx.session
    day = day or utc_now().date()
    midnight = datetime.combine(day, time.min, tzinfo=UTC)
    tomorrow = midnight + timedelta(days=1)

    def count(model: Any, *where: Any) -> int:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())

    low = s.exec(
        select(func.count(sa.distinct(col(StockLevel.variant_id)))).where(
            col(StockLevel.on_hand) - col(StockLevel.reserved) < col(StockLevel.reorder_point)
        )
    ).one()
    return Dashboard(
        day=day,
        generated_at=utc_now(),
        today=_figures(s, midnight, tomorrow),
        last_7_days=_figures(s, midnight - timedelta(days=6), tomorrow),
        open_returns=count(ReturnRequest, col(ReturnRequest.status).in_(OPEN_RETURNS)),
        low_stock_skus=int(low),
        unread_marketplace_messages=count(
            MarketplaceMessage,
            MarketplaceMessage.direction == MessageDirection.INBOUND,
            col(MarketplaceMessage.is_read).is_(False),
        ),
        open_system_alerts=count(SystemAlert, col(SystemAlert.status).in_(ACTIVE_ALERTS)),
        open_risk_alerts=count(RiskAlert, col(RiskAlert.status).in_(ACTIVE_ALERTS)),
    )
