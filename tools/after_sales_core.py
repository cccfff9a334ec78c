"""What the after-sales tools share: RMA results, what was paid per order line, quantities
already returned, and the audit/event record of an RMA change. Registers no tool."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.models import (
    ItemCondition,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from tools.base import Conflict, ToolContext
from tools.common import get_or_404
from tools.customers_core import Moment

ReturnId = Annotated[int, Field(ge=1, description="Id of the return (RMA).")]

# Reasons for which the outbound shipping is always refunded: the fault is ours.
OUR_FAULT = (ReturnReason.DEFECTIVE, ReturnReason.DAMAGED_IN_TRANSIT, ReturnReason.WRONG_ITEM)


class ReturnLineOut(BaseModel):
    id: int
    order_line_id: int
    sku: str
    name: str
    quantity: int
    condition: ItemCondition
    refund_cents: int = Field(description="Refund due for these units, deductions applied.")


class RefundBrief(BaseModel):
    id: int
    payment_id: int
    amount_cents: int
    status: RefundStatus
    provider_reference: str | None
    created_at: Moment


class ReturnOut(BaseModel):
    id: int
    rma_number: str
    order_id: int
    customer_id: int
    status: ReturnStatus
    reason: ReturnReason
    customer_comment: str | None
    refund_cents: int = Field(description="Refund due: the lines plus any outbound shipping.")
    shipping_refund_cents: int = Field(description="Outbound shipping included in the refund.")
    rejection_reason: str | None
    created_by: str
    requested_at: Moment
    authorized_at: Moment | None
    received_at: Moment | None
    inspected_at: Moment | None
    closed_at: Moment | None
    lines: list[ReturnLineOut]
    refunds: list[RefundBrief] = Field(description="Refunds paid for this RMA.")


def return_out(session: Session, rma: ReturnRequest) -> ReturnOut:
    rows = session.exec(
        select(ReturnLine, OrderLine)
        .join(OrderLine, col(OrderLine.id) == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == rma.id)
        .order_by(col(ReturnLine.id))
    ).all()
    lines = [
        ReturnLineOut(
            id=line.id,  # type: ignore[arg-type]
            order_line_id=line.order_line_id,
            sku=order_line.sku,
            name=order_line.name,
            quantity=line.quantity,
            condition=line.condition,
            refund_cents=line.refund_cents,
        )
        for line, order_line in rows
    ]
    refunds = session.exec(
        select(Refund).where(Refund.return_id == rma.id).order_by(col(Refund.id))
    ).all()
    return ReturnOut(
        **rma.model_dump(exclude={"refund_cents"}),
        refund_cents=rma.refund_cents,
        shipping_refund_cents=max(0, rma.refund_cents - sum(line.refund_cents for line in lines)),
        lines=lines,
        refunds=[RefundBrief.model_validate(r, from_attributes=True) for r in refunds],
    )


def lock_return(session: Session, return_id: int) -> ReturnRequest:
    return get_or_404(session, ReturnRequest, return_id, "return", lock=True)


def require_status(rma: ReturnRequest, allowed: Iterable[ReturnStatus], doing: str) -> None:
    allowed = tuple(allowed)
    if rma.status not in allowed:
        expected = " or ".join(s.value for s in allowed)
        raise Conflict(
            f"{rma.rma_number} is {rma.status.value}; only a {expected} return can be {doing}",
            field="return_id",
        )


def paid_per_line(order: Order, lines: Iterable[OrderLine]) -> dict[int, int]:
    """What the customer paid for each line, VAT included: the line total (its own discount
    applied) minus its share, prorated by value, of any order-level discount not already
    spread over the lines (promo codes, loyalty vouchers)."""
    lines = list(lines)
    gross = sum(line.total_cents for line in lines)
    extra = max(0, order.discount_cents - sum(line.discount_cents for line in lines))
    paid: dict[int, int] = {}
    shares = 0
    for index, line in enumerate(lines):
        if index == len(lines) - 1:
            share = extra - shares  # the last line takes the rounding, so shares add up
        else:
            share = extra * line.total_cents // gross if gross else 0
        shares += share
        paid[line.id] = max(0, line.total_cents - share)  # type: ignore[index]
    return paid


def refund_for_units(paid: int, ordered: int, already: int, quantity: int) -> int:
    """The refund for `quantity` more units of a line of `ordered` units paid `paid` in all,
    `already` having come back: cumulative, so every return of a line adds up to what was
    paid for it, to the cent."""
    return paid * (already + quantity) // ordered - paid * already // ordered


def returned_quantities(
    session: Session, order_id: int, statuses: Iterable[ReturnStatus] | None = None
) -> dict[int, int]:
    """Units per order line on the order's RMAs: by default every RMA not rejected."""
    statement = (
        select(ReturnLine.order_line_id, func.sum(ReturnLine.quantity))
        .join(ReturnRequest, col(ReturnRequest.id) == ReturnLine.return_id)
        .where(ReturnRequest.order_id == order_id)
        .group_by(col(ReturnLine.order_line_id))
    )
    if statuses is None:
        statement = statement.where(col(ReturnRequest.status) != ReturnStatus.REJECTED)
    else:
        statement = statement.where(col(ReturnRequest.status).in_(list(statuses)))
    totals: dict[int, int] = defaultdict(int)
    for line_id, quantity in session.exec(statement).all():
        totals[line_id] += int(quantity)
    return totals


def shipping_already_due(session: Session, order_id: int, but: int | None = None) -> bool:
    """Whether another RMA of the order, not rejected, already refunds the outbound shipping."""
    statement = select(ReturnRequest).where(
        ReturnRequest.order_id == order_id, col(ReturnRequest.status) != ReturnStatus.REJECTED
    )
    for rma in session.exec(statement).all():
        if rma.id == but:
            continue
        lines = session.exec(
            select(func.coalesce(func.sum(ReturnLine.refund_cents), 0)).where(
                ReturnLine.return_id == rma.id
            )
        ).one()
        if rma.refund_cents > int(lines):
            return True
    return False


def refundable_left(session: Session, order_id: int) -> int:
    """What can still be refunded on the order: captured minus refunded, over its payments."""
    left = session.exec(
        select(func.coalesce(func.sum(Payment.captured_cents - Payment.refunded_cents), 0)).where(
            Payment.order_id == order_id,
            col(Payment.status).in_([PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED]),
        )
    ).one()
    return int(left)


def record_rma(
    ctx: ToolContext,
    rma: ReturnRequest,
    *,
    action: str,
    event: str,
    before: ReturnStatus | None,
    extra: dict[str, Any] | None = None,
) -> None:
    state = {
        "return_id": rma.id,
        "rma_number": rma.rma_number,
        "order_id": rma.order_id,
        "customer_id": rma.customer_id,
        "status": rma.status.value,
        "refund_cents": rma.refund_cents,
        **(extra or {}),
    }
    ctx.record(
        action=action,
        entity_type="return",
        entity_id=rma.id,
        event=event,
        domain="after_sales",
        payload={**state, "from": before.value if before else None},
        before={"status": before.value} if before else None,
        after=state,
    )
