"""Reading the outbox (domain_events) and turning an event into a Kafka message."""

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.base import as_utc, utc_now
from db.models import DomainEvent

TOPIC_PREFIX = "comptoir."
# An id below the newest one that has not committed yet may still appear (PostgreSQL hands
# out ids at insert, transactions commit in any order). A reader that keeps a cursor waits
# this long for such a gap to fill before reading past it; rolled-back ids never fill.
GAP_SETTLE = timedelta(seconds=10)


def topic_of(domain: str) -> str:
    return f"{TOPIC_PREFIX}{domain}"


def key_of(event: Any) -> str:
    """The message key: every event of one entity goes to one partition, so stays in order."""
    return f"{event.entity_type}:{event.entity_id}"


def message_value(event: Any) -> dict[str, Any]:
    """The message body; `event` is a DomainEvent or a row with its columns."""
    return {
        "event_id": event.event_id,
        "type": event.type,
        "domain": event.domain,
        "entity": {"type": event.entity_type, "id": event.entity_id},
        "payload": event.payload,
        "actor": event.actor,
        "created_at": as_utc(event.created_at).isoformat(),
    }


@dataclass(frozen=True)
class Message:
    """One outbox event as it goes to Kafka."""

    id: int
    event_id: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, str | bytes | None]]

    @classmethod
    def of(cls, event: Any) -> "Message":
        return cls(
            id=event.id or 0,
            event_id=event.event_id,
            topic=topic_of(event.domain),
            key=key_of(event).encode(),
            value=json.dumps(message_value(event), default=str, separators=(",", ":")).encode(),
            headers=[("event_id", event.event_id.encode()), ("type", event.type.encode())],
        )


def unpublished(session: Session, limit: int) -> list[Any]:
    """The oldest events not yet acknowledged by the broker, in id (= commit) order, as rows
    with the table's columns (no ORM objects: the relay reads many and changes none)."""
    table = DomainEvent.__table__  # type: ignore[attr-defined]
    statement = (
        sa.select(*table.columns)
        .where(table.c.published_at.is_(None))
        .order_by(table.c.id)
        .limit(limit)
    )
    return list(session.execute(statement).all())


def count_unpublished(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(
            select(sa.func.count()).where(col(DomainEvent.published_at).is_(None))
        ).one()


def last_event_id(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.exec(select(sa.func.coalesce(sa.func.max(DomainEvent.id), 0))).one() or 0
        )


def read_after(
    session: Session, after_id: int, limit: int, types: frozenset[str] | None = None
) -> tuple[list[DomainEvent], int]:
    """Events after `after_id` in id order, stopping before an id gap younger than
    GAP_SETTLE; and the id a cursor may safely move to (past events of other types too).

    Ids are checked across all types, so a reader of a few types still waits for a gap that
    may hold one of them."""
    rows = session.exec(
        select(DomainEvent.id, DomainEvent.type, DomainEvent.created_at)
        .where(col(DomainEvent.id) > after_id)
        .order_by(col(DomainEvent.id))
        .limit(limit)
    ).all()
    settled_before = utc_now() - GAP_SETTLE
    wanted: list[int] = []
    safe = after_id
    for id_, type_, created_at in rows:
        assert id_ is not None
        if id_ != safe + 1 and as_utc(created_at) > settled_before:
            break  # an earlier id may still commit: read it before going past
        safe = id_
        if types is None or type_ in types:
            wanted.append(id_)
    if not wanted:
        return [], safe
    events = session.exec(
        select(DomainEvent).where(col(DomainEvent.id).in_(wanted)).order_by(col(DomainEvent.id))
    ).all()
    return list(events), safe
