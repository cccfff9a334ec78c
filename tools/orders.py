"""Tools of the orders agent: creating, listing, changing and cancelling orders, analytics."""

from sqlmodel import Session

from db.base import utc_now
from db.models import Order, OrderStatus, OrderStatusChange
from tools.base import Conflict, ToolContext

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
            order_id=order.id,
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
