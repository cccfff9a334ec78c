"""Inventory tools for reservations: holding stock for orders, releasing it, expiring it."""

from datetime import timedelta
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import col, select

from db.base import utc_now
from db.models import (
    Order,
    OrderLine,
    OrderStatus,
    ProductVariant,
    ReservationStatus,
    StockReservation,
    Warehouse,
)
from tools.base import MANAGERS, Conflict, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate
from tools.inventory_core import (
    ReservationOut,
    end_reservations,
    get_warehouse,
    reservation_out,
    reservation_out_of,
    reservation_ttl_minutes,
    reserve_units,
    variant_by_sku,
)

OPEN_ORDER = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING)
HELD_UNTIL_SHIPPED = (OrderStatus.PAID, OrderStatus.PROCESSING)

ReservationId = Annotated[int, Field(ge=1, description="Id of the reservation.")]
Sku = Annotated[
    str, Field(min_length=1, max_length=64, description="The SKU, e.g. APP-IPHONE13-128GB-MIDN-A.")
]


@tool(agent="inventory", path="/inventory/reservations", writes=True)
def reserve_stock(
    ctx: ToolContext,
    sku: Sku,
    warehouse_id: Annotated[int, Field(ge=1, description="Warehouse holding the stock.")],
    quantity: Annotated[int, Field(ge=1, le=10_000, description="Units to reserve.")],
    order_id: Annotated[
        int | None,
        Field(ge=1, description="The order the units are for; the SKU must be on it."),
    ] = None,
    expires_in_minutes: Annotated[
        int | None,
        Field(
            ge=1,
            le=43_200,
            description="Release automatically after this many minutes. Default: held until "
            "shipped for a paid order, else the reservation time set by the merchant "
            "(orders.reservation_ttl_minutes, 30).",
        ),
    ] = None,
) -> ReservationOut:
    """Reserve units of a SKU at a warehouse, optionally for an order, so nobody else can sell
    them. Never oversells: fails with insufficient_stock when fewer units are available (on
    hand minus reserved), even under concurrent requests. For an order, the reservation cannot
    exceed the units of that SKU ordered."""
    variant = variant_by_sku(ctx.session, sku)
    warehouse = get_warehouse(ctx.session, warehouse_id)
    if not warehouse.is_active:
        raise Conflict(
            f"warehouse {warehouse.code} is out of service; reserve elsewhere",
            field="warehouse_id",
        )
    order = None
    if order_id is not None:
        from tools.orders import lock_order

        order = lock_order(ctx.session, order_id)
        _check_order_needs(ctx, order, variant, quantity)
    now = utc_now()
    if expires_in_minutes is not None:
        expires_at = now + timedelta(minutes=expires_in_minutes)
    elif order is not None and order.status in HELD_UNTIL_SHIPPED:
        expires_at = None
    else:
        expires_at = now + timedelta(minutes=reservation_ttl_minutes(ctx.session))
    reservation = reserve_units(
        ctx, variant, warehouse, quantity, order_id=order_id, expires_at=expires_at
    )
    return reservation_out(reservation, variant.sku, warehouse.code)


def _check_order_needs(
    ctx: ToolContext, order: Order, variant: ProductVariant, quantity: int
) -> None:
    if order.status not in OPEN_ORDER:
        raise Conflict(
            f"order {order.id} is {order.status}; only pending, paid or processing orders "
            "hold stock",
            field="order_id",
        )
    ordered = ctx.session.exec(
        select(sa.func.coalesce(sa.func.sum(OrderLine.quantity), 0)).where(
            OrderLine.order_id == order.id, OrderLine.variant_id == variant.id
        )
    ).one()
    if not ordered:
        raise Conflict(f"order {order.id} has no line for {variant.sku}", field="sku")
    held = ctx.session.exec(
        select(sa.func.coalesce(sa.func.sum(StockReservation.quantity), 0)).where(
            StockReservation.order_id == order.id,
            StockReservation.variant_id == variant.id,
            col(StockReservation.status) == ReservationStatus.ACTIVE,
        )
    ).one()
    if held + quantity > ordered:
        raise Conflict(
            f"order {order.id} has {ordered} unit(s) of {variant.sku} and {held} already "
            f"reserved; at most {ordered - held} more can be reserved",
            field="quantity",
        )


