"""Tools of the transport agent, continued: tracking parcels and confirming delivery."""

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field
from sqlmodel import Session, func, select

from db.base import as_utc, utc_now
from db.models import (
    Address,
    Carrier,
    CarrierRate,
    Order,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
    Warehouse,
)
from tools.base import Conflict, InvalidInput, ToolContext, tool
from tools.carrier_sandbox import Parcel, carrier_api
from tools.common import get_or_404
from tools.transport import zone_of
from tools.transport_shipments import ShipmentDetail, ShipmentId, shipment_detail

FINAL = (ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER)


class TrackingResult(ShipmentDetail):
    new_events: int = Field(description="Scans received from the carrier on this call.")
    order_status: OrderStatus
    provider: str
    sandbox: bool
    message: str


def _transit_days(session: Session, shipment: Shipment, country: str) -> int:
    rate = session.exec(
        select(CarrierRate)
        .where(
            CarrierRate.carrier_id == shipment.carrier_id,
            CarrierRate.zone == zone_of(country),
            CarrierRate.service == shipment.service,
            CarrierRate.max_weight_grams >= shipment.weight_grams,
        )
        .order_by(CarrierRate.max_weight_grams)  # type: ignore[arg-type]
    ).first()
    if rate is not None:
        return rate.transit_days
    if shipment.estimated_delivery and shipment.shipped_at:
        return max(1, (shipment.estimated_delivery - as_utc(shipment.shipped_at).date()).days)
    return 3


def _deliver(ctx: ToolContext, shipment: Shipment, at: datetime, how: str) -> OrderStatus:
    """Mark the shipment delivered and, when it was the order's last parcel, the order."""
    from tools.orders import lock_order, transition

    shipment.status = ShipmentStatus.DELIVERED
    shipment.delivered_at = at
    ctx.session.add(shipment)
    order = lock_order(ctx.session, shipment.order_id)
    others = ctx.session.exec(
        select(func.count())
        .select_from(Shipment)
        .where(
            Shipment.order_id == order.id,
            Shipment.id != shipment.id,
            Shipment.status != ShipmentStatus.DELIVERED,
        )
    ).one()
    if order.status == OrderStatus.SHIPPED and not others:
        transition(ctx, order, OrderStatus.DELIVERED, how)
        order.delivered_at = at  # the scan's time, from which the return window runs
    ctx.record(
        action="deliver_shipment",
        entity_type="shipment",
        entity_id=shipment.id,
        event="shipment_delivered",
        domain="transport",
        payload={
            "shipment_id": shipment.id,
            "order_id": order.id,
            "tracking_number": shipment.tracking_number,
            "delivered_at": as_utc(at).isoformat(),
            "how": how,
        },
        after={"status": "delivered", "delivered_at": as_utc(at).isoformat()},
    )
    return OrderStatus(order.status)


