"""What we sell on each marketplace: offers (a SKU at a price) and the stock pushed to them."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field
from sqlmodel import Session, func, select

from db.base import as_utc, utc_now
from db.models import (
    Category,
    Marketplace,
    MarketplaceConnection,
    MarketplaceOffer,
    OfferStatus,
    Product,
    ProductStatus,
    ProductVariant,
    StockLevel,
    Warehouse,
)
from tools.base import MANAGERS, Conflict, NotFound, ToolContext, tool
from tools.common import Cursor, Limit, Page, euros, paginate
from tools.marketplace_common import (
    DOMAIN,
    ConnectionId,
    label,
    load_connection,
    stock_buffer,
    usable_connector,
)
from tools.marketplace_connectors import OfferRequest, StockItem

Sku = Annotated[
    str, Field(min_length=1, max_length=64, description="Our SKU, e.g. APP-IPHONE13-128GB-MIDN-A.")
]


class OfferOut(BaseModel):
    id: int
    connection_id: int
    marketplace: Marketplace
    variant_id: int
    sku: str
    external_offer_id: str | None = Field(description="The marketplace's id for the offer.")
    price_cents: int
    quantity: int = Field(description="Quantity last pushed to the marketplace.")
    status: OfferStatus
    rejection_reason: str | None
    created_at: datetime
    updated_at: datetime | None


def _offer_out(offer: MarketplaceOffer, sku: str, marketplace: Marketplace) -> OfferOut:
    return OfferOut(
        id=offer.id or 0,
        connection_id=offer.connection_id,
        marketplace=marketplace,
        variant_id=offer.variant_id,
        sku=sku,
        external_offer_id=offer.external_offer_id,
        price_cents=offer.price_cents,
        quantity=offer.quantity,
        status=offer.status,
        rejection_reason=offer.rejection_reason,
        created_at=as_utc(offer.created_at),
        updated_at=as_utc(offer.updated_at),
    )


@tool(agent="marketplace", path="/marketplace/offers")
def list_offers(
    ctx: ToolContext,
    connection_id: Annotated[
        int | None, Field(ge=1, description="Only offers on this connection.")
    ] = None,
    status: Annotated[
        OfferStatus | None, Field(description="Only active, pending, rejected or paused offers.")
    ] = None,
    sku: Annotated[str | None, Field(max_length=64, description="Only offers of this SKU.")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[OfferOut]:
    """List offers (SKUs listed at a price on a marketplace), newest first, with their
    status and, for rejected ones, the marketplace's reason."""
    statement = (
        select(MarketplaceOffer, ProductVariant.sku, MarketplaceConnection.marketplace)
        .join(ProductVariant, ProductVariant.id == MarketplaceOffer.variant_id)  # type: ignore[arg-type]
        .join(MarketplaceConnection, MarketplaceConnection.id == MarketplaceOffer.connection_id)  # type: ignore[arg-type]
    )
    if connection_id:
        load_connection(ctx.session, connection_id)
        statement = statement.where(MarketplaceOffer.connection_id == connection_id)
    if status:
        statement = statement.where(MarketplaceOffer.status == status)
    if sku:
        statement = statement.where(ProductVariant.sku == sku)
    rows, next_cursor = paginate(ctx.session, statement, MarketplaceOffer.id, limit, cursor)
    return Page(items=[_offer_out(o, s, m) for o, s, m in rows], next_cursor=next_cursor)


def _available(
    session: Session, connection: MarketplaceConnection, variant_ids: list[int]
) -> dict[int, int]:
    """Units on hand minus reserved per variant, over the warehouses feeding the connection."""
    codes = (connection.settings or {}).get("warehouses")
    warehouses = select(Warehouse.id).where(Warehouse.is_active)
    if codes:
        warehouses = warehouses.where(Warehouse.code.in_(codes))  # type: ignore[attr-defined]
    rows = session.exec(
        select(StockLevel.variant_id, func.sum(StockLevel.on_hand - StockLevel.reserved))
        .where(
            StockLevel.variant_id.in_(variant_ids),  # type: ignore[attr-defined]
            StockLevel.warehouse_id.in_(warehouses.scalar_subquery()),  # type: ignore[attr-defined]
        )
        .group_by(StockLevel.variant_id)  # type: ignore[arg-type]
    ).all()
    return {variant_id: int(units or 0) for variant_id, units in rows}


