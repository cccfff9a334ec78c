"""Tools of the orders agent: creating, listing, changing and cancelling orders, analytics."""

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.base import as_utc, utc_now
from db.daily_sales import record_order
from db.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Payment,
    PaymentStatus,
    ProductVariant,
    ReservationStatus,
    SalesChannel,
    Shipment,
    ShipmentStatus,
    StockReservation,
    Warehouse,
)
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import euros

# Where an order may go from each status. Cancelling is possible only before shipping;
# shipped and delivered orders come back through returns (after_sales).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.PROCESSING, OrderStatus.CANCELLED}),
    OrderStatus.PROCESSING: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.RETURNED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.RETURNED: frozenset(),
}

TIMESTAMP_OF = {
    OrderStatus.PAID: "paid_at",
    OrderStatus.SHIPPED: "shipped_at",
    OrderStatus.DELIVERED: "delivered_at",
    OrderStatus.CANCELLED: "cancelled_at",
}


def transition(ctx: ToolContext, order: Order, to_status: OrderStatus, reason: str | None) -> None:
    """Move an order along the status machine, with its history row, audit entry and event.

    Every status change of an order, from any tool, goes through here.
    """
    from_status = OrderStatus(order.status)
    if to_status not in TRANSITIONS[from_status]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[from_status])) or "none"
        hint = (
            " Shipped and delivered orders go through returns."
            if to_status == OrderStatus.CANCELLED
            else ""
        )
        raise Conflict(
            f"order {order.id} is {from_status.value}; it cannot become {to_status.value} "
            f"(allowed next: {allowed}).{hint}",
            field="status",
        )
    if order.held_at is not None and to_status in (OrderStatus.PROCESSING, OrderStatus.SHIPPED):
        raise Conflict(
            f"order {order.id} is held for review ({order.hold_reason}); a manager releases "
            "it with release_order_hold before it is processed or shipped",
            field="status",
        )
    record_order(ctx.session, order, from_status)
    now = utc_now()
    order.status = to_status
    order.updated_at = now
    if to_status in TIMESTAMP_OF:
        setattr(order, TIMESTAMP_OF[to_status], now)
    if to_status == OrderStatus.CANCELLED:
        order.cancel_reason = reason
    ctx.session.add(order)
    ctx.session.add(
        OrderStatusChange(
            order_id=order.id,  # type: ignore[arg-type]
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            changed_by=ctx.actor.email,
            created_at=now,
        )
    )
    event = "order_cancelled" if to_status == OrderStatus.CANCELLED else "order_status_updated"
    ctx.record(
        action=f"order_{to_status.value}",
        entity_type="order",
        entity_id=order.id,
        event=event,
        domain="orders",
        payload={
            "order_id": order.id,
            "from": from_status.value,
            "to": to_status.value,
            "reason": reason,
        },
        before={"status": from_status.value},
        after={"status": to_status.value},
    )


def lock_order(session: Session, order_id: int) -> Order:
    """The order, locked for update (PostgreSQL) so concurrent changes queue behind us."""
    from tools.common import get_or_404

    return get_or_404(session, Order, order_id, lock=True)


# -- changing an order's status ----------------------------------------------------------

OrderId = Annotated[int, Field(ge=1, description="Id of the order.")]
Reason = Annotated[str, Field(min_length=3, max_length=200, description="Why, in a few words.")]


class StatusUpdate(BaseModel):
    order_id: int
    from_status: OrderStatus
    to_status: OrderStatus
    reason: str | None
    changed_by: str
    notes: list[str] = Field(description="What else happened or needs doing.")


