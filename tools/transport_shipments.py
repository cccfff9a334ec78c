"""Tools of the transport agent, continued: shipments."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from db.base import as_utc, utc_now
from db.models import (
    Address,
    Carrier,
    CarrierRate,
    Customer,
    FraudCheck,
    FraudDecision,
    Order,
    OrderLine,
    OrderStatus,
    ReservationStatus,
    Shipment,
    ShipmentStatus,
    ShippingService,
    StockReservation,
    TrackingEvent,
    Warehouse,
)
from tools.base import Conflict, ToolContext, tool
from tools.carrier_sandbox import (
    LabelRequest,
    PostalAddress,
    add_working_days,
    carrier_api,
)
from tools.common import Cursor, Limit, Page, euros, get_or_404, paginate, rows_by_id
from tools.transport import order_weight, tracking_url, zone_of
from tools.transport_choice import explain, rank_carriers

ShipmentId = Annotated[int, Field(ge=1, description="Id of the shipment.")]
WEIGHT_TOLERANCE = 0.10  # a weighed parcel more than 10% off its lines is checked first
FINAL = (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER)


class ShipmentOut(BaseModel):
    id: int
    order_id: int
    carrier_id: int
    carrier_code: str
    carrier_name: str
    warehouse_id: int
    warehouse_code: str
    service: ShippingService
    tracking_number: str
    tracking_url: str
    status: ShipmentStatus
    weight_grams: int
    cost_cents: int
    cost: str
    estimated_delivery: date | None
    created_at: datetime
    shipped_at: datetime | None
    delivered_at: datetime | None


class TrackingEventOut(BaseModel):
    status: ShipmentStatus
    location: str | None
    description: str
    occurred_at: datetime


class ShipmentDetail(ShipmentOut):
    events: list[TrackingEventOut] = Field(description="Oldest first.")


class ShipmentCreated(ShipmentOut):
    order_status: OrderStatus
    carrier_choice: str = Field(description="Why this carrier.")
    provider: str
    sandbox: bool
    message: str


def _out(session: Session, shipment: Shipment) -> ShipmentOut:
    return _outs(session, [shipment])[0]


def _outs(session: Session, shipments: Sequence[Shipment]) -> list[ShipmentOut]:
    """The shipments with their carriers and warehouses, read in one query each (not one per
    shipment: the session does not keep rows it already loaded once nothing refers to them)."""
    carriers = rows_by_id(session, Carrier, (s.carrier_id for s in shipments))
    warehouses = rows_by_id(session, Warehouse, (s.warehouse_id for s in shipments))
    return [_shipment_out(s, carriers[s.carrier_id], warehouses[s.warehouse_id]) for s in shipments]


def _shipment_out(shipment: Shipment, carrier: Carrier, warehouse: Warehouse) -> ShipmentOut:
    data = shipment.model_dump()
    for key in ("created_at", "shipped_at", "delivered_at"):
        data[key] = None if data[key] is None else as_utc(data[key])
    return ShipmentOut.model_validate(
        {
            **data,
            "carrier_code": carrier.code,
            "carrier_name": carrier.name,
            "warehouse_code": warehouse.code,
            "tracking_url": tracking_url(carrier, shipment.tracking_number),
            "cost": euros(shipment.cost_cents),
        }
    )


def _events(session: Session, shipment_id: int) -> list[TrackingEventOut]:
    rows = session.exec(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)  # type: ignore[arg-type]
    ).all()
    return [
        TrackingEventOut(
            status=e.status,
            location=e.location,
            description=e.description,
            occurred_at=as_utc(e.occurred_at),
        )
        for e in rows
    ]


def shipment_detail(session: Session, shipment: Shipment) -> ShipmentDetail:
    return ShipmentDetail(
        **_out(session, shipment).model_dump(),
        events=_events(session, shipment.id),  # type: ignore[arg-type]
    )


@tool(agent="transport", path="/transport/shipments")
def list_shipments(
    ctx: ToolContext,
    order_id: Annotated[int | None, Field(ge=1, description="Only this order's.")] = None,
    carrier_id: Annotated[int | None, Field(ge=1, description="Only this carrier's.")] = None,
    status: Annotated[ShipmentStatus | None, Field(description="Only in this status.")] = None,
    warehouse_id: Annotated[
        int | None, Field(ge=1, description="Only those leaving this warehouse.")
    ] = None,
    tracking_number: Annotated[
        str | None,
        Field(
            min_length=6,
            max_length=40,
            description="Only the parcel with this tracking number (as the carrier prints it).",
        ),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ShipmentOut]:
    """List shipments, newest first, by order, carrier, status (label_created, in_transit,
    out_for_delivery, delivered, exception, returned_to_sender), warehouse or tracking
    number."""
    statement = select(Shipment)
    tracking = "".join(tracking_number.split()).upper() if tracking_number else None
    for column, value in (
        (Shipment.order_id, order_id),
        (Shipment.carrier_id, carrier_id),
        (Shipment.status, status),
        (Shipment.warehouse_id, warehouse_id),
        (Shipment.tracking_number, tracking),
    ):
        if value is not None:
            statement = statement.where(column == value)
    rows, next_cursor = paginate(ctx.session, statement, Shipment.id, limit, cursor)
    return Page(items=_outs(ctx.session, rows), next_cursor=next_cursor)


@tool(agent="transport", path="/transport/shipments/{shipment_id}")
def get_shipment(ctx: ToolContext, shipment_id: ShipmentId) -> ShipmentDetail:
    """Get a shipment with the tracking scans stored so far (track_shipment fetches new ones)."""
    return shipment_detail(ctx.session, get_or_404(ctx.session, Shipment, shipment_id))


def _refuse_unshippable(session: Session, order: Order) -> None:
    status = OrderStatus(order.status)
    if status in (OrderStatus.PAID, OrderStatus.PROCESSING):
        check = session.exec(
            select(FraudCheck)
            .where(FraudCheck.order_id == order.id)
            .order_by(FraudCheck.created_at.desc(), FraudCheck.id.desc())  # type: ignore[attr-defined, union-attr]
        ).first()
        if check and check.decision in (FraudDecision.REVIEW, FraudDecision.BLOCK):
            raise Conflict(
                f"order {order.id} is held by fraud check {check.id} ({check.decision.value}, "
                f"score {check.score}); clear the review before shipping it",
                field="order_id",
            )
        return
    why = {
        OrderStatus.PENDING: "it is not paid yet; it ships once paid",
        OrderStatus.CANCELLED: "cancelled orders do not ship",
        OrderStatus.SHIPPED: "it has already left; track its shipment instead",
        OrderStatus.DELIVERED: "it has already been delivered",
        OrderStatus.RETURNED: "it came back through a return",
    }[status]
    raise Conflict(f"order {order.id} is {status.value}: {why}", field="order_id")


def _shipping_warehouse(ctx: ToolContext, order: Order, country: str) -> int:
    """The warehouse the parcel leaves from, with the order's stock reserved there."""
    from tools import inventory

    lines = ctx.session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    if not lines:
        raise Conflict(f"order {order.id} has no lines to ship", field="order_id")
    active = ctx.session.exec(
        select(StockReservation).where(
            StockReservation.order_id == order.id,
            StockReservation.status == ReservationStatus.ACTIVE,
        )
    ).all()
    places = {r.warehouse_id for r in active}
    if len(places) > 1:
        raise Conflict(
            f"order {order.id}'s stock is reserved in {len(places)} warehouses; transfer it to "
            "one warehouse first (one shipment carries the whole order)",
            field="order_id",
        )
    warehouse_id = next(iter(places), None) or order.warehouse_id
    if warehouse_id is None:
        wanted = [(line.variant_id, line.quantity) for line in lines]
        warehouse_id = inventory.choose_warehouse(ctx.session, lines=wanted, country=country)
        if warehouse_id is None:
            raise Conflict(
                f"no warehouse can serve every line of order {order.id}", field="order_id"
            )
    reserved: dict[int, int] = {}
    for reservation in active:
        reserved[reservation.variant_id] = (
            reserved.get(reservation.variant_id, 0) + reservation.quantity
        )
    needed: dict[int, int] = {}
    for line in lines:
        needed[line.variant_id] = needed.get(line.variant_id, 0) + line.quantity
    for variant_id, quantity in needed.items():
        missing = quantity - reserved.get(variant_id, 0)
        if missing > 0:
            inventory.reserve_for_order(
                ctx,
                order_id=order.id,  # type: ignore[arg-type]
                variant_id=variant_id,
                warehouse_id=warehouse_id,
                quantity=missing,
                expires_at=None,
            )
    return warehouse_id


