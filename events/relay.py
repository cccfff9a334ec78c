"""The relay: outbox events to Kafka, at least once, in order per entity.

A pass takes the oldest unpublished events (id order), counts an attempt on each and
commits that, produces them (topic `comptoir.<domain>`, key `<entity_type>:<entity_id>`)
with an idempotent producer, waits for the broker's acknowledgements and only then sets
`published_at` on the acknowledged ones.

- A crash before the marks leaves the events unpublished with attempts > 0: "in doubt".
  The next pass looks for them at the end of their topics' partitions (the relay is the only
  producer there, and the lock makes it the only relay) and marks the ones the broker already
  has instead of sending them again. What it cannot confirm is sent again: at least once,
  and consumers de-duplicate by `event_id` (also a message header).
- A delivery error stops the pass; the failed event is the oldest unpublished one, so it is
  retried first. The idempotent producer keeps each partition gapless and in order, so no
  later event of the same entity can be acknowledged ahead of it.
"""

import functools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from core.logging import get_logger
from db.base import utc_now
from db.models import DomainEvent
from events.lock import RunnerLock
from events.outbox import Message, unpublished

log = get_logger("comptoir.events.relay")

LOCK_NAME = "relay"
TOPIC_PARTITIONS = 3


def producer_config(bootstrap_servers: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap_servers,
        # Idempotence: retries never duplicate nor reorder within a partition.
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 30_000,
        # The partitioner of the Java clients, so other producers' keys land alike.
        "partitioner": "murmur2_random",
    }


class RelayBusy(RuntimeError):
    """Another relay holds this database's relay lock."""


class DeliveryFailed(RuntimeError):
    pass


@dataclass
class RelayReport:
    published: Counter[str] = field(default_factory=Counter)  # per topic
    recovered: int = 0  # in doubt after a crash, found in the broker, marked without resending
    batches: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.published.values())


@dataclass
class _Batch:
    acked: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)