@tool(agent="orders", path="/orders/{order_id}/status", method="PATCH", writes=True)
def update_order_status(
    ctx: ToolContext,
    order_id: OrderId,
    status: Annotated[
        OrderStatus,
        Field(description="The next status: paid, processing, shipped or delivered."),
    ],
    reason: Annotated[
        str | None, Field(max_length=200, description="Why, kept in the order's history.")
    ] = None,
) -> StatusUpdate:
    """Move an order one step along pending -> paid -> processing -> shipped -> delivered, e.g.
    paid -> processing when the warehouse starts picking. Statuses never go backwards. To cancel,
    use cancel_order (it releases stock and refunds); returns go through the after-sales tools.
    Marking an order paid needs captured payments covering its total; marking it shipped takes
    its reserved stock out of the warehouse."""
    if status == OrderStatus.CANCELLED:
        raise InvalidInput(
            "use cancel_order to cancel an order: it also releases the stock and refunds "
            "what was captured",
            field="status",
        )
    if status == OrderStatus.RETURNED:
        raise InvalidInput(
            "an order becomes returned through the after-sales tools (request_return, then "
            "refund_return) once its items are back",
            field="status",
        )
    order = lock_order(ctx.session, order_id)
    from_status = OrderStatus(order.status)
    if status == from_status:
        raise Conflict(f"order {order_id} is already {status.value}", field="status")
    notes: list[str] = []
    if status in TRANSITIONS[from_status]:
        if status == OrderStatus.PAID:
            _refuse_unless_captured(ctx, order)
        elif status in (OrderStatus.PROCESSING, OrderStatus.SHIPPED) and not order.warehouse_id:
            raise Conflict(
                f"order {order_id} has no fulfilling warehouse; its stock was never allocated",
                field="status",
            )
    transition(ctx, order, status, reason)
    if status == OrderStatus.PAID:
        notes += _after_paid(ctx, order)
    elif status == OrderStatus.SHIPPED:
        notes += _after_shipped(ctx, order)
    return StatusUpdate(
        order_id=order_id,
        from_status=from_status,
        to_status=status,
        reason=reason,
        changed_by=ctx.actor.email,
        notes=notes,
    )


def _refuse_unless_captured(ctx: ToolContext, order: Order) -> None:
    captured, refunded = ctx.session.exec(
        select(
            func.coalesce(func.sum(Payment.captured_cents), 0),
            func.coalesce(func.sum(Payment.refunded_cents), 0),
        ).where(Payment.order_id == order.id)
    ).one()
    if captured - refunded < order.total_cents:
        raise Conflict(
            f"order {order.id} has {euros(captured - refunded)} captured of its "
            f"{euros(order.total_cents)} total; take the payment first (capture_payment or "
            "process_payment), which marks the order paid",
            field="status",
        )


def _after_paid(ctx: ToolContext, order: Order) -> list[str]:
    """A paid order keeps its stock until it ships, and a shop customer earns points."""
    from tools.customers import earn_points_for_order

    notes = []
    active = ctx.session.exec(
        select(StockReservation)
        .where(
            StockReservation.order_id == order.id,
            StockReservation.status == ReservationStatus.ACTIVE,
        )
        .with_for_update()
    ).all()
    held: dict[int, int] = {}
    for reservation in active:
        reservation.expires_at = None
        held[reservation.variant_id] = held.get(reservation.variant_id, 0) + reservation.quantity
        ctx.session.add(reservation)
    if active:
        notes.append("the stock reservation now lasts until the order ships")
    lines = ctx.session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    short = [line.sku for line in lines if held.get(line.variant_id, 0) < line.quantity]
    if short:
        notes.append(
            "allocation warning: no stock is reserved any more for "
            + ", ".join(short)
            + "; reserve it again (reserve_stock), transfer it, or cancel the order"
        )
    points = earn_points_for_order(ctx, order)
    if points:
        notes.append(f"the customer earned {points} loyalty points")
    return notes


def _after_shipped(ctx: ToolContext, order: Order) -> list[str]:
    from tools.inventory import ship_order_stock

    assert order.id is not None
    ship_order_stock(ctx, order_id=order.id)
    parcels = ctx.session.exec(
        select(func.count()).select_from(Shipment).where(Shipment.order_id == order.id)
    ).one()
    if not parcels:
        return [
            "the reserved stock left the warehouse; no shipment is recorded, so the customer "
            "has no tracking number (create_shipment records one)"
        ]
    return ["the reserved stock left the warehouse"]


# -- cancelling --------------------------------------------------------------------------


