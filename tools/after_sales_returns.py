"""Tools of the after_sales agent: requesting, authorizing, receiving and rejecting returns
(RMAs), and reading them. Inspection and refund are in tools/after_sales_inspection.py."""

import uuid
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import col, select

from db.base import as_utc, utc_now
from db.models import (
    Customer,
    InspectionKind,
    InspectionResult,
    InspectionStatus,
    ItemCondition,
    Order,
    OrderLine,
    OrderStatus,
    QualityInspection,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
    Warehouse,
)
from tools.after_sales_core import (
    OUR_FAULT,
    ReturnId,
    ReturnOut,
    lock_return,
    paid_per_line,
    record_rma,
    refund_for_units,
    require_status,
    return_out,
    returned_quantities,
    shipping_already_due,
)
from tools.base import MANAGERS, Conflict, Forbidden, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate
from tools.customers_core import Moment, setting_int

GOODWILL_DAYS = 15  # how far past the window a manager may accept a late return
MANAGER_REJECTION_CENTS = 30_000  # rejecting a return worth more needs a manager


class ReturnLineIn(BaseModel):
    order_line_id: int = Field(ge=1, description="Id of the order line coming back.")
    quantity: int = Field(ge=1, le=1000, description="Units of that line coming back.")
    condition: ItemCondition = Field(
        description="State declared by the customer: unopened, opened, damaged or defective."
    )


@tool(agent="after_sales", path="/returns", writes=True)
def request_return(
    ctx: ToolContext,
    order_id: Annotated[int, Field(ge=1, description="Id of the delivered order.")],
    lines: Annotated[
        list[ReturnLineIn],
        Field(min_length=1, max_length=100, description="The lines and units coming back."),
    ],
    reason: Annotated[
        ReturnReason,
        Field(
            description="changed_mind, defective, damaged_in_transit, wrong_item, "
            "not_as_described or other."
        ),
    ],
    comment: Annotated[
        str | None, Field(max_length=2000, description="The customer's words, e.g. a symptom.")
    ] = None,
    late_override_reason: Annotated[
        str | None,
        Field(
            min_length=5,
            max_length=200,
            description="Managers only: why a return up to 15 days past the window is accepted.",
        ),
    ] = None,
) -> ReturnOut:
    """Open a return (RMA) for units of a delivered order. Eligible within returns.window_days
    (30) of delivery, for units not already on another RMA that was not rejected. A defective
    reason needs items declared defective, damaged_in_transit items declared damaged. The
    refund due is what was paid for those units (discounts prorated), plus the outbound
    shipping when the whole order comes back within returns.withdrawal_days (14) of delivery
    or the reason is defective, damaged_in_transit or wrong_item. Gives the RMA number
    (RMA-<year>-<6 digits>), status requested."""
    from tools.orders import lock_order

    session = ctx.session
    order = lock_order(session, order_id)  # serializes concurrent RMAs of one order
    if order.status != OrderStatus.DELIVERED or order.delivered_at is None:
        hint = {
            OrderStatus.RETURNED: "every item of it has already come back",
            OrderStatus.SHIPPED: "a return can be opened once the parcel is delivered",
            OrderStatus.CANCELLED: "a cancelled order has nothing to return",
        }.get(order.status, "an order not shipped yet is cancelled, not returned")
        raise Conflict(f"order {order_id} is {order.status.value}; {hint}", field="order_id")
    now = utc_now()
    delivered = as_utc(order.delivered_at)
    window = setting_int(session, "returns.window_days")
    closes = delivered + timedelta(days=window)
    if now > closes:
        if late_override_reason is None:
            raise Conflict(
                f"order {order_id} was delivered on {delivered.date()}; the {window}-day return "
                f"window closed on {closes.date()}. A faulty product goes through a warranty "
                "claim; a manager may accept a late return with late_override_reason",
                field="order_id",
            )
        if ctx.actor.role not in MANAGERS:
            raise Forbidden("only a manager can accept a return after the window")
        if now > closes + timedelta(days=GOODWILL_DAYS):
            raise Conflict(
                f"the return window of order {order_id} closed on {closes.date()}, more than "
                f"{GOODWILL_DAYS} days ago; even a goodwill return is no longer possible",
                field="late_override_reason",
            )
    elif late_override_reason is not None:
        raise InvalidInput(
            f"order {order_id} is within its return window; no override is needed",
            field="late_override_reason",
        )

    order_lines: dict[int, OrderLine] = {
        line.id: line  # type: ignore[misc]
        for line in session.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
    }
    seen: set[int] = set()
    for item in lines:
        if item.order_line_id in seen:
            raise InvalidInput(f"order line {item.order_line_id} is listed twice", field="lines")
        seen.add(item.order_line_id)
        if item.order_line_id not in order_lines:
            raise InvalidInput(
                f"order line {item.order_line_id} is not part of order {order_id}", field="lines"
            )
        _check_condition(reason, item.condition)
    already = returned_quantities(session, order_id)
    for item in lines:
        line = order_lines[item.order_line_id]
        taken = already.get(item.order_line_id, 0)
        left = line.quantity - taken
        if item.quantity > left:
            raise Conflict(
                f"order line {line.id} ({line.sku}) has {line.quantity} unit(s), {taken} "
                f"already on a return: at most {left} can come back",
                field="lines",
            )

    paid = paid_per_line(order, order_lines.values())
    refunds = {
        item.order_line_id: refund_for_units(
            paid[item.order_line_id],
            order_lines[item.order_line_id].quantity,
            already.get(item.order_line_id, 0),
            item.quantity,
        )
        for item in lines
    }
    coming = {item.order_line_id: item.quantity for item in lines}
    whole_order = all(
        already.get(line_id, 0) + coming.get(line_id, 0) == line.quantity
        for line_id, line in order_lines.items()
    )
    within_withdrawal = now <= delivered + timedelta(
        days=setting_int(session, "returns.withdrawal_days")
    )
    owed = reason in OUR_FAULT or (whole_order and within_withdrawal)
    shipping = 0
    if owed and order.shipping_cents and not shipping_already_due(session, order_id):
        shipping = order.shipping_cents

    rma = ReturnRequest(
        rma_number=f"TMP-{uuid.uuid4().hex[:20]}",
        order_id=order_id,
        customer_id=order.customer_id,
        reason=reason,
        customer_comment=(comment or "").strip() or None,
        refund_cents=sum(refunds.values()) + shipping,
        created_by=ctx.actor.email,
        requested_at=now,
    )
    session.add(rma)
    session.flush()
    rma.rma_number = f"RMA-{now.year}-{rma.id:06d}"
    for item in lines:
        session.add(
            ReturnLine(
                return_id=rma.id,  # type: ignore[arg-type]
                order_line_id=item.order_line_id,
                quantity=item.quantity,
                condition=item.condition,
                refund_cents=refunds[item.order_line_id],
            )
        )
    session.add(rma)
    session.flush()
    record_rma(
        ctx,
        rma,
        action="request_return",
        event="rma_requested",
        before=None,
        extra={
            "reason": reason.value,
            "shipping_refund_cents": shipping,
            "lines": [item.model_dump(mode="json") for item in lines],
            "late_override_reason": late_override_reason,
        },
    )
    return return_out(session, rma)