class Relay:
    """Publishes the outbox of `engine` to the broker at `bootstrap_servers`."""

    def __init__(
        self,
        engine: Engine,
        bootstrap_servers: str,
        *,
        batch_size: int = 500,
        producer: Producer | None = None,
        flush_timeout_s: float = 60.0,
    ) -> None:
        self.engine = engine
        self.bootstrap_servers = bootstrap_servers
        self.batch_size = batch_size
        self.flush_timeout_s = flush_timeout_s
        self.producer = producer or Producer(producer_config(bootstrap_servers))
        self.lock = RunnerLock(engine, LOCK_NAME)
        self._topics: set[str] | None = None

    # -- running -------------------------------------------------------------------------

    def __enter__(self) -> "Relay":
        if not self.lock.try_acquire():
            raise RelayBusy("another relay is publishing this database's events")
        return self

    def __exit__(self, *_: object) -> None:
        self.producer.flush(self.flush_timeout_s)
        self.lock.release()

    def drain(self, on_batch: Callable[[int], None] | None = None) -> RelayReport:
        """Publish until the outbox has nothing unpublished; `on_batch(n)` after each batch."""
        report = RelayReport()
        started = time.perf_counter()
        while self.publish_batch(report, on_batch):
            pass
        report.seconds = time.perf_counter() - started
        return report

    def publish_batch(
        self, report: RelayReport, on_batch: Callable[[int], None] | None = None
    ) -> int:
        """One batch; returns how many events it settled (0: the outbox is drained)."""
        if not self.lock.held:
            raise RelayBusy("enter the relay (with Relay(...) as relay) before publishing")
        with Session(self.engine) as session:
            events = unpublished(session, self.batch_size)
        if not events:
            return 0
        in_doubt = [e for e in events if e.attempts > 0]
        found = self._in_broker(in_doubt) if in_doubt else set()
        if found:
            self._mark([e.id or 0 for e in in_doubt if e.event_id in found])
            report.recovered += len(found)
            log.info("in-doubt events found in the broker, not resent", count=len(found))
        messages = [Message.of(e) for e in events if e.event_id not in found]
        if messages:
            self._count_attempt([m.id for m in messages])
            self._ensure_topics({m.topic for m in messages})
            batch = self._produce(messages)
            self._mark(batch.acked)
            by_id = {m.id: m.topic for m in messages}
            report.published.update(by_id[i] for i in batch.acked)
            if batch.errors:
                first = min(batch.errors)
                raise DeliveryFailed(
                    f"the broker did not take event {first}: {batch.errors[first]} "
                    f"({len(batch.errors)} failed in this batch; they stay in the outbox)"
                )
        report.batches += 1
        settled = len(messages) + len(found)
        if on_batch:
            on_batch(settled)
        return settled

    def run(self, stop: Any, poll_s: float = 1.0, retry_s: float = 5.0) -> None:
        """Publish as events arrive until `stop` (a threading.Event) is set."""
        while not stop.is_set():
            try:
                report = self.drain()
                if report.total or report.recovered:
                    log.info("published", events=report.total, recovered=report.recovered)
                stop.wait(poll_s)
            except (DeliveryFailed, KafkaException) as error:
                log.warning("relay pass failed; retrying", error=str(error))
                stop.wait(retry_s)

    # -- the steps -------------------------------------------------------------------------

    def _count_attempt(self, ids: list[int]) -> None:
        """Committed before producing: an event with attempts > 0 and no published_at may
        already be in the broker."""
        with Session(self.engine) as session:
            session.execute(
                sa.update(DomainEvent)
                .where(col(DomainEvent.id).in_(ids))
                .values(attempts=col(DomainEvent.attempts) + 1)
            )
            session.commit()

    def _mark(self, ids: list[int], at: datetime | None = None) -> None:
        if not ids:
            return
        moment = at or utc_now()
        with Session(self.engine) as session:
            for start in range(0, len(ids), 1000):
                session.execute(
                    sa.update(DomainEvent)
                    .where(col(DomainEvent.id).in_(ids[start : start + 1000]))
                    .values(published_at=moment)
                )
            session.commit()

    def _produce(self, messages: list[Message]) -> _Batch:
        batch = _Batch()

        def delivered(event_id: int, error: KafkaError | None, _message: Any) -> None:
            if error is None:
                batch.acked.append(event_id)
            else:
                batch.errors[event_id] = error.str()

        for message in messages:
            while True:
                try:
                    self.producer.produce(
                        message.topic,
                        key=message.key,
                        value=message.value,
                        headers=message.headers,
                        on_delivery=functools.partial(delivered, message.id),
                    )
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    self.producer.poll(0.1)
            self.producer.poll(0)
        left = self.producer.flush(self.flush_timeout_s)
        if left:
            for message in messages:
                if message.id not in batch.acked:
                    batch.errors.setdefault(message.id, f"no acknowledgement in {left} pending")
        return batch

    def _ensure_topics(self, topics: set[str]) -> None:
        """Create missing topics (brokers that auto-create them would too, with their own
        defaults); a topic created meanwhile by someone else is fine."""
        if self._topics is not None and topics <= self._topics:
            return
        admin = AdminClient({"bootstrap.servers": self.bootstrap_servers})
        if self._topics is None:
            self._topics = set(admin.list_topics(timeout=10).topics)
        missing = topics - self._topics
        if not missing:
            return
        futures = admin.create_topics(
            [NewTopic(t, num_partitions=TOPIC_PARTITIONS, replication_factor=-1) for t in missing]
        )
        for topic, future in futures.items():
            try:
                future.result(timeout=10)
            except KafkaException as error:
                if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise
            self._topics.add(topic)

    def _in_broker(self, events: list[Any], timeout_s: float = 10.0) -> set[str]:
        """Which of these in-doubt events the broker already holds: read the last messages
        of every partition of their topics (as many as there are events in doubt)."""
        wanted = {e.event_id for e in events}
        topics = Counter(Message.of(e).topic for e in events)
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap_servers,
                "group.id": "comptoir-relay-recovery",
                "enable.auto.commit": False,
                # The end of a partition is where the consumer says so, not the high
                # watermark, which some Kafka-compatible brokers report late (tansu 0.6).
                "enable.partition.eof": True,
            }
        )
        found: set[str] = set()
        try:
            metadata = consumer.list_topics(timeout=timeout_s)
            assignments, pending = [], set()
            for topic, count in topics.items():
                if topic not in metadata.topics:
                    continue
                for partition in metadata.topics[topic].partitions:
                    low, high = consumer.get_watermark_offsets(
                        TopicPartition(topic, partition), timeout=timeout_s
                    )
                    if high > low:
                        start = max(low, high - count)
                        assignments.append(TopicPartition(topic, partition, start))
                        pending.add((topic, partition))
            if not assignments:
                return found
            consumer.assign(assignments)
            deadline = time.monotonic() + timeout_s
            while pending and time.monotonic() < deadline:
                for message in consumer.consume(500, 0.5):
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            pending.discard((message.topic() or "", message.partition() or 0))
                        continue
                    headers = dict(message.headers() or [])
                    raw = headers.get("event_id") or b""
                    event_id = raw.decode() if isinstance(raw, bytes) else raw
                    if event_id in wanted:
                        found.add(event_id)
            if pending:
                log.warning("could not read every partition's end; unconfirmed events resent")
        except KafkaException as error:
            log.warning("could not look for in-doubt events; resending them", error=str(error))
        finally:
            consumer.close()
        return found
