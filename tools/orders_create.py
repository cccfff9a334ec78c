"""Creating an order: catalogue prices, shipping from the settings, stock reserved, fraud scored."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress, model_validator
from sqlmodel import Session, col, func, select

from db.base import utc_now
from db.daily_sales import record_order
from db.demo.catalogue import SYSTEM_SETTINGS
from db.models import (
    Address,
    AddressKind,
    Customer,
    FraudDecision,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    PaymentMethod,
    Product,
    ProductStatus,
    ProductVariant,
    SalesChannel,
    ShippingService,
    StockLevel,
    Warehouse,
)
from tools.base import Conflict, InvalidInput, NotFound, ToolContext, tool
from tools.common import setting_int
from tools.orders_read import OrderDetail, order_detail

DEFAULTS: dict[str, Any] = {key: value for key, value, *_ in SYSTEM_SETTINGS}
# Flat shipping rates of the shop, VAT included (the free-shipping threshold is a setting).
STANDARD_FRANCE_CENTS = 490
STANDARD_ABROAD_CENTS = 1290
EXPRESS_CENTS = 1290


def shipping_cents(session: Session, service: ShippingService, country: str, goods: int) -> int:
    """What the shop charges for delivery: express is flat, standard is free from the threshold."""
    if service == ShippingService.EXPRESS:
        return EXPRESS_CENTS
    if goods >= setting_int(session, "orders.free_shipping_threshold_cents"):
        return 0
    return STANDARD_FRANCE_CENTS if country == "FR" else STANDARD_ABROAD_CENTS


def vat_included(amount_cents: int, rate_bp: int) -> int:
    """The VAT inside an amount that includes it: amount x rate / (1 + rate)."""
    return round(amount_cents * rate_bp / (10000 + rate_bp))


class OrderLineIn(BaseModel):
    """One line of a new order: a SKU or a variant id, and how many units."""

    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(
        default=None, min_length=3, max_length=64, description="SKU, e.g. APL-IP13-128-MID-A."
    )
    variant_id: int | None = Field(default=None, ge=1, description="Or the variant's id.")
    quantity: int = Field(ge=1, le=50, description="Units, 1-50.")

    @model_validator(mode="after")
    def one_reference(self) -> "OrderLineIn":
        if (self.sku is None) == (self.variant_id is None):
            raise ValueError("give either sku or variant_id for each line, not both")
        return self


@dataclass
class Priced:
    variant: ProductVariant
    product: Product
    quantity: int
    index: int  # position of its first line in the request, for error fields

    @property
    def total_cents(self) -> int:
        return self.variant.price_cents * self.quantity

    @property
    def tax_cents(self) -> int:
        return vat_included(self.total_cents, self.product.vat_rate_bp)


def _catalogue_lines(session: Session, lines: list[OrderLineIn]) -> list[Priced]:
    """Each requested variant once, priced from the catalogue; unknown or inactive refused."""
    skus = {line.sku.strip().upper() for line in lines if line.sku}
    ids = {line.variant_id for line in lines if line.variant_id}
    rows = session.exec(
        select(ProductVariant, Product)
        .join(Product, col(Product.id) == ProductVariant.product_id)
        .where(col(ProductVariant.sku).in_(skus) | col(ProductVariant.id).in_(ids))
    ).all()
    by_sku = {v.sku: (v, p) for v, p in rows}
    by_id = {v.id: (v, p) for v, p in rows}
    priced: dict[int, Priced] = {}
    for index, line in enumerate(lines):
        if line.sku:
            found = by_sku.get(line.sku.strip().upper())
            where, label = f"lines.{index}.sku", f"SKU {line.sku.strip().upper()}"
        else:
            found = by_id.get(line.variant_id)
            where, label = f"lines.{index}.variant_id", f"variant {line.variant_id}"
        if found is None:
            raise NotFound(f"{label} does not exist; check the catalogue", field=where)
        variant, product = found
        if not variant.is_active:
            raise Conflict(f"{variant.sku} is no longer sold (inactive SKU)", field=where)
        if product.status != ProductStatus.ACTIVE:
            raise Conflict(
                f"{variant.sku} belongs to {product.name}, which is {product.status} and not "
                "on sale",
                field=where,
            )
        assert variant.id is not None
        if variant.id in priced:
            priced[variant.id].quantity += line.quantity
        else:
            priced[variant.id] = Priced(variant, product, line.quantity, index)
    return list(priced.values())


def _address(
    session: Session, customer: Customer, address_id: int | None, kind: AddressKind, field: str
) -> Address:
    if address_id is not None:
        address = session.get(Address, address_id)
        if address is None:
            raise NotFound(f"address {address_id} does not exist", field=field)
        if address.customer_id != customer.id:
            raise InvalidInput(
                f"address {address_id} belongs to another customer, not to customer {customer.id}",
                field=field,
            )
        return address
    found = session.exec(
        select(Address)
        .where(Address.customer_id == customer.id)
        .order_by(
            (Address.kind == kind).desc(),  # type: ignore[attr-defined]
            col(Address.is_default).desc(),
            col(Address.id).desc(),
        )
    ).first()
    if found is None:
        raise Conflict(
            f"customer {customer.id} has no address on file; add one (add_address) first",
            field=field,
        )
    return found


def _refuse_blocked(session: Session, customer: Customer, ip: str | None) -> None:
    from tools.fraud import blocked_reason

    fingerprints = session.exec(
        select(PaymentMethod.fingerprint)
        .where(
            PaymentMethod.customer_id == customer.id, col(PaymentMethod.fingerprint).is_not(None)
        )
        .order_by(col(PaymentMethod.is_default).desc(), col(PaymentMethod.id))
    ).all()
    none: dict[str, Any] = {
        "customer_id": None,
        "email": None,
        "ip": None,
        "card_fingerprint": None,
    }
    checks: list[tuple[str, dict[str, Any]]] = [
        ("customer_id", {**none, "customer_id": customer.id, "email": customer.email})
    ]
    if ip:
        checks.append(("ip_address", {**none, "ip": ip}))
    checks += [
        ("customer_id", {**none, "card_fingerprint": fp}) for fp in dict.fromkeys(fingerprints)
    ]
    for field, check in checks:
        reason = blocked_reason(session, **check)
        if reason:
            raise Conflict(
                f"customer {customer.id} cannot order: {reason}. A manager can review the block "
                "with the fraud tools",
                code="blocked",
                field=field,
            )


def _no_warehouse(session: Session, lines: list[Priced]) -> Conflict:
    """Explain why no single warehouse can serve the order."""
    available = dict(
        session.exec(
            select(StockLevel.variant_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
            .join(Warehouse, col(Warehouse.id) == StockLevel.warehouse_id)
            .where(
                col(StockLevel.variant_id).in_([p.variant.id for p in lines]),
                col(Warehouse.is_active),
            )
            .group_by(col(StockLevel.variant_id))
        ).all()
    )
    short = [
        f"{p.variant.sku} ({p.quantity} wanted, {units} available in all warehouses)"
        for p in lines
        if (units := available.get(p.variant.id or 0) or 0) < p.quantity
    ]
    detail = (
        "not enough stock for " + ", ".join(short)
        if short
        else "the units are spread over several warehouses; split the order in two"
    )
    return Conflict(f"no warehouse can serve this order: {detail}", code="insufficient_stock")


@tool(agent="orders", path="/orders", writes=True)
def create_order(
    ctx: ToolContext,
    customer_id: Annotated[int, Field(ge=1, description="Id of the customer who orders.")],
    lines: Annotated[
        list[OrderLineIn],
        Field(min_length=1, max_length=50, description="What is ordered: SKU and quantity."),
    ],
    shipping_service: Annotated[
        ShippingService, Field(description="standard, or express (next day, 12,90 EUR).")
    ] = ShippingService.STANDARD,
    shipping_address_id: Annotated[
        int | None, Field(ge=1, description="Delivery address (default: the customer's).")
    ] = None,
    billing_address_id: Annotated[
        int | None, Field(ge=1, description="Billing address (default: the customer's).")
    ] = None,
    note: Annotated[str | None, Field(max_length=1000, description="A note on the order.")] = None,
    ip_address: Annotated[
        IPvAnyAddress | None, Field(description="The customer's IP address, when known.")
    ] = None,
) -> OrderDetail:
    """Place a shop order for a customer (phone or e-mail orders). Prices and VAT come from the
    catalogue, shipping from the shop's rates (standard free from the threshold, 4,90 EUR in
    France, 12,90 EUR abroad; express 12,90 EUR). Stock is reserved in one warehouse for
    orders.reservation_ttl_minutes until payment, and the order is scored for fraud: a block
    cancels it at once, a review keeps it pending for a manager. Blocked customers, e-mails,
    IPs or cards are refused. The order starts pending; take the payment next."""
    from tools.customers import live_customer
    from tools.fraud import score_order
    from tools.inventory import choose_warehouse, release_order_reservations, reserve_for_order
    from tools.orders import transition

    session = ctx.session
    customer = live_customer(session, customer_id)  # refuses customers erased under the GDPR
    ip = str(ip_address) if ip_address is not None else None
    _refuse_blocked(session, customer, ip)
    priced = _catalogue_lines(session, lines)
    shipping_to = _address(
        session, customer, shipping_address_id, AddressKind.SHIPPING, "shipping_address_id"
    )
    billing = _address(
        session, customer, billing_address_id, AddressKind.BILLING, "billing_address_id"
    )
    warehouse_id = choose_warehouse(
        session,
        lines=[(p.variant.id or 0, p.quantity) for p in priced],
        country=shipping_to.country,
    )
    if warehouse_id is None:
        raise _no_warehouse(session, priced)

    goods = sum(p.total_cents for p in priced)
    shipping = shipping_cents(session, shipping_service, shipping_to.country, goods)
    # Shipping carries the VAT of the goods it delivers, in proportion to their value.
    shipping_tax = sum(
        vat_included(round(shipping * p.total_cents / goods), p.product.vat_rate_bp) for p in priced
    )
    now = utc_now()
    order = Order(
        customer_id=customer.id,  # type: ignore[arg-type]
        status=OrderStatus.PENDING,
        channel=SalesChannel.SHOP,
        warehouse_id=warehouse_id,
        shipping_address_id=shipping_to.id,  # type: ignore[arg-type]
        billing_address_id=billing.id,  # type: ignore[arg-type]
        shipping_service=shipping_service,
        subtotal_cents=goods,
        shipping_cents=shipping,
        tax_cents=sum(p.tax_cents for p in priced) + shipping_tax,
        total_cents=goods + shipping,
        ip_address=ip,
        note=note,
        placed_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    assert order.id is not None
    record_order(session, order, None)
    for p in priced:
        session.add(
            OrderLine(
                order_id=order.id,
                variant_id=p.variant.id,  # type: ignore[arg-type]
                sku=p.variant.sku,
                name=p.variant.name,
                quantity=p.quantity,
                unit_price_cents=p.variant.price_cents,
                vat_rate_bp=p.product.vat_rate_bp,
                tax_cents=p.tax_cents,
                total_cents=p.total_cents,
            )
        )
    session.add(
        OrderStatusChange(
            order_id=order.id,
            from_status=None,
            to_status=OrderStatus.PENDING,
            reason="order placed",
            changed_by=ctx.actor.email,
            created_at=now,
        )
    )
    ctx.record(
        action="create_order",
        entity_type="order",
        entity_id=order.id,
        event="order_created",
        domain="orders",
        after={
            "order_id": order.id,
            "customer_id": customer.id,
            "channel": SalesChannel.SHOP.value,
            "status": OrderStatus.PENDING.value,
            "warehouse_id": warehouse_id,
            "shipping_service": shipping_service.value,
            "lines": [{"sku": p.variant.sku, "quantity": p.quantity} for p in priced],
            "subtotal_cents": goods,
            "shipping_cents": shipping,
            "tax_cents": order.tax_cents,
            "total_cents": order.total_cents,
        },
    )

    ttl = max(1, setting_int(session, "orders.reservation_ttl_minutes"))
    expires_at = now + timedelta(minutes=ttl)
    for p in priced:
        try:
            reserve_for_order(
                ctx,
                order_id=order.id,
                variant_id=p.variant.id,  # type: ignore[arg-type]
                warehouse_id=warehouse_id,
                quantity=p.quantity,
                expires_at=expires_at,
            )
        except Conflict as error:  # taken meanwhile by a concurrent order
            raise Conflict(error.message, code=error.code, field=f"lines.{p.index}") from None

    check = score_order(ctx, order)
    if check.decision == FraudDecision.BLOCK:
        reason = f"blocked by fraud check, score {check.score}"
        release_order_reservations(ctx, order_id=order.id, reason=reason)
        transition(ctx, order, OrderStatus.CANCELLED, reason)
    elif check.decision == FraudDecision.REVIEW:
        held = (
            f"Held for fraud review: score {check.score} (fraud check {check.id}); a manager "
            "decides before it ships."
        )
        order.note = f"{note}\n{held}" if note else held
        session.add(order)
    session.flush()
    return order_detail(session, order)