def _check_condition(reason: ReturnReason, condition: ItemCondition) -> None:
    if reason == ReturnReason.DEFECTIVE and condition != ItemCondition.DEFECTIVE:
        raise InvalidInput(
            f"a return for a defective product declares the items defective, not {condition}",
            field="lines",
        )
    if reason == ReturnReason.DAMAGED_IN_TRANSIT and condition != ItemCondition.DAMAGED:
        raise InvalidInput(
            f"items damaged in transit are declared damaged, not {condition}", field="lines"
        )
    if condition == ItemCondition.DEFECTIVE and reason != ReturnReason.DEFECTIVE:
        raise InvalidInput(
            f"a defective item comes back with the reason defective, not {reason} "
            "(which also refunds the outbound shipping)",
            field="reason",
        )


@tool(agent="after_sales", path="/returns/{return_id}/authorize", writes=True)
def authorize_return(ctx: ToolContext, return_id: ReturnId) -> ReturnOut:
    """Authorize a requested return so the customer can send the items back (the return label
    goes out with the authorization). Only a requested RMA can be authorized."""
    rma = lock_return(ctx.session, return_id)
    require_status(rma, [ReturnStatus.REQUESTED], "authorized")
    rma.status = ReturnStatus.AUTHORIZED
    rma.authorized_at = utc_now()
    ctx.session.add(rma)
    record_rma(
        ctx, rma, action="authorize_return", event="rma_authorized", before=ReturnStatus.REQUESTED
    )
    return return_out(ctx.session, rma)


@tool(agent="after_sales", path="/returns/{return_id}/receive", writes=True)
def receive_return(
    ctx: ToolContext,
    return_id: ReturnId,
    warehouse_id: Annotated[
        int | None,
        Field(ge=1, description="Warehouse that received the parcel (default: the shipping one)."),
    ] = None,
) -> ReturnOut:
    """Record that the parcel of an authorized return arrived at the warehouse, and schedule a
    quality inspection (kind return) for each returned line. Next: inspect_return."""
    session = ctx.session
    rma = lock_return(session, return_id)
    require_status(rma, [ReturnStatus.AUTHORIZED], "received")
    order = get_or_404(session, Order, rma.order_id)
    where = warehouse_id or order.warehouse_id
    if where is None:
        raise InvalidInput(
            f"order {order.id} has no shipping warehouse; say which warehouse received it",
            field="warehouse_id",
        )
    warehouse = get_or_404(session, Warehouse, where)
    now = utc_now()
    rows = session.exec(
        select(ReturnLine, OrderLine)
        .join(OrderLine, col(OrderLine.id) == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == return_id)
        .order_by(col(ReturnLine.id))
    ).all()
    inspections = []
    for line, order_line in rows:
        inspection = QualityInspection(
            kind=InspectionKind.RETURN,
            status=InspectionStatus.SCHEDULED,
            variant_id=order_line.variant_id,
            warehouse_id=warehouse.id,  # type: ignore[arg-type]
            return_id=return_id,
            quantity_inspected=line.quantity,
            notes=f"{rma.rma_number}: {line.quantity} x {order_line.sku}, "
            f"declared {line.condition.value}",
            scheduled_for=now,
        )
        session.add(inspection)
        inspections.append(inspection)
    rma.status = ReturnStatus.RECEIVED
    rma.received_at = now
    session.add(rma)
    session.flush()
    record_rma(
        ctx,
        rma,
        action="receive_return",
        event="rma_status_updated",
        before=ReturnStatus.AUTHORIZED,
        extra={"warehouse": warehouse.code, "inspection_ids": [i.id for i in inspections]},
    )
    return return_out(session, rma)


