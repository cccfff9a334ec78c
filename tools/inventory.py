"""Tools of the inventory agent: stock by SKU and warehouse, and the functions other domains
call to reserve, release, ship and restock stock for orders and returns.

Reservations (tools/inventory_reservations.py), movements, transfers and settings
(tools/inventory_movements.py) and reports (tools/inventory_reports.py) register their tools
when this module is imported.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from db.base import utc_now
from db.models import (
    MovementKind,
    Order,
    OrderLine,
    Product,
    ProductVariant,
    ReservationStatus,
    StockLevel,
    StockMovement,
    StockReservation,
    Warehouse,
)
from tools import inventory_movements, inventory_reports, inventory_reservations
from tools.base import Conflict, InvalidInput, NotFound, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate
from tools.inventory_core import (
    StockLevelOut,
    check_low_stock,
    critical_ratio,
    end_reservations,
    get_variant,
    get_warehouse,
    level_out,
    lock_level,
    lock_or_create_level,
    lock_reservations,
    move,
    movement_payload,
    reserve_units,
    variant_by_sku,
)

__all__ = [
    "choose_warehouse",
    "inventory_movements",
    "inventory_reports",
    "inventory_reservations",
    "release_order_reservations",
    "reserve_for_order",
    "restock_return",
    "ship_order_stock",
]


# -- functions other domains call (contracts) ---------------------------------------------


def reserve_for_order(
    ctx: ToolContext,
    *,
    order_id: int,
    variant_id: int,
    warehouse_id: int,
    quantity: int,
    expires_at: datetime | None,
) -> StockReservation:
    """Reserve units of a SKU at a warehouse for an order, locking the stock level.

    Raises Conflict "insufficient_stock" naming the SKU, the warehouse and the units available.
    """
    if ctx.session.get(Order, order_id) is None:
        raise NotFound(f"order {order_id} does not exist", field="order_id")
    variant = get_variant(ctx.session, variant_id)
    warehouse = get_warehouse(ctx.session, warehouse_id)
    return reserve_units(
        ctx, variant, warehouse, quantity, order_id=order_id, expires_at=expires_at
    )


def release_order_reservations(ctx: ToolContext, *, order_id: int, reason: str) -> int:
    """Release every active reservation of an order (cancelled, edited...); units released."""
    reservations = lock_reservations(ctx.session, col(StockReservation.order_id) == order_id)
    return end_reservations(ctx, reservations, ReservationStatus.RELEASED, reason)


def ship_order_stock(ctx: ToolContext, *, order_id: int) -> None:
    """The order's stock leaves the warehouse: its active reservations become committed, on hand
    and reserved go down, and each line gets one outbound movement referenced "order:<id>".

    Lines (or parts of lines) with no active reservation, e.g. after it expired, are taken from
    the order's warehouse's available stock, never from units reserved for other orders.
    Calling it again for an order whose stock already left changes nothing.
    """
    session = ctx.session
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"order {order_id} does not exist", field="order_id")
    reference = f"order:{order_id}"
    shipped = session.exec(
        select(StockMovement.id).where(
            StockMovement.reference == reference,
            col(StockMovement.kind) == MovementKind.OUTBOUND,
        )
    ).first()
    if shipped is not None:
        return  # its stock already left: shipping twice must not take it twice
    lines = session.exec(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(col(OrderLine.id))
    ).all()
    if not lines:
        raise Conflict(f"order {order_id} has no lines to ship")
    reservations = lock_reservations(session, col(StockReservation.order_id) == order_id)
    left = {r.id: r.quantity for r in reservations}
    # (line, warehouse) -> [units taken from the order's reservations, units taken unreserved]
    plan: dict[tuple[int, int], list[int]] = {}
    for line in lines:
        need = line.quantity
        for reservation in reservations:
            if need == 0 or reservation.variant_id != line.variant_id:
                continue
            take = min(need, left[reservation.id])
            if take:
                left[reservation.id] -= take
                need -= take
                plan.setdefault((line.id or 0, reservation.warehouse_id), [0, 0])[0] += take
        if need:
            if order.warehouse_id is None:
                raise Conflict(
                    f"order {order_id} has no warehouse and {line.sku} is not reserved; "
                    "assign a warehouse first"
                )
            plan.setdefault((line.id or 0, order.warehouse_id), [0, 0])[1] += need
    by_line = {line.id: line for line in lines}
    keys = {(by_line[line_id].variant_id, wh) for line_id, wh in plan}
    keys |= {(r.variant_id, r.warehouse_id) for r in reservations}
    levels: dict[tuple[int, int], StockLevel] = {}
    for key in sorted(keys):  # one lock order everywhere: no deadlocks
        level = lock_level(session, *key)
        if level is not None:
            levels[key] = level
    # Units reserved beyond what the lines need are released with the commitment.
    for reservation in reservations:
        level = levels.get((reservation.variant_id, reservation.warehouse_id))
        if level is not None and left[reservation.id]:
            level.reserved = max(0, level.reserved - left[reservation.id])
        if left[reservation.id] == reservation.quantity:  # for no line of the order
            reservation.status = ReservationStatus.RELEASED
            reservation.released_at = utc_now()
        else:
            reservation.status = ReservationStatus.COMMITTED
        session.add(reservation)
    for (line_id, warehouse_id), (reserved_units, free_units) in plan.items():
        line = by_line[line_id]
        level = levels.get((line.variant_id, warehouse_id))
        if level is None:
            code = get_warehouse(session, warehouse_id).code
            raise Conflict(
                f"{line.sku} is not stocked at {code}; it cannot ship from there",
                code="insufficient_stock",
            )
        available_before = level.on_hand - level.reserved
        movement = move(
            ctx,
            level,
            MovementKind.OUTBOUND,
            -(reserved_units + free_units),
            reason="order shipped",
            reference=reference,
            release=reserved_units,
        )
        ctx.record(
            action="ship_order_stock",
            entity_type="stock_movement",
            entity_id=movement.id,
            event="stock_movement_recorded",
            domain="inventory",
            after={
                **movement_payload(movement, level),
                "order_id": order_id,
                "sku": line.sku,
                "reservations_committed": [
                    r.id for r in reservations if r.variant_id == line.variant_id
                ],
            },
        )
        check_low_stock(ctx, level, available_before)


def restock_return(
    ctx: ToolContext, *, variant_id: int, warehouse_id: int, quantity: int, return_id: int
) -> None:
    """Put returned units back on hand: a "return" movement referenced "return:<id>"."""
    if quantity <= 0:
        raise InvalidInput("restock at least one unit", field="quantity")
    variant = get_variant(ctx.session, variant_id)
    warehouse = get_warehouse(ctx.session, warehouse_id)
    level = lock_or_create_level(ctx.session, variant_id, warehouse_id)
    movement = move(
        ctx,
        level,
        MovementKind.RETURN,
        quantity,
        reason="customer return restocked",
        reference=f"return:{return_id}",
    )
    ctx.record(
        action="restock_return",
        entity_type="stock_movement",
        entity_id=movement.id,
        event="stock_movement_recorded",
        domain="inventory",
        after={
            **movement_payload(movement, level),
            "sku": variant.sku,
            "warehouse_code": warehouse.code,
            "return_id": return_id,
        },
    )


def choose_warehouse(session: Session, *, lines: list[tuple[int, int]], country: str) -> int | None:
    """The active warehouse that can serve every (variant_id, quantity) line from available
    stock: one in the customer's country first, then LYS, then the one with most units
    available for these SKUs. None when no single warehouse can serve the whole order."""
    need: dict[int, int] = {}
    for variant_id, quantity in lines:
        need[variant_id] = need.get(variant_id, 0) + quantity
    if not need:
        return None
    warehouses = {
        w.id: w for w in session.exec(select(Warehouse).where(col(Warehouse.is_active))).all()
    }
    rows = session.exec(
        select(
            StockLevel.warehouse_id,
            StockLevel.variant_id,
            col(StockLevel.on_hand) - col(StockLevel.reserved),
        ).where(col(StockLevel.variant_id).in_(list(need)))
    ).all()
    available: dict[int, dict[int, int]] = {}
    for warehouse_id, variant_id, units in rows:
        if warehouse_id in warehouses:
            available.setdefault(warehouse_id, {})[variant_id] = units
    candidates = [
        warehouse_id
        for warehouse_id, stock in available.items()
        if all(stock.get(v, 0) >= q for v, q in need.items())
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda w: (
            warehouses[w].country != country.upper(),
            warehouses[w].code != "LYS",
            -sum(available[w].values()),
            w,
        ),
    )


# -- reading stock -----------------------------------------------------------------------


@tool(agent="inventory", path="/inventory/stock")
def get_stock(
    ctx: ToolContext,
    sku: Annotated[
        str | None,
        Field(min_length=1, max_length=64, description="SKU or part of it, e.g. IPHONE13."),
    ] = None,
    variant_id: Annotated[int | None, Field(ge=1, description="Id of one variant (SKU).")] = None,
    warehouse_id: Annotated[int | None, Field(ge=1, description="Only this warehouse.")] = None,
    low_only: Annotated[
        bool, Field(description="Only levels whose available stock is below the reorder point.")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[StockLevelOut]:
    """Stock levels per SKU and warehouse: on hand, reserved, available (on hand minus
    reserved), reorder point and limits, bin location and status (ok, low, critical).
    Filter by SKU (or part of one), variant, warehouse, or only what is low."""
    statement = (
        select(StockLevel, ProductVariant, Warehouse.code)
        .join(ProductVariant, col(ProductVariant.id) == StockLevel.variant_id)
        .join(Warehouse, col(Warehouse.id) == StockLevel.warehouse_id)
    )
    if sku:
        statement = statement.where(
            col(ProductVariant.sku).contains(sku.strip().upper(), autoescape=True)
        )
    if variant_id is not None:
        statement = statement.where(StockLevel.variant_id == variant_id)
    if warehouse_id is not None:
        get_warehouse(ctx.session, warehouse_id)
        statement = statement.where(StockLevel.warehouse_id == warehouse_id)
    if low_only:
        statement = statement.where(
            col(StockLevel.on_hand) - col(StockLevel.reserved) < col(StockLevel.reorder_point)
        )
    rows, next_cursor = paginate(
        ctx.session, statement, col(StockLevel.id), limit, cursor, descending=False
    )
    ratio = critical_ratio(ctx.session)
    return Page(
        items=[level_out(level, variant, code, ratio) for level, variant, code in rows],
        next_cursor=next_cursor,
    )


class WarehouseStock(BaseModel):
    warehouse_id: int
    warehouse_code: str
    stocked: bool = Field(description="False: this warehouse has never held the SKU.")
    on_hand: int
    reserved: int
    available: int


class VariantAvailability(BaseModel):
    variant_id: int
    sku: str
    name: str
    is_active: bool
    on_hand: int
    reserved: int
    available: int
    warehouses: list[WarehouseStock]


class ProductAvailability(BaseModel):
    product_id: int
    product_name: str
    on_hand: int
    reserved: int
    available: int
    variants: list[VariantAvailability]


@tool(agent="inventory", path="/inventory/availability")
def product_availability(
    ctx: ToolContext,
    product_id: Annotated[
        int | None, Field(ge=1, description="A product: every variant of it.")
    ] = None,
    sku: Annotated[
        str | None, Field(min_length=1, max_length=64, description="One exact SKU.")
    ] = None,
) -> ProductAvailability:
    """Where a product (all its variants) or one SKU is in stock: on hand, reserved and
    available in every warehouse, with totals. Give either product_id or sku."""
    if (product_id is None) == (sku is None):
        raise InvalidInput("give either product_id or sku, not both and not neither", field="sku")
    if sku is not None:
        chosen = variant_by_sku(ctx.session, sku)
        product = get_or_404(ctx.session, Product, chosen.product_id)
        variants = [chosen]
    else:
        product = get_or_404(ctx.session, Product, product_id)
        variants = list(
            ctx.session.exec(
                select(ProductVariant)
                .where(ProductVariant.product_id == product_id)
                .order_by(col(ProductVariant.id))
            ).all()
        )
    levels = {
        (level.variant_id, level.warehouse_id): level
        for level in ctx.session.exec(
            select(StockLevel).where(col(StockLevel.variant_id).in_([v.id for v in variants]))
        ).all()
    }
    warehouses = ctx.session.exec(select(Warehouse).order_by(col(Warehouse.id))).all()
    out: list[VariantAvailability] = []
    for variant in variants:
        rows = []
        for warehouse in warehouses:
            level = levels.get((variant.id or 0, warehouse.id or 0))
            if level is None and not warehouse.is_active:
                continue
            on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
            rows.append(
                WarehouseStock(
                    warehouse_id=warehouse.id or 0,
                    warehouse_code=warehouse.code,
                    stocked=level is not None,
                    on_hand=on_hand,
                    reserved=reserved,
                    available=on_hand - reserved,
                )
            )
        out.append(
            VariantAvailability(
                variant_id=variant.id or 0,
                sku=variant.sku,
                name=variant.name,
                is_active=variant.is_active,
                on_hand=sum(r.on_hand for r in rows),
                reserved=sum(r.reserved for r in rows),
                available=sum(r.available for r in rows),
                warehouses=rows,
            )
        )
    return ProductAvailability(
        product_id=product.id or 0,
        product_name=product.name,
        on_hand=sum(v.on_hand for v in out),
        reserved=sum(v.reserved for v in out),
        available=sum(v.available for v in out),
        variants=out,
    )
