"""Tools of the documents agent: invoices, credit notes, packing slips and shipping labels,
as real files stored per order, with invoice and credit note numbers that never repeat.

This module holds the storage, numbering and parties every document uses, the invoices and
the reading tools; credit notes (documents_credit_notes) and the parcel's documents
(documents_shipping) are imported at the end so that their tools register."""

import hashlib
import os
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from core.settings import get_settings
from db.base import as_utc, utc_now
from db.models import (
    Address,
    Customer,
    Document,
    DocumentFormat,
    DocumentKind,
    DocumentSequence,
    MarketplaceConnection,
    MarketplaceOrder,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentGateway,
    Warehouse,
)
from tools import documents_render as render
from tools.base import Conflict, ToolContext, tool
from tools.common import Cursor, Limit, Page, get_or_404, paginate, setting

OrderId = Annotated[int, Field(ge=1, description="Id of the order.")]
VAT_BP = 2000  # French standard rate, the only one for the merchant's electronics and shipping


class DocumentOut(BaseModel):
    id: int
    order_id: int
    kind: DocumentKind
    format: DocumentFormat
    number: str | None
    path: str = Field(description="Relative to the documents folder of the data directory.")
    size_bytes: int
    sha256: str
    created_by: str
    created_at: datetime


class GeneratedDocument(DocumentOut):
    created: bool = Field(description="False when the document existed and was returned as is.")


class DocumentFile(DocumentOut):
    file_exists: bool
    intact: bool = Field(description="The file on disk still has the SHA-256 recorded.")


def _out(document: Document) -> DocumentOut:
    data = document.model_dump()
    data["created_at"] = as_utc(document.created_at)
    return DocumentOut.model_validate(data)


def documents_root() -> Path:
    return get_settings().data_dir / "documents"


# -- numbering and storage ---------------------------------------------------------------


