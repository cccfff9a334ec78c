"""Reservations under concurrent requests: fifty buyers, ten units, never oversold."""

import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import tools.inventory  # noqa: F401  (registers the inventory tools)
from tests.tools.conftest import actor
from tools.base import Conflict, run_tool

THREADS = 50
UNITS = 10


def test_reserve_stock_never_oversells_under_concurrent_requests(
    seeded_engine: Engine, sql: Any
) -> None:
    level_id, sku, warehouse_id = _an_unreserved_level(seeded_engine)
    with seeded_engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE stock_levels SET on_hand = :n, reserved = 0 WHERE id = :id"),
            {"n": UNITS, "id": level_id},
        )
    reservations_before = sql("SELECT COUNT(*) FROM stock_reservations")
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def buy(index: int) -> None:
        barrier.wait()
        try:
            results[index] = run_tool(
                seeded_engine,
                actor("support"),
                "reserve_stock",
                {"sku": sku, "warehouse_id": warehouse_id, "quantity": 1},
            )
        except Exception as error:  # every outcome is inspected below
            results[index] = error

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    succeeded = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(succeeded) == UNITS, [repr(e) for e in failed if not isinstance(e, Conflict)]
    assert len(failed) == THREADS - UNITS
    assert all(isinstance(e, Conflict) and e.code == "insufficient_stock" for e in failed), {
        repr(e) for e in failed
    }
    assert len({r.id for r in succeeded}) == UNITS
    assert sql("SELECT reserved FROM stock_levels WHERE id = :id", id=level_id) == UNITS
    assert sql("SELECT on_hand FROM stock_levels WHERE id = :id", id=level_id) == UNITS
    active = sql(
        "SELECT COUNT(*) FROM stock_reservations r JOIN stock_levels s"
        " ON s.variant_id = r.variant_id AND s.warehouse_id = r.warehouse_id"
        " WHERE s.id = :id AND r.status = 'active'",
        id=level_id,
    )
    assert active == UNITS
    assert sql("SELECT COUNT(*) FROM stock_reservations") == reservations_before + UNITS
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'stock_reserved'") == UNITS


def _an_unreserved_level(engine: Engine) -> tuple[int, str, int]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.text(
                "SELECT s.id, v.sku, s.warehouse_id FROM stock_levels s"
                " JOIN product_variants v ON v.id = s.variant_id"
                " JOIN warehouses w ON w.id = s.warehouse_id"
                " WHERE s.reserved = 0 AND w.is_active AND NOT EXISTS (SELECT 1"
                " FROM stock_reservations r WHERE r.variant_id = s.variant_id"
                " AND r.warehouse_id = s.warehouse_id AND r.status = 'active')"
                " ORDER BY s.id LIMIT 1"
            )
        ).one()
    return int(row[0]), str(row[1]), int(row[2])