class ReleasedStock(BaseModel):
    sku: str
    warehouse: str
    quantity: int


class CancelledRefund(BaseModel):
    refund_id: int
    payment_id: int
    amount_cents: int
    message: str = Field(description="The payment provider's answer.")


class Cancellation(BaseModel):
    order_id: int
    previous_status: OrderStatus
    status: OrderStatus
    reason: str
    units_released: int
    released: list[ReleasedStock] = Field(description="Stock given back, per SKU and warehouse.")
    refunds: list[CancelledRefund]
    refunded_cents: int
    summary: str
    notes: list[str] = Field(description="What someone still has to do.")


def check_cancellable(session: Session, order: Order) -> list[Shipment]:
    """Raise Conflict unless the order can still be cancelled: not cancelled already, and not
    shipped (by its status, or a parcel the carrier has scanned). Returns its parcels, labels
    printed but never scanned."""
    previous = OrderStatus(order.status)
    if previous == OrderStatus.CANCELLED:
        raise Conflict(f"order {order.id} is already cancelled ({order.cancel_reason})")
    if previous not in TRANSITIONS or OrderStatus.CANCELLED not in TRANSITIONS[previous]:
        raise Conflict(
            f"order {order.id} is {previous.value}; only orders that have not shipped can be "
            "cancelled. After delivery the customer returns the items (request_return).",
            field="order_id",
        )
    parcels = session.exec(select(Shipment).where(Shipment.order_id == order.id)).all()
    scanned = [s for s in parcels if s.status != ShipmentStatus.LABEL_CREATED]
    if scanned:
        raise Conflict(
            f"order {order.id} has a parcel the carrier already scanned (tracking "
            f"{scanned[0].tracking_number}, {scanned[0].status}); it has in fact shipped and "
            "goes through returns",
            field="order_id",
        )
    return list(parcels)


def _cancellable(ctx: ToolContext, order_id: int, reason: str) -> None:
    from tools.common import get_or_404

    check_cancellable(ctx.session, get_or_404(ctx.session, Order, order_id))


def cancel(ctx: ToolContext, order: Order, reason: str) -> Cancellation:
    """Cancel a locked order before it ships: release its stock, refund what was captured
    (idempotency key cancel-<id>), and record the change. Used by cancel_order and by
    expire_unpaid_orders."""
    from tools.inventory import release_order_reservations
    from tools.payments import refund_order

    assert order.id is not None
    previous = OrderStatus(order.status)
    parcels = check_cancellable(ctx.session, order)
    released = [
        ReleasedStock(sku=sku, warehouse=code, quantity=quantity)
        for sku, code, quantity in ctx.session.exec(
            select(ProductVariant.sku, Warehouse.code, StockReservation.quantity)
            .join(ProductVariant, col(ProductVariant.id) == StockReservation.variant_id)
            .join(Warehouse, col(Warehouse.id) == StockReservation.warehouse_id)
            .where(
                StockReservation.order_id == order.id,
                StockReservation.status == ReservationStatus.ACTIVE,
            )
            .order_by(col(StockReservation.id))
        ).all()
    ]
    units = release_order_reservations(ctx, order_id=order.id, reason=f"order cancelled: {reason}")
    refunds = refund_order(
        ctx,
        order_id=order.id,
        amount_cents=None,
        reason=f"order cancelled: {reason}"[:200],
        idempotency_key=f"cancel-{order.id}",
    )
    transition(ctx, order, OrderStatus.CANCELLED, reason)
    refunded = [
        CancelledRefund(
            refund_id=r.id, payment_id=r.payment_id, amount_cents=r.amount_cents, message=r.message
        )
        for r in refunds
    ]
    total = sum(r.amount_cents for r in refunded)
    notes = []
    if parcels:
        notes.append(
            f"void the unused label(s) {', '.join(s.tracking_number for s in parcels)} and put "
            "the parcel back on the shelves"
        )
    elif previous == OrderStatus.PROCESSING:
        notes.append("tell the warehouse: the order was being prepared")
    if order.channel != SalesChannel.SHOP:
        notes.append(f"cancel the order on {order.channel} too, with the same reason")
    for payment_id, payment_status in ctx.session.exec(
        select(Payment.id, Payment.status).where(
            Payment.order_id == order.id,
            col(Payment.status).in_([PaymentStatus.PENDING, PaymentStatus.AUTHORIZED]),
        )
    ).all():
        notes.append(
            f"payment {payment_id} is still {payment_status} (nothing captured): if the money "
            "arrives later, refund it"
        )
    summary = f"order {order.id} cancelled ({reason}): {units} unit(s) released, " + (
        f"{euros(total)} refunded" if total else "nothing to refund"
    )
    return Cancellation(
        order_id=order.id,
        previous_status=previous,
        status=OrderStatus.CANCELLED,
        reason=reason,
        units_released=units,
        released=released,
        refunds=refunded,
        refunded_cents=total,
        summary=summary,
        notes=notes,
    )


