"""Tools of the documents agent, continued: credit notes (avoirs) for refunded money."""

from typing import Annotated

from pydantic import Field
from sqlmodel import Session, select

from db.base import as_utc, utc_now
from db.models import (
    Address,
    Customer,
    Document,
    DocumentFormat,
    DocumentKind,
    DomainEvent,
    Refund,
    RefundStatus,
    ReturnRequest,
)
from tools import documents_render as render
from tools.base import MANAGERS, Conflict, ToolContext, tool
from tools.documents import (
    VAT_BP,
    GeneratedDocument,
    OrderId,
    address_party,
    excl_vat,
    generated,
    invoice_of,
    next_number,
    record_document,
    seller_party,
    series_prefix,
    store_file,
)


def credited_cents(session: Session, order_id: int) -> int:
    """What the order's credit notes have credited so far (recorded with each note)."""
    ids = [
        str(i)
        for i in session.exec(
            select(Document.id).where(
                Document.order_id == order_id, Document.kind == DocumentKind.CREDIT_NOTE
            )
        ).all()
    ]
    if not ids:
        return 0
    events = session.exec(
        select(DomainEvent).where(
            DomainEvent.type == "credit_note_generated",
            DomainEvent.entity_type == "document",
            DomainEvent.entity_id.in_(ids),  # type: ignore[attr-defined]
        )
    ).all()
    return sum(int(event.payload.get("amount_cents", 0)) for event in events)


@tool(
    agent="documents",
    path="/documents/orders/{order_id}/credit-notes",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def generate_credit_note(
    ctx: ToolContext,
    order_id: OrderId,
    reason: Annotated[
        str, Field(min_length=3, max_length=200, description="Why: return, cancellation...")
    ],
    amount_cents: Annotated[
        int | None,
        Field(gt=0, description="VAT included; default: all refunded money not credited yet."),
    ] = None,
) -> GeneratedDocument:
    """Issue a credit note (avoir) against an order's invoice for money refunded to the
    customer: a PDF numbered AV-<year>-<6 digits> in its own unbroken series, referring to
    the invoice. Credit notes never add up to more than what was refunded."""
    from tools.orders import lock_order

    order = lock_order(ctx.session, order_id)
    invoice = invoice_of(ctx.session, order_id)
    if invoice is None:
        raise Conflict(
            f"order {order_id} has no invoice; a credit note corrects an invoice "
            "(generate_invoice first)",
            field="order_id",
        )
    refunds = ctx.session.exec(
        select(Refund)
        .where(Refund.order_id == order_id, Refund.status == RefundStatus.SUCCEEDED)
        .order_by(Refund.id)  # type: ignore[arg-type]
    ).all()
    refunded = sum(r.amount_cents for r in refunds)
    credited = credited_cents(ctx.session, order_id)
    left = min(refunded, order.total_cents) - credited
    if left <= 0:
        raise Conflict(
            f"order {order_id} has {render.money(refunded)} refunded and "
            f"{render.money(credited)} already credited: nothing left to credit",
            field="order_id",
        )
    amount = left if amount_cents is None else amount_cents
    if amount > left:
        raise Conflict(
            f"only {render.money(left)} of refunds on order {order_id} are not credited yet; "
            f"{render.money(amount)} is more",
            field="amount_cents",
        )
    # The note covers the refunds in order, after what earlier notes covered.
    rows: list[render.Row] = []
    covered: list[int] = []
    position = 0  # refunded before this refund
    for refund in refunds:
        low = max(credited, position)
        high = min(credited + amount, position + refund.amount_cents)
        position += refund.amount_cents
        if high <= low:
            continue
        covered.append(refund.id)  # type: ignore[arg-type]
        rma = ctx.session.get(ReturnRequest, refund.return_id) if refund.return_id else None
        when = as_utc(refund.created_at).date().isoformat()
        rows.append(
            render.Row(
                description=f"Refund {refund.id} of {when}: {refund.reason}"
                + (
                    f" (RMA {rma.rma_number})"
                    if rma and rma.rma_number not in refund.reason
                    else ""
                ),
                sku="",
                quantity=1,
                unit_excl_cents=excl_vat(high - low, VAT_BP),
                vat_rate_bp=VAT_BP,
                discount_cents=0,
                total_cents=high - low,
            )
        )
    billing = ctx.session.get(Address, order.billing_address_id)
    customer = ctx.session.get(Customer, order.customer_id)
    assert billing is not None and customer is not None
    number = next_number(
        ctx.session, series_prefix(ctx.session, "documents.credit_note_prefix", "AV")
    )
    issued = as_utc(invoice.created_at).date().isoformat()
    vat = amount - excl_vat(amount, VAT_BP)
    content = render.render_invoice(
        render.Invoice(
            title="Credit note",
            number=number,
            issued_on=utc_now().date(),
            seller=seller_party(ctx.session),
            buyer=address_party(billing, customer),
            references=[
                f"Corrects invoice {invoice.number} of {issued}",
                f"Order {order_id} placed on {as_utc(order.placed_at).date().isoformat()}",
                f"Reason: {reason}",
            ],
            rows=rows,
            totals=[
                ("Credited excl. VAT", amount - vat),
                ("VAT 20%", vat),
                ("Total credited incl. VAT", amount),
            ],
            notes=[
                f"Invoice {invoice.number}: {render.money(order.total_cents)}; credited so far "
                f"including this note: {render.money(credited + amount)}.",
                "Prices include French VAT at 20%.",
            ],
        )
    )
    document = store_file(
        ctx,
        order_id,
        f"{number}.pdf",
        content,
        DocumentKind.CREDIT_NOTE,
        DocumentFormat.PDF,
        number,
    )
    record_document(
        ctx,
        document,
        "credit_note_generated",
        amount_cents=amount,
        invoice_number=invoice.number,
        reason=reason,
        refund_ids=covered,
    )
    return generated(document, created=True)
