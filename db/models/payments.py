"""Payment gateways, stored payment methods, payments and refunds."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, non_negative, timestamp_field


class GatewayMode(StrEnum):
    TEST = "test"
    LIVE = "live"


class PaymentGateway(SQLModel, table=True):
    __tablename__ = "payment_gateways"
    __table_args__ = (*non_negative("fee_bp", "fee_fixed_cents"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=120)
    provider: str = Field(max_length=40)
    mode: GatewayMode = enum_field(GatewayMode, default=GatewayMode.TEST)
    is_active: bool = True
    fee_bp: int = Field(default=0, description="Percentage fee in basis points.")
    fee_fixed_cents: int = 0
    created_at: datetime = created_at_field()


class PaymentMethodKind(StrEnum):
    CARD = "card"
    PAYPAL = "paypal"
    SEPA_DEBIT = "sepa_debit"
    BANK_TRANSFER = "bank_transfer"
    MARKETPLACE = "marketplace"


class PaymentMethod(SQLModel, table=True):
    __tablename__ = "payment_methods"
    __table_args__ = (
        sa.CheckConstraint(
            "exp_month IS NULL OR exp_month BETWEEN 1 AND 12", name="exp_month_range"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    gateway_id: int = Field(foreign_key="payment_gateways.id")
    kind: PaymentMethodKind = enum_field(PaymentMethodKind)
    brand: str | None = Field(default=None, max_length=20)
    last4: str | None = Field(default=None, max_length=4)
    exp_month: int | None = None
    exp_year: int | None = None
    fingerprint: str | None = Field(
        default=None,
        max_length=64,
        index=True,
        description="Hash of the card number; never the number.",
    )
    is_default: bool = False
    created_at: datetime = created_at_field()


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"


class Payment(SQLModel, table=True):
    """One payment for an order: authorized, then captured, then perhaps refunded."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        *non_negative("captured_cents", "refunded_cents"),
        sa.CheckConstraint("captured_cents <= amount_cents", name="capture_within_amount"),
        sa.CheckConstraint("refunded_cents <= captured_cents", name="refund_within_capture"),
        sa.Index("ix_payments_status_created_at", "status", "created_at"),
        sa.Index(
            "ix_payments_created_at", "created_at", postgresql_include=["status", "gateway_id"]
        ),
        sa.Index(
            "ix_payments_captured_at",
            "captured_at",
            postgresql_include=["captured_cents", "fee_cents", "gateway_id"],
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    gateway_id: int = Field(foreign_key="payment_gateways.id")
    payment_method_id: int | None = Field(
        default=None,
        foreign_key="payment_methods.id",
        description="None for transfers and marketplaces.",
    )
    status: PaymentStatus = enum_field(PaymentStatus, default=PaymentStatus.PENDING)
    currency: str = Field(default="EUR", max_length=3)
    amount_cents: int
    captured_cents: int = 0
    refunded_cents: int = 0
    fee_cents: int = 0
    provider_reference: str | None = Field(default=None, max_length=64, unique=True)
    failure_code: str | None = Field(default=None, max_length=40)
    failure_message: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    authorized_at: datetime | None = timestamp_field()
    captured_at: datetime | None = timestamp_field()
    updated_at: datetime | None = timestamp_field()


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(SQLModel, table=True):
    __tablename__ = "refunds"
    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.Index("ix_refunds_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payments.id", index=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    return_id: int | None = Field(default=None, foreign_key="return_requests.id", index=True)
    amount_cents: int
    status: RefundStatus = enum_field(RefundStatus, default=RefundStatus.SUCCEEDED)
    reason: str = Field(max_length=200)
    provider_reference: str | None = Field(default=None, max_length=64, unique=True)
    created_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()
