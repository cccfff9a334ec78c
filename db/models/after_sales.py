"""Returns (RMAs), satisfaction surveys and warranty claims."""

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, text_field, timestamp_field


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class ReturnReason(StrEnum):
    CHANGED_MIND = "changed_mind"
    DEFECTIVE = "defective"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    OTHER = "other"


class ReturnRequest(SQLModel, table=True):
    __tablename__ = "return_requests"
    __table_args__ = (
        *non_negative("refund_cents"),
        sa.Index("ix_return_requests_status_requested_at", "status", "requested_at"),
        sa.Index("ix_return_requests_customer_id_requested_at", "customer_id", "requested_at"),
        sa.Index("ix_return_requests_requested_at", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rma_number: str = Field(max_length=24, unique=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    customer_id: int = Field(foreign_key="customers.id")
    status: ReturnStatus = enum_field(ReturnStatus, default=ReturnStatus.REQUESTED)
    reason: ReturnReason = enum_field(ReturnReason)
    customer_comment: str | None = text_field()
    refund_cents: int = Field(default=0, description="Refund due, computed from what was paid.")
    rejection_reason: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=120)
    requested_at: datetime = created_at_field()
    authorized_at: datetime | None = timestamp_field()
    received_at: datetime | None = timestamp_field()
    inspected_at: datetime | None = timestamp_field()
    closed_at: datetime | None = timestamp_field()


class ItemCondition(StrEnum):
    UNOPENED = "unopened"
    OPENED = "opened"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"


class ReturnLine(SQLModel, table=True):
    __tablename__ = "return_lines"
    __table_args__ = (
        sa.UniqueConstraint("return_id", "order_line_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        *non_negative("refund_cents"),
    )

    id: int | None = Field(default=None, primary_key=True)
    return_id: int = Field(foreign_key="return_requests.id", index=True)
    order_line_id: int = Field(foreign_key="order_lines.id", index=True)
    quantity: int
    condition: ItemCondition = enum_field(ItemCondition)
    refund_cents: int = 0


class SurveyStatus(StrEnum):
    DUE = "due"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"


class SatisfactionSurvey(SQLModel, table=True):
    __tablename__ = "satisfaction_surveys"
    __table_args__ = (
        sa.CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score_range"),
        sa.CheckConstraint("nps IS NULL OR nps BETWEEN 0 AND 10", name="nps_range"),
        sa.Index("ix_satisfaction_surveys_status_due_at", "status", "due_at"),
        sa.Index(
            "ix_satisfaction_surveys_sent_at",
            "sent_at",
            postgresql_include=["status", "score", "nps"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", unique=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    status: SurveyStatus = enum_field(SurveyStatus, default=SurveyStatus.DUE)
    score: int | None = None
    nps: int | None = None
    comment: str | None = text_field()
    due_at: datetime = created_at_field()
    sent_at: datetime | None = timestamp_field()
    answered_at: datetime | None = timestamp_field()


class WarrantyStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    REPAIRED = "repaired"
    REPLACED = "replaced"
    REFUNDED = "refunded"


class WarrantyClaim(SQLModel, table=True):
    __tablename__ = "warranty_claims"
    __table_args__ = (sa.Index("ix_warranty_claims_status_created_at", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_number: str = Field(max_length=24, unique=True)
    order_line_id: int = Field(foreign_key="order_lines.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    status: WarrantyStatus = enum_field(WarrantyStatus, default=WarrantyStatus.SUBMITTED)
    fault_description: str = text_field(nullable=False, default="")
    resolution: str | None = Field(default=None, max_length=300)
    warranty_ends_on: date
    created_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()
    decided_at: datetime | None = timestamp_field()
    decided_by: str | None = Field(default=None, max_length=120)
