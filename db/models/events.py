"""The outbox of domain events, the audit log, and idempotency records."""

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


class DomainEvent(SQLModel, table=True):
    """A fact that happened, written in the same transaction as the change (outbox pattern)."""

    __tablename__ = "domain_events"
    __table_args__ = (
        *non_negative("attempts"),
        sa.Index("ix_domain_events_published_at_id", "published_at", "id"),
        sa.Index("ix_domain_events_entity", "entity_type", "entity_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True, description="UUID, for de-duplication.")
    type: str = Field(max_length=60, index=True, description="e.g. order_cancelled")
    domain: str = Field(max_length=30)
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=40)
    payload: dict[str, Any] = json_field()
    actor: str = Field(max_length=120)
    created_at: datetime = created_at_field()
    published_at: datetime | None = timestamp_field()
    attempts: int = 0


class AutomationOutcome(StrEnum):
    DONE = "done"  # it called its tools
    SKIPPED = "skipped"  # nothing to do, or a tool refused (the reason is in detail)
    OFF = "off"  # the automation was switched off when the event passed
    FAILED = "failed"  # an unexpected error, several times in a row


class AutomationCursor(SQLModel, table=True):
    """How far in the outbox an automation has read: the last domain_events.id it handled."""

    __tablename__ = "automation_cursors"

    automation: str = Field(primary_key=True, max_length=40)
    last_event_id: int = 0
    updated_at: datetime = created_at_field()


class AutomationRun(SQLModel, table=True):
    """One event handled by one automation; the unique pair keeps a duplicate from firing twice."""

    __tablename__ = "automation_runs"
    __table_args__ = (
        sa.UniqueConstraint("automation", "event_id"),
        sa.Index("ix_automation_runs_automation_processed_at", "automation", "processed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    automation: str = Field(max_length=40)
    event_id: str = Field(max_length=36, description="domain_events.event_id handled.")
    event_type: str = Field(max_length=60)
    outcome: AutomationOutcome = enum_field(AutomationOutcome)
    detail: str = text_field(nullable=False, default="")
    processed_at: datetime = created_at_field()


class AuditChannel(StrEnum):
    REST = "rest"
    CHAT = "chat"
    CLI = "cli"
    AUTOMATION = "automation"
    SEED = "seed"


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_entity", "entity_type", "entity_id"),
        sa.Index("ix_audit_log_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="staff_users.id", index=True)
    actor: str = Field(max_length=120, description="Who did it, e.g. 'alice@maison-lumen.fr'.")
    channel: AuditChannel = enum_field(AuditChannel)
    action: str = Field(max_length=80, description="The tool or operation.")
    entity_type: str = Field(max_length=40)
    entity_id: str = Field(max_length=40)
    before: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    request_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = created_at_field()


class IdempotencyRecord(SQLModel, table=True):
    """The first result of an operation called with an idempotency key, replayed on retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("operation", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    operation: str = Field(max_length=60)
    key: str = Field(max_length=120)
    request_hash: str = Field(max_length=64)
    response: dict[str, Any] = json_field()
    created_at: datetime = created_at_field()
    expires_at: datetime | None = timestamp_field()
