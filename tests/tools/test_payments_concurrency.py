"""Refunds under concurrency: twenty requests at once, on SQLite and PostgreSQL alike."""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.tools.conftest import actor
from tools import load_tools
from tools.base import Conflict, run_tool

load_tools()

REQUESTS = 20


def refund_at_once(engine: Engine, payment_id: int, amount: int, keys: list[str]) -> list[Any]:
    """Send one refund_payment per key, all released at the same moment; results or errors."""
    start = threading.Barrier(len(keys))

    def refund(key: str) -> Any:
        start.wait()
        try:
            return run_tool(
                engine,
                actor("manager"),
                "refund_payment",
                {
                    "payment_id": payment_id,
                    "amount_cents": amount,
                    "reason": "concurrent refund test",
                    "idempotency_key": key,
                },
            )
        except Conflict as error:
            return error

    with ThreadPoolExecutor(max_workers=len(keys)) as pool:
        return list(pool.map(refund, keys))


@pytest.fixture
def captured(sql: Any) -> tuple[int, int]:
    """(payment id, captured cents) of a shop payment captured and never refunded."""
    payment = sql(
        "SELECT MIN(p.id) FROM payments p JOIN orders o ON o.id = p.order_id"
        " WHERE p.status = 'captured' AND o.channel = 'shop' AND p.captured_cents >= 20000"
    )
    return payment, sql("SELECT captured_cents FROM payments WHERE id = :p", p=payment)


def test_refund_payment_with_one_key_twenty_times_at_once_refunds_once(
    seeded_engine: Engine, sql: Any, captured: tuple[int, int]
) -> None:
    payment_id, _ = captured
    results = refund_at_once(seeded_engine, payment_id, 1000, ["same-key"] * REQUESTS)
    assert not [r for r in results if isinstance(r, Exception)]
    assert {r.id for r in results} == {results[0].id}
    assert sum(not r.replayed for r in results) == 1
    assert sql("SELECT COUNT(*) FROM refunds WHERE payment_id = :p", p=payment_id) == 1
    assert sql("SELECT refunded_cents FROM payments WHERE id = :p", p=payment_id) == 1000
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'refund_created'") == 1


def test_refund_payment_twenty_keys_at_once_never_exceed_the_capture(
    seeded_engine: Engine, sql: Any, captured: tuple[int, int]
) -> None:
    payment_id, captured_cents = captured
    amount = captured_cents // 7 + 1  # seven of them would exceed what was captured
    keys = [f"refund-{n}" for n in range(REQUESTS)]
    results = refund_at_once(seeded_engine, payment_id, amount, keys)
    done = [r for r in results if not isinstance(r, Conflict)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(done) == captured_cents // amount == 6
    assert len(refused) == REQUESTS - 6 and all("left on payment" in r.message for r in refused)
    refunded = sql("SELECT refunded_cents FROM payments WHERE id = :p", p=payment_id)
    total = sql("SELECT SUM(amount_cents) FROM refunds WHERE payment_id = :p", p=payment_id)
    assert refunded == total == 6 * amount <= captured_cents
    assert sql("SELECT status FROM payments WHERE id = :p", p=payment_id) == "partially_refunded"
    assert sql("SELECT COUNT(*) FROM idempotency_records") == 6