class StockPushLine(BaseModel):
    sku: str
    offer_id: int | None
    available: int = Field(description="On hand minus reserved in the feeding warehouses.")
    quantity_sent: int | None = Field(description="available minus the buffer, never below 0.")
    outcome: str = Field(description="updated, unchanged, not_listed, skipped or no_offer.")
    message: str


class StockPushResult(BaseModel):
    connection_id: int
    marketplace: str
    sandbox: bool
    stock_buffer: int
    pushed_at: datetime
    updated: int
    unchanged: int
    not_listed: int
    skipped: int
    lines: list[StockPushLine]


@tool(agent="marketplace", path="/marketplace/connections/{connection_id}/stock", writes=True)
def push_stock(
    ctx: ToolContext,
    connection_id: ConnectionId,
    skus: Annotated[
        list[str] | None,
        Field(max_length=500, description="Only these SKUs; leave out for every active offer."),
    ] = None,
) -> StockPushResult:
    """Send our available stock (on hand minus reserved, in the warehouses feeding this
    marketplace, minus the connection's stock buffer) for each active offer to the
    marketplace, and report per SKU what it did. Use after stock changes or when a
    marketplace shows a wrong quantity."""
    connection = load_connection(ctx.session, connection_id, lock=True)
    connector = usable_connector(ctx.session, connection, "push stock")
    buffer = stock_buffer(connection)
    statement = (
        select(MarketplaceOffer, ProductVariant.sku)
        .join(ProductVariant, ProductVariant.id == MarketplaceOffer.variant_id)  # type: ignore[arg-type]
        .where(MarketplaceOffer.connection_id == connection_id)
        .order_by(ProductVariant.sku)
        .with_for_update(of=MarketplaceOffer)  # type: ignore[arg-type]
    )
    if skus is not None:
        statement = statement.where(ProductVariant.sku.in_(skus))  # type: ignore[attr-defined]
    offers = ctx.session.exec(statement).all()
    available = _available(ctx.session, connection, [o.variant_id for o, _ in offers])
    lines: dict[str, StockPushLine] = {}
    to_push: dict[str, MarketplaceOffer] = {}
    for offer, sku in offers:
        units = available.get(offer.variant_id, 0)
        if offer.status != OfferStatus.ACTIVE or not offer.external_offer_id:
            lines[sku] = StockPushLine(
                sku=sku,
                offer_id=offer.id,
                available=units,
                quantity_sent=None,
                outcome="skipped",
                message=f"offer is {offer.status.value}; only active offers get stock",
            )
            continue
        to_push[sku] = offer
        lines[sku] = StockPushLine(
            sku=sku,
            offer_id=offer.id,
            available=units,
            quantity_sent=max(0, units - buffer),
            outcome="pending",
            message="",
        )
    for sku in sorted(set(skus or []) - set(lines)):
        lines[sku] = StockPushLine(
            sku=sku,
            offer_id=None,
            available=0,
            quantity_sent=None,
            outcome="no_offer",
            message=f"SKU {sku} has no offer on {connection.name}; create_offer lists it",
        )
    now = utc_now()
    items = [StockItem(sku=sku, quantity=lines[sku].quantity_sent or 0) for sku in to_push]
    for outcome in connector.push_stock(items) if items else []:
        line = lines[outcome.sku]
        line.outcome, line.message = outcome.outcome, outcome.message
        if outcome.outcome in ("updated", "unchanged"):
            offer = to_push[outcome.sku]
            if offer.quantity != outcome.quantity:
                offer.quantity = outcome.quantity
                offer.updated_at = now
                ctx.session.add(offer)
    counts = {
        kind: sum(line.outcome == kind for line in lines.values())
        for kind in ("updated", "unchanged", "not_listed", "skipped")
    }
    if items:
        ctx.record(
            action="push_stock",
            entity_type="marketplace_connection",
            entity_id=connection_id,
            event="stock_pushed",
            domain=DOMAIN,
            payload={
                "connection_id": connection_id,
                "stock_buffer": buffer,
                **counts,
                "quantities": {sku: lines[sku].quantity_sent for sku in to_push},
            },
        )
    return StockPushResult(
        connection_id=connection_id,
        marketplace=connection.marketplace.value,
        sandbox=connector.sandbox,
        stock_buffer=buffer,
        pushed_at=now,
        lines=list(lines.values()),
        **counts,
    )