@tool(agent="transport", path="/transport/shipments/{shipment_id}/track", writes=True)
def track_shipment(ctx: ToolContext, shipment_id: ShipmentId) -> TrackingResult:
    """Fetch a shipment's tracking from its carrier and store the new scans: in transit,
    out for delivery, exceptions (delay, failed attempt, address problem), delivered. A
    delivered scan marks the shipment delivered, and the order when it was its last parcel."""
    shipment = get_or_404(ctx.session, Shipment, shipment_id, lock=True)
    order = ctx.session.get(Order, shipment.order_id)
    assert order is not None
    carrier = ctx.session.get(Carrier, shipment.carrier_id)
    warehouse = ctx.session.get(Warehouse, shipment.warehouse_id)
    address = ctx.session.get(Address, order.shipping_address_id)
    assert carrier is not None and warehouse is not None and address is not None
    if shipment.status in FINAL:
        return TrackingResult(
            **shipment_detail(ctx.session, shipment).model_dump(),
            new_events=0,
            order_status=OrderStatus(order.status),
            provider="comptoir",
            sandbox=False,
            message=f"shipment {shipment_id} is {shipment.status}: its tracking is closed",
        )
    report = carrier_api(carrier.code).fetch_tracking(
        Parcel(
            tracking_number=shipment.tracking_number,
            carrier_code=carrier.code,
            service=shipment.service,
            transit_days=_transit_days(ctx.session, shipment, address.country),
            shipped_at=as_utc(shipment.shipped_at or shipment.created_at),
            origin_city=warehouse.city,
            destination_city=address.city,
            destination_country=address.country,
        ),
        utc_now(),
    )
    stored = ctx.session.exec(
        select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
    ).all()
    seen = {(e.status, e.description) for e in stored}
    last = max((as_utc(e.occurred_at) for e in stored), default=None)
    fresh = [
        scan
        for scan in report.scans
        if (scan.status, scan.description) not in seen
        and (last is None or scan.occurred_at >= last)
    ]
    for scan in fresh:
        ctx.session.add(
            TrackingEvent(
                shipment_id=shipment_id,
                status=ShipmentStatus(scan.status),
                location=scan.location,
                description=scan.description[:200],
                occurred_at=scan.occurred_at,
            )
        )
    order_status = OrderStatus(order.status)
    if fresh:
        latest = fresh[-1]
        delivered = latest.status == ShipmentStatus.DELIVERED
        if not delivered:
            shipment.status = ShipmentStatus(latest.status)
            ctx.session.add(shipment)
        ctx.record(
            action="track_shipment",
            entity_type="shipment",
            entity_id=shipment_id,
            event="shipment_tracking_updated",
            domain="transport",
            payload={
                "shipment_id": shipment_id,
                "order_id": order.id,
                "tracking_number": shipment.tracking_number,
                "status": latest.status,
                "new_events": [
                    {
                        "status": s.status,
                        "description": s.description,
                        "occurred_at": s.occurred_at.isoformat(),
                    }
                    for s in fresh
                ],
            },
            after={"status": latest.status},
        )
        if delivered:
            order_status = _deliver(ctx, shipment, latest.occurred_at, "delivered scan")
    ctx.session.flush()
    return TrackingResult(
        **shipment_detail(ctx.session, shipment).model_dump(),
        new_events=len(fresh),
        order_status=order_status,
        provider=report.provider,
        sandbox=report.sandbox,
        message=report.message,
    )


@tool(agent="transport", path="/transport/shipments/{shipment_id}/delivered", writes=True)
def mark_delivered(
    ctx: ToolContext,
    shipment_id: ShipmentId,
    delivered_at: Annotated[
        datetime | None, Field(description="When it was delivered (UTC); default: now.")
    ] = None,
    note: Annotated[
        str | None, Field(max_length=120, description="How it was confirmed, e.g. signed POD.")
    ] = None,
) -> ShipmentDetail:
    """Mark a shipment delivered by hand, when the carrier's scan is missing but delivery is
    confirmed (proof of delivery, customer's word). The order becomes delivered when it was
    its last parcel."""
    shipment = get_or_404(ctx.session, Shipment, shipment_id, lock=True)
    if shipment.status in FINAL:
        raise Conflict(f"shipment {shipment_id} is already {shipment.status}", field="shipment_id")
    now = utc_now()
    at = as_utc(delivered_at) if delivered_at else now
    left = as_utc(shipment.shipped_at or shipment.created_at)
    if at < left:
        raise InvalidInput(
            f"delivered_at {at:%Y-%m-%d %H:%M} is before the parcel left ({left:%Y-%m-%d %H:%M})",
            field="delivered_at",
        )
    if at > now + timedelta(minutes=5):
        raise InvalidInput("delivered_at is in the future", field="delivered_at")
    how = f"confirmed by {ctx.actor.email}" + (f": {note}" if note else "")
    ctx.session.add(
        TrackingEvent(
            shipment_id=shipment_id,
            status=ShipmentStatus.DELIVERED,
            location=None,
            description=f"Delivered ({how})"[:200],
            occurred_at=at,
        )
    )
    _deliver(ctx, shipment, at, f"marked delivered, {how}"[:200])
    ctx.session.flush()
    return shipment_detail(ctx.session, shipment)
