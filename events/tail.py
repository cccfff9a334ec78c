"""Following events as they happen: from Kafka when a broker is configured, else the outbox."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, TopicPartition
from sqlalchemy.engine import Engine
from sqlmodel import Session

from events.outbox import TOPIC_PREFIX, last_event_id, message_value, read_after

Line = dict[str, Any]  # an event as in a Kafka message value (events.outbox.message_value)


def format_line(event: Line, width: int | None = None) -> str:
    """One readable line: time, type, entity, actor, then the payload (cut at `width`)."""
    moment = datetime.fromisoformat(event["created_at"]).strftime("%Y-%m-%d %H:%M:%S")
    entity = f"{event['entity']['type']}:{event['entity']['id']}"
    payload = json.dumps(event.get("payload") or {}, separators=(",", ":"), default=str)
    line = f"{moment}  {event['type']:<28} {entity:<26} by {event['actor']}  {payload}"
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


def from_outbox(
    engine: Engine,
    *,
    from_start: bool,
    types: frozenset[str] | None,
    stop: threading.Event,
    poll_s: float = 1.0,
) -> Iterator[Line]:
    """Events from the outbox as they commit, oldest first (all of them with from_start)."""
    cursor = 0 if from_start else last_event_id(engine)
    while not stop.is_set():
        with Session(engine) as session:
            events, cursor = read_after(session, cursor, 500, types)
        yield from (message_value(e) for e in events)
        if not events:
            stop.wait(poll_s)


def from_kafka(
    bootstrap_servers: str,
    *,
    from_start: bool,
    types: frozenset[str] | None,
    stop: threading.Event,
    refresh_s: float = 5.0,
) -> Iterator[Line]:
    """Events from every comptoir.* topic; topics created later join within `refresh_s`.
    Partitions are read without a consumer group: tailing never moves anyone's offsets."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": "comptoir-tail",
            "enable.auto.commit": False,
        }
    )
    assigned: set[tuple[str, int]] = set()
    first = True
    refreshed = 0.0
    try:
        while not stop.is_set():
            if time.monotonic() - refreshed > refresh_s:
                new = _partitions(consumer) - assigned
                if new:
                    # Topics that appear after we started are read from their beginning.
                    offset = OFFSET_BEGINNING if from_start or not first else OFFSET_END
                    consumer.incremental_assign([TopicPartition(t, p, offset) for t, p in new])
                    assigned |= new
                first, refreshed = False, time.monotonic()
            for message in consumer.consume(100, 0.5):
                if message.error() or message.value() is None:
                    continue
                value = json.loads(message.value())  # type: ignore[arg-type]
                if types is None or value.get("type") in types:
                    yield value
    finally:
        consumer.close()


def _partitions(consumer: Consumer) -> set[tuple[str, int]]:
    topics = consumer.list_topics(timeout=10).topics
    return {
        (name, partition)
        for name, topic in topics.items()
        if name.startswith(TOPIC_PREFIX)
        for partition in topic.partitions
    }


def follow(
    engine: Engine,
    bootstrap_servers: str | None,
    *,
    from_start: bool,
    types: frozenset[str] | None,
    stop: threading.Event,
    write: Callable[[str], None],
    width: int | None = None,
) -> None:
    source = (
        from_kafka(bootstrap_servers, from_start=from_start, types=types, stop=stop)
        if bootstrap_servers
        else from_outbox(engine, from_start=from_start, types=types, stop=stop)
    )
    for event in source:
        write(format_line(event, width))