def next_number(session: Session, prefix: str) -> str:
    """The next number of a yearly series, e.g. FA-2026-000458, from its locked counter."""
    series = f"{prefix}-{utc_now().year}"
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = DocumentSequence.__table__  # type: ignore[attr-defined]
    session.execute(
        insert(table).values(series=series, last_value=0).on_conflict_do_nothing()  # type: ignore[attr-defined]
    )
    counter = session.exec(
        select(DocumentSequence)
        .where(DocumentSequence.series == series)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_value += 1
    session.add(counter)
    return f"{series}-{counter.last_value:06d}"


def series_prefix(session: Session, key: str, default: str) -> str:
    value = str(setting(session, key, default)).strip().upper()
    return value if re.fullmatch(r"[A-Z0-9]{1,8}", value) else default


def store_file(
    ctx: ToolContext,
    order_id: int,
    name: str,
    content: bytes,
    kind: DocumentKind,
    fmt: DocumentFormat,
    number: str | None = None,
) -> Document:
    relative = f"{order_id}/{name}"
    target = documents_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    scratch.write_bytes(content)
    os.replace(scratch, target)
    document = Document(
        order_id=order_id,
        kind=kind,
        format=fmt,
        number=number,
        path=relative,
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        created_by=ctx.actor.email,
        created_at=utc_now(),
    )
    ctx.session.add(document)
    ctx.session.flush()
    return document


def generated(document: Document, created: bool) -> GeneratedDocument:
    return GeneratedDocument(**_out(document).model_dump(), created=created)


def record_document(ctx: ToolContext, document: Document, event: str, **payload: Any) -> None:
    out = _out(document).model_dump(mode="json")
    ctx.record(
        action="generate_" + event.removesuffix("_generated"),
        entity_type="document",
        entity_id=document.id,
        event=event,
        domain="documents",
        payload={**out, **payload},
        after=out,
    )


# -- the parties -------------------------------------------------------------------------


def seller_party(session: Session) -> render.Party:
    """The merchant's legal details from the company.* settings; the main site's address
    stands in for the head office until company.address is set."""
    name = str(setting(session, "company.legal_name", "Maison Lumen"))
    address = setting(session, "company.address", None)
    if isinstance(address, str):
        lines = [line.strip() for line in address.splitlines() if line.strip()]
    elif isinstance(address, list):
        lines = [str(line) for line in address]
    else:
        main = session.exec(
            select(Warehouse).where(Warehouse.is_active).order_by(Warehouse.id)  # type: ignore[arg-type]
        ).first()
        lines = [main.address_line, f"{main.postcode} {main.city}", main.country] if main else []
    details = [
        f"{label}: {value}"
        for label, key in (
            ("SIREN", "company.siren"),
            ("VAT number", "company.vat_number"),
            ("Share capital", "company.share_capital"),
            ("E-mail", "company.email"),
        )
        if (value := setting(session, key, None)) is not None
    ]
    return render.Party(name=name, address=lines, details=details)


def address_party(address: Address, customer: Customer | None = None) -> render.Party:
    lines = [address.line1, *([address.line2] if address.line2 else [])]
    lines += [f"{address.postcode} {address.city}", address.country]
    name = address.full_name
    if customer is not None and customer.company:
        name = f"{customer.company} - {address.full_name}"
    return render.Party(name=name, address=lines)


def warehouse_party(warehouse: Warehouse, merchant: str) -> render.Party:
    return render.Party(
        name=f"{merchant} - {warehouse.name}",
        address=[
            warehouse.address_line,
            f"{warehouse.postcode} {warehouse.city}",
            warehouse.country,
        ],
    )


def marketplace_reference(session: Session, order: Order) -> str | None:
    row = session.exec(
        select(MarketplaceOrder.external_order_id, MarketplaceConnection.name)
        .join(MarketplaceConnection, MarketplaceConnection.id == MarketplaceOrder.connection_id)  # type: ignore[arg-type]
        .where(MarketplaceOrder.order_id == order.id)
    ).first()
    return None if row is None else f"{row[1]} order {row[0]}"


def excl_vat(cents: int, rate_bp: int) -> int:
    return round(cents * 10_000 / (10_000 + rate_bp))


# -- invoices ----------------------------------------------------------------------------


def _invoice_content(session: Session, order: Order, number: str) -> bytes:
    customer = session.get(Customer, order.customer_id)
    billing = session.get(Address, order.billing_address_id)
    assert customer is not None and billing is not None  # foreign keys
    lines = session.exec(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)  # type: ignore[arg-type]
    ).all()
    rows = [
        render.Row(
            description=line.name,
            sku=line.sku,
            quantity=line.quantity,
            unit_excl_cents=excl_vat(line.unit_price_cents, line.vat_rate_bp),
            vat_rate_bp=line.vat_rate_bp,
            discount_cents=line.discount_cents,
            total_cents=line.total_cents,
        )
        for line in lines
    ]
    if order.shipping_cents:
        rows.append(
            render.Row(
                description=f"Shipping ({order.shipping_service})",
                sku="",
                quantity=1,
                unit_excl_cents=excl_vat(order.shipping_cents, VAT_BP),
                vat_rate_bp=VAT_BP,
                discount_cents=0,
                total_cents=order.shipping_cents,
            )
        )
    payments = session.exec(
        select(Payment, PaymentGateway.name)
        .join(PaymentGateway, PaymentGateway.id == Payment.gateway_id)  # type: ignore[arg-type]
        .where(Payment.order_id == order.id, Payment.captured_cents > 0)
        .order_by(Payment.id)  # type: ignore[arg-type]
    ).all()
    references = [f"Order {order.id} placed on {as_utc(order.placed_at).date().isoformat()}"]
    if reference := marketplace_reference(session, order):
        references.append(f"Sold on {reference}")
    for payment, gateway in payments:
        when = as_utc(payment.captured_at or payment.created_at).date().isoformat()
        references.append(f"Paid {render.money(payment.captured_cents)} on {when} ({gateway})")
    notes = ["Prices include French VAT at 20%."]
    if customer.company:
        notes.append(
            "Payment terms: paid with the order. Late payment: penalties at three times the "
            "legal interest rate and a fixed indemnity of 40 EUR for recovery costs."
        )
    totals = [("Subtotal incl. VAT", order.subtotal_cents)]
    if order.discount_cents:
        totals.append(("Discounts", -order.discount_cents))
    totals += [
        ("Shipping incl. VAT", order.shipping_cents),
        ("Total excl. VAT", order.total_cents - order.tax_cents),
        ("VAT 20%", order.tax_cents),
        ("Amount paid", sum(p.captured_cents for p, _ in payments)),
        ("Total incl. VAT", order.total_cents),
    ]
    return render.render_invoice(
        render.Invoice(
            title="Invoice",
            number=number,
            issued_on=utc_now().date(),
            seller=seller_party(session),
            buyer=address_party(billing, customer),
            references=references,
            rows=rows,
            totals=totals,
            notes=notes,
        )
    )


