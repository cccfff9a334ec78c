"""Fraud checks with their signals, and entities blocked from ordering."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from db.base import created_at_field, enum_field, json_field, timestamp_field


class FraudDecision(StrEnum):
    ALLOW = "allow"
    FLAG = "flag"
    REVIEW = "review"
    BLOCK = "block"


class FraudCheck(SQLModel, table=True):
    __tablename__ = "fraud_checks"
    __table_args__ = (
        sa.CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
        sa.CheckConstraint("order_id IS NOT NULL OR customer_id IS NOT NULL", name="has_subject"),
        sa.Index("ix_fraud_checks_decision_created_at", "decision", "created_at"),
        sa.Index(
            "ix_fraud_checks_created_at", "created_at", postgresql_include=["decision", "score"]
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True)
    score: int
    decision: FraudDecision = enum_field(FraudDecision)
    signals: list[dict[str, Any]] = json_field(default_factory=list)
    checked_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()


class BlockedEntityKind(StrEnum):
    CUSTOMER = "customer"
    EMAIL = "email"
    IP = "ip"
    CARD_FINGERPRINT = "card_fingerprint"


class BlockedEntity(SQLModel, table=True):
    __tablename__ = "blocked_entities"
    __table_args__ = (
        # At most one active block per entity; past blocks stay as history.
        sa.Index(
            "uq_blocked_entities_active",
            "kind",
            "value",
            unique=True,
            sqlite_where=sa.text("unblocked_at IS NULL"),
            postgresql_where=sa.text("unblocked_at IS NULL"),
        ),
        sa.Index("ix_blocked_entities_kind_value", "kind", "value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: BlockedEntityKind = enum_field(BlockedEntityKind)
    value: str = Field(max_length=254)
    reason: str = Field(max_length=300)
    blocked_by: str = Field(max_length=120)
    created_at: datetime = created_at_field()
    expires_at: datetime | None = timestamp_field()
    unblocked_at: datetime | None = timestamp_field()
    unblocked_by: str | None = Field(default=None, max_length=120)
