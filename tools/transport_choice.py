"""Tools of the transport agent, continued: rate quotes and the choice of a carrier."""

from datetime import date, timedelta
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from db.base import utc_now
from db.models import (
    Address,
    Carrier,
    CarrierRate,
    Order,
    OrderStatus,
    Shipment,
    ShippingService,
    ShippingZone,
)
from tools.base import Conflict, InvalidInput, ToolContext, tool
from tools.carrier_sandbox import add_working_days
from tools.common import day_of, euros, get_or_404
from tools.transport import OrderId, order_weight, setting, zone_countries, zone_of

PRICE_WEIGHT = 0.5  # default share of price against on-time rate in the score
ON_TIME_WINDOW_DAYS = 90
ON_TIME_MIN_SAMPLE = 20
# The most recent deliveries to a zone the on-time rates are measured on: a 90-day window
# holds ~300,000 of them at a million orders a year, far more than a rate needs.
ON_TIME_SAMPLE = 3000


class Quote(BaseModel):
    carrier_id: int
    carrier_code: str
    carrier_name: str
    service: ShippingService
    price_cents: int
    price: str
    transit_days: int
    estimated_delivery: date = Field(description="If handed over today (Sundays excluded).")
    bracket_max_weight_grams: int = Field(description="The rate card line that applies.")
    rate_id: int


class QuoteResult(BaseModel):
    order_id: int | None
    country: str
    zone: ShippingZone
    weight_grams: int
    quotes: list[Quote] = Field(description="Cheapest first.")
    unavailable: list[str] = Field(description="Active carriers that cannot take this parcel.")


def quotes_for(
    session: Session, country: str, weight: int, services: list[ShippingService]
) -> tuple[list[Quote], list[str]]:
    """Every active carrier's price for the parcel, and why the others cannot take it."""
    zone = zone_of(country)
    today = utc_now().date()
    quotes: list[Quote] = []
    unavailable: list[str] = []
    active = select(Carrier).where(Carrier.is_active).order_by(Carrier.id)  # type: ignore[arg-type]
    carriers = session.exec(active).all()
    for carrier in carriers:
        if weight > carrier.max_weight_grams:
            unavailable.append(
                f"{carrier.name}: {weight} g is over its {carrier.max_weight_grams} g limit"
            )
            continue
        found = False
        for service in services:
            rate = session.exec(
                select(CarrierRate)
                .where(
                    CarrierRate.carrier_id == carrier.id,
                    CarrierRate.zone == zone,
                    CarrierRate.service == service,
                    CarrierRate.max_weight_grams >= weight,
                )
                .order_by(CarrierRate.max_weight_grams)  # type: ignore[arg-type]
            ).first()
            if rate is None:
                continue
            found = True
            quotes.append(
                Quote(
                    carrier_id=carrier.id,  # type: ignore[arg-type]
                    carrier_code=carrier.code,
                    carrier_name=carrier.name,
                    service=service,
                    price_cents=rate.price_cents,
                    price=euros(rate.price_cents),
                    transit_days=rate.transit_days,
                    estimated_delivery=add_working_days(today, rate.transit_days),
                    bracket_max_weight_grams=rate.max_weight_grams,
                    rate_id=rate.id,  # type: ignore[arg-type]
                )
            )
        if not found:
            wanted = " or ".join(s.value for s in services)
            unavailable.append(f"{carrier.name}: no {wanted} rate to {zone.value} up to {weight} g")
    quotes.sort(key=lambda q: (q.price_cents, q.transit_days, q.carrier_id))
    return quotes, unavailable


def _order_and_country(session: Session, order_id: int) -> tuple[Order, str]:
    order = get_or_404(session, Order, order_id)
    address = session.get(Address, order.shipping_address_id)
    assert address is not None  # a foreign key
    return order, address.country


