"""Order sync: marketplace orders become Comptoir orders, once each."""

from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session, func, select

from db.base import as_utc, utc_now
from db.models import (
    Address,
    AddressKind,
    Customer,
    MarketplaceConnection,
    MarketplaceOrder,
    Product,
    ProductStatus,
    ProductVariant,
    SyncStatus,
)
from tools.base import InvalidInput, NotFound, ProviderError, ToolContext, ToolError, tool
from tools.common import Cursor, Limit, Page, euros, paginate
from tools.marketplace_common import (
    DOMAIN,
    ConnectionId,
    label,
    load_connection,
    usable_connector,
)
from tools.marketplace_connectors import (
    Connector,
    RateLimited,
    RemoteLine,
    RemoteOrder,
)
from tools.marketplace_intake import SyncedOrder, write_order

OVERLAP = timedelta(minutes=10)  # re-read the edge of the last window; rows dedupe by id
PAYLOAD_FIELDS = {
    "buyer_email",
    "buyer_name",
    "shipping_country",
    "shipping_service",
    "shipping_cents",
    "placed_at",
    "lines",
}


class MarketplaceOrderOut(BaseModel):
    id: int
    connection_id: int
    external_order_id: str
    marketplace_status: str
    sync_status: SyncStatus
    order_id: int | None = Field(description="The Comptoir order it became, once synced.")
    total_cents: int
    buyer_email: str | None
    lines: list[RemoteLine]
    error: str | None = Field(description="Why the sync failed, for failed and ignored ones.")
    received_at: datetime
    synced_at: datetime | None


def _lines_of(payload: dict[str, Any]) -> list[RemoteLine]:
    try:
        return [RemoteLine.model_validate(line) for line in payload.get("lines") or []]
    except ValidationError:
        return []


def _order_out(row: MarketplaceOrder) -> MarketplaceOrderOut:
    payload = row.payload or {}
    return MarketplaceOrderOut(
        id=row.id or 0,
        connection_id=row.connection_id,
        external_order_id=row.external_order_id,
        marketplace_status=row.marketplace_status,
        sync_status=row.sync_status,
        order_id=row.order_id,
        total_cents=row.total_cents,
        buyer_email=payload.get("buyer_email"),
        lines=_lines_of(payload),
        error=row.error,
        received_at=as_utc(row.received_at),
        synced_at=as_utc(row.synced_at),
    )


