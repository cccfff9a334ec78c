"""Reading orders: the filtered list and one order in full."""

from collections import defaultdict
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

# Registered first: GET /orders/analytics must be routed before GET /orders/{order_id}.
import tools.orders_analytics  # noqa: F401
from db.base import as_utc
from db.models import (
    Address,
    Carrier,
    Customer,
    FraudCheck,
    MarketplaceOrder,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Payment,
    PaymentGateway,
    Refund,
    SalesChannel,
    Shipment,
    StockReservation,
    Warehouse,
)
from tools.base import InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, euros, get_or_404, paginate, period

OrderId = Annotated[int, Field(ge=1, description="Id of the order.")]


# -- the list ----------------------------------------------------------------------------


class OrderSummary(BaseModel):
    id: int
    status: OrderStatus
    channel: SalesChannel
    customer_id: int
    customer_name: str
    customer_email: str
    shipping_service: str
    items: int = Field(description="Units ordered, all lines together.")
    products: list[str] = Field(description="What was ordered: each line's product name.")
    total_cents: int
    total: str
    warehouse_id: int | None
    placed_at: datetime


@tool(agent="orders", path="/orders")
def list_orders(
    ctx: ToolContext,
    status: Annotated[OrderStatus | None, Field(description="Only orders in this status.")] = None,
    customer_id: Annotated[int | None, Field(ge=1, description="Only this customer's.")] = None,
    channel: Annotated[
        SalesChannel | None, Field(description="Only this sales channel (shop or a marketplace).")
    ] = None,
    placed_from: Annotated[
        date | None, Field(description="Placed on or after this day (UTC).")
    ] = None,
    placed_to: Annotated[
        date | None, Field(description="Placed on or before this day (UTC).")
    ] = None,
    min_total_cents: Annotated[
        int | None, Field(ge=0, description="Total at least this, in cents.")
    ] = None,
    max_total_cents: Annotated[
        int | None, Field(ge=0, description="Total at most this, in cents.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[OrderSummary]:
    """List orders, newest first, filtered by status, customer, sales channel, the days they
    were placed and their total. Use get_order for one order's lines, payments and parcels."""
    if placed_from and placed_to and placed_from > placed_to:
        raise InvalidInput(
            f"placed_from ({placed_from}) is after placed_to ({placed_to})", field="placed_from"
        )
    if (
        min_total_cents is not None
        and max_total_cents is not None
        and (min_total_cents > max_total_cents)
    ):
        raise InvalidInput(
            f"min_total_cents ({min_total_cents}) is above max_total_cents ({max_total_cents})",
            field="min_total_cents",
        )
    items = (
        select(func.sum(OrderLine.quantity))
        .where(OrderLine.order_id == Order.id)
        .correlate(Order)
        .scalar_subquery()
    )
    name = col(Customer.first_name) + " " + col(Customer.last_name)
    statement = select(Order, name, Customer.email, items).join(
        Customer, col(Customer.id) == Order.customer_id
    )
    conditions = []
    if status is not None:
        conditions.append(Order.status == status)
    if customer_id is not None:
        conditions.append(Order.customer_id == customer_id)
    if channel is not None:
        conditions.append(Order.channel == channel)
    if placed_from is not None:
        conditions.append(Order.placed_at >= period(placed_from, placed_from)[0])
    if placed_to is not None:
        conditions.append(Order.placed_at < period(placed_to, placed_to)[1])
    if min_total_cents is not None:
        conditions.append(Order.total_cents >= min_total_cents)
    if max_total_cents is not None:
        conditions.append(Order.total_cents <= max_total_cents)
    rows, next_cursor = paginate(
        ctx.session, statement.where(*conditions), col(Order.id), limit, cursor
    )
    products = _line_names(ctx.session, [order.id for order, *_ in rows])
    return Page(
        items=[
            OrderSummary(
                id=order.id,
                status=order.status,
                channel=order.channel,
                customer_id=order.customer_id,
                customer_name=customer_name,
                customer_email=email,
                shipping_service=order.shipping_service,
                items=units or 0,
                products=products[order.id],
                total_cents=order.total_cents,
                total=euros(order.total_cents),
                warehouse_id=order.warehouse_id,
                placed_at=as_utc(order.placed_at),
            )
            for order, customer_name, email, units in rows
        ],
        next_cursor=next_cursor,
    )


def _line_names(session: Session, order_ids: list[int | None]) -> dict[int | None, list[str]]:
    """Each order's line names, in line order: what a merchant recognises an order by."""
    names: dict[int | None, list[str]] = defaultdict(list)
    lines = session.exec(
        select(OrderLine.order_id, OrderLine.name)
        .where(col(OrderLine.order_id).in_(order_ids))
        .order_by(col(OrderLine.id))
    )
    for order_id, name in lines:
        names[order_id].append(name)
    return names


# -- one order ---------------------------------------------------------------------------


class AddressOut(BaseModel):
    id: int
    full_name: str
    line1: str
    line2: str | None
    postcode: str
    city: str
    country: str


class LineOut(BaseModel):
    id: int
    variant_id: int
    sku: str
    name: str
    quantity: int
    unit_price_cents: int
    discount_cents: int
    vat_rate_bp: int
    tax_cents: int
    total_cents: int


class HistoryOut(BaseModel):
    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str | None
    changed_by: str
    at: datetime


class RefundOut(BaseModel):
    id: int
    amount_cents: int
    status: str
    reason: str
    return_id: int | None
    created_by: str
    created_at: datetime


class PaymentOut(BaseModel):
    id: int
    gateway: str
    status: str
    amount_cents: int
    captured_cents: int
    refunded_cents: int
    failure_message: str | None
    created_at: datetime
    refunds: list[RefundOut]


class ShipmentOut(BaseModel):
    id: int
    carrier: str
    service: str
    tracking_number: str
    status: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    estimated_delivery: date | None


class ReservationOut(BaseModel):
    id: int
    variant_id: int
    warehouse_id: int
    quantity: int
    status: str
    expires_at: datetime | None


class FraudCheckOut(BaseModel):
    id: int
    score: int
    decision: str
    checked_by: str
    created_at: datetime


class OrderDetail(BaseModel):
    id: int
    status: OrderStatus
    channel: SalesChannel
    customer_id: int
    customer_name: str
    customer_email: str
    warehouse_id: int | None
    warehouse_code: str | None
    shipping_service: str
    currency: str
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int
    tax_cents: int = Field(description="VAT included in the total.")
    total_cents: int
    total: str
    captured_cents: int = Field(description="Captured on the order's payments.")
    refunded_cents: int = Field(description="Refunded on the order's payments.")
    marketplace_order_id: int | None = Field(
        description="The marketplace's copy of the order, for replying to its buyer."
    )
    marketplace_reference: str | None = Field(description="The order's number on the marketplace.")
    ip_address: str | None
    note: str | None
    cancel_reason: str | None
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    shipping_address: AddressOut
    billing_address: AddressOut
    lines: list[LineOut]
    history: list[HistoryOut] = Field(description="Status changes, oldest first.")
    payments: list[PaymentOut]
    shipments: list[ShipmentOut]
    reservations: list[ReservationOut]
    fraud_checks: list[FraudCheckOut]


def _address(session: Session, address_id: int) -> AddressOut:
    return AddressOut.model_validate(session.get(Address, address_id), from_attributes=True)


def order_detail(session: Session, order: Order) -> OrderDetail:
    """Everything about one order, read from its rows (shared by get_order and create_order)."""
    assert order.id is not None
    customer = session.get(Customer, order.customer_id)
    assert customer is not None
    warehouse = session.get(Warehouse, order.warehouse_id) if order.warehouse_id else None
    lines = session.exec(
        select(OrderLine).where(OrderLine.order_id == order.id).order_by(col(OrderLine.id))
    ).all()
    history = session.exec(
        select(OrderStatusChange)
        .where(OrderStatusChange.order_id == order.id)
        .order_by(col(OrderStatusChange.created_at), col(OrderStatusChange.id))
    ).all()
    payments = session.exec(
        select(Payment, PaymentGateway.code)
        .join(PaymentGateway, col(PaymentGateway.id) == Payment.gateway_id)
        .where(Payment.order_id == order.id)
        .order_by(col(Payment.id))
    ).all()
    refunds: dict[int, list[RefundOut]] = defaultdict(list)
    for refund in session.exec(
        select(Refund).where(Refund.order_id == order.id).order_by(col(Refund.id))
    ).all():
        refunds[refund.payment_id].append(
            RefundOut.model_validate(
                {**refund.model_dump(), "created_at": as_utc(refund.created_at)}
            )
        )
    shipments = session.exec(
        select(Shipment, Carrier.code)
        .join(Carrier, col(Carrier.id) == Shipment.carrier_id)
        .where(Shipment.order_id == order.id)
        .order_by(col(Shipment.id))
    ).all()
    reservations = session.exec(
        select(StockReservation)
        .where(StockReservation.order_id == order.id)
        .order_by(col(StockReservation.id))
    ).all()
    checks = session.exec(
        select(FraudCheck).where(FraudCheck.order_id == order.id).order_by(col(FraudCheck.id))
    ).all()
    marketplace = session.exec(
        select(MarketplaceOrder).where(MarketplaceOrder.order_id == order.id)
    ).first()
    return OrderDetail(
        id=order.id,
        status=order.status,
        channel=order.channel,
        customer_id=order.customer_id,
        customer_name=f"{customer.first_name} {customer.last_name}",
        customer_email=customer.email,
        warehouse_id=order.warehouse_id,
        warehouse_code=warehouse.code if warehouse else None,
        shipping_service=order.shipping_service,
        currency=order.currency,
        subtotal_cents=order.subtotal_cents,
        discount_cents=order.discount_cents,
        shipping_cents=order.shipping_cents,
        tax_cents=order.tax_cents,
        total_cents=order.total_cents,
        total=euros(order.total_cents),
        captured_cents=sum(p.captured_cents for p, _ in payments),
        refunded_cents=sum(p.refunded_cents for p, _ in payments),
        marketplace_order_id=marketplace.id if marketplace else None,
        marketplace_reference=marketplace.external_order_id if marketplace else None,
        ip_address=order.ip_address,
        note=order.note,
        cancel_reason=order.cancel_reason,
        placed_at=as_utc(order.placed_at),
        paid_at=as_utc(order.paid_at),
        shipped_at=as_utc(order.shipped_at),
        delivered_at=as_utc(order.delivered_at),
        cancelled_at=as_utc(order.cancelled_at),
        shipping_address=_address(session, order.shipping_address_id),
        billing_address=_address(session, order.billing_address_id),
        lines=[LineOut.model_validate(line, from_attributes=True) for line in lines],
        history=[
            HistoryOut(
                from_status=h.from_status,
                to_status=h.to_status,
                reason=h.reason,
                changed_by=h.changed_by,
                at=as_utc(h.created_at),
            )
            for h in history
        ],
        payments=[
            PaymentOut(
                id=p.id or 0,
                gateway=code,
                status=p.status,
                amount_cents=p.amount_cents,
                captured_cents=p.captured_cents,
                refunded_cents=p.refunded_cents,
                failure_message=p.failure_message,
                created_at=as_utc(p.created_at),
                refunds=refunds.get(p.id or 0, []),
            )
            for p, code in payments
        ],
        shipments=[
            ShipmentOut(
                id=s.id or 0,
                carrier=code,
                service=s.service,
                tracking_number=s.tracking_number,
                status=s.status,
                shipped_at=as_utc(s.shipped_at),
                delivered_at=as_utc(s.delivered_at),
                estimated_delivery=s.estimated_delivery,
            )
            for s, code in shipments
        ],
        reservations=[
            ReservationOut(
                id=r.id or 0,
                variant_id=r.variant_id,
                warehouse_id=r.warehouse_id,
                quantity=r.quantity,
                status=r.status,
                expires_at=as_utc(r.expires_at),
            )
            for r in reservations
        ],
        fraud_checks=[
            FraudCheckOut(
                id=c.id or 0,
                score=c.score,
                decision=c.decision,
                checked_by=c.checked_by,
                created_at=as_utc(c.created_at),
            )
            for c in checks
        ],
    )


@tool(agent="orders", path="/orders/{order_id}")
def get_order(ctx: ToolContext, order_id: OrderId) -> OrderDetail:
    """Get one order in full: customer, addresses, lines with VAT, totals, status history,
    payments with their refunds, shipments with tracking numbers, stock reservations and
    fraud checks."""
    return order_detail(ctx.session, get_or_404(ctx.session, Order, order_id))
