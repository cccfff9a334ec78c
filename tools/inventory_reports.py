"""Inventory reports: low-stock alerts, inventory value, movement analytics."""

from datetime import date, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, select

from db.daily_movements import UNITS_IN, UNITS_OUT
from db.models import (
    Category,
    DailyStockMovements,
    Product,
    ProductVariant,
    StockLevel,
    StockMovement,
    Warehouse,
)
from tools.base import ToolContext, tool
from tools.common import (
    Cursor,
    Limit,
    Page,
    as_date,
    day_of,
    euros,
    get_or_404,
    on_days,
    paginate,
    period,
)
from tools.inventory_core import critical_ratio, get_warehouse, severity, variant_by_sku

WarehouseFilter = Annotated[int | None, Field(ge=1, description="Only this warehouse.")]


class LowStockItem(BaseModel):
    stock_level_id: int
    variant_id: int
    sku: str
    name: str
    warehouse_id: int
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int
    reorder_point: int
    severity: str = Field(description="critical or low.")
    shortfall: int = Field(description="Units missing to reach the reorder point.")
    suggested_quantity: int = Field(
        description="The reorder quantity, capped so on hand stays within max stock."
    )


class LowStockPage(Page[LowStockItem]):
    critical_ratio: float = Field(description="Critical below this share of the reorder point.")
    total_low: int = Field(description="Levels below their reorder point (all pages).")
    total_critical: int = Field(description="Of which critical (all pages).")


