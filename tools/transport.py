"""Tools of the transport agent: carriers and their rate cards, and the shared helpers.

The agent's other tools live beside this module, imported at its end so that they register
with it: quotes and carrier choice (transport_choice), shipments (transport_shipments),
tracking and delivery (transport_tracking).
"""

from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from db.models import (
    Carrier,
    CarrierRate,
    OrderLine,
    ProductVariant,
    Shipment,
    ShippingService,
    ShippingZone,
)
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, euros, get_or_404, paginate, setting

CarrierId = Annotated[int, Field(ge=1, description="Id of the carrier.")]
RateId = Annotated[int, Field(ge=1, description="Id of the rate card line.")]
OrderId = Annotated[int, Field(ge=1, description="Id of the order.")]
OnTime = Annotated[
    int, Field(ge=0, le=10_000, description="Share of parcels delivered on time, in basis points.")
]
TrackingUrl = Annotated[
    str,
    Field(
        max_length=200,
        pattern=r"^https://\S+\{tracking\}\S*$",
        description="https URL of the carrier's tracking page, {tracking} where the number goes.",
    ),
]

EU = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})  # fmt: skip
EUROPE_OTHER = frozenset({
    "AD", "AL", "BA", "CH", "FO", "GB", "GI", "IS", "LI", "ME", "MK", "NO", "RS", "SM", "UA",
    "VA", "XK",
})  # fmt: skip
FRANCE = frozenset({"FR", "MC"})  # Monaco is served as France by French carriers
# Overseas France ships as export (outside the EU VAT area): WORLD.
PACKAGING_GRAMS = (
    150  # box and filling, added to the lines' weight (setting transport.packaging_grams)
)


def zone_of(country: str) -> ShippingZone:
    """The rate card zone of a destination country."""
    if country in FRANCE:
        return ShippingZone.FRANCE
    if country in EU:
        return ShippingZone.EU
    if country in EUROPE_OTHER:
        return ShippingZone.EUROPE_OTHER
    return ShippingZone.WORLD


def zone_countries(zone: ShippingZone) -> tuple[frozenset[str], bool]:
    """The countries of a zone, and whether the zone is every country *not* in the set."""
    if zone == ShippingZone.WORLD:
        return FRANCE | EU | EUROPE_OTHER, True
    return {"FR": FRANCE, "EU": EU, "EUROPE": EUROPE_OTHER}[zone.value], False


def order_weight(session: Session, order_id: int) -> int:
    """Weight of an order's parcel: its lines' products plus the packaging."""
    grams = session.exec(
        select(func.coalesce(func.sum(OrderLine.quantity * ProductVariant.weight_grams), 0))
        .join(ProductVariant, ProductVariant.id == OrderLine.variant_id)  # type: ignore[arg-type]
        .where(OrderLine.order_id == order_id)
    ).one()
    return int(grams) + int(setting(session, "transport.packaging_grams", PACKAGING_GRAMS))


def tracking_url(carrier: Carrier, number: str) -> str:
    return carrier.tracking_url_template.replace("{tracking}", number)


# -- carriers ----------------------------------------------------------------------------


class CarrierOut(BaseModel):
    id: int
    code: str
    name: str
    on_time_rate_bp: int
    max_weight_grams: int
    tracking_url_template: str
    is_active: bool
    rate_lines: int = Field(description="Lines on its rate card.")


def _carrier_out(session: Session, carrier: Carrier) -> CarrierOut:
    lines = session.exec(
        select(func.count()).select_from(CarrierRate).where(CarrierRate.carrier_id == carrier.id)
    ).one()
    return CarrierOut.model_validate({**carrier.model_dump(), "rate_lines": lines})


