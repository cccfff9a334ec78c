"""Products agent, analytics side: best sellers, margins and returns rates over a period,
and one product's stock, sales pace and days of cover. Everything is computed from order,
return and stock rows.

tools/products.py imports this module before it registers /products/{product_id}, so that
/products/analytics is matched first.
"""

from datetime import date, datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, func, select

from db.base import utc_now
from db.models import (
    SOLD_STATUSES,
    Category,
    DailyCategoryOrders,
    DailyOrders,
    DailySales,
    Order,
    OrderLine,
    Product,
    ProductVariant,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    StockLevel,
    Warehouse,
)
from tools.base import ToolContext, tool
from tools.common import get_or_404, on_days, order_id_range, period

ProductId = Annotated[int, Field(ge=1, description="Id of the product.")]


class ProductSales(BaseModel):
    product_id: int
    name: str
    brand: str
    units_sold: int
    revenue_cents: int = Field(description="What the lines brought in, VAT included.")
    net_revenue_cents: int = Field(description="Revenue excluding VAT.")
    cost_cents: int = Field(description="Units sold x the SKUs' current cost.")
    margin_cents: int = Field(description="Net revenue minus cost.")
    margin_rate: float | None = Field(description="Margin / net revenue.")
    units_returned: int = Field(description="Units of these orders sent back (RMA not rejected).")
    returns_rate: float | None = Field(description="Units returned / units sold.")


