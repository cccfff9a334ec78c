"""The load benchmark's workload, briefly, against a real server on PostgreSQL: proof that
benchmarks/load.py runs and that its invariant checks hold under concurrent clients."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from benchmarks.load import MAX_ERROR_RATE, run_load, told_checks
from benchmarks.load_workload import Catalog, Workload
from benchmarks.served import staff_key
from db.invariants import SAMPLE


@pytest.mark.parametrize("backend", ["postgres"])
def test_load_keeps_every_invariant(seeded_url: str, tmp_path: Path) -> None:
    report = run_load(seeded_url, clients=8, seconds=10, run_dir=tmp_path)

    assert [check.name for check in report.failed_checks] == []
    assert report.error_rate < MAX_ERROR_RATE, report.json()["operations"]
    assert report.stats["create order"].ok > 0
    told = {check.name: check.rows for check in report.checks}
    assert told["orders_told_exist_once"] == report.stats["create order"].ok
    assert len(report.memory.samples) >= 2


def test_told_checks_name_what_the_clients_were_not_told(seeded_engine: Engine) -> None:
    catalog = Catalog.read(seeded_engine)
    catalog.last_order_id = catalog.last_refund_id = 0  # judge the seeded rows as the run's
    workload = Workload("http://127.0.0.1:9", staff_key("manager"), catalog, "run1", seed=42)
    with seeded_engine.begin() as connection:
        connection.execute(sa.text("UPDATE orders SET note = 'load-run1-a' WHERE id = 5"))
        connection.execute(sa.text("UPDATE orders SET note = 'load-run1-b' WHERE id = 6"))
        seeded_refunds = connection.execute(
            sa.text("SELECT id FROM refunds WHERE created_by = :who ORDER BY id"),
            {"who": "thomas.bernard@maison-lumen.fr"},
        ).scalars()
        told_refund, *untold_refunds = [str(r) for r in seeded_refunds]
    workload.ledger.orders = {"load-run1-a": 5, "load-run1-c": 7}  # c: told, never made
    workload.ledger.refunds = {int(told_refund), 10**9}
    workload.ledger.anomalies = ["refund 1 of 2 cents accepted above the capture"]

    checks = {c.name: c for c in told_checks(seeded_engine, catalog, workload)}

    assert {name: c.sample for name, c in checks.items() if not c.ok} == {
        "orders_told_exist_once": ["load-run1-c: []"],
        "no_untold_orders": ["load-run1-b"],
        "refunds_told_exist": [str(10**9)],
        "no_untold_refunds": untold_refunds[:SAMPLE],
        "retries_replayed": ["refund 1 of 2 cents accepted above the capture"],
    }