@tool(agent="transport", path="/transport/carriers")
def list_carriers(
    ctx: ToolContext,
    active_only: Annotated[bool, Field(description="Only carriers in service.")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CarrierOut]:
    """List the carriers (Colissimo, Chronopost, DPD, Colis Privé, UPS, FedEx...) with their
    declared on-time rate, weight limit and the size of their rate card."""
    statement = select(Carrier)
    if active_only:
        statement = statement.where(Carrier.is_active)
    rows, next_cursor = paginate(
        ctx.session, statement, Carrier.id, limit, cursor, descending=False
    )
    return Page(items=[_carrier_out(ctx.session, c) for c in rows], next_cursor=next_cursor)


@tool(agent="transport", path="/transport/carriers/{carrier_id}")
def get_carrier(ctx: ToolContext, carrier_id: CarrierId) -> CarrierOut:
    """Get one carrier by id."""
    return _carrier_out(ctx.session, get_or_404(ctx.session, Carrier, carrier_id))


@tool(agent="transport", path="/transport/carriers", writes=True, roles=MANAGERS)
def create_carrier(
    ctx: ToolContext,
    code: Annotated[
        str,
        Field(
            pattern=r"^[a-z][a-z0-9_]{1,29}$", description="Short code, e.g. gls or mondial_relay."
        ),
    ],
    name: Annotated[str, Field(min_length=2, max_length=80, description="Display name.")],
    on_time_rate_bp: OnTime,
    max_weight_grams: Annotated[
        int, Field(gt=0, le=1_000_000, description="Heaviest parcel it accepts, in grams.")
    ],
    tracking_url_template: TrackingUrl,
) -> CarrierOut:
    """Add a carrier. Give it a rate card next (add_rate) so it can be quoted and chosen."""
    if ctx.session.exec(select(Carrier).where(Carrier.code == code)).first():
        raise Conflict(f"a carrier with code {code} already exists", field="code")
    carrier = Carrier(
        code=code,
        name=name,
        on_time_rate_bp=on_time_rate_bp,
        max_weight_grams=max_weight_grams,
        tracking_url_template=tracking_url_template,
    )
    ctx.session.add(carrier)
    ctx.session.flush()
    out = _carrier_out(ctx.session, carrier)
    ctx.record(
        action="create_carrier",
        entity_type="carrier",
        entity_id=carrier.id,
        event="carrier_created",
        domain="transport",
        after=out.model_dump(),
    )
    return out


@tool(
    agent="transport",
    path="/transport/carriers/{carrier_id}",
    method="PATCH",
    writes=True,
    roles=MANAGERS,
)
def update_carrier(
    ctx: ToolContext,
    carrier_id: CarrierId,
    name: Annotated[str | None, Field(min_length=2, max_length=80, description="New name.")] = None,
    on_time_rate_bp: Annotated[
        int | None, Field(ge=0, le=10_000, description="New declared on-time rate, in bp.")
    ] = None,
    max_weight_grams: Annotated[
        int | None, Field(gt=0, le=1_000_000, description="New weight limit, in grams.")
    ] = None,
    tracking_url_template: Annotated[
        str | None,
        Field(max_length=200, pattern=r"^https://\S+\{tracking\}\S*$", description="New URL."),
    ] = None,
    is_active: Annotated[bool | None, Field(description="Put in or out of service.")] = None,
) -> CarrierOut:
    """Rename a carrier, change its declared on-time rate, weight limit or tracking URL, or
    take it in or out of service (an inactive carrier is never quoted nor chosen)."""
    carrier = get_or_404(ctx.session, Carrier, carrier_id, lock=True)
    changes = {
        key: value
        for key, value in (
            ("name", name),
            ("on_time_rate_bp", on_time_rate_bp),
            ("max_weight_grams", max_weight_grams),
            ("tracking_url_template", tracking_url_template),
            ("is_active", is_active),
        )
        if value is not None
    }
    if not changes:
        raise InvalidInput("give at least one field to change")
    if max_weight_grams is not None:
        heaviest = ctx.session.exec(
            select(func.max(CarrierRate.max_weight_grams)).where(
                CarrierRate.carrier_id == carrier_id
            )
        ).one()
        if heaviest and heaviest > max_weight_grams:
            raise Conflict(
                f"{carrier.name}'s rate card has lines up to {heaviest} g; delete them "
                f"(delete_rate) before lowering its limit to {max_weight_grams} g",
                field="max_weight_grams",
            )
    before = _carrier_out(ctx.session, carrier).model_dump()
    for key, value in changes.items():
        setattr(carrier, key, value)
    ctx.session.add(carrier)
    out = _carrier_out(ctx.session, carrier)
    ctx.record(
        action="update_carrier",
        entity_type="carrier",
        entity_id=carrier_id,
        event="carrier_updated",
        domain="transport",
        before=before,
        after=out.model_dump(),
    )
    return out


@tool(
    agent="transport",
    path="/transport/carriers/{carrier_id}",
    method="DELETE",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def delete_carrier(ctx: ToolContext, carrier_id: CarrierId) -> CarrierOut:
    """Delete a carrier that never shipped a parcel, with its rate card. A carrier with
    shipments keeps its history: take it out of service instead (update_carrier)."""
    carrier = get_or_404(ctx.session, Carrier, carrier_id, lock=True)
    shipments = ctx.session.exec(
        select(func.count()).select_from(Shipment).where(Shipment.carrier_id == carrier_id)
    ).one()
    if shipments:
        raise Conflict(
            f"{carrier.name} carried {shipments} shipments; take it out of service "
            "(update_carrier with is_active false) instead of deleting it"
        )
    before = _carrier_out(ctx.session, carrier)
    ctx.session.exec(sa.delete(CarrierRate).where(CarrierRate.carrier_id == carrier_id))  # type: ignore[call-overload, arg-type]
    ctx.session.delete(carrier)
    ctx.record(
        action="delete_carrier",
        entity_type="carrier",
        entity_id=carrier_id,
        event="carrier_deleted",
        domain="transport",
        before=before.model_dump(),
    )
    return before


# -- rate cards --------------------------------------------------------------------------


class RateOut(BaseModel):
    id: int
    carrier_id: int
    zone: ShippingZone
    service: ShippingService
    max_weight_grams: int
    price_cents: int
    price: str
    transit_days: int


def _rate_out(rate: CarrierRate) -> RateOut:
    return RateOut.model_validate({**rate.model_dump(), "price": euros(rate.price_cents)})


def _check_price_order(
    session: Session, carrier_id: int, zone: str, service: str, grams: int, price: int, skip: int
) -> None:
    """Heavier parcels never cost less on one rate card: refuse a line that breaks that."""
    card = session.exec(
        select(CarrierRate).where(
            CarrierRate.carrier_id == carrier_id,
            CarrierRate.zone == zone,
            CarrierRate.service == service,
            CarrierRate.id != skip,
        )
    ).all()
    for line in card:
        lighter = line.max_weight_grams < grams and line.price_cents > price
        heavier = line.max_weight_grams > grams and line.price_cents < price
        if lighter or heavier:
            raise Conflict(
                f"the {zone} {service} line up to {line.max_weight_grams} g costs "
                f"{euros(line.price_cents)}; a line up to {grams} g cannot cost {euros(price)} "
                "(prices rise with weight on a rate card)",
                field="price_cents",
            )


@tool(agent="transport", path="/transport/rates")
def list_rates(
    ctx: ToolContext,
    carrier_id: Annotated[int | None, Field(ge=1, description="Only this carrier.")] = None,
    zone: Annotated[ShippingZone | None, Field(description="Only this zone.")] = None,
    service: Annotated[ShippingService | None, Field(description="Only this service.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[RateOut]:
    """List rate card lines: the price and transit days of each carrier for parcels up to a
    weight, per zone (FR, EU, EUROPE outside the EU, WORLD) and service (standard, express)."""
    statement = select(CarrierRate)
    if carrier_id is not None:
        get_or_404(ctx.session, Carrier, carrier_id)
        statement = statement.where(CarrierRate.carrier_id == carrier_id)
    if zone is not None:
        statement = statement.where(CarrierRate.zone == zone)
    if service is not None:
        statement = statement.where(CarrierRate.service == service)
    rows, next_cursor = paginate(
        ctx.session, statement, CarrierRate.id, limit, cursor, descending=False
    )
    return Page(items=[_rate_out(r) for r in rows], next_cursor=next_cursor)


@tool(agent="transport", path="/transport/carriers/{carrier_id}/rates", writes=True, roles=MANAGERS)
def add_rate(
    ctx: ToolContext,
    carrier_id: CarrierId,
    zone: Annotated[ShippingZone, Field(description="FR, EU, EUROPE (outside the EU) or WORLD.")],
    service: Annotated[ShippingService, Field(description="standard or express.")],
    max_weight_grams: Annotated[
        int, Field(gt=0, le=1_000_000, description="The line covers parcels up to this weight.")
    ],
    price_cents: Annotated[int, Field(ge=0, le=10_000_000, description="Price excl. VAT, cents.")],
    transit_days: Annotated[int, Field(ge=1, le=60, description="Delivery days after pick-up.")],
) -> RateOut:
    """Add a line to a carrier's rate card: its price and transit days for parcels up to a
    weight, to a zone, at a service. Change an existing line with update_rate."""
    carrier = get_or_404(ctx.session, Carrier, carrier_id, lock=True)
    if max_weight_grams > carrier.max_weight_grams:
        raise InvalidInput(
            f"{carrier.name} takes parcels up to {carrier.max_weight_grams} g; a line up to "
            f"{max_weight_grams} g is over that",
            field="max_weight_grams",
        )
    same = ctx.session.exec(
        select(CarrierRate).where(
            CarrierRate.carrier_id == carrier_id,
            CarrierRate.zone == zone,
            CarrierRate.service == service,
            CarrierRate.max_weight_grams == max_weight_grams,
        )
    ).first()
    if same is not None:
        raise Conflict(
            f"{carrier.name} already has a {zone.value} {service.value} line up to "
            f"{max_weight_grams} g (rate {same.id}); change it with update_rate",
            field="max_weight_grams",
        )
    _check_price_order(
        ctx.session, carrier_id, zone, service, max_weight_grams, price_cents, skip=0
    )
    rate = CarrierRate(
        carrier_id=carrier_id,
        zone=zone,
        service=service,
        max_weight_grams=max_weight_grams,
        price_cents=price_cents,
        transit_days=transit_days,
    )
    ctx.session.add(rate)
    ctx.session.flush()
    out = _rate_out(rate)
    ctx.record(
        action="add_rate",
        entity_type="carrier_rate",
        entity_id=rate.id,
        event="carrier_updated",
        domain="transport",
        payload={"carrier_id": carrier_id, "rate": out.model_dump(mode="json")},
        after=out.model_dump(mode="json"),
    )
    return out


@tool(
    agent="transport",
    path="/transport/rates/{rate_id}",
    method="PATCH",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def update_rate(
    ctx: ToolContext,
    rate_id: RateId,
    price_cents: Annotated[
        int | None, Field(ge=0, le=10_000_000, description="New price excl. VAT, cents.")
    ] = None,
    transit_days: Annotated[int | None, Field(ge=1, le=60, description="New transit days.")] = None,
) -> RateOut:
    """Change the price or transit days of a rate card line (any change to a rate card needs
    approval)."""
    if price_cents is None and transit_days is None:
        raise InvalidInput("give price_cents or transit_days to change")
    rate = get_or_404(ctx.session, CarrierRate, rate_id, "rate", lock=True)
    before = _rate_out(rate).model_dump(mode="json")
    if price_cents is not None:
        _check_price_order(
            ctx.session,
            rate.carrier_id,
            rate.zone,
            rate.service,
            rate.max_weight_grams,
            price_cents,
            skip=rate_id,
        )
        rate.price_cents = price_cents
    if transit_days is not None:
        rate.transit_days = transit_days
    ctx.session.add(rate)
    out = _rate_out(rate)
    ctx.record(
        action="update_rate",
        entity_type="carrier_rate",
        entity_id=rate_id,
        event="carrier_updated",
        domain="transport",
        payload={"carrier_id": rate.carrier_id, "before": before, "after": out.model_dump()},
        before=before,
        after=out.model_dump(mode="json"),
    )
    return out


@tool(
    agent="transport",
    path="/transport/rates/{rate_id}",
    method="DELETE",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def delete_rate(ctx: ToolContext, rate_id: RateId) -> RateOut:
    """Remove a line from a carrier's rate card; parcels in its bracket then go to the next
    heavier line, or the carrier stops being offered for them."""
    rate = get_or_404(ctx.session, CarrierRate, rate_id, "rate", lock=True)
    before = _rate_out(rate)
    ctx.session.delete(rate)
    ctx.record(
        action="delete_rate",
        entity_type="carrier_rate",
        entity_id=rate_id,
        event="carrier_updated",
        domain="transport",
        payload={"carrier_id": before.carrier_id, "deleted_rate": before.model_dump(mode="json")},
        before=before.model_dump(mode="json"),
    )
    return before


# Register the rest of the agent's tools.
from tools import (  # noqa: E402
    transport_choice,  # noqa: F401
    transport_shipments,  # noqa: F401
    transport_tracking,  # noqa: F401
)
