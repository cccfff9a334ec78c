"""Connections to marketplaces and what Comptoir knows of their orders, messages and offers."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import (
    created_at_field,
    enum_field,
    json_field,
    non_negative,
    text_field,
    timestamp_field,
)


class Marketplace(StrEnum):
    CDISCOUNT = "cdiscount"
    BACKMARKET = "backmarket"
    REFURBED = "refurbed"
    MIRAKL = "mirakl"
    AMAZON = "amazon"
    EBAY = "ebay"


class ConnectionMode(StrEnum):
    SANDBOX = "sandbox"
    LIVE = "live"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"


class MarketplaceConnection(SQLModel, table=True):
    __tablename__ = "marketplace_connections"
    __table_args__ = (sa.UniqueConstraint("marketplace", "seller_id"),)

    id: int | None = Field(default=None, primary_key=True)
    marketplace: Marketplace = enum_field(Marketplace)
    name: str = Field(max_length=120)
    seller_id: str = Field(max_length=64, description="Our shop's id on the marketplace.")
    mode: ConnectionMode = enum_field(ConnectionMode, default=ConnectionMode.SANDBOX)
    status: ConnectionStatus = enum_field(ConnectionStatus, default=ConnectionStatus.ACTIVE)
    credentials_hint: str | None = Field(
        default=None, max_length=16, description="Last characters of the API token, for display."
    )
    settings: dict[str, Any] = json_field()
    last_synced_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class SyncStatus(StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"
    IGNORED = "ignored"


class MarketplaceOrder(SQLModel, table=True):
    __tablename__ = "marketplace_orders"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "external_order_id"),
        sa.Index("ix_marketplace_orders_connection_id_sync_status", "connection_id", "sync_status"),
        sa.Index("ix_marketplace_orders_external_order_id", "external_order_id"),
        *non_negative("total_cents"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="marketplace_connections.id")
    external_order_id: str = Field(max_length=64)
    marketplace_status: str = Field(max_length=40)
    sync_status: SyncStatus = enum_field(SyncStatus, default=SyncStatus.PENDING)
    order_id: int | None = Field(default=None, foreign_key="orders.id", unique=True)
    total_cents: int
    payload: dict[str, Any] = json_field()
    error: str | None = Field(default=None, max_length=300)
    received_at: datetime = created_at_field()
    synced_at: datetime | None = timestamp_field()


class MessageDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MarketplaceMessage(SQLModel, table=True):
    __tablename__ = "marketplace_messages"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "external_id"),
        sa.Index("ix_marketplace_messages_connection_id_is_read", "connection_id", "is_read"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="marketplace_connections.id")
    external_id: str = Field(max_length=64)
    marketplace_order_id: int | None = Field(
        default=None, foreign_key="marketplace_orders.id", index=True
    )
    direction: MessageDirection = enum_field(MessageDirection)
    author: str = Field(max_length=120)
    subject: str = Field(max_length=200)
    body: str = text_field(nullable=False, default="")
    is_read: bool = False
    sent_at: datetime = created_at_field()


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    PAUSED = "paused"


class MarketplaceOffer(SQLModel, table=True):
    """A SKU listed at a price on a marketplace."""

    __tablename__ = "marketplace_offers"
    __table_args__ = (
        sa.UniqueConstraint("connection_id", "variant_id"),
        *non_negative("price_cents", "quantity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="marketplace_connections.id")
    variant_id: int = Field(foreign_key="product_variants.id", index=True)
    external_offer_id: str | None = Field(default=None, max_length=64)
    price_cents: int
    quantity: int
    status: OfferStatus = enum_field(OfferStatus, default=OfferStatus.PENDING)
    rejection_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()
