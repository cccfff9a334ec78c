"""What was ordered and sold each day, kept as it happens (db/daily_sales.py), so that a
report over months reads a few thousand rows instead of every order or line of the period."""

from datetime import date

from sqlmodel import Field, SQLModel

from db.base import enum_field
from db.models.orders import OrderStatus, SalesChannel


class DailyOrders(SQLModel, table=True):
    """The orders placed on one day (UTC) on one channel that are now in one status, with
    their amounts: every order is in exactly one row."""

    __tablename__ = "daily_orders"

    day: date = Field(primary_key=True)
    channel: SalesChannel = enum_field(SalesChannel, primary_key=True)
    status: OrderStatus = enum_field(OrderStatus, primary_key=True)
    orders: int = 0
    total_cents: int = 0
    shipping_cents: int = 0
    discount_cents: int = 0
    tax_cents: int = 0


class DailySales(SQLModel, table=True):
    """One SKU's sales on one day: the lines of the orders placed that day (UTC) that are
    sales (paid at some point, not cancelled)."""

    __tablename__ = "daily_sales"

    day: date = Field(primary_key=True)
    variant_id: int = Field(primary_key=True, foreign_key="product_variants.id")
    units: int = 0
    revenue_cents: int = Field(default=0, description="Line totals, VAT included.")
    tax_cents: int = 0


class DailyCategoryOrders(SQLModel, table=True):
    """How many of one day's sold orders hold at least one product of a category (an order
    counts once per category, whatever its number of lines there)."""

    __tablename__ = "daily_category_orders"

    day: date = Field(primary_key=True)
    category_id: int = Field(primary_key=True, foreign_key="categories.id")
    orders: int = 0
