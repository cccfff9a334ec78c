"""Tools of the warehouse agent: warehouses, their capacity and performance, pick lists."""

from datetime import date, datetime, timedelta
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.base import as_utc, utc_now
from db.models import (
    Order,
    OrderLine,
    OrderStatus,
    ProductVariant,
    StockLevel,
    Warehouse,
)
from tools.base import MANAGERS, Conflict, ToolContext, tool
from tools.common import (
    Cursor,
    Limit,
    Page,
    get_or_404,
    hours_between,
    paginate,
    period,
)

WarehouseId = Annotated[int, Field(ge=1, description="Id of the warehouse.")]
Code = Annotated[
    str, Field(pattern=r"^[A-Z]{3,6}$", description="Short code, 3-6 capital letters, e.g. LYS.")
]


class WarehouseOut(BaseModel):
    id: int
    code: str
    name: str
    address_line: str
    postcode: str
    city: str
    country: str
    capacity_locations: int
    is_active: bool


def _out(warehouse: Warehouse) -> WarehouseOut:
    return WarehouseOut.model_validate(warehouse, from_attributes=True)


@tool(agent="warehouse", path="/warehouses")
def list_warehouses(
    ctx: ToolContext,
    active_only: Annotated[bool, Field(description="Only warehouses in service.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[WarehouseOut]:
    """List the merchant's warehouses with their address and number of storage locations."""
    statement = select(Warehouse)
    if active_only:
        statement = statement.where(Warehouse.is_active)
    rows, next_cursor = paginate(
        ctx.session, statement, Warehouse.id, limit, cursor, descending=False
    )
    return Page(items=[_out(w) for w in rows], next_cursor=next_cursor)


@tool(agent="warehouse", path="/warehouses/{warehouse_id}")
def get_warehouse(ctx: ToolContext, warehouse_id: WarehouseId) -> WarehouseOut:
    """Get one warehouse by id."""
    return _out(get_or_404(ctx.session, Warehouse, warehouse_id))


@tool(agent="warehouse", path="/warehouses", writes=True, roles=MANAGERS)
def create_warehouse(
    ctx: ToolContext,
    code: Code,
    name: Annotated[str, Field(min_length=2, max_length=120, description="Display name.")],
    address_line: Annotated[str, Field(min_length=3, max_length=200, description="Street.")],
    postcode: Annotated[str, Field(min_length=2, max_length=12, description="Postcode.")],
    city: Annotated[str, Field(min_length=1, max_length=80, description="City.")],
    capacity_locations: Annotated[
        int, Field(gt=0, le=1_000_000, description="Number of storage locations (bins).")
    ],
    country: Annotated[
        str, Field(pattern=r"^[A-Z]{2}$", description="ISO country code, e.g. FR.")
    ] = "FR",
) -> WarehouseOut:
    """Open a new warehouse. Its code must be unused."""
    if ctx.session.exec(select(Warehouse).where(Warehouse.code == code)).first():
        raise Conflict(f"a warehouse with code {code} already exists", field="code")
    warehouse = Warehouse(
        code=code,
        name=name,
        address_line=address_line,
        postcode=postcode,
        city=city,
        country=country,
        capacity_locations=capacity_locations,
    )
    ctx.session.add(warehouse)
    ctx.session.flush()
    after = _out(warehouse).model_dump()
    ctx.record(
        action="create_warehouse",
        entity_type="warehouse",
        entity_id=warehouse.id,
        event="warehouse_created",
        domain="warehouse",
        after=after,
    )
    return _out(warehouse)


@tool(
    agent="warehouse",
    path="/warehouses/{warehouse_id}",
    method="PATCH",
    writes=True,
    roles=MANAGERS,
)
def update_warehouse(
    ctx: ToolContext,
    warehouse_id: WarehouseId,
    name: Annotated[
        str | None, Field(min_length=2, max_length=120, description="New name.")
    ] = None,
    capacity_locations: Annotated[
        int | None, Field(gt=0, le=1_000_000, description="New number of locations.")
    ] = None,
    is_active: Annotated[bool | None, Field(description="Put in or out of service.")] = None,
) -> WarehouseOut:
    """Rename a warehouse, change its capacity, or take it in or out of service."""
    warehouse = get_or_404(ctx.session, Warehouse, warehouse_id, lock=True)
    before = _out(warehouse).model_dump()
    changes = {
        k: v
        for k, v in (
            ("name", name),
            ("capacity_locations", capacity_locations),
            ("is_active", is_active),
        )
        if v is not None
    }
    if is_active is False and warehouse.is_active:
        _refuse_if_open_orders(ctx, warehouse, "take it out of service")
    for key, value in changes.items():
        setattr(warehouse, key, value)
    ctx.session.add(warehouse)
    updated = _out(warehouse)
    ctx.record(
        action="update_warehouse",
        entity_type="warehouse",
        entity_id=warehouse.id,
        event="warehouse_updated",
        domain="warehouse",
        before=before,
        after=updated.model_dump(),
    )
    return updated


def _check_deletable(session: Session, warehouse: Warehouse) -> None:
    """Raise Conflict when the warehouse holds stock or has fulfilled orders."""
    stock = session.exec(
        select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
            StockLevel.warehouse_id == warehouse.id
        )
    ).one()
    used = session.exec(select(Order.id).where(Order.warehouse_id == warehouse.id).limit(1))
    if stock or used.first() is not None:
        raise Conflict(
            f"warehouse {warehouse.code} holds {stock} units or has fulfilled orders; "
            "take it out of service instead of deleting it"
        )


def _deletable(ctx: ToolContext, warehouse_id: int) -> None:
    _check_deletable(ctx.session, get_or_404(ctx.session, Warehouse, warehouse_id))


@tool(
    agent="warehouse",
    path="/warehouses/{warehouse_id}",
    method="DELETE",
    writes=True,
    approval=True,
    roles=MANAGERS,
    precheck=_deletable,
)
def delete_warehouse(ctx: ToolContext, warehouse_id: WarehouseId) -> WarehouseOut:
    """Delete a warehouse that holds no stock and never fulfilled an order; otherwise take it
    out of service instead (update_warehouse with is_active false)."""
    warehouse = get_or_404(ctx.session, Warehouse, warehouse_id, lock=True)
    _check_deletable(ctx.session, warehouse)
    before = _out(warehouse).model_dump()
    ctx.session.execute(sa.delete(StockLevel).where(col(StockLevel.warehouse_id) == warehouse_id))
    ctx.session.delete(warehouse)
    ctx.record(
        action="delete_warehouse",
        entity_type="warehouse",
        entity_id=warehouse_id,
        event="warehouse_deleted",
        domain="warehouse",
        before=before,
    )
    return WarehouseOut.model_validate(before)


def _refuse_if_open_orders(ctx: ToolContext, warehouse: Warehouse, doing: str) -> None:
    open_orders = ctx.session.exec(
        select(func.count())
        .select_from(Order)
        .where(
            Order.warehouse_id == warehouse.id,
            Order.status.in_([OrderStatus.PAID, OrderStatus.PROCESSING]),  # type: ignore[attr-defined]
        )
    ).one()
    if open_orders:
        raise Conflict(
            f"{warehouse.code} still has {open_orders} orders to ship; "
            f"ship or move them before you {doing}"
        )


class Capacity(BaseModel):
    warehouse_id: int
    code: str
    total_locations: int
    used_locations: int = Field(description="Locations holding at least one unit.")
    utilisation: float = Field(description="used / total, 0 to 1.")
    units_on_hand: int
    units_reserved: int
    skus: int


@tool(agent="warehouse", path="/warehouses/{warehouse_id}/capacity")
def warehouse_capacity(ctx: ToolContext, warehouse_id: WarehouseId) -> Capacity:
    """How full a warehouse is: locations holding stock against its total, units on hand and
    reserved, from the stock levels."""
    warehouse = get_or_404(ctx.session, Warehouse, warehouse_id)
    used, units, reserved = ctx.session.exec(
        select(
            func.count(sa.distinct(col(StockLevel.bin_location))).filter(
                col(StockLevel.on_hand) > 0
            ),
            func.coalesce(func.sum(StockLevel.on_hand), 0),
            func.coalesce(func.sum(StockLevel.reserved), 0),
        ).where(StockLevel.warehouse_id == warehouse_id)
    ).one()
    skus = ctx.session.exec(
        select(func.count())
        .select_from(StockLevel)
        .where(StockLevel.warehouse_id == warehouse_id, StockLevel.on_hand > 0)
    ).one()
    return Capacity(
        warehouse_id=warehouse_id,
        code=warehouse.code,
        total_locations=warehouse.capacity_locations,
        used_locations=used,
        utilisation=round(used / warehouse.capacity_locations, 4),
        units_on_hand=units,
        units_reserved=reserved,
        skus=skus,
    )


class Performance(BaseModel):
    warehouse_id: int
    code: str
    start: date
    end: date
    orders_shipped: int
    units_shipped: int
    avg_hours_paid_to_shipped: float | None
    shipped_within_24h: float | None = Field(description="Share shipped within 24 h of payment.")
    open_orders: int = Field(description="Paid or processing orders waiting to ship now.")


@tool(agent="warehouse", path="/warehouses/{warehouse_id}/performance")
def warehouse_performance(
    ctx: ToolContext,
    warehouse_id: WarehouseId,
    start: Annotated[date | None, Field(description="First day (default: 30 days ago).")] = None,
    end: Annotated[date | None, Field(description="Last day (default: today).")] = None,
) -> Performance:
    """Picking and shipping KPIs of a warehouse over a period: orders and units shipped,
    average time from payment to shipping, share shipped within 24 hours, open orders."""
    warehouse = get_or_404(ctx.session, Warehouse, warehouse_id)
    since, until = period(start, end)
    shipped = select(Order.id, Order.paid_at, Order.shipped_at).where(
        Order.warehouse_id == warehouse_id,
        Order.shipped_at >= since,  # type: ignore[operator]
        Order.shipped_at < until,  # type: ignore[operator]
        Order.paid_at.is_not(None),  # type: ignore[union-attr]
    )
    # Summed by the database: a busy warehouse ships tens of thousands of orders a month.
    hours = hours_between(ctx.session, col(Order.paid_at), col(Order.shipped_at))
    # With the range of their ids, read in the same pass: their lines are found by order id
    # within it rather than among all the order lines (see order_id_range).
    count, average, within_day, first_id, last_id = ctx.session.execute(
        shipped.with_only_columns(
            func.count(),
            func.avg(hours),
            func.count().filter(hours <= 24),
            func.min(col(Order.id)),
            func.max(col(Order.id)),
        )
    ).one()
    units = ctx.session.exec(
        select(func.coalesce(func.sum(OrderLine.quantity), 0)).where(
            col(OrderLine.order_id).in_(shipped.with_only_columns(col(Order.id)).scalar_subquery()),
            col(OrderLine.order_id).between(first_id, last_id),
        )
    ).one()
    open_orders = ctx.session.exec(
        select(func.count())
        .select_from(Order)
        .where(
            Order.warehouse_id == warehouse_id,
            Order.status.in_([OrderStatus.PAID, OrderStatus.PROCESSING]),  # type: ignore[attr-defined]
        )
    ).one()
    return Performance(
        warehouse_id=warehouse_id,
        code=warehouse.code,
        start=since.date(),
        end=(until - timedelta(days=1)).date(),
        orders_shipped=count,
        units_shipped=units,
        avg_hours_paid_to_shipped=round(float(average), 1) if count else None,
        shipped_within_24h=round(within_day / count, 3) if count else None,
        open_orders=open_orders,
    )


class PickLine(BaseModel):
    order_id: int
    paid_at: str | None
    sku: str
    name: str
    quantity: int
    bin_location: str | None
    express: bool


class PickList(BaseModel):
    warehouse_id: int
    code: str
    generated_at: str
    orders: int
    lines: list[PickLine] = Field(description="Sorted by location so a picker walks once.")


@tool(agent="warehouse", path="/warehouses/{warehouse_id}/pick-list")
def pick_list(
    ctx: ToolContext,
    warehouse_id: WarehouseId,
    max_orders: Annotated[int, Field(ge=1, le=500, description="Orders to include.")] = 50,
) -> PickList:
    """The pick list for orders paid or processing at a warehouse and not shipped yet: express
    orders first, then oldest payment first, lines sorted by storage location."""
    warehouse = get_or_404(ctx.session, Warehouse, warehouse_id)
    orders = ctx.session.exec(
        select(Order)
        .where(
            Order.warehouse_id == warehouse_id,
            Order.status.in_([OrderStatus.PAID, OrderStatus.PROCESSING]),  # type: ignore[attr-defined]
        )
        .order_by(
            sa.case((col(Order.shipping_service) == "express", 0), else_=1),
            col(Order.paid_at),
            col(Order.id),
        )
        .limit(max_orders)
    ).all()
    by_id = {o.id: o for o in orders}
    rows = ctx.session.exec(
        select(OrderLine, StockLevel.bin_location)
        .join(ProductVariant, ProductVariant.id == OrderLine.variant_id)  # type: ignore[arg-type]
        .outerjoin(
            StockLevel,
            sa.and_(
                col(StockLevel.variant_id) == col(OrderLine.variant_id),
                col(StockLevel.warehouse_id) == warehouse_id,
            ),
        )
        .where(OrderLine.order_id.in_(list(by_id)))  # type: ignore[attr-defined]
    ).all()
    lines = [
        PickLine(
            order_id=line.order_id,
            paid_at=_iso(by_id[line.order_id].paid_at),
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            bin_location=bin_,
            express=by_id[line.order_id].shipping_service == "express",
        )
        for line, bin_ in rows
    ]
    lines.sort(key=lambda pick: (not pick.express, pick.bin_location or "~", pick.order_id))
    return PickList(
        warehouse_id=warehouse_id,
        code=warehouse.code,
        generated_at=utc_now().isoformat(timespec="seconds"),
        orders=len(orders),
        lines=lines,
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).isoformat(timespec="minutes")