@tool(agent="marketplace", path="/marketplace/connections/{connection_id}/orders")
def list_marketplace_orders(
    ctx: ToolContext,
    connection_id: ConnectionId,
    sync_status: Annotated[
        SyncStatus | None,
        Field(description="Only pending, synced, failed or ignored marketplace orders."),
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[MarketplaceOrderOut]:
    """List the orders a marketplace connection received, newest first, with their sync
    status, the Comptoir order each became and, for failed ones, why."""
    load_connection(ctx.session, connection_id)
    statement = select(MarketplaceOrder).where(MarketplaceOrder.connection_id == connection_id)
    if sync_status:
        statement = statement.where(MarketplaceOrder.sync_status == sync_status)
    rows, next_cursor = paginate(ctx.session, statement, MarketplaceOrder.id, limit, cursor)
    return Page(items=[_order_out(row) for row in rows], next_cursor=next_cursor)


@tool(agent="marketplace", path="/marketplace/orders/{external_order_id}")
def get_marketplace_order(
    ctx: ToolContext,
    external_order_id: Annotated[
        str,
        Field(
            min_length=4,
            max_length=64,
            description="The order's number on the marketplace, as the buyer and the seller "
            "back office show it: Amazon 402-…, Back Market BM…, Cdiscount …CD.",
        ),
    ],
) -> MarketplaceOrderOut:
    """Find a marketplace order by the number the marketplace gave it: its connection, sync
    status, the Comptoir order it became and, for a failed one, why."""
    number = external_order_id.strip()
    rows = ctx.session.exec(
        select(MarketplaceOrder).where(
            MarketplaceOrder.external_order_id.in_({number, number.upper()})  # type: ignore[attr-defined]
        )
    ).all()
    if not rows:
        raise NotFound(
            f"no marketplace order numbered {number}; sync_orders fetches the newest ones",
            field="external_order_id",
        )
    if len(rows) > 1:
        connections = ", ".join(str(row.connection_id) for row in rows)
        raise InvalidInput(
            f"{number} numbers an order on several connections ({connections}); "
            "list_marketplace_orders shows one connection's",
            field="external_order_id",
        )
    return _order_out(rows[0])


class UnsyncedOrder(BaseModel):
    marketplace_order_id: int
    external_order_id: str
    sync_status: SyncStatus = Field(description="failed (needs a person) or ignored.")
    reason: str


class SyncResult(BaseModel):
    connection_id: int
    marketplace: str
    sandbox: bool
    fetched: int = Field(description="Orders the marketplace returned for the window.")
    new: int = Field(description="Of those, orders Comptoir had not received before.")
    synced: list[SyncedOrder]
    not_synced: list[UnsyncedOrder]
    left_pending: int = Field(description="Pending orders left for the next sync.")
    retry_after_seconds: int | None = Field(
        description="Set when the marketplace rate-limited the sync part-way."
    )
    last_synced_at: datetime
    summary: str


class _Unsyncable(Exception):
    def __init__(self, reason: str, status: SyncStatus = SyncStatus.FAILED):
        super().__init__(reason)
        self.reason, self.status = reason, status


@tool(agent="marketplace", path="/marketplace/connections/{connection_id}/sync", writes=True)
def sync_orders(
    ctx: ToolContext,
    connection_id: ConnectionId,
    retry_failed: Annotated[
        bool, Field(description="Also retry orders whose earlier sync failed.")
    ] = False,
    max_orders: Annotated[
        int, Field(ge=1, le=200, description="Most orders to turn into Comptoir orders now.")
    ] = 100,
) -> SyncResult:
    """Pull new orders from a marketplace and turn each pending one into a paid Comptoir
    order: customer matched by e-mail (or created with the shipping address the marketplace
    gives), marketplace prices, stock reserved in a warehouse that can serve every line,
    the marketplace's payment recorded as captured. Idempotent: an order is never created
    twice. Orders with an unknown SKU, no stock or a blocked buyer are left failed with the
    reason; orders the buyer cancelled are ignored."""
    connection = load_connection(ctx.session, connection_id, lock=True)
    connector = usable_connector(ctx.session, connection, "sync orders")
    started = utc_now()
    since = as_utc(connection.last_synced_at) - OVERLAP if connection.last_synced_at else None
    remote = connector.fetch_orders(since)
    new = _store_new(ctx.session, connection, remote, started)
    statuses = [SyncStatus.PENDING, *([SyncStatus.FAILED] if retry_failed else [])]
    waiting = ctx.session.exec(
        select(MarketplaceOrder)
        .where(
            MarketplaceOrder.connection_id == connection_id,
            MarketplaceOrder.sync_status.in_(statuses),  # type: ignore[attr-defined]
        )
        .order_by(MarketplaceOrder.received_at, MarketplaceOrder.id)  # type: ignore[arg-type]
        .with_for_update()
    ).all()
    synced: list[SyncedOrder] = []
    not_synced: list[UnsyncedOrder] = []
    retry_after = None
    for row in waiting[:max_orders]:
        try:
            synced.append(_sync_one(ctx, connection, connector, row))
        except RateLimited as limited:
            retry_after = limited.retry_after
            break
        except _Unsyncable as problem:
            not_synced.append(_leave(ctx, connection, row, problem.reason, problem.status))
    left = len(waiting) - len(synced) - len(not_synced)
    connection.last_synced_at = started
    ctx.session.add(connection)
    summary = (
        f"{label(connection)}: {len(remote)} orders fetched ({new} new), {len(synced)} synced, "
        f"{len(not_synced)} not synced, {left} left pending"
        + (f"; rate-limited, retry after {retry_after} s" if retry_after else "")
    )
    ctx.record(
        action="sync_orders",
        entity_type="marketplace_connection",
        entity_id=connection_id,
        event="marketplace_sync_completed",
        domain=DOMAIN,
        payload={
            "connection_id": connection_id,
            "fetched": len(remote),
            "new": new,
            "synced": [s.external_order_id for s in synced],
            "not_synced": [n.external_order_id for n in not_synced],
            "left_pending": left,
            "retry_after_seconds": retry_after,
        },
    )
    return SyncResult(
        connection_id=connection_id,
        marketplace=connection.marketplace.value,
        sandbox=connector.sandbox,
        fetched=len(remote),
        new=new,
        synced=synced,
        not_synced=not_synced,
        left_pending=left,
        retry_after_seconds=retry_after,
        last_synced_at=started,
        summary=summary,
    )


def _store_new(
    session: Session, connection: MarketplaceConnection, remote: list[RemoteOrder], now: datetime
) -> int:
    """Insert the orders Comptoir has not received yet (the unique external id keeps each
    once); orders the buyer already cancelled are stored as ignored."""
    ids = [order.external_order_id for order in remote]
    known = set(
        session.exec(
            select(MarketplaceOrder.external_order_id).where(
                MarketplaceOrder.connection_id == connection.id,
                MarketplaceOrder.external_order_id.in_(ids),  # type: ignore[attr-defined]
            )
        ).all()
    )
    new = [order for order in remote if order.external_order_id not in known]
    for order in new:
        session.add(
            MarketplaceOrder(
                connection_id=connection.id or 0,
                external_order_id=order.external_order_id,
                marketplace_status=order.status,
                sync_status=SyncStatus.IGNORED if order.cancelled else SyncStatus.PENDING,
                total_cents=order.total_cents,
                payload=order.model_dump(mode="json", include=PAYLOAD_FIELDS),
                error=(order.cancel_reason or "cancelled before acceptance")
                if order.cancelled
                else None,
                received_at=now,
            )
        )
    session.flush()
    return len(new)


def _leave(
    ctx: ToolContext,
    connection: MarketplaceConnection,
    row: MarketplaceOrder,
    reason: str,
    status: SyncStatus,
) -> UnsyncedOrder:
    row.sync_status = status
    row.error = reason[:300]
    ctx.session.add(row)
    ctx.record(
        action="sync_marketplace_order",
        entity_type="marketplace_order",
        entity_id=row.id,
        event="marketplace_sync_failed",
        domain=DOMAIN,
        payload={
            "connection_id": connection.id,
            "external_order_id": row.external_order_id,
            "sync_status": status.value,
            "reason": reason,
        },
    )
    return UnsyncedOrder(
        marketplace_order_id=row.id or 0,
        external_order_id=row.external_order_id,
        sync_status=status,
        reason=reason,
    )


def _sync_one(
    ctx: ToolContext,
    connection: MarketplaceConnection,
    connector: Connector,
    row: MarketplaceOrder,
) -> SyncedOrder:
    """Check the order can be fulfilled, accept it on the marketplace, then write the
    Comptoir order in a savepoint so a failure leaves nothing half-written."""
    from tools.fraud import blocked_reason
    from tools.inventory import choose_warehouse

    session = ctx.session
    payload = dict(row.payload or {})
    items = _catalogue_lines(session, payload)
    shipping = int(payload.get("shipping_cents") or 0)
    subtotal = sum(quantity * price for _, _, quantity, price in items)
    if subtotal + shipping != row.total_cents or row.total_cents <= 0:
        raise _Unsyncable(
            f"the lines ({euros(subtotal)}) and shipping ({euros(shipping)}) do not add up to "
            f"the marketplace total of {euros(row.total_cents)}"
        )
    email = str(payload.get("buyer_email") or "").strip().lower()
    if "@" not in email:
        raise _Unsyncable("the marketplace sent no buyer e-mail address")
    customer = session.exec(select(Customer).where(func.lower(Customer.email) == email)).first()
    blocked = blocked_reason(
        session,
        customer_id=customer.id if customer else None,
        email=email,
        ip=None,
        card_fingerprint=None,
    )
    if blocked:
        raise _Unsyncable(f"the buyer is blocked: {blocked}")
    country = str(payload.get("shipping_country") or _home_country(session, customer))
    wanted: dict[int, int] = {}
    for variant, _, quantity, _ in items:
        wanted[variant.id or 0] = wanted.get(variant.id or 0, 0) + quantity
    warehouse_id = choose_warehouse(session, lines=list(wanted.items()), country=country)
    if warehouse_id is None:
        detail = ", ".join(f"{v.sku} x{q}" for v, _, q, _ in items)
        raise _Unsyncable(f"no warehouse has enough available stock for every line ({detail})")
    try:
        accepted = connector.acknowledge_order(row.external_order_id)
    except RateLimited:
        raise
    except ProviderError as refused:
        status = SyncStatus.IGNORED if refused.code == "order_cancelled" else SyncStatus.FAILED
        raise _Unsyncable(refused.message, status) from None
    try:
        with session.begin_nested():
            return write_order(
                ctx,
                connection,
                row,
                payload,
                items,
                customer=customer,
                address=accepted.shipping_address,
                marketplace_status=accepted.status,
                warehouse_id=warehouse_id,
                shipping=shipping,
            )
    except (ToolError, sa.exc.IntegrityError) as error:
        message = error.message if isinstance(error, ToolError) else "a database rule refused it"
        session.refresh(row)
        raise _Unsyncable(f"accepted on the marketplace but not written: {message}") from None


def _catalogue_lines(
    session: Session, payload: dict[str, Any]
) -> list[tuple[ProductVariant, Product, int, int]]:
    lines = _lines_of(payload)
    if not lines:
        raise _Unsyncable("the marketplace order has no readable lines")
    items = []
    for line in lines:
        if line.quantity <= 0 or line.unit_price_cents < 0:
            raise _Unsyncable(f"the line for SKU {line.sku} has an invalid quantity or price")
        variant = session.exec(select(ProductVariant).where(ProductVariant.sku == line.sku)).first()
        if variant is None:
            raise _Unsyncable(f"SKU {line.sku} is not in the catalogue")
        product = session.get(Product, variant.product_id)
        if product is None or not variant.is_active or product.status != ProductStatus.ACTIVE:
            raise _Unsyncable(f"SKU {line.sku} is not sold any more (inactive in the catalogue)")
        items.append((variant, product, line.quantity, line.unit_price_cents))
    return items


def _home_country(session: Session, customer: Customer | None) -> str:
    if customer is None:
        return "FR"
    country = session.exec(
        select(Address.country)
        .where(Address.customer_id == customer.id, Address.kind == AddressKind.SHIPPING)
        .order_by(Address.is_default.desc(), Address.id)  # type: ignore[attr-defined, arg-type]
    ).first()
    return country or "FR"
