"""Tools of the after_sales agent: warranty claims on order lines, and their decisions."""

import calendar
import uuid
from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from db.base import as_utc, utc_now
from db.models import (
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductVariant,
    Refund,
    RefundStatus,
    WarrantyClaim,
    WarrantyStatus,
)
from tools.after_sales_core import (
    RefundBrief,
    paid_per_line,
    refund_for_units,
    refundable_left,
    returned_quantities,
)
from tools.base import MANAGERS, Conflict, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate, rows_by_id
from tools.customers_core import Moment, live_customer

ClaimId = Annotated[int, Field(ge=1, description="Id of the warranty claim.")]
OPEN_CLAIMS = (WarrantyStatus.SUBMITTED, WarrantyStatus.APPROVED)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter."""
    years, month = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


class WarrantyClaimOut(BaseModel):
    id: int
    claim_number: str
    order_id: int
    order_line_id: int
    sku: str
    name: str
    customer_id: int
    status: WarrantyStatus
    fault_description: str
    resolution: str | None
    warranty_ends_on: date
    created_by: str
    created_at: Moment
    decided_at: Moment | None
    decided_by: str | None


def _out(session: Session, claim: WarrantyClaim) -> WarrantyClaimOut:
    return _outs(session, [claim])[0]


def _outs(session: Session, claims: Sequence[WarrantyClaim]) -> list[WarrantyClaimOut]:
    lines = rows_by_id(session, OrderLine, (c.order_line_id for c in claims))
    return [
        WarrantyClaimOut(
            **claim.model_dump(),
            order_id=lines[claim.order_line_id].order_id,
            sku=lines[claim.order_line_id].sku,
            name=lines[claim.order_line_id].name,
        )
        for claim in claims
    ]


@tool(agent="after_sales", path="/warranty-claims", writes=True)
def file_warranty_claim(
    ctx: ToolContext,
    order_line_id: Annotated[int, Field(ge=1, description="The order line of the faulty item.")],
    fault_description: Annotated[
        str,
        Field(
            min_length=10,
            max_length=5000,
            description="What happens, since when, how often, what was tried; serial or IMEI.",
        ),
    ],
) -> WarrantyClaimOut:
    """File a warranty claim for a faulty product: one claim per order line, within the
    product's warranty (warranty_months from delivery: 24 for new, 12 for refurbished). Refused
    for lines fully returned, outside the warranty, or with a claim still open. Gives the claim
    number (WAR-<year>-<6 digits>), status submitted."""
    session = ctx.session
    line = get_or_404(session, OrderLine, order_line_id, "order line")
    order = get_or_404(session, Order, line.order_id, lock=True)
    if order.delivered_at is None or order.status not in (
        OrderStatus.DELIVERED,
        OrderStatus.RETURNED,
    ):
        raise Conflict(
            f"order {order.id} is {order.status.value}; the warranty starts at delivery",
            field="order_line_id",
        )
    live_customer(session, order.customer_id)
    back = returned_quantities(session, order.id)  # type: ignore[arg-type]
    if back.get(order_line_id, 0) >= line.quantity:
        raise Conflict(
            f"every unit of order line {order_line_id} ({line.sku}) came back on a return; "
            "there is nothing left under warranty",
            field="order_line_id",
        )
    product = session.exec(
        select(Product)
        .join(ProductVariant, col(ProductVariant.product_id) == Product.id)
        .where(ProductVariant.id == line.variant_id)
    ).one()
    delivered = as_utc(order.delivered_at).date()
    ends = add_months(delivered, product.warranty_months)
    today = utc_now().date()
    if product.warranty_months <= 0 or today > ends:
        raise Conflict(
            f"{line.sku} was delivered on {delivered} with a {product.warranty_months}-month "
            f"warranty that ended on {ends}; the workshop can quote a paid repair",
            field="order_line_id",
        )
    open_claim = session.exec(
        select(WarrantyClaim).where(
            WarrantyClaim.order_line_id == order_line_id,
            col(WarrantyClaim.status).in_(OPEN_CLAIMS),
        )
    ).first()
    if open_claim is not None:
        raise Conflict(
            f"order line {order_line_id} already has the open claim {open_claim.claim_number} "
            f"({open_claim.status.value}); add to it instead",
            field="order_line_id",
        )
    now = utc_now()
    claim = WarrantyClaim(
        claim_number=f"TMP-{uuid.uuid4().hex[:20]}",
        order_line_id=order_line_id,
        customer_id=order.customer_id,
        fault_description=fault_description.strip(),
        warranty_ends_on=ends,
        created_by=ctx.actor.email,
        created_at=now,
    )
    session.add(claim)
    session.flush()
    claim.claim_number = f"WAR-{now.year}-{claim.id:06d}"
    session.add(claim)
    session.flush()
    out = _out(session, claim)
    ctx.record(
        action="file_warranty_claim",
        entity_type="warranty_claim",
        entity_id=claim.id,
        event="warranty_claim_filed",
        domain="after_sales",
        payload={
            "claim_id": claim.id,
            "claim_number": claim.claim_number,
            "order_id": order.id,
            "order_line_id": order_line_id,
            "customer_id": order.customer_id,
            "variant_id": line.variant_id,
            "warranty_ends_on": ends.isoformat(),
        },
        after=out.model_dump(mode="json"),
    )
    return out


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REPAIRED = "repaired"
    REPLACED = "replaced"
    REFUNDED = "refunded"


STATUS_OF = {
    Decision.APPROVE: WarrantyStatus.APPROVED,
    Decision.REJECT: WarrantyStatus.REJECTED,
    Decision.REPAIRED: WarrantyStatus.REPAIRED,
    Decision.REPLACED: WarrantyStatus.REPLACED,
    Decision.REFUNDED: WarrantyStatus.REFUNDED,
}


class WarrantyDecisionOut(BaseModel):
    claim: WarrantyClaimOut
    refunded_cents: int = Field(description="Paid back now (refunded decisions only).")
    refunds: list[RefundBrief]


@tool(
    agent="after_sales",
    path="/warranty-claims/{claim_id}/decision",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def decide_warranty_claim(
    ctx: ToolContext,
    claim_id: ClaimId,
    decision: Annotated[
        Decision,
        Field(
            description="approve (covered, waiting for the unit), reject (not covered), "
            "repaired, replaced, or refunded (pays back what was paid for the line)."
        ),
    ],
    resolution: Annotated[
        str,
        Field(min_length=5, max_length=300, description="What was decided and why, for the file."),
    ],
) -> WarrantyDecisionOut:
    """Decide a warranty claim after diagnosis: approve a submitted claim, or close it as
    rejected (not covered: customer damage, wear), repaired, replaced, or refunded. A refund
    pays back what was paid for the line's units not already returned (never more than
    still refundable on the order).
    A closed claim cannot be decided again."""
    from tools.payments import refund_order

    session = ctx.session
    claim = get_or_404(session, WarrantyClaim, claim_id, "warranty claim", lock=True)
    before = claim.status
    allowed = {
        WarrantyStatus.SUBMITTED: set(Decision),
        WarrantyStatus.APPROVED: set(Decision) - {Decision.APPROVE},
    }.get(before, set())
    if decision not in allowed:
        raise Conflict(
            f"claim {claim.claim_number} is {before.value}; "
            + ("it is closed" if not allowed else f"it cannot be decided '{decision.value}'"),
            field="decision",
        )
    refunds: list[RefundBrief] = []
    if decision == Decision.REFUNDED:
        line = get_or_404(session, OrderLine, claim.order_line_id, "order line")
        order = get_or_404(session, Order, line.order_id, lock=True)
        lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
        paid = paid_per_line(order, lines)[line.id]  # type: ignore[index]
        back = min(line.quantity, returned_quantities(session, order.id).get(line.id, 0))  # type: ignore[arg-type]
        amount = min(
            refund_for_units(paid, line.quantity, back, line.quantity - back),
            refundable_left(session, order.id),  # type: ignore[arg-type]
        )
        if amount <= 0:
            raise Conflict(
                f"order {order.id} has nothing left to refund for {line.sku}; decide the claim "
                "as repaired or replaced instead",
                field="decision",
            )
        reason = f"warranty {claim.claim_number}"
        refund_order(
            ctx,
            order_id=order.id,  # type: ignore[arg-type]
            amount_cents=amount,
            reason=reason,
            idempotency_key=f"war-{claim.id}",
        )
        refunds = [
            RefundBrief.model_validate(r, from_attributes=True)
            for r in session.exec(
                select(Refund)
                .where(Refund.order_id == order.id, Refund.reason == reason)
                .order_by(col(Refund.id))
            ).all()
        ]
    claim.status = STATUS_OF[decision]
    claim.resolution = resolution.strip()
    claim.decided_at = utc_now()
    claim.decided_by = ctx.actor.email
    session.add(claim)
    session.flush()
    out = _out(session, claim)
    refunded = sum(r.amount_cents for r in refunds if r.status == RefundStatus.SUCCEEDED)
    ctx.record(
        action="decide_warranty_claim",
        entity_type="warranty_claim",
        entity_id=claim.id,
        event="warranty_claim_decided",
        domain="after_sales",
        payload={
            "claim_id": claim.id,
            "claim_number": claim.claim_number,
            "customer_id": claim.customer_id,
            "decision": decision.value,
            "status": claim.status.value,
            "refunded_cents": refunded,
        },
        before={"status": before.value},
        after={"status": claim.status.value, "resolution": claim.resolution},
    )
    return WarrantyDecisionOut(claim=out, refunded_cents=refunded, refunds=refunds)


@tool(agent="after_sales", path="/warranty-claims")
def list_warranty_claims(
    ctx: ToolContext,
    customer_id: Annotated[int | None, Field(ge=1, description="Only this customer's.")] = None,
    order_id: Annotated[int | None, Field(ge=1, description="Only this order's lines.")] = None,
    status: Annotated[WarrantyStatus | None, Field(description="Only in this status.")] = None,
    open_only: Annotated[
        bool, Field(description="Only claims still open (submitted or approved).")
    ] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[WarrantyClaimOut]:
    """List warranty claims, newest first: a customer's, an order's, those in one status, or
    only the open ones (submitted or approved), with the product and the warranty end date."""
    statement = select(WarrantyClaim)
    if customer_id is not None:
        get_or_404(ctx.session, Customer, customer_id)
        statement = statement.where(WarrantyClaim.customer_id == customer_id)
    if order_id is not None:
        statement = statement.join(
            OrderLine, col(OrderLine.id) == WarrantyClaim.order_line_id
        ).where(OrderLine.order_id == order_id)
    if status is not None:
        statement = statement.where(WarrantyClaim.status == status)
    if open_only:
        statement = statement.where(col(WarrantyClaim.status).in_(OPEN_CLAIMS))
    rows, next_cursor = paginate(ctx.session, statement, WarrantyClaim.id, limit, cursor)
    return Page(items=_outs(ctx.session, rows), next_cursor=next_cursor)