@tool(agent="inventory", path="/inventory/low-stock")
def low_stock_alerts(
    ctx: ToolContext,
    warehouse_id: WarehouseFilter = None,
    critical_only: Annotated[bool, Field(description="Only critical levels.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> LowStockPage:
    """SKUs whose available stock (on hand minus reserved) is below their reorder point, per
    warehouse, with the shortfall and a suggested quantity to reorder or transfer. Critical
    means below the share of the reorder point set in inventory.critical_ratio (half)."""
    ratio = critical_ratio(ctx.session)
    available = col(StockLevel.on_hand) - col(StockLevel.reserved)
    low = sa.and_(col(StockLevel.reorder_point) > 0, available < col(StockLevel.reorder_point))
    critical = available < col(StockLevel.reorder_point) * ratio
    conditions: list[Any] = [low]
    if warehouse_id is not None:
        get_warehouse(ctx.session, warehouse_id)
        conditions.append(StockLevel.warehouse_id == warehouse_id)
    total_low, total_critical = ctx.session.exec(
        select(sa.func.count(), sa.func.count().filter(critical)).where(*conditions)
    ).one()
    if critical_only:
        conditions.append(critical)
    statement = (
        select(StockLevel, ProductVariant, Warehouse.code)
        .join(ProductVariant, col(ProductVariant.id) == StockLevel.variant_id)
        .join(Warehouse, col(Warehouse.id) == StockLevel.warehouse_id)
        .where(*conditions)
    )
    rows, next_cursor = paginate(
        ctx.session, statement, col(StockLevel.id), limit, cursor, descending=False
    )
    items = []
    for level, variant, code in rows:
        units = level.on_hand - level.reserved
        suggested = level.reorder_quantity
        if level.max_stock is not None:
            suggested = max(0, min(suggested, level.max_stock - level.on_hand))
        items.append(
            LowStockItem(
                stock_level_id=level.id or 0,
                variant_id=level.variant_id,
                sku=variant.sku,
                name=variant.name,
                warehouse_id=level.warehouse_id,
                warehouse_code=code,
                on_hand=level.on_hand,
                reserved=level.reserved,
                available=units,
                reorder_point=level.reorder_point,
                severity=severity(units, level.reorder_point, ratio),
                shortfall=level.reorder_point - units,
                suggested_quantity=suggested,
            )
        )
    return LowStockPage(
        items=items,
        next_cursor=next_cursor,
        critical_ratio=ratio,
        total_low=total_low,
        total_critical=total_critical,
    )


class ValueGroup(BaseModel):
    id: int
    name: str
    skus: int = Field(description="SKUs with units on hand.")
    units: int
    value_cents: int = Field(description="Units on hand x purchase cost (excl. VAT).")
    value: str


class InventoryValue(BaseModel):
    by_warehouse: list[ValueGroup]
    by_category: list[ValueGroup]
    total_units: int
    total_value_cents: int
    total_value: str


@tool(agent="inventory", path="/inventory/value")
def inventory_value(
    ctx: ToolContext,
    warehouse_id: WarehouseFilter = None,
    category_id: Annotated[int | None, Field(ge=1, description="Only this category.")] = None,
) -> InventoryValue:
    """What the stock is worth at purchase cost (units on hand x cost excl. VAT), by warehouse
    and by product category, with totals."""
    units = col(StockLevel.on_hand)
    value = units * col(ProductVariant.cost_cents)
    conditions: list[Any] = [units > 0]
    if warehouse_id is not None:
        get_warehouse(ctx.session, warehouse_id)
        conditions.append(StockLevel.warehouse_id == warehouse_id)
    if category_id is not None:
        get_or_404(ctx.session, Category, category_id, "category")
        conditions.append(Product.category_id == category_id)
    groups = []
    table: Any
    for table, key, label, join_on in (
        (
            Warehouse,
            col(Warehouse.id),
            col(Warehouse.code),
            col(Warehouse.id) == StockLevel.warehouse_id,
        ),
        (Category, col(Category.id), col(Category.name), col(Category.id) == Product.category_id),
    ):
        statement = (
            sa.select(
                key,
                label,
                sa.func.count(sa.distinct(col(StockLevel.variant_id))),
                sa.func.sum(units),
                sa.func.sum(value),
            )
            .select_from(StockLevel)
            .join(ProductVariant, col(ProductVariant.id) == StockLevel.variant_id)
            .join(Product, col(Product.id) == ProductVariant.product_id)
            .join(table, join_on)
            .where(*conditions)
            .group_by(key, label)
            .order_by(key)
        )
        groups.append(
            [
                ValueGroup(
                    id=id_,
                    name=name,
                    skus=skus,
                    units=int(n),
                    value_cents=int(v),
                    value=euros(int(v)),
                )
                for id_, name, skus, n, v in ctx.session.execute(statement).all()
            ]
        )
    by_warehouse, by_category = groups
    total_units = sum(g.units for g in by_warehouse)
    total_value = sum(g.value_cents for g in by_warehouse)
    return InventoryValue(
        by_warehouse=by_warehouse,
        by_category=by_category,
        total_units=total_units,
        total_value_cents=total_value,
        total_value=euros(total_value),
    )


class KindTotal(BaseModel):
    kind: str
    movements: int
    units: int = Field(description="Signed sum: negative for stock leaving.")


class DayTotal(BaseModel):
    day: date
    units_in: int
    units_out: int
    by_kind: dict[str, int] = Field(description="Signed units per movement kind.")


class SkuMoved(BaseModel):
    variant_id: int
    sku: str
    name: str
    movements: int
    units_in: int
    units_out: int


class MovementAnalytics(BaseModel):
    start: date
    end: date
    movements: int
    units_in: int
    units_out: int
    by_kind: list[KindTotal]
    by_day: list[DayTotal] = Field(description="Days with at least one movement.")
    top_skus: list[SkuMoved] = Field(description="Most units moved (in + out) first.")


@tool(agent="inventory", path="/inventory/movements/analytics")
def movement_analytics(
    ctx: ToolContext,
    start: Annotated[date | None, Field(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Field(description="Last day (default: today).")] = None,
    warehouse_id: WarehouseFilter = None,
    sku: Annotated[
        str | None, Field(min_length=1, max_length=64, description="Only this exact SKU.")
    ] = None,
    top: Annotated[int, Field(ge=1, le=50, description="How many top SKUs to list.")] = 10,
) -> MovementAnalytics:
    """Stock movements over a period: units in and out by kind (inbound, outbound, transfers,
    adjustments, returns) and by day, and the SKUs that moved the most."""
    since, until = period(start, end)
    conditions: list[Any] = [
        col(StockMovement.created_at) >= since,
        col(StockMovement.created_at) < until,
    ]
    if warehouse_id is not None:
        get_warehouse(ctx.session, warehouse_id)
        conditions.append(StockMovement.warehouse_id == warehouse_id)
    if sku is None:  # the daily table: a few rows per day instead of every movement
        daily = DailyStockMovements
        on_day = [on_days(col(daily.day), since, until)]
        if warehouse_id is not None:
            on_day.append(daily.warehouse_id == warehouse_id)
        per_day_and_kind: Any = (
            sa.select(
                col(daily.day),
                col(daily.kind),
                sa.func.sum(daily.movements),
                sa.func.sum(daily.units_in),
                sa.func.sum(daily.units_out),
            )
            .where(*on_day)
            .group_by(col(daily.day), col(daily.kind))
        )
    else:
        conditions.append(StockMovement.variant_id == variant_by_sku(ctx.session, sku).id)
        day = day_of(ctx.session, col(StockMovement.created_at))
        per_day_and_kind = (
            sa.select(day, col(StockMovement.kind), sa.func.count(), UNITS_IN, UNITS_OUT)
            .where(*conditions)
            .group_by(day, col(StockMovement.kind))
        )
    days: dict[date, DayTotal] = {}
    kinds: dict[str, list[int]] = {}  # kind -> [movements, units], summed from the days
    for on, kind, count, added, removed in ctx.session.execute(per_day_and_kind).all():
        on = as_date(on)
        units = int(added) - int(removed)
        total = days.setdefault(on, DayTotal(day=on, units_in=0, units_out=0, by_kind={}))
        total.by_kind[str(kind)] = units
        total.units_in += int(added)
        total.units_out += int(removed)
        figures = kinds.setdefault(str(kind), [0, 0])
        figures[0] += int(count)
        figures[1] += units
    # The SKUs are ranked on their ids alone, then the top few named.
    moved = sa.func.sum(sa.func.abs(col(StockMovement.quantity)))
    top_moved = (
        sa.select(
            col(StockMovement.variant_id).label("variant_id"),
            sa.func.count().label("movements"),
            UNITS_IN.label("units_in"),
            UNITS_OUT.label("units_out"),
            moved.label("moved"),
        )
        .where(*conditions)
        .group_by(col(StockMovement.variant_id))
        .order_by(moved.desc(), col(StockMovement.variant_id))
        .limit(top)
        .subquery()
    )
    top_rows = ctx.session.execute(
        sa.select(
            col(ProductVariant.id),
            col(ProductVariant.sku),
            col(ProductVariant.name),
            top_moved.c.movements,
            top_moved.c.units_in,
            top_moved.c.units_out,
        )
        .join(top_moved, top_moved.c.variant_id == col(ProductVariant.id))
        .order_by(top_moved.c.moved.desc(), col(ProductVariant.id))
    ).all()
    return MovementAnalytics(
        start=since.date(),
        end=(until - timedelta(days=1)).date(),
        movements=sum(n for n, _ in kinds.values()),
        units_in=sum(d.units_in for d in days.values()),
        units_out=sum(d.units_out for d in days.values()),
        by_kind=[KindTotal(kind=k, movements=n, units=u) for k, (n, u) in sorted(kinds.items())],
        by_day=[days[d] for d in sorted(days)],
        top_skus=[
            SkuMoved(variant_id=i, sku=s, name=nm, movements=n, units_in=int(a), units_out=int(b))
            for i, s, nm, n, a, b in top_rows
        ],
    )
