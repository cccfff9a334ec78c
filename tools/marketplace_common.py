"""What the marketplace tools share: the connection's public shape, its settings, loading
it, and opening its connector (sandbox only: live mode has no credentials configured)."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlmodel import Session, select

from core.settings import get_settings
from db.base import as_utc
from db.models import (
    ConnectionMode,
    ConnectionStatus,
    Marketplace,
    MarketplaceConnection,
    MarketplaceOffer,
    OfferStatus,
    ProductVariant,
)
from tools.base import Conflict, NotFound
from tools.marketplace_connectors import PROFILES, Connector
from tools.marketplace_sandbox import SandboxMarketplace

DOMAIN = "marketplace"
DEFAULT_STOCK_BUFFER = 1  # what the demo connections hold back per SKU

ConnectionId = Annotated[int, Field(ge=1, description="Id of the marketplace connection.")]


class ConnectionOut(BaseModel):
    id: int
    marketplace: Marketplace
    name: str
    seller_id: str
    mode: ConnectionMode
    status: ConnectionStatus
    stock_buffer: int = Field(description="Units held back per SKU when pushing stock.")
    auto_sync: bool
    simulate_buyers: bool = Field(
        description="Sandbox only: simulated buyers place orders and write messages."
    )
    warehouses: list[str] | None = Field(
        description="Warehouse codes whose stock feeds this marketplace; None = all active."
    )
    last_synced_at: datetime | None
    created_at: datetime
    sandbox: bool = Field(description="True: a sandbox account, no real marketplace is reached.")


def connection_out(connection: MarketplaceConnection) -> ConnectionOut:
    settings = connection.settings or {}
    return ConnectionOut(
        id=connection.id or 0,
        marketplace=connection.marketplace,
        name=connection.name,
        seller_id=connection.seller_id,
        mode=connection.mode,
        status=connection.status,
        stock_buffer=stock_buffer(connection),
        auto_sync=bool(settings.get("auto_sync", True)),
        simulate_buyers=bool(settings.get("simulate_buyers", True)),
        warehouses=settings.get("warehouses"),
        last_synced_at=as_utc(connection.last_synced_at),
        created_at=as_utc(connection.created_at),
        sandbox=connection.mode == ConnectionMode.SANDBOX,
    )


def stock_buffer(connection: MarketplaceConnection) -> int:
    return int((connection.settings or {}).get("stock_buffer", DEFAULT_STOCK_BUFFER))


def label(connection: MarketplaceConnection) -> str:
    return f"{connection.name} (connection {connection.id})"


def load_connection(
    session: Session, connection_id: int, *, lock: bool = False
) -> MarketplaceConnection:
    statement = select(MarketplaceConnection).where(MarketplaceConnection.id == connection_id)
    connection = session.exec(statement.with_for_update() if lock else statement).first()
    if connection is None:
        raise NotFound(
            f"marketplace connection {connection_id} does not exist; "
            "list_connections shows the existing ones",
            field="connection_id",
        )
    return connection


def refuse_live(marketplace: Marketplace | str) -> Conflict:
    name = PROFILES[Marketplace(marketplace)].label
    return Conflict(
        f"no live credentials are configured for {name}: Comptoir cannot reach the real "
        "marketplace from here; use mode 'sandbox'",
        field="mode",
        code="live_not_configured",
    )


def usable_connector(session: Session, connection: MarketplaceConnection, doing: str) -> Connector:
    """The connector of an active (or erroring) connection; paused or live ones are refused."""
    if connection.status == ConnectionStatus.PAUSED:
        raise Conflict(
            f"{label(connection)} is paused; set its status to active "
            f"(update_connection) before you {doing}",
            field="connection_id",
        )
    if connection.mode == ConnectionMode.LIVE:
        raise refuse_live(connection.marketplace)
    return sandbox_for(session, connection)


def sandbox_for(session: Session, connection: MarketplaceConnection) -> SandboxMarketplace:
    connection_id = connection.id or 0

    def listings() -> dict[str, dict[str, Any]]:
        # A sandbox account opens with the listings Comptoir has on record for it.
        rows = session.exec(
            select(MarketplaceOffer, ProductVariant.sku)
            .join(ProductVariant, ProductVariant.id == MarketplaceOffer.variant_id)  # type: ignore[arg-type]
            .where(
                MarketplaceOffer.connection_id == connection_id,
                MarketplaceOffer.status.in_([OfferStatus.ACTIVE, OfferStatus.PAUSED]),  # type: ignore[attr-defined]
                MarketplaceOffer.external_offer_id.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
        return {
            sku: {
                "offer_id": offer.external_offer_id,
                "price_cents": offer.price_cents,
                "quantity": offer.quantity,
                "status": offer.status.value,
                "updated_at": None,
            }
            for offer, sku in rows
        }

    return SandboxMarketplace(
        connection_id=connection_id,
        marketplace=Marketplace(connection.marketplace),
        seller_id=connection.seller_id,
        data_dir=get_settings().data_dir,
        simulate_buyers=bool((connection.settings or {}).get("simulate_buyers", True)),
        initial_listings=listings,
    )
