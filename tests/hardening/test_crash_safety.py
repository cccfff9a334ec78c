"""A server killed (SIGKILL) at the worst moments: while an approval waits, while a write waits
inside its transaction, and after a chat tool committed but before the conversation's
checkpoint was saved. After a restart the approval still resumes, and every write happens
exactly once."""

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from benchmarks.served import ServedComptoir
from graph.checkpoint import SCHEMA
from tests.hardening.conftest import api

Sql = Callable[..., list[tuple[Any, ...]]]
TEN_EUROS = 1000


def refundable_payment(sql: Sql) -> int:
    return int(
        sql(
            "SELECT id FROM payments WHERE status = 'captured' "
            "AND captured_cents - refunded_cents >= 5000 ORDER BY id DESC LIMIT 1"
        )[0][0]
    )


def refunds(sql: Sql, payment_id: int) -> list[int]:
    rows = sql("SELECT amount_cents FROM refunds WHERE payment_id = :p ORDER BY id", p=payment_id)
    return [amount for (amount,) in rows]


def wait_until(condition: Callable[[], bool], what: str, limit_s: float = 90) -> None:
    """Poll for a state another process reaches; the limit only stops a test that hangs."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def waiting_on_a_lock(sql: Sql) -> bool:
    return bool(
        sql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )[0][0]
    )


def no_other_session(sql: Sql) -> bool:
    """True once PostgreSQL has ended every session of the killed server (rolling back
    whatever transaction it had open)."""
    return not sql(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )[0][0]


def end_other_sessions(sql: Sql) -> None:
    sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND wait_event_type = 'Lock'"
    )
    wait_until(lambda: not waiting_on_a_lock(sql), "the blocked session ends")


@contextmanager
def postgres_lock(db: Engine, statement: str) -> Iterator[None]:
    """Hold a table lock in a transaction of the test's own until the block ends."""
    with db.connect() as connection, connection.begin() as transaction:
        connection.exec_driver_sql(statement)
        yield
        transaction.rollback()


@contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Hold a SQLite database's write lock (readers go on, writers wait) until the block
    ends."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


def ask_for_a_refund(server: ServedComptoir, payment_id: int) -> str:
    """A chat request whose refund waits for approval; the conversation's id."""
    with api(server) as client:
        message = f"refund 10 EUR of payment {payment_id}, the screen was scratched"
        paused = client.post("/chat", json={"message": message}).json()
    pending = paused["pending_approval"]
    assert pending["tool"] == "refund_payment", paused
    assert pending["args"]["payment_id"] == payment_id
    assert pending["args"]["amount_cents"] == TEN_EUROS
    return str(paused["thread_id"])


def approve(server: ServedComptoir, thread_id: str) -> httpx.Response:
    with api(server) as client:
        return client.post(f"/chat/{thread_id}/approval", json={"decision": "approve"})


def assert_approved_once(server: ServedComptoir, thread_id: str) -> None:
    """The approval resumes the refund; a second approval finds nothing waiting."""
    with api(server) as client:
        history = client.get(f"/chat/{thread_id}").json()
    assert history["pending_approval"]["tool"] == "refund_payment"
    done = approve(server, thread_id)
    assert done.status_code == 200, done.text
    assert [(c["tool"], c["status"], c["approved"]) for c in done.json()["tool_calls"]] == [
        ("refund_payment", "ok", True)
    ]
    assert done.json()["pending_approval"] is None
    again = approve(server, thread_id)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "nothing_to_approve"


def test_approval_resumes_after_the_server_is_killed(server: ServedComptoir, sql: Sql) -> None:
    payment_id = refundable_payment(sql)
    before = refunds(sql, payment_id)
    thread_id = ask_for_a_refund(server, payment_id)

    server.kill()
    assert refunds(sql, payment_id) == before
    server.start()

    assert_approved_once(server, thread_id)
    assert refunds(sql, payment_id) == [*before, TEN_EUROS]


@pytest.mark.parametrize("backend", ["postgres"])
def test_refund_in_flight_at_a_kill_is_not_written_then_retried_once(
    server: ServedComptoir, db: Engine, sql: Sql
) -> None:
    payment_id = refundable_payment(sql)
    before = refunds(sql, payment_id)
    path = f"/payments/transactions/{payment_id}/refund"
    body = {"reason": "screen scratched", "idempotency_key": "crash-1", "amount_cents": TEN_EUROS}

    with (
        postgres_lock(db, "LOCK TABLE refunds IN ACCESS EXCLUSIVE MODE"),
        api(server) as client,
        ThreadPoolExecutor(1) as pool,
    ):
        in_flight: Future[httpx.Response] = pool.submit(client.post, path, json=body)
        wait_until(lambda: waiting_on_a_lock(sql), "the refund waits on the lock")
        server.kill()
        assert isinstance(in_flight.exception(timeout=30), httpx.TransportError)
    wait_until(lambda: no_other_session(sql), "PostgreSQL ends the killed server's sessions")

    assert refunds(sql, payment_id) == before
    assert sql("SELECT count(*) FROM idempotency_records WHERE key = 'crash-1'") == [(0,)]
    server.start()
    with api(server) as client:
        first = client.post(path, json=body)
        again = client.post(path, json=body)

    assert first.status_code == again.status_code == 200
    assert (first.json()["replayed"], again.json()["replayed"]) == (False, True)
    assert again.json()["id"] == first.json()["id"]
    assert refunds(sql, payment_id) == [*before, TEN_EUROS]


def test_refund_committed_before_its_checkpoint_happens_once(
    server: ServedComptoir, backend: str, seeded_url: str, db: Engine, sql: Sql
) -> None:
    payment_id = refundable_payment(sql)
    before = refunds(sql, payment_id)
    thread_id = ask_for_a_refund(server, payment_id)
    if backend == "postgres":
        tables = ", ".join(
            f"{SCHEMA}.{t}" for t in ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
        )
        # EXCLUSIVE lets the server read the checkpoint (to resume) but not write one.
        blocked = postgres_lock(db, f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
    else:
        database = Path(sa.engine.make_url(seeded_url).database or "")
        blocked = sqlite_write_lock(database.with_suffix(".checkpoints.db"))

    with blocked, ThreadPoolExecutor(1) as pool:
        resumed = pool.submit(approve, server, thread_id)
        wait_until(lambda: len(refunds(sql, payment_id)) > len(before), "the refund commits")
        if backend == "postgres":
            wait_until(lambda: waiting_on_a_lock(sql), "the checkpoint write waits")
        server.kill()
        if backend == "postgres":
            # The killed server had sent the checkpoint's INSERT on an autocommit connection:
            # PostgreSQL would still run it once the lock is gone. End that session first, as
            # if the process had died before the statement left it.
            end_other_sessions(sql)
        resumed.exception(timeout=30)  # the connection dropped (or SQLite gave up waiting)

    assert refunds(sql, payment_id) == [*before, TEN_EUROS]
    server.start()
    assert_approved_once(server, thread_id)  # the conversation still waits: run it again
    assert refunds(sql, payment_id) == [*before, TEN_EUROS]