class ProductAnalytics(BaseModel):
    start: date
    end: date
    orders: int
    units_sold: int
    revenue_cents: int
    net_revenue_cents: int
    cost_cents: int
    margin_cents: int
    margin_rate: float | None
    units_returned: int
    returns_rate: float | None
    best_sellers_by_units: list[ProductSales]
    best_sellers_by_revenue: list[ProductSales]
    highest_returns_rate: list[ProductSales] = Field(
        description="Products with the most returns per unit sold (5 units sold at least)."
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@tool(agent="products", path="/products/analytics")
def product_analytics(
    ctx: ToolContext,
    start: Annotated[date | None, Field(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Field(description="Last day (default: today).")] = None,
    category_id: Annotated[int | None, Field(ge=1, description="Only this category.")] = None,
    top: Annotated[int, Field(ge=1, le=50, description="Products per ranking.")] = 10,
) -> ProductAnalytics:
    """Product performance over a period, from orders placed in it (paid or later, cancelled
    and unpaid excluded): best sellers by units and by revenue, margin from the SKUs' cost,
    and the returns rate per product (units of those orders returned / units sold)."""
    since, until = period(start, end)
    in_category: list[Any] = []
    if category_id is not None:
        get_or_404(ctx.session, Category, category_id, "category")
        in_category.append(Product.category_id == category_id)
    days = [on_days(col(DailySales.day), since, until)]
    sales = ctx.session.execute(
        sa.select(
            col(Product.id),
            col(Product.name),
            col(Product.brand),
            func.sum(DailySales.units),
            func.sum(DailySales.revenue_cents),
            func.sum(DailySales.tax_cents),
            func.sum(DailySales.units * ProductVariant.cost_cents),
        )
        .join(ProductVariant, col(ProductVariant.id) == DailySales.variant_id)
        .join(Product, col(Product.id) == ProductVariant.product_id)
        .where(*days, *in_category)
        .group_by(col(Product.id), col(Product.name), col(Product.brand))
        .having(func.sum(DailySales.units) != 0)
    ).all()
    sold_orders: Any = [
        col(Order.placed_at) >= since,
        col(Order.placed_at) < until,
        col(Order.status).in_(SOLD_STATUSES),
    ]
    first_id, last_id = order_id_range(ctx.session, *sold_orders)
    returned = dict(
        ctx.session.exec(
            select(Product.id, func.sum(ReturnLine.quantity))
            .join(ReturnRequest, col(ReturnRequest.id) == ReturnLine.return_id)
            .join(OrderLine, col(OrderLine.id) == ReturnLine.order_line_id)
            .join(Order, col(Order.id) == OrderLine.order_id)
            .join(ProductVariant, col(ProductVariant.id) == OrderLine.variant_id)
            .join(Product, col(Product.id) == ProductVariant.product_id)
            .where(
                *sold_orders,
                col(ReturnRequest.order_id).between(first_id, last_id),
                *in_category,
                ReturnRequest.status != ReturnStatus.REJECTED,
            )
            .group_by(col(Product.id))
        ).all()
    )
    if category_id is None:
        orders = ctx.session.exec(
            select(func.coalesce(func.sum(DailyOrders.orders), 0)).where(
                on_days(col(DailyOrders.day), since, until),
                col(DailyOrders.status).in_(SOLD_STATUSES),
            )
        ).one()
    else:
        orders = ctx.session.exec(
            select(func.coalesce(func.sum(DailyCategoryOrders.orders), 0)).where(
                DailyCategoryOrders.category_id == category_id,
                on_days(col(DailyCategoryOrders.day), since, until),
            )
        ).one()
    rows = []
    for pid, name, brand, units, revenue, tax, cost in sales:
        net = revenue - tax
        back = returned.get(pid, 0)
        rows.append(
            ProductSales(
                product_id=pid,
                name=name,
                brand=brand,
                units_sold=units,
                revenue_cents=revenue,
                net_revenue_cents=net,
                cost_cents=cost,
                margin_cents=net - cost,
                margin_rate=_rate(net - cost, net),
                units_returned=back,
                returns_rate=_rate(back, units),
            )
        )
    units = sum(r.units_sold for r in rows)
    net = sum(r.net_revenue_cents for r in rows)
    cost = sum(r.cost_cents for r in rows)
    back = sum(r.units_returned for r in rows)
    eligible = [r for r in rows if r.units_sold >= 5 and r.units_returned]
    return ProductAnalytics(
        start=since.date(),
        end=(until - timedelta(days=1)).date(),
        orders=orders,
        units_sold=units,
        revenue_cents=sum(r.revenue_cents for r in rows),
        net_revenue_cents=net,
        cost_cents=cost,
        margin_cents=net - cost,
        margin_rate=_rate(net - cost, net),
        units_returned=back,
        returns_rate=_rate(back, units),
        best_sellers_by_units=sorted(rows, key=lambda r: (-r.units_sold, r.product_id))[:top],
        best_sellers_by_revenue=sorted(rows, key=lambda r: (-r.revenue_cents, r.product_id))[:top],
        highest_returns_rate=sorted(
            eligible, key=lambda r: (-(r.returns_rate or 0), -r.units_returned, r.product_id)
        )[:top],
    )


class WarehouseStock(BaseModel):
    warehouse_id: int
    code: str
    on_hand: int
    reserved: int
    available: int
    units_sold_30d: int
    days_of_cover: float | None = Field(description="available / average daily sales.")


class VariantStock(BaseModel):
    variant_id: int
    sku: str
    on_hand: int
    available: int
    units_sold_30d: int
    days_of_cover: float | None


class InventoryAnalytics(BaseModel):
    product_id: int
    name: str
    since: datetime
    on_hand: int
    reserved: int
    available: int
    units_sold_30d: int
    avg_daily_sales: float
    days_of_cover: float | None = Field(description="None when nothing sold in 30 days.")
    warehouses: list[WarehouseStock]
    variants: list[VariantStock]


def _cover(available: int, sold: int) -> float | None:
    return round(available / (sold / 30), 1) if sold else None


def _variant_stock(variant: ProductVariant, row: list[int]) -> VariantStock:
    on_hand, reserved, sold = row
    return VariantStock(
        variant_id=variant.id or 0,
        sku=variant.sku,
        on_hand=on_hand,
        available=on_hand - reserved,
        units_sold_30d=sold,
        days_of_cover=_cover(on_hand - reserved, sold),
    )


@tool(agent="products", path="/products/{product_id}/inventory-analytics")
def product_inventory_analytics(ctx: ToolContext, product_id: ProductId) -> InventoryAnalytics:
    """Stock of one product per warehouse and per SKU (on hand, reserved, available), units
    sold over the last 30 days, and days of cover (available stock / average daily sales)."""
    product = get_or_404(ctx.session, Product, product_id)
    since = utc_now() - timedelta(days=30)
    stock = ctx.session.execute(
        sa.select(
            col(Warehouse.id),
            col(Warehouse.code),
            col(StockLevel.variant_id),
            col(StockLevel.on_hand),
            col(StockLevel.reserved),
        )
        .join(StockLevel, col(StockLevel.warehouse_id) == Warehouse.id)
        .join(ProductVariant, col(ProductVariant.id) == StockLevel.variant_id)
        .where(col(ProductVariant.product_id) == product_id)
    ).all()
    sold = ctx.session.exec(
        select(Order.warehouse_id, OrderLine.variant_id, func.sum(OrderLine.quantity))
        .join(Order, col(Order.id) == OrderLine.order_id)
        .join(ProductVariant, col(ProductVariant.id) == OrderLine.variant_id)
        .where(
            ProductVariant.product_id == product_id,
            col(Order.placed_at) >= since,
            col(Order.status).in_(SOLD_STATUSES),
            col(OrderLine.order_id).between(
                *order_id_range(ctx.session, col(Order.placed_at) >= since)
            ),
        )
        .group_by(col(Order.warehouse_id), col(OrderLine.variant_id))
    ).all()
    codes = dict(ctx.session.exec(select(Warehouse.id, Warehouse.code)).all())
    by_wh: dict[int, list[int]] = {}
    by_var: dict[int, list[int]] = {}
    for wid, _, vid, on_hand, reserved in stock:
        for key, bucket in ((wid, by_wh), (vid, by_var)):
            row = bucket.setdefault(key, [0, 0, 0])
            row[0] += on_hand
            row[1] += reserved
    for wid, vid, units in sold:
        if wid is not None:
            by_wh.setdefault(wid, [0, 0, 0])[2] += units
        by_var.setdefault(vid, [0, 0, 0])[2] += units
    variants = ctx.session.exec(
        select(ProductVariant)
        .where(ProductVariant.product_id == product_id)
        .order_by(col(ProductVariant.id))
    ).all()
    on_hand = sum(r[0] for r in by_var.values())
    reserved = sum(r[1] for r in by_var.values())
    units = sum(r[2] for r in by_var.values())
    return InventoryAnalytics(
        product_id=product_id,
        name=product.name,
        since=since,
        on_hand=on_hand,
        reserved=reserved,
        available=on_hand - reserved,
        units_sold_30d=units,
        avg_daily_sales=round(units / 30, 2),
        days_of_cover=_cover(on_hand - reserved, units),
        warehouses=[
            WarehouseStock(
                warehouse_id=wid,
                code=codes[wid],
                on_hand=h,
                reserved=r,
                available=h - r,
                units_sold_30d=s,
                days_of_cover=_cover(h - r, s),
            )
            for wid, (h, r, s) in sorted(by_wh.items())
        ],
        variants=[_variant_stock(v, by_var.get(v.id or 0, [0, 0, 0])) for v in variants],
    )
