"""Warehouses, stock levels per SKU and warehouse, reservations and movements."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, timestamp_field


class Warehouse(SQLModel, table=True):
    __tablename__ = "warehouses"
    __table_args__ = (sa.CheckConstraint("capacity_locations > 0", name="capacity_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    name: str = Field(max_length=120)
    address_line: str = Field(max_length=200)
    postcode: str = Field(max_length=12)
    city: str = Field(max_length=80)
    country: str = Field(default="FR", max_length=2)
    capacity_locations: int = Field(description="Number of storage locations (bins).")
    is_active: bool = True
    created_at: datetime = created_at_field()


class StockLevel(SQLModel, table=True):
    __tablename__ = "stock_levels"
    __table_args__ = (
        sa.UniqueConstraint("variant_id", "warehouse_id"),
        *non_negative("on_hand", "reserved", "reorder_point", "reorder_quantity"),
        sa.CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        sa.CheckConstraint(
            "max_stock IS NULL OR max_stock >= reorder_point", name="max_stock_above_reorder_point"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(foreign_key="product_variants.id", index=True)
    warehouse_id: int = Field(foreign_key="warehouses.id", index=True)
    on_hand: int = 0
    reserved: int = 0
    reorder_point: int = 0
    reorder_quantity: int = 0
    max_stock: int | None = None
    bin_location: str | None = Field(default=None, max_length=20)
    updated_at: datetime | None = timestamp_field()


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


class StockReservation(SQLModel, table=True):
    __tablename__ = "stock_reservations"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.Index("ix_stock_reservations_status_expires_at", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(foreign_key="product_variants.id", index=True)
    warehouse_id: int = Field(foreign_key="warehouses.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    quantity: int
    status: ReservationStatus = enum_field(ReservationStatus, default=ReservationStatus.ACTIVE)
    expires_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    released_at: datetime | None = timestamp_field()


class MovementKind(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    ADJUSTMENT = "adjustment"
    RETURN = "return"


class StockMovement(SQLModel, table=True):
    """A signed change of on-hand stock; transfers are a pair sharing a transfer reference."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        sa.CheckConstraint("quantity <> 0", name="quantity_non_zero"),
        sa.Index("ix_stock_movements_warehouse_id_created_at", "warehouse_id", "created_at"),
        sa.Index("ix_stock_movements_variant_id_created_at", "variant_id", "created_at"),
        sa.Index(
            "ix_stock_movements_created_at",
            "created_at",
            postgresql_include=["kind", "quantity", "variant_id", "warehouse_id"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    variant_id: int = Field(foreign_key="product_variants.id")
    warehouse_id: int = Field(foreign_key="warehouses.id")
    kind: MovementKind = enum_field(MovementKind)
    quantity: int = Field(description="Signed: positive adds stock, negative removes it.")
    reason: str | None = Field(default=None, max_length=200)
    reference: str | None = Field(default=None, max_length=64, index=True)
    created_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()


class DailyStockMovements(SQLModel, table=True):
    """One day's (UTC) stock movements of one kind in one warehouse, kept as they happen
    (db/daily_movements.py) so that movement reports over months read a few hundred rows."""

    __tablename__ = "daily_stock_movements"

    day: date = Field(primary_key=True)
    warehouse_id: int = Field(primary_key=True, foreign_key="warehouses.id")
    kind: MovementKind = enum_field(MovementKind, primary_key=True)
    movements: int = 0
    units_in: int = Field(default=0, description="Units added by the movements.")
    units_out: int = Field(default=0, description="Units removed, as a positive number.")
