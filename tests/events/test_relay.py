"""The relay against a real Kafka-protocol broker: every event once, in order per entity,
through a crash in the middle of a batch; one relay per database; nothing lost without one."""

import re
import threading
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

import tools
from cli import app as cli_app
from db.base import utc_now
from db.demo.reference import demo_api_key
from db.models import DomainEvent
from events.outbox import Message, count_unpublished, topic_of
from events.relay import Relay, RelayBusy, _Batch
from events.tail import format_line, from_kafka, from_outbox
from server import create_app
from tests.events.conftest import Received, read_since, watermarks
from tests.tools.conftest import STAFF_BY_ROLE

DOMAIN_OF_MODULE = re.compile(r"^(after_sales|[a-z]+)")


def emitted_event_types() -> dict[str, str]:
    """Event types the tools write (literal `event="..."`), with the module's domain."""
    types: dict[str, str] = {"low_stock": "inventory"}
    for path in sorted(Path(tools.__file__).parent.glob("*.py")):
        match = DOMAIN_OF_MODULE.match(path.stem)
        domain = match.group(1) if match else path.stem
        source = path.read_text()
        for found in re.findall(r'\bevent="([a-z_]+)"', source):
            types.setdefault(found, domain)
        for pair in re.findall(r'event = "([a-z_]+)" if .+ else "([a-z_]+)"', source):
            for found in pair:
                types.setdefault(found, domain)
    return types


def fill_outbox(engine: Engine, per_type: int = 3) -> list[DomainEvent]:
    """`per_type` events of every type, over two entities per type, interleaved across types
    so each entity's events land in different batches."""
    types = emitted_event_types()
    assert len(types) >= 70  # the test covers the event catalogue, not a handful
    rows = []
    now = utc_now()
    for round_ in range(per_type):
        for type_, domain in sorted(types.items()):
            rows.append(
                DomainEvent(
                    event_id=str(uuid.uuid4()),
                    type=type_,
                    domain=domain,
                    entity_type=f"{type_}_subject",
                    entity_id=str(round_ % 2),
                    payload={"round": round_},
                    actor="test",
                    created_at=now,
                )
            )
    from sqlmodel import Session

    with Session(engine, expire_on_commit=False) as session:
        session.add_all(rows)
        session.commit()
    return rows


class SimulatedCrash(Exception):
    """The relay process dying after the broker acknowledged, before the outbox is marked."""