@tool(agent="transport", path="/transport/quotes")
def quote_rates(
    ctx: ToolContext,
    order_id: Annotated[
        int | None, Field(ge=1, description="Quote this order's parcel (weight and address).")
    ] = None,
    weight_grams: Annotated[
        int | None, Field(gt=0, le=1_000_000, description="Parcel weight, without an order.")
    ] = None,
    country: Annotated[
        str | None, Field(pattern=r"^[A-Z]{2}$", description="Destination, without an order.")
    ] = None,
    service: Annotated[
        ShippingService | None,
        Field(description="standard or express; default: the order's service, or both."),
    ] = None,
) -> QuoteResult:
    """Quote every carrier's price and transit days from the rate cards, for an order (its
    weight, destination and service) or for a weight and destination country."""
    if order_id is not None:
        if weight_grams is not None or country is not None:
            raise InvalidInput(
                "give either order_id, or weight_grams and country, not both", field="order_id"
            )
        order, country = _order_and_country(ctx.session, order_id)
        weight = order_weight(ctx.session, order_id)
        services = [service or ShippingService(order.shipping_service)]
    else:
        if weight_grams is None:
            raise InvalidInput("give order_id, or weight_grams and country", field="weight_grams")
        if country is None:
            raise InvalidInput("give the destination country with the weight", field="country")
        weight = weight_grams
        services = [service] if service else list(ShippingService)
    quotes, unavailable = quotes_for(ctx.session, country, weight, services)
    return QuoteResult(
        order_id=order_id,
        country=country,
        zone=zone_of(country),
        weight_grams=weight,
        quotes=quotes,
        unavailable=unavailable,
    )


class CarrierScore(BaseModel):
    carrier_id: int
    carrier_code: str
    carrier_name: str
    price_cents: int
    transit_days: int
    on_time_rate: float = Field(description="0 to 1.")
    on_time_source: str
    price_score: float = Field(description="Cheapest price / this price, 0 to 1.")
    score: float = Field(description="price_weight * price_score + (1 - price_weight) * on-time.")
    rate_id: int


class CarrierChoice(BaseModel):
    order_id: int
    country: str
    zone: ShippingZone
    service: ShippingService
    weight_grams: int
    price_weight: float = Field(description="Weight of price against on-time rate in the score.")
    chosen: CarrierScore
    ranking: list[CarrierScore] = Field(description="Best first.")
    margin: float | None = Field(description="Score points ahead of the runner-up.")
    explanation: str


def measured_on_time(session: Session, zone: ShippingZone) -> dict[int, tuple[int, int]]:
    """Per carrier, (delivered on time, delivered) among the last ON_TIME_SAMPLE deliveries
    to this zone within ON_TIME_WINDOW_DAYS days."""
    countries, outside = zone_countries(zone)
    in_zone = Address.country.in_(sorted(countries))  # type: ignore[attr-defined]
    since = utc_now() - timedelta(days=ON_TIME_WINDOW_DAYS)
    on_time = day_of(session, col(Shipment.delivered_at)) <= col(Shipment.estimated_delivery)
    recent = (
        sa.select(col(Shipment.carrier_id).label("carrier_id"), on_time.label("on_time"))
        .join(Order, col(Order.id) == Shipment.order_id)
        .join(Address, col(Address.id) == Order.shipping_address_id)
        .where(
            col(Shipment.delivered_at) >= since,
            col(Shipment.estimated_delivery).is_not(None),
            sa.not_(in_zone) if outside else in_zone,
        )
        .order_by(col(Shipment.delivered_at).desc())
        .limit(ON_TIME_SAMPLE)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            recent.c.carrier_id, func.count().filter(recent.c.on_time), func.count()
        ).group_by(recent.c.carrier_id)
    ).all()
    return {carrier_id: (int(on), int(total)) for carrier_id, on, total in rows}


