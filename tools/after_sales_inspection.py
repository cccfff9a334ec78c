"""Tools of the after_sales agent: inspecting a received return (condition, deductions,
restocking, defects) and refunding it through the payments domain."""

from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import col, select

from db.base import utc_now
from db.models import (
    Customer,
    DefectSeverity,
    DefectType,
    Grade,
    InspectionKind,
    InspectionResult,
    InspectionStatus,
    ItemCondition,
    Order,
    OrderLine,
    OrderStatus,
    QualityDefect,
    QualityInspection,
    Refund,
    RefundStatus,
    ReturnLine,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from tools.after_sales_core import (
    RefundBrief,
    ReturnId,
    ReturnOut,
    lock_return,
    record_rma,
    refundable_left,
    require_status,
    return_out,
    returned_quantities,
)
from tools.base import MANAGERS, Conflict, Forbidden, InvalidInput, ToolContext, tool
from tools.common import get_or_404

MANAGER_DEDUCTION_SHARE = 0.30  # deductions above this share of the line need a manager
DEFAULT_DEFECT = {
    ItemCondition.DEFECTIVE: DefectType.FUNCTIONAL,
    ItemCondition.DAMAGED: DefectType.COSMETIC,
    ItemCondition.OPENED: DefectType.COSMETIC,
    ItemCondition.UNOPENED: DefectType.PACKAGING,
}


class InspectedLine(BaseModel):
    order_line_id: int = Field(ge=1, description="The order line of the RMA inspected.")
    condition: ItemCondition = Field(description="Condition found: unopened, opened, damaged...")
    resellable: bool = Field(description="True when the units pass and go back into stock.")
    deduction_cents: int = Field(
        default=0,
        ge=0,
        description="Only for items damaged by the customer: value lost, taken off the refund.",
    )
    grade: Grade | None = Field(default=None, description="Grade A, B or C of resellable units.")
    defect_type: DefectType | None = Field(
        default=None, description="For units that fail: cosmetic, functional, missing_accessory..."
    )
    notes: str | None = Field(default=None, max_length=300, description="What was found.")


class InspectionOutcome(BaseModel):
    order_line_id: int
    inspection_id: int
    result: InspectionResult
    restocked_units: int
    deduction_cents: int
    refund_cents: int


class InspectedReturn(BaseModel):
    rma: ReturnOut
    lines: list[InspectionOutcome]


@tool(agent="after_sales", path="/returns/{return_id}/inspect", writes=True)
def inspect_return(
    ctx: ToolContext,
    return_id: ReturnId,
    lines: Annotated[
        list[InspectedLine],
        Field(min_length=1, max_length=100, description="One result per line of the RMA."),
    ],
) -> InspectedReturn:
    """Record the inspection of a received return, one result per RMA line: the condition
    found, whether the units are resellable (they are put back into stock), and for items
    damaged by the customer an optional deduction off the refund (above 30% of the line it
    needs a manager). Units that fail are recorded as quality defects. Completes the scheduled
    inspections and moves the RMA to inspected, with the refund due updated. Next:
    refund_return, or reject_return when nothing can be accepted."""
    from tools.inventory import restock_return

    session = ctx.session
    rma = lock_return(session, return_id)
    require_status(rma, [ReturnStatus.RECEIVED], "inspected")
    rows = session.exec(
        select(ReturnLine, OrderLine)
        .join(OrderLine, col(OrderLine.id) == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == return_id)
    ).all()
    by_line = {line.order_line_id: (line, order_line) for line, order_line in rows}
    given = {item.order_line_id: item for item in lines}
    if len(given) != len(lines):
        raise InvalidInput("an order line is listed twice", field="lines")
    unknown = sorted(set(given) - set(by_line))
    if unknown:
        raise InvalidInput(
            f"order line(s) {unknown} are not on {rma.rma_number}", field="lines.order_line_id"
        )
    missing = sorted(set(by_line) - set(given))
    if missing:
        raise InvalidInput(
            f"every line of {rma.rma_number} needs a result; missing order line(s) {missing}",
            field="lines",
        )
    for item in lines:
        _check(ctx, rma, item, by_line[item.order_line_id][0])

    order = get_or_404(session, Order, rma.order_id)
    scheduled = {
        i.variant_id: i
        for i in session.exec(
            select(QualityInspection).where(
                QualityInspection.return_id == return_id,
                col(QualityInspection.status).in_(
                    [InspectionStatus.SCHEDULED, InspectionStatus.IN_PROGRESS]
                ),
            )
        ).all()
    }
    shipping = rma.refund_cents - sum(line.refund_cents for line, _ in rows)
    now = utc_now()
    outcomes = []
    for item in lines:
        line, order_line = by_line[item.order_line_id]
        inspection = scheduled.pop(order_line.variant_id, None) or QualityInspection(
            kind=InspectionKind.RETURN,
            variant_id=order_line.variant_id,
            warehouse_id=order.warehouse_id,  # type: ignore[arg-type]
            return_id=return_id,
            quantity_inspected=line.quantity,
            scheduled_for=now,
        )
        result = InspectionResult.PASSED if item.resellable else InspectionResult.FAILED
        notes = [item.notes] if item.notes else []
        if item.deduction_cents:
            notes.append(f"deduction {item.deduction_cents / 100:.2f} EUR")
        inspection.status = InspectionStatus.COMPLETED
        inspection.result = result
        inspection.quantity_failed = 0 if item.resellable else line.quantity
        inspection.grade = item.grade
        inspection.inspector_id = ctx.actor.user_id
        inspection.notes = "; ".join([inspection.notes or rma.rma_number, *notes])[:2000]
        inspection.started_at = inspection.started_at or now
        inspection.completed_at = now
        session.add(inspection)
        session.flush()
        if not item.resellable:
            defect = item.defect_type or DEFAULT_DEFECT[item.condition]
            session.add(
                QualityDefect(
                    inspection_id=inspection.id,  # type: ignore[arg-type]
                    variant_id=order_line.variant_id,
                    defect_type=defect,
                    severity=DefectSeverity.MAJOR
                    if defect == DefectType.FUNCTIONAL
                    else DefectSeverity.MINOR,
                    quantity=line.quantity,
                    description=(item.notes or f"{item.condition.value} item returned")[:300],
                )
            )
        else:
            restock_return(
                ctx,
                variant_id=order_line.variant_id,
                warehouse_id=inspection.warehouse_id,
                quantity=line.quantity,
                return_id=return_id,
            )
        line.condition = item.condition
        line.refund_cents -= item.deduction_cents
        session.add(line)
        outcome = InspectionOutcome(
            order_line_id=item.order_line_id,
            inspection_id=inspection.id,  # type: ignore[arg-type]
            result=result,
            restocked_units=line.quantity if item.resellable else 0,
            deduction_cents=item.deduction_cents,
            refund_cents=line.refund_cents,
        )
        outcomes.append(outcome)
        ctx.record(
            action="complete_return_inspection",
            entity_type="quality_inspection",
            entity_id=inspection.id,
            event="inspection_completed",
            domain="quality",
            payload={
                "inspection_id": inspection.id,
                "kind": InspectionKind.RETURN.value,
                "return_id": return_id,
                "variant_id": order_line.variant_id,
                "result": result.value,
                "quantity_inspected": inspection.quantity_inspected,
                "quantity_failed": inspection.quantity_failed,
            },
        )
    rma.refund_cents = sum(line.refund_cents for line, _ in rows) + shipping
    rma.status = ReturnStatus.INSPECTED
    rma.inspected_at = now
    session.add(rma)
    session.flush()
    record_rma(
        ctx,
        rma,
        action="inspect_return",
        event="rma_status_updated",
        before=ReturnStatus.RECEIVED,
        extra={"lines": [o.model_dump(mode="json") for o in outcomes]},
    )
    return InspectedReturn(rma=return_out(session, rma), lines=outcomes)


def _check(ctx: ToolContext, rma: ReturnRequest, item: InspectedLine, line: ReturnLine) -> None:
    if item.deduction_cents:
        if item.condition != ItemCondition.DAMAGED or rma.reason == ReturnReason.DAMAGED_IN_TRANSIT:
            raise InvalidInput(
                "a deduction applies only to an item damaged by the customer; opened items that "
                "are complete are refunded in full",
                field="lines.deduction_cents",
            )
        if item.deduction_cents > line.refund_cents:
            raise InvalidInput(
                f"the deduction ({item.deduction_cents / 100:.2f} EUR) exceeds the refund due "
                f"for order line {line.order_line_id} ({line.refund_cents / 100:.2f} EUR)",
                field="lines.deduction_cents",
            )
        if (
            item.deduction_cents > line.refund_cents * MANAGER_DEDUCTION_SHARE
            and ctx.actor.role not in MANAGERS
        ):
            raise Forbidden(
                f"a deduction over 30% of the line ({item.deduction_cents / 100:.2f} of "
                f"{line.refund_cents / 100:.2f} EUR) needs a manager"
            )
    if item.grade is not None and not item.resellable:
        raise InvalidInput("only resellable units get a grade", field="lines.grade")
    if item.defect_type is not None and item.resellable:
        raise InvalidInput(
            "a defect type is recorded for units that fail inspection", field="lines.defect_type"
        )


class RefundedReturn(BaseModel):
    rma: ReturnOut
    refunded_cents: int = Field(description="Paid back now, across the order's payments.")
    refunds: list[RefundBrief]
    order_status: OrderStatus
    loyalty_points_revoked: int


@tool(
    agent="after_sales",
    path="/returns/{return_id}/refund",
    writes=True,
    approval=True,
)
def refund_return(ctx: ToolContext, return_id: ReturnId) -> RefundedReturn:
    """Pay the refund due of an inspected return to the customer's original payment(s),
    capped at what the order still has to refund (captured minus already refunded; an RMA is
    refunded once, with the idempotency key rma-<id>). The loyalty points of the refunded
    amount are withdrawn, and the order becomes returned when every unit of it has come back.
    Moves the RMA to refunded."""
    from tools.orders import lock_order, transition
    from tools.payments import refund_order

    session = ctx.session
    rma = lock_return(session, return_id)
    require_status(rma, [ReturnStatus.INSPECTED], "refunded")
    if rma.refund_cents <= 0:
        raise Conflict(
            f"{rma.rma_number} has nothing left to refund after deductions; reject it instead"
        )
    order = lock_order(session, rma.order_id)
    left = refundable_left(session, rma.order_id)
    if left <= 0:
        raise Conflict(
            f"order {rma.order_id} has nothing left to refund (its payments were refunded "
            f"already); {rma.rma_number} cannot pay {rma.refund_cents / 100:.2f} EUR. Check the "
            "order's refunds, then reject the return or settle it outside Comptoir"
        )
    customer = get_or_404(session, Customer, rma.customer_id)
    points_before = customer.loyalty_points
    refund_order(
        ctx,
        order_id=rma.order_id,
        amount_cents=min(rma.refund_cents, left),
        reason=f"return {rma.rma_number}",
        idempotency_key=f"rma-{rma.id}",
        return_id=rma.id,
    )
    session.flush()
    refunds = session.exec(select(Refund).where(Refund.return_id == rma.id)).all()
    refunded = sum(r.amount_cents for r in refunds if r.status == RefundStatus.SUCCEEDED)
    rma.status = ReturnStatus.REFUNDED
    rma.closed_at = utc_now()
    session.add(rma)
    session.flush()
    back = returned_quantities(session, order.id, [ReturnStatus.REFUNDED])  # type: ignore[arg-type]
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    if order.status == OrderStatus.DELIVERED and all(
        back.get(line.id, 0) >= line.quantity  # type: ignore[arg-type]
        for line in lines
    ):
        transition(ctx, order, OrderStatus.RETURNED, "all items returned")
    session.refresh(customer)
    record_rma(
        ctx,
        rma,
        action="refund_return",
        event="rma_refunded",
        before=ReturnStatus.INSPECTED,
        extra={"refunded_cents": refunded, "refund_ids": [r.id for r in refunds]},
    )
    out = return_out(session, rma)
    return RefundedReturn(
        rma=out,
        refunded_cents=refunded,
        refunds=out.refunds,
        order_status=order.status,
        loyalty_points_revoked=max(0, points_before - customer.loyalty_points),
    )