@tool(agent="transport", path="/transport/shipments", writes=True)
def create_shipment(
    ctx: ToolContext,
    order_id: Annotated[int, Field(ge=1, description="The paid or processing order to ship.")],
    carrier_id: Annotated[
        int | None, Field(ge=1, description="Carrier to use; default: the best scored one.")
    ] = None,
    weight_grams: Annotated[
        int | None,
        Field(gt=0, le=1_000_000, description="Weight on the scale; default: from the lines."),
    ] = None,
) -> ShipmentCreated:
    """Ship an order that is paid or processing: books the label with the carrier (the given
    one, else the best on price and on-time rate), which gives the tracking number; the cost
    comes from the rate card. The order moves to processing then shipped and its reserved
    stock leaves the warehouse. Labels are printed with generate_shipping_label."""
    from tools import inventory
    from tools.orders import lock_order, transition

    order = lock_order(ctx.session, order_id)
    _refuse_unshippable(ctx.session, order)
    address = ctx.session.get(Address, order.shipping_address_id)
    customer = ctx.session.get(Customer, order.customer_id)
    assert address is not None and customer is not None  # foreign keys
    expected = order_weight(ctx.session, order_id)
    if weight_grams is not None and abs(weight_grams - expected) > expected * WEIGHT_TOLERANCE:
        raise Conflict(
            f"the parcel weighs {weight_grams} g but order {order_id}'s lines and packaging "
            f"weigh {expected} g, more than 10% apart; check the parcel's content",
            field="weight_grams",
        )
    weight = weight_grams or expected
    service = ShippingService(order.shipping_service)
    zone = zone_of(address.country)
    ranking, _ = rank_carriers(ctx.session, address.country, weight, service)
    if carrier_id is None:
        chosen = ranking[0]
        why = explain(ranking, service, zone)
    else:
        carrier = get_or_404(ctx.session, Carrier, carrier_id)
        picked = [s for s in ranking if s.carrier_id == carrier_id]
        if not picked:
            state = "is out of service" if not carrier.is_active else "has no rate for it"
            raise Conflict(
                f"{carrier.name} {state}: order {order_id} needs {service.value} to {zone.value} "
                f"for {weight} g; carriers that can: " + ", ".join(s.carrier_name for s in ranking),
                field="carrier_id",
            )
        chosen = picked[0]
        why = f"{chosen.carrier_name} chosen by {ctx.actor.email}; the best score was " + (
            f"{ranking[0].carrier_name}'s" if ranking[0] is not chosen else "this carrier's"
        )
    carrier = get_or_404(ctx.session, Carrier, chosen.carrier_id)
    rate = get_or_404(ctx.session, CarrierRate, chosen.rate_id)
    warehouse_id = _shipping_warehouse(ctx, order, address.country)
    warehouse = ctx.session.get(Warehouse, warehouse_id)
    assert warehouse is not None

    api = carrier_api(carrier.code)
    previous = ctx.session.exec(
        select(func.count()).select_from(Shipment).where(Shipment.order_id == order_id)
    ).one()
    for attempt in range(previous, previous + 5):
        label = api.create_label(
            LabelRequest(
                carrier_code=carrier.code,
                carrier_name=carrier.name,
                service=service.value,
                max_weight_grams=carrier.max_weight_grams,
                weight_grams=weight,
                sender=PostalAddress(
                    name=f"Maison Lumen - {warehouse.name}",
                    line1=warehouse.address_line,
                    postcode=warehouse.postcode,
                    city=warehouse.city,
                    country=warehouse.country,
                ),
                recipient=PostalAddress(
                    name=address.full_name,
                    line1=address.line1,
                    line2=address.line2,
                    postcode=address.postcode,
                    city=address.city,
                    country=address.country,
                    phone=customer.phone,
                ),
                reference=f"order:{order_id}",
                attempt=attempt,
            )
        )
        taken = ctx.session.exec(
            select(Shipment.id).where(Shipment.tracking_number == label.tracking_number)
        ).first()
        if taken is None:
            break
    else:  # pragma: no cover - five collisions in a 10^10 space
        raise Conflict("the carrier returned tracking numbers already in use; try again")

    if order.status == OrderStatus.PAID:
        transition(ctx, order, OrderStatus.PROCESSING, f"packed at {warehouse.code}")
    inventory.ship_order_stock(ctx, order_id=order_id)
    now = utc_now()
    shipment = Shipment(
        order_id=order_id,
        carrier_id=carrier.id,  # type: ignore[arg-type]
        warehouse_id=warehouse_id,
        service=service,
        tracking_number=label.tracking_number,
        status=ShipmentStatus.LABEL_CREATED,
        weight_grams=weight,
        cost_cents=rate.price_cents,
        estimated_delivery=add_working_days(now.date(), rate.transit_days),
        created_at=now,
        shipped_at=now,
    )
    ctx.session.add(shipment)
    ctx.session.flush()
    ctx.session.add(
        TrackingEvent(
            shipment_id=shipment.id,  # type: ignore[arg-type]
            status=ShipmentStatus.LABEL_CREATED,
            location=warehouse.city,
            description="Label created, parcel waiting for pick-up",
            occurred_at=now,
        )
    )
    if order.warehouse_id is None:
        order.warehouse_id = warehouse_id
    transition(ctx, order, OrderStatus.SHIPPED, f"{carrier.name} {label.tracking_number}"[:200])
    out = _out(ctx.session, shipment)
    ctx.record(
        action="create_shipment",
        entity_type="shipment",
        entity_id=shipment.id,
        event="shipment_created",
        domain="transport",
        after=out.model_dump(mode="json") | {"carrier_choice": why},
    )
    return ShipmentCreated(
        **out.model_dump(),
        order_status=OrderStatus(order.status),
        carrier_choice=why,
        provider=label.provider,
        sandbox=label.sandbox,
        message=label.message,
    )
