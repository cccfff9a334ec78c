"""Carriers, their rate cards, shipments and tracking events."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, timestamp_field
from db.models.orders import ShippingService


class Carrier(SQLModel, table=True):
    __tablename__ = "carriers"
    __table_args__ = (
        sa.CheckConstraint("on_time_rate_bp BETWEEN 0 AND 10000", name="on_time_rate_range"),
        sa.CheckConstraint("max_weight_grams > 0", name="max_weight_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=30, unique=True)
    name: str = Field(max_length=80)
    on_time_rate_bp: int = Field(description="Share of parcels delivered on time, in bp.")
    max_weight_grams: int
    tracking_url_template: str = Field(max_length=200)
    is_active: bool = True
    created_at: datetime = created_at_field()


class ShippingZone(StrEnum):
    FRANCE = "FR"
    EU = "EU"
    EUROPE_OTHER = "EUROPE"
    WORLD = "WORLD"


class CarrierRate(SQLModel, table=True):
    """One line of a rate card: price for parcels up to a weight, to a zone, at a service."""

    __tablename__ = "carrier_rates"
    __table_args__ = (
        sa.UniqueConstraint("carrier_id", "zone", "service", "max_weight_grams"),
        sa.CheckConstraint("max_weight_grams > 0", name="max_weight_positive"),
        sa.CheckConstraint("transit_days > 0", name="transit_days_positive"),
        *non_negative("price_cents"),
    )

    id: int | None = Field(default=None, primary_key=True)
    carrier_id: int = Field(foreign_key="carriers.id", index=True)
    zone: ShippingZone = enum_field(ShippingZone)
    service: ShippingService = enum_field(ShippingService)
    max_weight_grams: int
    price_cents: int
    transit_days: int


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


class Shipment(SQLModel, table=True):
    __tablename__ = "shipments"
    __table_args__ = (
        sa.CheckConstraint("weight_grams > 0", name="weight_positive"),
        *non_negative("cost_cents"),
        sa.Index("ix_shipments_status_created_at", "status", "created_at"),
        sa.Index("ix_shipments_delivered_at", "delivered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    carrier_id: int = Field(foreign_key="carriers.id", index=True)
    warehouse_id: int = Field(foreign_key="warehouses.id", index=True)
    service: ShippingService = enum_field(ShippingService)
    tracking_number: str = Field(max_length=40, unique=True)
    status: ShipmentStatus = enum_field(ShipmentStatus, default=ShipmentStatus.LABEL_CREATED)
    weight_grams: int
    cost_cents: int
    estimated_delivery: date | None = None
    created_at: datetime = created_at_field()
    shipped_at: datetime | None = timestamp_field()
    delivered_at: datetime | None = timestamp_field()


class TrackingEvent(SQLModel, table=True):
    __tablename__ = "tracking_events"
    __table_args__ = (
        sa.Index("ix_tracking_events_shipment_id_occurred_at", "shipment_id", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipments.id")
    status: ShipmentStatus = enum_field(ShipmentStatus)
    location: str | None = Field(default=None, max_length=120)
    description: str = Field(max_length=200)
    occurred_at: datetime = created_at_field()