class CrashAfterAcks(Relay):
    def __init__(self, *args: Any, crash_in_batch: int, acks: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.crash_in_batch, self.acks, self.batches = crash_in_batch, acks, 0

    def _produce(self, messages: list[Message]) -> _Batch:
        self.batches += 1
        if self.batches < self.crash_in_batch:
            return super()._produce(messages)
        batch = super()._produce(messages[: self.acks])
        assert len(batch.acked) == self.acks
        raise SimulatedCrash


def crash_then_restart(engine: Engine, broker: str, *, confirm: bool) -> tuple[Any, int]:
    crashing = CrashAfterAcks(engine, broker, batch_size=100, crash_in_batch=2, acks=37)
    with pytest.raises(SimulatedCrash), crashing as relay:
        relay.drain()
    restarted = Relay(engine, broker, batch_size=100)
    if not confirm:  # as if the broker could not be read back: in-doubt events are resent
        restarted._in_broker = lambda events, timeout_s=10.0: set()  # type: ignore[method-assign]
    with restarted:
        report = restarted.drain()
    return report, count_unpublished(engine)


def first_occurrences(received: list[Received]) -> list[Received]:
    seen: set[str] = set()
    kept = []
    for message in received:
        if message.event_id not in seen:
            seen.add(message.event_id)
            kept.append(message)
    return kept


def check_order_per_entity(received: list[Received], ids: dict[str, int]) -> None:
    by_key: dict[str, list[Received]] = defaultdict(list)
    for message in received:
        by_key[message.key].append(message)
    for key, messages in by_key.items():
        assert len({(m.topic, m.partition) for m in messages}) == 1, key
        sequence = [ids[m.event_id] for m in messages]
        assert sequence == sorted(sequence), f"{key} out of order: {sequence}"


def test_relay_publishes_every_event_type_once_after_a_crash_mid_batch(
    seeded_engine: Engine, broker: str
) -> None:
    since = watermarks(broker)
    events = fill_outbox(seeded_engine)
    report, left = crash_then_restart(seeded_engine, broker, confirm=True)

    assert left == 0
    assert report.recovered == 37  # acknowledged before the crash: found, not sent again
    assert report.total == len(events) - 100 - 37
    received = read_since(broker, since)
    assert Counter(m.event_id for m in received) == Counter(e.event_id for e in events)
    expected = {e.event_id: e for e in events}
    for message in received:
        event = expected[message.event_id]
        assert message.topic == topic_of(event.domain)
        assert message.key == f"{event.entity_type}:{event.entity_id}"
        assert message.value["type"] == event.type and message.value["payload"] == event.payload
    assert {m.value["type"] for m in received} == set(emitted_event_types())
    check_order_per_entity(received, {e.event_id: e.id or 0 for e in events})


def test_relay_resends_what_it_cannot_confirm_and_consumers_deduplicate(
    seeded_engine: Engine, broker: str
) -> None:
    since = watermarks(broker)
    events = fill_outbox(seeded_engine)
    report, left = crash_then_restart(seeded_engine, broker, confirm=False)

    assert left == 0 and report.recovered == 0
    received = read_since(broker, since)
    counts = Counter(m.event_id for m in received)
    duplicated = [event_id for event_id, n in counts.items() if n > 1]
    second_batch = [e.event_id for e in events[100:137]]
    assert sorted(duplicated) == sorted(second_batch) and max(counts.values()) == 2
    unique = first_occurrences(received)
    assert {m.event_id for m in unique} == {e.event_id for e in events}
    check_order_per_entity(unique, {e.event_id: e.id or 0 for e in events})


def test_relay_marks_events_published_and_counts_attempts(
    seeded_engine: Engine, broker: str, call: Any, sql: Any
) -> None:
    level = sql("SELECT id FROM stock_levels WHERE reorder_point > 0 ORDER BY id LIMIT 1")
    call("manager", "update_stock_settings", stock_level_id=level, bin_location="Z-99-01")
    assert sql("SELECT COUNT(*) FROM domain_events WHERE published_at IS NULL") == 1
    with Relay(seeded_engine, broker) as relay:
        report = relay.drain()
    assert report.total == 1 and report.published == {"comptoir.inventory": 1}
    assert sql("SELECT COUNT(*) FROM domain_events WHERE published_at IS NULL") == 0
    assert sql("SELECT attempts FROM domain_events") == 1


def test_relay_runs_once_per_database(seeded_engine: Engine, broker: str) -> None:
    with Relay(seeded_engine, broker), pytest.raises(RelayBusy, match="another relay"):
        Relay(seeded_engine, broker).__enter__()
    with Relay(seeded_engine, broker) as relay:  # released when the first one ended
        assert relay.lock.held


def test_relay_without_a_broker_leaves_events_in_the_outbox_readable_over_the_api(
    seeded_url: str, seeded_engine: Engine, call: Any, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    level = sql("SELECT id FROM stock_levels WHERE reorder_point > 0 ORDER BY id LIMIT 1")
    call("manager", "update_stock_settings", stock_level_id=level, bin_location="Z-99-02")
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    result = CliRunner().invoke(cli_app, ["events", "relay", "--once"])
    assert result.exit_code == 2
    assert "KAFKA_BOOTSTRAP_SERVERS" in result.output
    assert count_unpublished(seeded_engine) == 1

    key = demo_api_key(42, STAFF_BY_ROLE["support"][1])
    with TestClient(create_app(seeded_engine)) as client:
        headers = {"Authorization": f"Bearer {key}"}
        page = client.get(
            "/api/v1/monitoring/events",
            params={"unpublished_only": True, "domain": "inventory"},
            headers=headers,
        )
        assert page.status_code == 200
        [event] = page.json()["items"]
        assert event["type"] == "stock_settings_updated" and event["published_at"] is None
        assert event["entity_id"] == str(level) and event["attempts"] == 0
        bad = client.get("/api/v1/monitoring/events", params={"limit": 0}, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "limit"
        viewer = demo_api_key(42, STAFF_BY_ROLE["viewer"][1])
        refused = client.get(
            "/api/v1/monitoring/events", headers={"Authorization": f"Bearer {viewer}"}
        )
        assert refused.status_code == 403


def test_tail_follows_the_outbox_and_kafka(
    seeded_engine: Engine, broker: str, call: Any, sql: Any
) -> None:
    level = sql("SELECT id FROM stock_levels WHERE reorder_point > 0 ORDER BY id LIMIT 1")
    call("manager", "update_stock_settings", stock_level_id=level, bin_location="Z-99-03")
    event_id = sql("SELECT event_id FROM domain_events")
    stop = threading.Event()
    timer = threading.Timer(30, stop.set)
    timer.start()
    try:
        outbox = from_outbox(seeded_engine, from_start=True, types=None, stop=stop)
        line = next(outbox)
        assert line["event_id"] == event_id
        shown = format_line(line)
        assert "stock_settings_updated" in shown and f"stock_level:{level}" in shown
        assert f"by {STAFF_BY_ROLE['manager'][1]}" in shown

        with Relay(seeded_engine, broker) as relay:
            relay.drain()
        kafka = from_kafka(
            broker, from_start=True, types=frozenset({"stock_settings_updated"}), stop=stop
        )
        assert any(value["event_id"] == event_id for value in kafka)
    finally:
        stop.set()
        timer.cancel()