def rank_carriers(
    session: Session, country: str, weight: int, service: ShippingService
) -> tuple[list[CarrierScore], float]:
    """Eligible carriers scored on price and on-time rate, best first."""
    quotes, _ = quotes_for(session, country, weight, [service])
    if not quotes:
        raise Conflict(
            f"no active carrier has a {service.value} rate to {zone_of(country).value} for "
            f"{weight} g; add a rate (add_rate) or split the parcel"
        )
    price_weight = float(setting(session, "transport.score_price_weight", PRICE_WEIGHT))
    price_weight = min(1.0, max(0.0, price_weight))
    measured = measured_on_time(session, zone_of(country))
    cheapest = min(q.price_cents for q in quotes) or 1
    declared = {
        c.id: c.on_time_rate_bp
        for c in session.exec(select(Carrier).where(Carrier.is_active)).all()
    }
    scores = []
    for quote in quotes:
        on_time, delivered = measured.get(quote.carrier_id, (0, 0))
        if delivered >= ON_TIME_MIN_SAMPLE:
            rate = on_time / delivered
            source = (
                f"measured: {on_time} of {delivered} parcels on time to {zone_of(country).value} "
                f"(its share of the last {ON_TIME_SAMPLE:,} deliveries there, within "
                f"{ON_TIME_WINDOW_DAYS} days)"
            )
        else:
            rate = declared[quote.carrier_id] / 10_000
            source = f"declared on the carrier ({delivered} recent deliveries to measure)"
        price_score = min(1.0, cheapest / quote.price_cents) if quote.price_cents else 1.0
        scores.append(
            CarrierScore(
                carrier_id=quote.carrier_id,
                carrier_code=quote.carrier_code,
                carrier_name=quote.carrier_name,
                price_cents=quote.price_cents,
                transit_days=quote.transit_days,
                on_time_rate=round(rate, 4),
                on_time_source=source,
                price_score=round(price_score, 4),
                score=round(price_weight * price_score + (1 - price_weight) * rate, 4),
                rate_id=quote.rate_id,
            )
        )
    scores.sort(key=lambda s: (-s.score, s.price_cents, s.carrier_id))
    return scores, price_weight


def explain(ranking: list[CarrierScore], service: ShippingService, zone: ShippingZone) -> str:
    best = ranking[0]
    if len(ranking) == 1:
        return (
            f"{best.carrier_name} is the only carrier with a {service.value} rate to "
            f"{zone.value} for this parcel: {euros(best.price_cents)}, {best.transit_days} days."
        )
    second = ranking[1]
    gap = best.price_cents - second.price_cents
    price = (
        f"{euros(-gap)} cheaper"
        if gap < 0
        else f"{euros(gap)} dearer"
        if gap > 0
        else "the same price"
    )
    return (
        f"{best.carrier_name} wins with a score of {best.score:.3f} against "
        f"{second.carrier_name}'s {second.score:.3f} (ahead by {best.score - second.score:.3f}): "
        f"{price} ({euros(best.price_cents)} vs {euros(second.price_cents)}) and on time "
        f"{best.on_time_rate:.1%} vs {second.on_time_rate:.1%}."
    ).replace("\u202f", " ")


@tool(agent="transport", path="/transport/orders/{order_id}/carrier-choice")
def select_carrier(ctx: ToolContext, order_id: OrderId) -> CarrierChoice:
    """Choose the carrier for an order's parcel: every active carrier with a rate for its
    destination, service and weight, scored on price and on-time rate (measured on the last
    3,000 deliveries to that zone within 90 days), with why the winner won and by how much."""
    order, country = _order_and_country(ctx.session, order_id)
    status = OrderStatus(order.status)
    if status not in (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING):
        raise Conflict(
            f"order {order_id} is {status.value}; a carrier is chosen only for orders still "
            "to ship (pending, paid or processing)",
            field="order_id",
        )
    service = ShippingService(order.shipping_service)
    weight = order_weight(ctx.session, order_id)
    ranking, price_weight = rank_carriers(ctx.session, country, weight, service)
    zone = zone_of(country)
    return CarrierChoice(
        order_id=order_id,
        country=country,
        zone=zone,
        service=service,
        weight_grams=weight,
        price_weight=price_weight,
        chosen=ranking[0],
        ranking=ranking,
        margin=round(ranking[0].score - ranking[1].score, 4) if len(ranking) > 1 else None,
        explanation=explain(ranking, service, zone),
    )