@tool(agent="after_sales", path="/returns/{return_id}/reject", writes=True)
def reject_return(
    ctx: ToolContext,
    return_id: ReturnId,
    reason: Annotated[
        str,
        Field(min_length=5, max_length=200, description="Why, in words the customer will read."),
    ],
) -> ReturnOut:
    """Reject a return: a requested one that is not eligible, or a received or inspected one
    whose items cannot be accepted (damage caused by the customer, item not ours). Nothing is
    refunded; the items go back to the customer. Rejecting a return worth more than 300 EUR
    needs a manager; a return whose items were restocked at inspection cannot be rejected."""
    session = ctx.session
    rma = lock_return(session, return_id)
    require_status(
        rma,
        [ReturnStatus.REQUESTED, ReturnStatus.RECEIVED, ReturnStatus.INSPECTED],
        "rejected",
    )
    if rma.refund_cents > MANAGER_REJECTION_CENTS and ctx.actor.role not in MANAGERS:
        raise Forbidden(
            f"{rma.rma_number} is worth {rma.refund_cents / 100:.2f} EUR; rejecting a return "
            "over 300 EUR needs a manager"
        )
    inspections = session.exec(
        select(QualityInspection).where(QualityInspection.return_id == return_id)
    ).all()
    if any(i.result == InspectionResult.PASSED for i in inspections):
        raise Conflict(
            f"items of {rma.rma_number} passed inspection and were restocked; refund the "
            "return (with a deduction if the customer damaged an item) instead of rejecting it"
        )
    for inspection in inspections:
        if inspection.status in (InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS):
            inspection.status = InspectionStatus.CANCELLED
            session.add(inspection)
    before = rma.status
    due = rma.refund_cents
    for line in session.exec(select(ReturnLine).where(ReturnLine.return_id == return_id)).all():
        line.refund_cents = 0
        session.add(line)
    rma.status = ReturnStatus.REJECTED
    rma.rejection_reason = reason.strip()
    rma.refund_cents = 0
    rma.closed_at = utc_now()
    session.add(rma)
    session.flush()
    record_rma(
        ctx,
        rma,
        action="reject_return",
        event="rma_rejected",
        before=before,
        extra={"rejection_reason": rma.rejection_reason, "refund_due_before": due},
    )
    return return_out(session, rma)


@tool(agent="after_sales", path="/returns/{return_id}")
def get_return(ctx: ToolContext, return_id: ReturnId) -> ReturnOut:
    """Get a return (RMA) with its lines, condition, refund due (lines and outbound shipping),
    status dates and the refunds paid for it."""
    return return_out(ctx.session, get_or_404(ctx.session, ReturnRequest, return_id, "return"))


class ReturnSummary(BaseModel):
    id: int
    rma_number: str
    order_id: int
    customer_id: int
    status: ReturnStatus
    reason: ReturnReason
    refund_cents: int
    requested_at: Moment
    closed_at: Moment | None


@tool(agent="after_sales", path="/returns")
def list_customer_returns(
    ctx: ToolContext,
    customer_id: Annotated[int | None, Field(ge=1, description="Only this customer's.")] = None,
    order_id: Annotated[int | None, Field(ge=1, description="Only this order's.")] = None,
    status: Annotated[ReturnStatus | None, Field(description="Only in this status.")] = None,
    rma_number: Annotated[
        str | None,
        Field(pattern=r"^RMA-\d{4}-\d{6}$", description="Find one by number: RMA-2026-000123."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ReturnSummary]:
    """List returns (RMAs), newest first: a customer's, an order's, those in one status (e.g.
    authorized returns waiting for their parcel), or one by its RMA number."""
    statement = select(ReturnRequest)
    if customer_id is not None:
        get_or_404(ctx.session, Customer, customer_id)
        statement = statement.where(ReturnRequest.customer_id == customer_id)
    if order_id is not None:
        statement = statement.where(ReturnRequest.order_id == order_id)
    if status is not None:
        statement = statement.where(ReturnRequest.status == status)
    if rma_number is not None:
        statement = statement.where(ReturnRequest.rma_number == rma_number)
    rows, next_cursor = paginate(ctx.session, statement, ReturnRequest.id, limit, cursor)
    return Page(
        items=[ReturnSummary.model_validate(r, from_attributes=True) for r in rows],
        next_cursor=next_cursor,
    )