@tool(
    agent="orders",
    path="/orders/{order_id}/cancel",
    writes=True,
    approval=True,
    precheck=_cancellable,
)
def cancel_order(ctx: ToolContext, order_id: OrderId, reason: Reason) -> Cancellation:
    """Cancel an order that has not shipped yet (pending, paid or processing): its reserved
    stock is released and everything captured is refunded to the original payment method.
    Shipped and delivered orders cannot be cancelled; they go through returns. Give the reason
    (customer request, payment issue, out of stock, fraud suspicion, duplicate order)."""
    return cancel(ctx, lock_order(ctx.session, order_id), reason)


# -- unpaid orders -----------------------------------------------------------------------


class ExpiredOrder(BaseModel):
    order_id: int
    customer_id: int
    total_cents: int
    placed_at: datetime
    units_released: int
    notes: list[str] = Field(description="What someone still has to do for this order.")


class ExpiredOrders(BaseModel):
    checked_at: datetime
    cancelled: list[ExpiredOrder]
    more: bool = Field(description="More orders are waiting: run it again.")


@tool(
    agent="orders",
    path="/orders/expire-unpaid",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def expire_unpaid_orders(
    ctx: ToolContext,
    limit: Annotated[int, Field(ge=1, le=500, description="Orders to cancel at most.")] = 100,
) -> ExpiredOrders:
    """Cancel pending orders whose stock reservation expired before they were paid (after
    orders.reservation_ttl_minutes) and release their stock. Returns the orders cancelled,
    oldest first. Orders paid meanwhile, or still holding a valid reservation, are left alone."""
    now = utc_now()
    mine = col(StockReservation.order_id) == col(Order.id)
    status, expires_at = col(StockReservation.status), col(StockReservation.expires_at)
    lapsed = sa.exists().where(
        mine,
        sa.or_(
            status == ReservationStatus.EXPIRED,
            sa.and_(status == ReservationStatus.ACTIVE, expires_at <= now),
        ),
    )
    holding = sa.exists().where(
        mine,
        status == ReservationStatus.ACTIVE,
        sa.or_(expires_at.is_(None), expires_at > now),
    )
    candidates = ctx.session.exec(
        select(Order.id)
        .where(Order.status == OrderStatus.PENDING, lapsed, ~holding)
        .order_by(col(Order.id))
        .limit(limit + 1)
    ).all()
    cancelled = []
    for order_id in (id_ for id_ in candidates[:limit] if id_ is not None):
        order = lock_order(ctx.session, order_id)
        if order.status != OrderStatus.PENDING:
            continue  # paid or cancelled while we looked
        result = cancel(ctx, order, "reservation expired without payment")
        cancelled.append(
            ExpiredOrder(
                order_id=order_id,
                customer_id=order.customer_id,
                total_cents=order.total_cents,
                placed_at=as_utc(order.placed_at),
                units_released=result.units_released,
                notes=result.notes,
            )
        )
    return ExpiredOrders(checked_at=now, cancelled=cancelled, more=len(candidates) > limit)


# The read and create tools live beside this module; importing them registers them.
import tools.orders_create  # noqa: E402
import tools.orders_read  # noqa: E402, F401