class CreatedOffer(OfferOut):
    marketplace_status: str = Field(description="The marketplace's own status for the offer.")
    sandbox: bool
    summary: str


@tool(
    agent="marketplace",
    path="/marketplace/connections/{connection_id}/offers",
    writes=True,
    roles=MANAGERS,
)
def create_offer(
    ctx: ToolContext,
    connection_id: ConnectionId,
    sku: Sku,
    price_cents: Annotated[
        int, Field(ge=1, le=10_000_000, description="Selling price on the marketplace, VAT incl.")
    ],
    quantity: Annotated[
        int | None,
        Field(ge=0, le=100_000, description="Units to offer; default: available minus buffer."),
    ] = None,
) -> CreatedOffer:
    """List a SKU at a price on a marketplace. The marketplace checks it and may reject it
    with its reason (missing EAN, price below its floor, grade C on Back Market, category
    not allowed, refurbished-only marketplaces...): a rejected offer is kept with the reason
    so it can be fixed and submitted again. A SKU already listed (active or paused) is
    refused."""
    connection = load_connection(ctx.session, connection_id, lock=True)
    connector = usable_connector(ctx.session, connection, "create offers")
    variant = ctx.session.exec(select(ProductVariant).where(ProductVariant.sku == sku)).first()
    if variant is None:
        raise NotFound(f"SKU {sku} is not in the catalogue", field="sku")
    product = ctx.session.get(Product, variant.product_id)
    if product is None or not variant.is_active or product.status != ProductStatus.ACTIVE:
        raise Conflict(f"SKU {sku} is inactive in the catalogue; activate it first", field="sku")
    offer = ctx.session.exec(
        select(MarketplaceOffer)
        .where(
            MarketplaceOffer.connection_id == connection_id,
            MarketplaceOffer.variant_id == variant.id,
        )
        .with_for_update()
    ).first()
    if offer and offer.status in (OfferStatus.ACTIVE, OfferStatus.PAUSED):
        raise Conflict(
            f"SKU {sku} is already listed on {label(connection)} (offer "
            f"{offer.external_offer_id}, {euros(offer.price_cents)}, {offer.status.value})",
            field="sku",
        )
    if quantity is None:
        units = _available(ctx.session, connection, [variant.id or 0]).get(variant.id or 0, 0)
        quantity = max(0, units - stock_buffer(connection))
    category = ctx.session.get(Category, product.category_id)
    decision = connector.create_offer(
        OfferRequest(
            sku=sku,
            ean=variant.ean,
            title=variant.name,
            category=category.slug if category else "",
            condition=product.condition.value,
            grade=variant.grade.value if variant.grade else None,
            price_cents=price_cents,
            reference_price_cents=variant.price_cents,
            quantity=quantity,
        )
    )
    now = utc_now()
    before = None if offer is None else _offer_out(offer, sku, connection.marketplace)
    offer = offer or MarketplaceOffer(
        connection_id=connection_id, variant_id=variant.id or 0, price_cents=0, quantity=0
    )
    offer.price_cents, offer.quantity, offer.updated_at = price_cents, quantity, now
    offer.external_offer_id = decision.external_offer_id
    offer.status = OfferStatus.ACTIVE if decision.accepted else OfferStatus.REJECTED
    offer.rejection_reason = None if decision.accepted else (decision.reason or "")[:200]
    ctx.session.add(offer)
    ctx.session.flush()
    out = _offer_out(offer, sku, connection.marketplace)
    ctx.record(
        action="create_offer",
        entity_type="marketplace_offer",
        entity_id=offer.id,
        event="offer_created" if decision.accepted else "offer_rejected",
        domain=DOMAIN,
        before=before.model_dump(mode="json") if before else None,
        after=out.model_dump(mode="json"),
    )
    summary = (
        f"{sku} listed on {connection.name} at {euros(price_cents)} "
        f"({quantity} units), offer {decision.external_offer_id}"
        if decision.accepted
        else f"{connection.name} rejected {sku}: {decision.reason}"
    )
    return CreatedOffer(
        **out.model_dump(),
        marketplace_status=decision.status,
        sandbox=decision.sandbox,
        summary=summary,
    )