def invoice_of(session: Session, order_id: int) -> Document | None:
    return session.exec(
        select(Document).where(Document.order_id == order_id, Document.kind == DocumentKind.INVOICE)
    ).first()


@tool(agent="documents", path="/documents/orders/{order_id}/invoice", writes=True)
def generate_invoice(ctx: ToolContext, order_id: OrderId) -> GeneratedDocument:
    """Issue the invoice of a paid order: a PDF with the merchant's and the customer's
    details, the lines, VAT and totals, numbered FA-<year>-<6 digits> in an unbroken
    sequence. An order has one invoice: asking again returns the existing one."""
    from tools.orders import lock_order

    order = lock_order(ctx.session, order_id)
    existing = invoice_of(ctx.session, order_id)
    if existing is not None:
        return generated(existing, created=False)
    if order.status == OrderStatus.CANCELLED:
        raise Conflict(
            f"order {order_id} is cancelled; a cancelled order gets no invoice", field="order_id"
        )
    if order.paid_at is None:
        raise Conflict(
            f"order {order_id} is {order.status} and not paid; invoices are issued for paid orders",
            field="order_id",
        )
    number = next_number(ctx.session, series_prefix(ctx.session, "documents.invoice_prefix", "FA"))
    content = _invoice_content(ctx.session, order, number)
    document = store_file(
        ctx, order_id, f"{number}.pdf", content, DocumentKind.INVOICE, DocumentFormat.PDF, number
    )
    record_document(ctx, document, "invoice_generated", total_cents=order.total_cents)
    return generated(document, created=True)


# -- reading -----------------------------------------------------------------------------


@tool(agent="documents", path="/documents/orders/{order_id}")
def list_documents(
    ctx: ToolContext,
    order_id: OrderId,
    kind: Annotated[
        DocumentKind | None,
        Field(description="Only invoices, credit notes, packing slips or shipping labels."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[DocumentOut]:
    """List the documents generated for an order, newest first: invoice, credit notes,
    packing slip, shipping labels, with their number, file path, size and SHA-256."""
    get_or_404(ctx.session, Order, order_id)
    statement = select(Document).where(Document.order_id == order_id)
    if kind is not None:
        statement = statement.where(Document.kind == kind)
    rows, next_cursor = paginate(ctx.session, statement, Document.id, limit, cursor)
    return Page(items=[_out(d) for d in rows], next_cursor=next_cursor)


@tool(agent="documents", path="/documents/{document_id}")
def get_document(
    ctx: ToolContext,
    document_id: Annotated[int, Field(ge=1, description="Id of the document.")],
) -> DocumentFile:
    """Get a document's metadata and its file path, and check the file is still on disk and
    unchanged (its SHA-256)."""
    document = get_or_404(ctx.session, Document, document_id)
    target = documents_root() / document.path
    exists = target.is_file()
    intact = exists and hashlib.sha256(target.read_bytes()).hexdigest() == document.sha256
    return DocumentFile(**_out(document).model_dump(), file_exists=exists, intact=intact)


# Register the rest of the agent's tools.
from tools import (  # noqa: E402
    documents_credit_notes,  # noqa: F401
    documents_shipping,  # noqa: F401
)
