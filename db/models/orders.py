"""Orders, their lines and the history of their status."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, text_field, timestamp_field


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


# Orders that count as sales: paid at some point and not cancelled. Returned orders stay
# sales; their refunds come off in the net figures.
SOLD_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.RETURNED,
)


class SalesChannel(StrEnum):
    """Where the order was placed: the merchant's own shop or a marketplace."""

    SHOP = "shop"
    CDISCOUNT = "cdiscount"
    BACKMARKET = "backmarket"
    REFURBED = "refurbed"
    MIRAKL = "mirakl"
    AMAZON = "amazon"
    EBAY = "ebay"


class ShippingService(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        *non_negative(
            "subtotal_cents", "discount_cents", "shipping_cents", "tax_cents", "total_cents"
        ),
        sa.CheckConstraint(
            "total_cents = subtotal_cents - discount_cents + shipping_cents", name="total_adds_up"
        ),
        sa.Index("ix_orders_status_placed_at", "status", "placed_at"),
        sa.Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),
        sa.Index("ix_orders_channel_placed_at", "channel", "placed_at"),
        # The channel of an order from its id alone: refunds of a period summed per channel
        # look up thousands of orders, too many to visit table rows on PostgreSQL.
        sa.Index("ix_orders_id_channel", "id", "channel"),
        sa.Index(
            "ix_orders_placed_at",
            "placed_at",
            postgresql_include=["id", "status", "channel", "total_cents"],
        ),
        sa.Index("ix_orders_delivered_at", "delivered_at"),
        sa.Index(
            "ix_orders_warehouse_id_shipped_at",
            "warehouse_id",
            "shipped_at",
            postgresql_include=["id", "paid_at"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id")
    status: OrderStatus = enum_field(OrderStatus, default=OrderStatus.PENDING)
    channel: SalesChannel = enum_field(SalesChannel, default=SalesChannel.SHOP)
    marketplace_connection_id: int | None = Field(
        default=None, foreign_key="marketplace_connections.id", index=True
    )
    warehouse_id: int | None = Field(default=None, foreign_key="warehouses.id", index=True)
    shipping_address_id: int = Field(foreign_key="addresses.id")
    billing_address_id: int = Field(foreign_key="addresses.id")
    shipping_service: ShippingService = enum_field(
        ShippingService, default=ShippingService.STANDARD
    )
    currency: str = Field(default="EUR", max_length=3)
    subtotal_cents: int = Field(default=0, description="Sum of lines, VAT included.")
    discount_cents: int = 0
    shipping_cents: int = 0
    tax_cents: int = Field(default=0, description="VAT included in the total.")
    total_cents: int = 0
    ip_address: str | None = Field(default=None, max_length=45)
    note: str | None = text_field()
    cancel_reason: str | None = Field(default=None, max_length=200)
    held_at: datetime | None = timestamp_field()  # held for review: it may not ship meanwhile
    hold_reason: str | None = Field(default=None, max_length=200)
    placed_at: datetime = created_at_field()
    paid_at: datetime | None = timestamp_field()
    shipped_at: datetime | None = timestamp_field()
    delivered_at: datetime | None = timestamp_field()
    cancelled_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        *non_negative("unit_price_cents", "discount_cents", "tax_cents", "total_cents"),
        sa.CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_range"),
        sa.Index(
            "ix_order_lines_order_id",
            "order_id",
            postgresql_include=["variant_id", "quantity", "total_cents", "tax_cents"],
        ),
        # A product's sales over a period: its SKUs' lines within the period's order ids.
        sa.Index(
            "ix_order_lines_variant_id", "variant_id", "order_id", postgresql_include=["quantity"]
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    variant_id: int = Field(foreign_key="product_variants.id")
    sku: str = Field(max_length=64, description="SKU at the time of the order.")
    name: str = Field(max_length=200, description="Product name at the time of the order.")
    quantity: int
    unit_price_cents: int = Field(description="Catalogue price at the time, VAT included.")
    discount_cents: int = 0
    vat_rate_bp: int = 2000
    tax_cents: int = 0
    total_cents: int = Field(description="quantity * unit price - discount, VAT included.")


class OrderStatusChange(SQLModel, table=True):
    __tablename__ = "order_status_history"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    from_status: OrderStatus | None = enum_field(
        OrderStatus, default=None, nullable=True, check_name="from_status_valid"
    )
    to_status: OrderStatus = enum_field(OrderStatus, check_name="to_status_valid")
    reason: str | None = Field(default=None, max_length=200)
    changed_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()
