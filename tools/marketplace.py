"""Tools of the marketplace agent: connections to the marketplaces (here), order sync
(marketplace_sync), stock and offers (marketplace_listings), buyer messages
(marketplace_inbox). The connectors themselves live in marketplace_connectors (the
interface) and marketplace_sandbox (the sandbox accounts)."""

from typing import Annotated

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, func, select

from db.models import (
    ConnectionMode,
    ConnectionStatus,
    Marketplace,
    MarketplaceConnection,
    MarketplaceMessage,
    MarketplaceOffer,
    MarketplaceOrder,
    MessageDirection,
    Order,
    SyncStatus,
    Warehouse,
)
from tools import marketplace_inbox, marketplace_listings, marketplace_sync  # noqa: F401
from tools.base import MANAGERS, Conflict, InvalidInput, ToolContext, tool
from tools.common import Cursor, Limit, Page, paginate
from tools.marketplace_common import (
    DEFAULT_STOCK_BUFFER,
    DOMAIN,
    ConnectionId,
    ConnectionOut,
    connection_out,
    label,
    load_connection,
    refuse_live,
    sandbox_for,
)

Name = Annotated[str, Field(min_length=2, max_length=120, description="Display name.")]
StockBuffer = Annotated[
    int, Field(ge=0, le=1000, description="Units held back per SKU when pushing stock.")
]
Warehouses = Annotated[
    list[str] | None,
    Field(
        max_length=20,
        description="Codes of the warehouses whose stock feeds this marketplace, e.g. "
        '["LYS", "PAR"]; leave out (or [] on update) for every active warehouse.',
    ),
]


def _warehouse_codes(session: Session, codes: list[str] | None) -> list[str] | None:
    if not codes:
        return None
    wanted = sorted({code.upper() for code in codes})
    known = set(
        session.exec(
            select(Warehouse.code).where(Warehouse.code.in_(wanted), Warehouse.is_active)  # type: ignore[attr-defined]
        ).all()
    )
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise InvalidInput(
            f"no active warehouse has the code {', '.join(unknown)}", field="warehouses"
        )
    return wanted


@tool(agent="marketplace", path="/marketplace/connections", writes=True, roles=MANAGERS)
def create_connection(
    ctx: ToolContext,
    marketplace: Annotated[
        Marketplace,
        Field(description="cdiscount, backmarket, refurbed, mirakl, amazon or ebay."),
    ],
    name: Name,
    seller_id: Annotated[
        str,
        Field(
            min_length=2,
            max_length=64,
            pattern=r"^[A-Za-z0-9._-]+$",
            description="Our shop's id on the marketplace, e.g. A2LUMEN7FR.",
        ),
    ],
    mode: Annotated[
        ConnectionMode, Field(description="sandbox (the only mode available here) or live.")
    ] = ConnectionMode.SANDBOX,
    stock_buffer: StockBuffer = DEFAULT_STOCK_BUFFER,
    auto_sync: Annotated[
        bool, Field(description="Let automations sync orders without being asked.")
    ] = True,
    simulate_buyers: Annotated[
        bool, Field(description="Sandbox: simulated buyers place orders and write messages.")
    ] = True,
    warehouses: Warehouses = None,
) -> ConnectionOut:
    """Connect a marketplace seller account to Comptoir. Only sandbox accounts can be
    connected here: live mode is refused because no live credentials are configured.
    A marketplace and seller id pair can be connected once."""
    if mode == ConnectionMode.LIVE:
        raise refuse_live(marketplace)
    taken = ctx.session.exec(
        select(MarketplaceConnection).where(
            MarketplaceConnection.marketplace == marketplace,
            MarketplaceConnection.seller_id == seller_id,
        )
    ).first()
    if taken:
        raise Conflict(
            f"seller {seller_id} on {marketplace.value} is already connected as {label(taken)}",
            field="seller_id",
        )
    connection = MarketplaceConnection(
        marketplace=marketplace,
        name=name,
        seller_id=seller_id,
        mode=mode,
        settings={
            "auto_sync": auto_sync,
            "stock_buffer": stock_buffer,
            "simulate_buyers": simulate_buyers,
            "warehouses": _warehouse_codes(ctx.session, warehouses),
        },
    )
    ctx.session.add(connection)
    ctx.session.flush()
    out = connection_out(connection)
    ctx.record(
        action="create_connection",
        entity_type="marketplace_connection",
        entity_id=connection.id,
        event="marketplace_connection_created",
        domain=DOMAIN,
        after=out.model_dump(mode="json"),
    )
    return out