@tool(
    agent="inventory",
    path="/inventory/reservations/{reservation_id}/release",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def release_reservation(
    ctx: ToolContext,
    reservation_id: ReservationId,
    reason: Annotated[
        str,
        Field(min_length=3, max_length=200, description="Why, e.g. 'order cancelled on Fnac'."),
    ],
) -> ReservationOut:
    """Release an active reservation (a stuck or orphan one) so its units can be sold again.
    Cancelling an order releases its reservations by itself; use this for the exceptions."""
    reservation = get_or_404(ctx.session, StockReservation, reservation_id, lock=True)
    if reservation.status != ReservationStatus.ACTIVE:
        raise Conflict(
            f"reservation {reservation_id} is {reservation.status}; "
            "only active reservations can be released",
            field="reservation_id",
        )
    end_reservations(ctx, [reservation], ReservationStatus.RELEASED, reason.strip())
    return reservation_out_of(ctx.session, reservation)


class ExpiryResult(BaseModel):
    expired: list[ReservationOut] = Field(description="Released because their time ran out.")
    units_released: int
    extended: list[ReservationOut] = Field(
        description="Past their time but their order is paid: now held until shipped."
    )
    more: bool = Field(description="More expired reservations remain: run again.")


@tool(agent="inventory", path="/inventory/reservations/expire", writes=True)
def expire_reservations(
    ctx: ToolContext,
    limit: Annotated[
        int, Field(ge=1, le=1000, description="Most reservations to handle in this run.")
    ] = 500,
) -> ExpiryResult:
    """Release active reservations whose expiry time has passed (unpaid checkouts), making
    their units available again. Reservations of orders paid meanwhile are kept until the
    order ships instead. Safe to run at any time; returns what it released."""
    now = utc_now()
    statement = (
        select(StockReservation)
        .where(
            col(StockReservation.status) == ReservationStatus.ACTIVE,
            col(StockReservation.expires_at).is_not(None),
            col(StockReservation.expires_at) <= now,
        )
        .order_by(col(StockReservation.id))
        .limit(limit + 1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    due = list(ctx.session.exec(statement).all())
    more = len(due) > limit
    due = due[:limit]
    order_ids = {r.order_id for r in due if r.order_id is not None}
    statuses = dict(
        ctx.session.exec(select(Order.id, Order.status).where(col(Order.id).in_(order_ids))).all()
    )
    paid = [r for r in due if statuses.get(r.order_id) in HELD_UNTIL_SHIPPED]
    lapsed = [r for r in due if r not in paid]
    for reservation in paid:
        before = reservation.expires_at
        reservation.expires_at = None
        ctx.session.add(reservation)
        ctx.record(
            action="extend_reservation",
            entity_type="stock_reservation",
            entity_id=reservation.id,
            event="stock_reservation_extended",
            domain="inventory",
            before={"expires_at": before.isoformat() if before else None},
            after={
                "reservation_id": reservation.id,
                "order_id": reservation.order_id,
                "expires_at": None,
                "reason": f"order {reservation.order_id} is paid: held until shipped",
            },
        )
    units = end_reservations(
        ctx, lapsed, ReservationStatus.EXPIRED, "expired: the reservation time ran out"
    )
    return ExpiryResult(
        expired=[reservation_out_of(ctx.session, r) for r in lapsed],
        units_released=units,
        extended=[reservation_out_of(ctx.session, r) for r in paid],
        more=more,
    )


@tool(agent="inventory", path="/inventory/reservations")
def list_reservations(
    ctx: ToolContext,
    order_id: Annotated[int | None, Field(ge=1, description="Only this order's.")] = None,
    sku: Annotated[
        str | None, Field(min_length=1, max_length=64, description="Only this exact SKU.")
    ] = None,
    warehouse_id: Annotated[int | None, Field(ge=1, description="Only this warehouse.")] = None,
    status: Annotated[
        ReservationStatus | None,
        Field(description="active, committed, released or expired; all by default."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ReservationOut]:
    """Stock reservations, newest first: who holds which units (order, SKU, warehouse), until
    when, and what became of them. Use it to explain why stock is reserved."""
    statement = (
        select(StockReservation, ProductVariant.sku, Warehouse.code)
        .join(ProductVariant, col(ProductVariant.id) == StockReservation.variant_id)
        .join(Warehouse, col(Warehouse.id) == StockReservation.warehouse_id)
    )
    if order_id is not None:
        statement = statement.where(StockReservation.order_id == order_id)
    if sku is not None:
        variant = variant_by_sku(ctx.session, sku)
        statement = statement.where(StockReservation.variant_id == variant.id)
    if warehouse_id is not None:
        statement = statement.where(StockReservation.warehouse_id == warehouse_id)
    if status is not None:
        statement = statement.where(col(StockReservation.status) == status)
    rows, next_cursor = paginate(ctx.session, statement, col(StockReservation.id), limit, cursor)
    return Page(
        items=[reservation_out(r, sku_, code) for r, sku_, code in rows], next_cursor=next_cursor
    )
