"""Catalogue: categories, products and their variants (SKUs)."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, text_field, timestamp_field


class ProductCondition(StrEnum):
    NEW = "new"
    REFURBISHED = "refurbished"


class ProductStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Grade(StrEnum):
    """Cosmetic grade of a refurbished unit."""

    A = "A"
    B = "B"
    C = "C"


class Category(SQLModel, table=True):
    __tablename__ = "categories"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    slug: str = Field(max_length=120, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="categories.id", index=True)
    description: str | None = text_field()
    created_at: datetime = created_at_field()


class Product(SQLModel, table=True):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("vat_rate_bp BETWEEN 0 AND 10000", name="vat_rate_range"),
        *non_negative("warranty_months"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    slug: str = Field(max_length=200, unique=True)
    brand: str = Field(max_length=80, index=True)
    description: str = text_field(nullable=False, default="")
    category_id: int = Field(foreign_key="categories.id", index=True)
    condition: ProductCondition = enum_field(ProductCondition, default=ProductCondition.NEW)
    status: ProductStatus = enum_field(ProductStatus, default=ProductStatus.ACTIVE, index=True)
    vat_rate_bp: int = Field(default=2000, description="VAT rate in basis points (2000 = 20%).")
    warranty_months: int = 24
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class ProductVariant(SQLModel, table=True):
    """A sellable SKU: one product in one configuration (capacity, colour, grade)."""

    __tablename__ = "product_variants"
    __table_args__ = (
        *non_negative("price_cents", "cost_cents"),
        sa.CheckConstraint("weight_grams > 0", name="weight_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    sku: str = Field(max_length=64, unique=True)
    ean: str | None = Field(default=None, max_length=14, unique=True)
    name: str = Field(max_length=200)
    attributes: str = Field(default="", max_length=200, description="e.g. '128 GB · Black'")
    grade: Grade | None = enum_field(Grade, default=None, nullable=True)
    price_cents: int = Field(description="Selling price including VAT, in cents.")
    cost_cents: int = Field(description="Purchase cost excluding VAT, in cents.")
    weight_grams: int
    is_active: bool = True
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()
