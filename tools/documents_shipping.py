"""Tools of the documents agent, continued: the parcel's documents, packing slip and label."""

from typing import Annotated

from pydantic import Field
from sqlmodel import select

from db.base import as_utc
from db.models import (
    Address,
    Carrier,
    Customer,
    Document,
    DocumentFormat,
    DocumentKind,
    OrderLine,
    OrderStatus,
    ProductVariant,
    Shipment,
    ShipmentStatus,
    Warehouse,
)
from tools import documents_render as render
from tools.base import Conflict, ToolContext, tool
from tools.common import get_or_404
from tools.documents import (
    GeneratedDocument,
    OrderId,
    address_party,
    generated,
    marketplace_reference,
    record_document,
    seller_party,
    setting,
    store_file,
    warehouse_party,
)


@tool(agent="documents", path="/documents/orders/{order_id}/packing-slip", writes=True)
def generate_packing_slip(ctx: ToolContext, order_id: OrderId) -> GeneratedDocument:
    """The packing slip that goes in the parcel (PDF): ship-to address, every item with SKU,
    grade and quantity, no prices; marketplace orders show the marketplace's order number.
    An order has one: asking again returns it."""
    from tools.orders import lock_order

    order = lock_order(ctx.session, order_id)
    existing = ctx.session.exec(
        select(Document).where(
            Document.order_id == order_id, Document.kind == DocumentKind.PACKING_SLIP
        )
    ).first()
    if existing is not None:
        return generated(existing, created=False)
    if order.status in (OrderStatus.PENDING, OrderStatus.CANCELLED):
        raise Conflict(
            f"order {order_id} is {order.status}; only paid orders are packed", field="order_id"
        )
    shipping = ctx.session.get(Address, order.shipping_address_id)
    assert shipping is not None
    rows = ctx.session.exec(
        select(OrderLine, ProductVariant)
        .join(ProductVariant, ProductVariant.id == OrderLine.variant_id)  # type: ignore[arg-type]
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.id)  # type: ignore[arg-type]
    ).all()
    lines = [
        render.SlipLine(
            description=line.name,
            sku=line.sku,
            quantity=line.quantity,
            detail=f"grade {variant.grade}"
            if variant.grade and f"Grade {variant.grade}" not in line.name
            else "",
        )
        for line, variant in rows
    ]
    shipment = ctx.session.exec(
        select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id.desc())  # type: ignore[union-attr]
    ).first()
    warehouse_id = shipment.warehouse_id if shipment else order.warehouse_id
    warehouse = ctx.session.get(Warehouse, warehouse_id) if warehouse_id else None
    merchant = str(setting(ctx.session, "company.legal_name", "Maison Lumen"))
    sender = warehouse_party(warehouse, merchant) if warehouse else seller_party(ctx.session)
    parcel = None
    if shipment is not None:
        carrier = ctx.session.get(Carrier, shipment.carrier_id)
        parcel = f"Parcel: {carrier.name if carrier else ''} {shipment.tracking_number}".strip()
    reference = marketplace_reference(ctx.session, order)
    days = int(setting(ctx.session, "returns.window_days", 30))
    where = "from your account on the marketplace" if reference else "from your account"
    content = render.render_packing_slip(
        render.PackingSlip(
            order_id=order_id,
            order_date=as_utc(order.placed_at).date(),
            reference=reference,
            sender=sender,
            recipient=address_party(shipping),
            lines=lines,
            shipment=parcel,
            notes=[
                "Something missing or damaged? Contact us within 48 hours of delivery.",
                f"You have {days} days from delivery to return an item. Start your return {where}.",
            ],
        )
    )
    document = store_file(
        ctx,
        order_id,
        f"packing-slip-{order_id}.pdf",
        content,
        DocumentKind.PACKING_SLIP,
        DocumentFormat.PDF,
    )
    record_document(ctx, document, "packing_slip_generated", lines=len(lines))
    return generated(document, created=True)


@tool(agent="documents", path="/documents/shipments/{shipment_id}/label", writes=True)
def generate_shipping_label(
    ctx: ToolContext,
    shipment_id: Annotated[int, Field(ge=1, description="Id of the shipment.")],
    format: Annotated[
        DocumentFormat,
        Field(description="pdf (10 x 15 cm), png (203 dpi image) or zpl (Zebra printers)."),
    ] = DocumentFormat.PDF,
) -> GeneratedDocument:
    """The shipping label of a shipment, as PDF, PNG or ZPL: carrier and service, sender
    warehouse, recipient address and the tracking number as a Code 128 barcode. Asking
    again for the same format returns the same label (a reprint, same tracking number)."""
    from tools.orders import lock_order

    shipment = get_or_404(ctx.session, Shipment, shipment_id)
    order = lock_order(ctx.session, shipment.order_id)
    name = f"label-{shipment_id}-{shipment.tracking_number}.{format.value}"
    existing = ctx.session.exec(
        select(Document).where(
            Document.order_id == order.id,
            Document.kind == DocumentKind.SHIPPING_LABEL,
            Document.path == f"{order.id}/{name}",
        )
    ).first()
    if existing is not None:
        return generated(existing, created=False)
    if shipment.status in (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER):
        raise Conflict(
            f"shipment {shipment_id} is {shipment.status}; its parcel needs no new label",
            field="shipment_id",
        )
    from tools.carrier_sandbox import SANDBOX_NOTICE
    from tools.transport import zone_of

    carrier = ctx.session.get(Carrier, shipment.carrier_id)
    warehouse = ctx.session.get(Warehouse, shipment.warehouse_id)
    address = ctx.session.get(Address, order.shipping_address_id)
    customer = ctx.session.get(Customer, order.customer_id)
    assert carrier and warehouse and address and customer and order.id  # foreign keys
    merchant = str(setting(ctx.session, "company.legal_name", "Maison Lumen"))
    data = render.LabelData(
        carrier=carrier.name,
        service=shipment.service,
        zone=zone_of(address.country).value,
        tracking_number=shipment.tracking_number,
        sender=warehouse_party(warehouse, merchant),
        recipient=address_party(address),
        phone=customer.phone,
        weight_grams=shipment.weight_grams,
        order_id=order.id,  # type: ignore[arg-type]
        shipment_id=shipment_id,
        shipped_on=as_utc(shipment.shipped_at or shipment.created_at).date(),
        notice=SANDBOX_NOTICE.split(":")[0],
    )
    draw = {
        DocumentFormat.PDF: render.render_label_pdf,
        DocumentFormat.PNG: render.render_label_png,
        DocumentFormat.ZPL: render.render_label_zpl,
    }[format]
    document = store_file(
        ctx,
        order.id,
        name,
        draw(data),
        DocumentKind.SHIPPING_LABEL,
        format,  # type: ignore[arg-type]
    )
    record_document(
        ctx,
        document,
        "shipping_label_generated",
        shipment_id=shipment_id,
        tracking_number=shipment.tracking_number,
    )
    return generated(document, created=True)
