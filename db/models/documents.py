"""Generated documents (invoices, credit notes, packing slips, labels) and their numbering."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PACKING_SLIP = "packing_slip"
    SHIPPING_LABEL = "shipping_label"


class DocumentFormat(StrEnum):
    PDF = "pdf"
    PNG = "png"
    ZPL = "zpl"


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    __table_args__ = (sa.CheckConstraint("size_bytes > 0", name="size_positive"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    kind: DocumentKind = enum_field(DocumentKind)
    format: DocumentFormat = enum_field(DocumentFormat)
    number: str | None = Field(
        default=None,
        max_length=32,
        unique=True,
        description="Invoice or credit note number, never reused.",
    )
    path: str = Field(max_length=300, description="Relative to the documents folder.")
    size_bytes: int
    sha256: str = Field(max_length=64)
    created_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()


class DocumentSequence(SQLModel, table=True):
    """The last number issued per series (e.g. 'FA-2026'); numbers only ever go up."""

    __tablename__ = "document_sequences"
    __table_args__ = (sa.CheckConstraint("last_value >= 0", name="last_value_non_negative"),)

    series: str = Field(primary_key=True, max_length=20)
    last_value: int = 0