@tool(agent="marketplace", path="/marketplace/connections")
def list_connections(
    ctx: ToolContext,
    marketplace: Annotated[
        Marketplace | None, Field(description="Only connections to this marketplace.")
    ] = None,
    status: Annotated[
        ConnectionStatus | None, Field(description="Only active, paused or error ones.")
    ] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ConnectionOut]:
    """List the marketplace connections with their mode, status, stock buffer and the
    time of the last order sync."""
    statement = select(MarketplaceConnection)
    if marketplace:
        statement = statement.where(MarketplaceConnection.marketplace == marketplace)
    if status:
        statement = statement.where(MarketplaceConnection.status == status)
    rows, next_cursor = paginate(
        ctx.session, statement, MarketplaceConnection.id, limit, cursor, descending=False
    )
    return Page(items=[connection_out(c) for c in rows], next_cursor=next_cursor)


class ConnectionDetail(ConnectionOut):
    orders_by_sync_status: dict[str, int] = Field(
        description="Marketplace orders received, by sync status (pending, synced, failed...)."
    )
    comptoir_orders: int = Field(description="Comptoir orders that came through it.")
    unread_messages: int
    offers_by_status: dict[str, int]


def _counts(session: Session, column: sa.ColumnElement, where: sa.ColumnElement) -> dict[str, int]:
    rows = session.exec(select(column, func.count()).where(where).group_by(column)).all()  # type: ignore[call-overload]
    return {getattr(key, "value", key): count for key, count in rows}


@tool(agent="marketplace", path="/marketplace/connections/{connection_id}")
def get_connection(ctx: ToolContext, connection_id: ConnectionId) -> ConnectionDetail:
    """One marketplace connection with its figures: marketplace orders by sync status,
    Comptoir orders received through it, unread buyer messages and offers by status."""
    connection = load_connection(ctx.session, connection_id)
    unread = ctx.session.exec(
        select(func.count())
        .select_from(MarketplaceMessage)
        .where(
            MarketplaceMessage.connection_id == connection_id,
            MarketplaceMessage.direction == MessageDirection.INBOUND,
            MarketplaceMessage.is_read.is_(False),  # type: ignore[attr-defined]
        )
    ).one()
    orders = ctx.session.exec(
        select(func.count())
        .select_from(Order)
        .where(Order.marketplace_connection_id == connection_id)
    ).one()
    return ConnectionDetail(
        **connection_out(connection).model_dump(),
        orders_by_sync_status=_counts(
            ctx.session,
            MarketplaceOrder.sync_status,  # type: ignore[arg-type]
            MarketplaceOrder.connection_id == connection_id,  # type: ignore[arg-type]
        ),
        comptoir_orders=orders,
        unread_messages=unread,
        offers_by_status=_counts(
            ctx.session,
            MarketplaceOffer.status,  # type: ignore[arg-type]
            MarketplaceOffer.connection_id == connection_id,  # type: ignore[arg-type]
        ),
    )


