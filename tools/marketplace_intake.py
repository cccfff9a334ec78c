"""Writing the Comptoir order of an accepted marketplace order: customer, address, order
and lines, stock reservations, the marketplace's captured payment, paid status."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import func, select

from db.base import utc_now
from db.daily_sales import record_order
from db.models import (
    Address,
    AddressKind,
    Customer,
    MarketplaceConnection,
    MarketplaceOrder,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentGateway,
    PaymentStatus,
    Product,
    ProductVariant,
    SalesChannel,
    ShippingService,
    SyncStatus,
)
from tools.base import Conflict, ToolContext
from tools.marketplace_common import DOMAIN
from tools.marketplace_connectors import ShippingAddress

SHIPPING_VAT_BP = 2000
LOCALES = {"FR": "fr-FR", "BE": "fr-BE", "LU": "fr-LU", "DE": "de-DE", "AT": "de-AT"}


class SyncedOrder(BaseModel):
    marketplace_order_id: int
    external_order_id: str
    order_id: int
    customer_id: int
    new_customer: bool
    warehouse_id: int
    total_cents: int


def write_order(
    ctx: ToolContext,
    connection: MarketplaceConnection,
    row: MarketplaceOrder,
    payload: dict[str, Any],
    items: list[tuple[ProductVariant, Product, int, int]],
    *,
    customer: Customer | None,
    address: ShippingAddress,
    marketplace_status: str,
    warehouse_id: int,
    shipping: int,
) -> SyncedOrder:
    from tools.inventory import reserve_for_order
    from tools.orders import transition

    session, now = ctx.session, utc_now()
    marketplace = connection.marketplace.value
    new_customer = customer is None
    customer = customer or _new_customer(ctx, payload, address, marketplace, row)
    address_id = _shipping_address(ctx, customer, address)
    gateway = session.exec(select(PaymentGateway).where(PaymentGateway.code == "marketplace"))
    gateway_row = gateway.first()
    if gateway_row is None:
        raise Conflict("the 'marketplace' payment gateway is missing; an admin must add it")
    subtotal = sum(quantity * price for _, _, quantity, price in items)
    line_tax = [
        round(q * p * prod.vat_rate_bp / (10000 + prod.vat_rate_bp)) for _, prod, q, p in items
    ]
    service = payload.get("shipping_service")
    placed = payload.get("placed_at")
    order = Order(
        customer_id=customer.id or 0,
        status=OrderStatus.PENDING,
        channel=SalesChannel(marketplace),
        marketplace_connection_id=connection.id,
        warehouse_id=warehouse_id,
        shipping_address_id=address_id,
        billing_address_id=address_id,
        shipping_service=ShippingService(service)
        if service in {s.value for s in ShippingService}
        else ShippingService.STANDARD,
        subtotal_cents=subtotal,
        shipping_cents=shipping,
        tax_cents=sum(line_tax) + round(shipping * SHIPPING_VAT_BP / (10000 + SHIPPING_VAT_BP)),
        total_cents=subtotal + shipping,
        note=f"{connection.name} order {row.external_order_id}",
        placed_at=datetime.fromisoformat(placed) if placed else row.received_at,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    record_order(session, order, None)
    for (variant, product, quantity, price), tax in zip(items, line_tax, strict=True):
        session.add(
            OrderLine(
                order_id=order.id or 0,
                variant_id=variant.id or 0,
                sku=variant.sku,
                name=variant.name,
                quantity=quantity,
                unit_price_cents=price,
                vat_rate_bp=product.vat_rate_bp,
                tax_cents=tax,
                total_cents=quantity * price,
            )
        )
    ctx.record(
        action="create_order",
        entity_type="order",
        entity_id=order.id,
        event="order_created",
        domain="orders",
        payload={
            "order_id": order.id,
            "channel": marketplace,
            "customer_id": customer.id,
            "total_cents": order.total_cents,
            "external_order_id": row.external_order_id,
        },
    )
    for variant, _, quantity, _ in items:
        reserve_for_order(
            ctx,
            order_id=order.id or 0,
            variant_id=variant.id or 0,
            warehouse_id=warehouse_id,
            quantity=quantity,
            expires_at=None,  # paid: held until shipping
        )
    payment = Payment(
        order_id=order.id or 0,
        gateway_id=gateway_row.id or 0,
        status=PaymentStatus.CAPTURED,
        amount_cents=order.total_cents,
        captured_cents=order.total_cents,
        provider_reference=f"{marketplace}:{row.external_order_id}"[:64],
        created_at=now,
        authorized_at=now,
        captured_at=now,
        updated_at=now,
    )
    session.add(payment)
    session.flush()
    ctx.record(
        action="capture_payment",
        entity_type="payment",
        entity_id=payment.id,
        event="payment_captured",
        domain="payments",
        payload={
            "payment_id": payment.id,
            "order_id": order.id,
            "gateway": "marketplace",
            "captured_cents": payment.captured_cents,
        },
    )
    transition(ctx, order, OrderStatus.PAID, f"paid on {connection.name}")
    row.sync_status = SyncStatus.SYNCED
    row.order_id = order.id
    row.marketplace_status = marketplace_status
    row.error = None
    row.synced_at = now
    row.payload = {**payload, "shipping_address": address.model_dump()}
    session.add(row)
    ctx.record(
        action="sync_marketplace_order",
        entity_type="marketplace_order",
        entity_id=row.id,
        event="marketplace_order_synced",
        domain=DOMAIN,
        payload={
            "connection_id": connection.id,
            "external_order_id": row.external_order_id,
            "order_id": order.id,
            "warehouse_id": warehouse_id,
            "total_cents": order.total_cents,
        },
    )
    return SyncedOrder(
        marketplace_order_id=row.id or 0,
        external_order_id=row.external_order_id,
        order_id=order.id or 0,
        customer_id=customer.id or 0,
        new_customer=new_customer,
        warehouse_id=warehouse_id,
        total_cents=order.total_cents,
    )


def _new_customer(
    ctx: ToolContext,
    payload: dict[str, Any],
    address: ShippingAddress,
    marketplace: str,
    row: MarketplaceOrder,
) -> Customer:
    first, _, last = address.full_name.strip().partition(" ")
    customer = Customer(
        email=str(payload["buyer_email"]).strip().lower(),
        first_name=first[:80] or "Buyer",
        last_name=(last or first)[:80] or "Buyer",
        locale=LOCALES.get(address.country, "en-GB"),
        notes=f"Created from {marketplace} order {row.external_order_id}.",
    )
    ctx.session.add(customer)
    ctx.session.flush()
    ctx.record(
        action="create_customer",
        entity_type="customer",
        entity_id=customer.id,
        event="customer_created",
        domain="customers",
        payload={"customer_id": customer.id, "source": marketplace},
    )
    return customer


def _shipping_address(ctx: ToolContext, customer: Customer, address: ShippingAddress) -> int:
    """The customer's address matching the one the marketplace gave, added when new."""
    existing = ctx.session.exec(
        select(Address).where(
            Address.customer_id == customer.id,
            Address.kind == AddressKind.SHIPPING,
            func.lower(Address.line1) == address.line1.lower(),
            Address.postcode == address.postcode,
            Address.country == address.country,
        )
    ).first()
    if existing:
        return existing.id or 0
    has_default = ctx.session.exec(
        select(Address.id).where(
            Address.customer_id == customer.id,
            Address.kind == AddressKind.SHIPPING,
            Address.is_default,
        )
    ).first()
    row = Address(
        customer_id=customer.id or 0,
        kind=AddressKind.SHIPPING,
        full_name=address.full_name[:160],
        line1=address.line1[:200],
        line2=address.line2,
        postcode=address.postcode[:12],
        city=address.city[:80],
        country=address.country[:2],
        is_default=has_default is None,
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.record(
        action="add_address",
        entity_type="address",
        entity_id=row.id,
        event="address_added",
        domain="customers",
        payload={"customer_id": customer.id, "address_id": row.id, "source": "marketplace"},
    )
    return row.id or 0
