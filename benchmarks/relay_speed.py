"""Relay throughput (events per second) against a baseline producing the same messages
straight from a list, same broker, same producer settings, same run.

    uv run python -m benchmarks.relay_speed [--events 20000] [--batch 500] [--database-url URL]

Starts a tansu broker (memory only, loopback), fills the outbox of a fresh database (a SQLite
file by default, or the given PostgreSQL database, which must be empty) with events of
realistic size over all sixteen domains and many entities, then measures:
- the baseline: an idempotent producer sending the prepared messages from a Python list;
- the relay: reading the outbox in batches, counting attempts, producing, waiting for the
  acknowledgements and marking each batch published.
Prints events per second of each and the relay's share of the baseline.
"""

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from confluent_kafka import Producer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from benchmarks.tansu import TansuBroker
from db import migrate
from db.base import utc_now
from db.engine import create_db_engine
from db.models import DomainEvent
from events.outbox import Message, count_unpublished
from events.relay import Relay, producer_config
from tools.base import AGENTS

console = Console()


def fill_outbox(url: str, count: int) -> list[DomainEvent]:
    engine = create_db_engine(url)
    now = utc_now()
    events = [
        DomainEvent(
            event_id=str(uuid.uuid4()),
            type="order_status_updated",
            domain=AGENTS[i % len(AGENTS)],
            entity_type="order",
            entity_id=str(i % 997),
            payload={"order_id": i % 997, "from": "paid", "to": "processing", "reason": "picking"}
            | {"note": "x" * 120},
            actor="alice@maison-lumen.fr",
            created_at=now,
        )
        for i in range(count)
    ]
    with Session(engine, expire_on_commit=False) as session:
        for start in range(0, count, 5000):
            session.add_all(events[start : start + 5000])
            session.commit()
    engine.dispose()
    return events


def baseline(bootstrap: str, messages: list[Message]) -> float:
    producer = Producer(producer_config(bootstrap))
    started = time.perf_counter()
    for message in messages:
        while True:
            try:
                producer.produce(
                    message.topic, key=message.key, value=message.value, headers=message.headers
                )
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(60)
    assert left == 0, f"{left} messages not acknowledged"
    return time.perf_counter() - started


def relay(url: str, bootstrap: str, batch: int) -> tuple[float, int]:
    engine = create_db_engine(url)
    with Relay(engine, bootstrap, batch_size=batch) as relay_:
        relay_._ensure_topics({f"comptoir.{agent}" for agent in AGENTS})  # as the baseline had
        started = time.perf_counter()
        report = relay_.drain()
        seconds = time.perf_counter() - started
    left = count_unpublished(engine)
    engine.dispose()
    assert left == 0, f"{left} events left unpublished"
    return seconds, report.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default: SQLite).")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'relay.db'}"
        migrate.upgrade(url)
        console.print(f"Filling the outbox with {args.events:,} events...")
        events = fill_outbox(url, args.events)
        messages = [Message.of(event) for event in events]
        with TansuBroker(Path(folder) / "tansu.log") as bootstrap:
            console.print(f"tansu broker on {bootstrap}; producing the baseline...")
            base_s = baseline(bootstrap, messages)
            console.print("relaying the outbox...")
            relay_s, published = relay(url, bootstrap, args.batch)
    assert published == args.events

    backend = "PostgreSQL" if args.database_url else "SQLite"
    table = Table(title=f"Relay throughput, {args.events:,} events, batches of {args.batch}")
    for column in ("path", "seconds", "events/s", "share of baseline"):
        table.add_column(column, justify="left" if column == "path" else "right")
    base_rate, relay_rate = args.events / base_s, args.events / relay_s
    table.add_row("baseline: producer from a list", f"{base_s:.2f}", f"{base_rate:,.0f}", "100%")
    table.add_row(
        f"relay: outbox ({backend}) -> broker, marked",
        f"{relay_s:.2f}",
        f"{relay_rate:,.0f}",
        f"{relay_rate / base_rate:.0%}",
    )
    console.print(table)


if __name__ == "__main__":
    main()