@tool(
    agent="marketplace",
    path="/marketplace/connections/{connection_id}",
    method="PATCH",
    writes=True,
    roles=MANAGERS,
)
def update_connection(
    ctx: ToolContext,
    connection_id: ConnectionId,
    name: Annotated[
        str | None, Field(min_length=2, max_length=120, description="New display name.")
    ] = None,
    status: Annotated[
        ConnectionStatus | None,
        Field(description="active to resume syncing, paused to stop every call to it."),
    ] = None,
    mode: Annotated[
        ConnectionMode | None, Field(description="sandbox; live is refused (no credentials).")
    ] = None,
    stock_buffer: Annotated[
        int | None, Field(ge=0, le=1000, description="Units held back per SKU on stock pushes.")
    ] = None,
    auto_sync: Annotated[bool | None, Field(description="Let automations sync orders.")] = None,
    simulate_buyers: Annotated[
        bool | None, Field(description="Sandbox: simulated buyers place orders.")
    ] = None,
    warehouses: Warehouses = None,
) -> ConnectionOut:
    """Rename a connection, pause or resume it, change its stock buffer, its feeding
    warehouses or its automation switches. Switching to live mode is refused."""
    connection = load_connection(ctx.session, connection_id, lock=True)
    if mode == ConnectionMode.LIVE:
        raise refuse_live(connection.marketplace)
    if status == ConnectionStatus.ERROR:
        raise InvalidInput(
            "a connection is put in error by failed calls, not by hand; use active or paused",
            field="status",
        )
    given = {
        "name": name,
        "status": status,
        "mode": mode,
        "stock_buffer": stock_buffer,
        "auto_sync": auto_sync,
        "simulate_buyers": simulate_buyers,
        "warehouses": warehouses,
    }
    if all(value is None for value in given.values()):
        raise InvalidInput("give at least one field to change")
    before = connection_out(connection).model_dump(mode="json")
    for key in ("name", "status", "mode"):
        if given[key] is not None:
            setattr(connection, key, given[key])
    settings = dict(connection.settings or {})
    for key in ("stock_buffer", "auto_sync", "simulate_buyers"):
        if given[key] is not None:
            settings[key] = given[key]
    if warehouses is not None:
        settings["warehouses"] = _warehouse_codes(ctx.session, warehouses)
    connection.settings = settings
    ctx.session.add(connection)
    after = connection_out(connection).model_dump(mode="json")
    ctx.record(
        action="update_connection",
        entity_type="marketplace_connection",
        entity_id=connection_id,
        event="marketplace_connection_updated",
        domain=DOMAIN,
        before=before,
        after=after,
    )
    return connection_out(connection)


@tool(
    agent="marketplace",
    path="/marketplace/connections/{connection_id}",
    method="DELETE",
    writes=True,
    approval=True,
    roles=MANAGERS,
)
def delete_connection(ctx: ToolContext, connection_id: ConnectionId) -> ConnectionOut:
    """Delete a marketplace connection with its offers and messages, and close its sandbox
    account. Refused while it has unsynced (pending or failed) marketplace orders, and for a
    connection that brought Comptoir orders (their history needs it): pause it instead."""
    connection = load_connection(ctx.session, connection_id, lock=True)
    unsynced = ctx.session.exec(
        select(func.count())
        .select_from(MarketplaceOrder)
        .where(
            MarketplaceOrder.connection_id == connection_id,
            MarketplaceOrder.sync_status.in_([SyncStatus.PENDING, SyncStatus.FAILED]),  # type: ignore[attr-defined]
        )
    ).one()
    if unsynced:
        raise Conflict(
            f"{label(connection)} has {unsynced} unsynced marketplace orders (pending or "
            "failed); sync them (sync_orders) or resolve them before deleting it"
        )
    orders = ctx.session.exec(
        select(func.count())
        .select_from(Order)
        .where(Order.marketplace_connection_id == connection_id)
    ).one()
    if orders:
        raise Conflict(
            f"{orders} Comptoir orders came through {label(connection)}; their history "
            "needs the connection: pause it (update_connection status paused) instead"
        )
    before = connection_out(connection).model_dump(mode="json")
    for table in (MarketplaceMessage, MarketplaceOffer, MarketplaceOrder):
        statement = sa.delete(table).where(table.connection_id == connection_id)  # type: ignore[attr-defined, arg-type]
        ctx.session.exec(statement)  # type: ignore[call-overload]
    ctx.session.delete(connection)
    ctx.session.flush()
    sandbox = sandbox_for(ctx.session, connection)
    sandbox.path.unlink(missing_ok=True)
    sandbox.path.with_suffix(".lock").unlink(missing_ok=True)
    ctx.record(
        action="delete_connection",
        entity_type="marketplace_connection",
        entity_id=connection_id,
        event="marketplace_connection_deleted",
        domain=DOMAIN,
        before=before,
    )
    return ConnectionOut.model_validate(before)
