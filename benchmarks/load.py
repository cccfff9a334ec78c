"""Load on loopback against a served Comptoir on PostgreSQL, then the database's invariants.

    uv run python -m benchmarks.load [--clients 32] [--duration 180]
        [--postgres-url postgresql://postgres@127.0.0.1:5432/postgres] [--seed 42]
        [--keep] [--json FILE]

Creates a fresh PostgreSQL database (unique name), seeds the small demo (as of yesterday),
serves it with `comptoir serve` on a free loopback port (automations on, warm start off), and
runs the clients of benchmarks/load_workload.py for the duration while sampling the server's
memory (RSS) every second. Then it stops the server and checks the database: the invariants
of db/invariants.py (stock, reservations, refunds, totals, loyalty), and what the clients
were told (every order and refund they were told of exists once, none exists they were not
told of beyond the requests that got no answer, retried keys replayed the first answer).

Exit code 1 when a check fails or when errors (5xx, timeouts, failed connections) reach
0.1% of the requests. The database is dropped at the end unless --keep.
"""

import argparse
import asyncio
import importlib
import importlib.util
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from benchmarks.load_workload import Catalog, Ledger, OpStats, Workload, combined
from benchmarks.seed_speed import drop, fresh_database
from benchmarks.served import ServedComptoir, staff_key
from cli.console import counting_progress
from cli.database import invariants_table
from db.demo.seed import SCALES, seed_database
from db.engine import create_db_engine
from db.invariants import SAMPLE, Check, check_invariants

MAX_ERROR_RATE = 0.001
ROLE = "manager"  # refunds, cancellations and releases need a manager
console = Console(width=None if sys.stdout.isatty() else 132)


# -- the server's memory --------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process in MiB: psutil when installed, else Linux's /proc."""
    if importlib.util.find_spec("psutil"):
        psutil = importlib.import_module("psutil")
        return float(psutil.Process(pid).memory_info().rss) / 2**20
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kib = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None)
    return int(kib) / 1024 if kib else None


@dataclass
class MemoryTrace:
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB)

    @property
    def start(self) -> float:
        return self.samples[0][1]

    @property
    def peak(self) -> float:
        return max(mb for _, mb in self.samples)

    @property
    def end(self) -> float:
        return self.samples[-1][1]

    def slope_mb_per_minute(self) -> float:
        """Least-squares slope of RSS over time, after the first tenth of the run (warm-up:
        pools filling, first statements compiled)."""
        if len(self.samples) < 3:
            return 0.0
        settled = [s for s in self.samples if s[0] >= self.samples[-1][0] / 10] or self.samples
        n = len(settled)
        mean_t = sum(t for t, _ in settled) / n
        mean_m = sum(m for _, m in settled) / n
        spread = sum((t - mean_t) ** 2 for t, _ in settled)
        if spread == 0:
            return 0.0
        return 60 * sum((t - mean_t) * (m - mean_m) for t, m in settled) / spread


# -- a run ------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    clients: int
    seconds: float
    stats: dict[str, OpStats]
    refusals: dict[str, int]
    failures: dict[str, int]
    memory: MemoryTrace
    checks: list[Check]
    server_log: Path

    @property
    def totals(self) -> OpStats:
        return combined(self.stats.values())

    @property
    def error_rate(self) -> float:
        return self.totals.errors / max(1, self.totals.requests)

    @property
    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def passed(self) -> bool:
        return not self.failed_checks and self.error_rate < MAX_ERROR_RATE

    def json(self) -> dict[str, Any]:
        totals = self.totals
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "requests": totals.requests,
            "ok": totals.ok,
            "refused": totals.refused,
            "errors": totals.errors,
            "error_rate": self.error_rate,
            "operations": {
                op: {
                    "requests": s.requests,
                    "ok": s.ok,
                    "refused": s.refused,
                    "errors": s.errors,
                    "p50_ms": s.percentile(50),
                    "p95_ms": s.percentile(95),
                }
                for op, s in sorted(self.stats.items())
            },
            "refusals": self.refusals,
            "failures": self.failures,
            "rss_mb": {
                "start": self.memory.start,
                "peak": self.memory.peak,
                "end": self.memory.end,
                "slope_per_minute": self.memory.slope_mb_per_minute(),
            },
            "checks": [asdict(check) | {"ok": check.ok} for check in self.checks],
            "passed": self.passed,
        }


def run_load(
    database_url: str,
    *,
    clients: int,
    seconds: float,
    run_dir: Path,
    seed: int = 42,
    automations: bool = True,
) -> LoadReport:
    """Serve the (seeded) database, load it for `seconds`, stop the server, check the rows."""
    engine = create_db_engine(database_url, poolclass=sa.NullPool)
    catalog = Catalog.read(engine)
    server = ServedComptoir(
        database_url,
        run_dir,
        run_dir / "server.log",
        env={"COMPTOIR_AUTOMATIONS": "1" if automations else "0"},
    )
    memory = MemoryTrace()
    with server:
        workload = Workload(
            server.base_url, staff_key(ROLE, seed), catalog, uuid.uuid4().hex[:8], seed
        )
        started = time.monotonic()
        # A loop of its own, in its own thread: the caller's thread may already run one
        # (Playwright's sync API keeps a loop running for as long as a browser lives).
        with ThreadPoolExecutor(max_workers=1) as thread:
            drive = _drive(workload, server.pid, clients, seconds, memory)
            thread.submit(asyncio.run, drive).result()
        elapsed = time.monotonic() - started
    checks = [*check_invariants(engine), *told_checks(engine, catalog, workload)]
    engine.dispose()
    return LoadReport(
        clients=clients,
        seconds=elapsed,
        stats=workload.stats,
        refusals=dict(workload.refusals.most_common()),
        failures=dict(workload.failures.most_common()),
        memory=memory,
        checks=checks,
        server_log=server.log_path,
    )


async def _drive(
    workload: Workload, pid: int, clients: int, seconds: float, memory: MemoryTrace
) -> None:
    """The clients, with the server's memory sampled and the progress shown every second."""
    started = time.monotonic()
    clients_done = asyncio.ensure_future(workload.run(clients, seconds))
    with counting_progress("load (s)") as progress:
        task = progress.add_task("load", total=int(seconds))
        while True:
            elapsed = time.monotonic() - started
            if (mb := rss_mb(pid)) is not None:
                memory.samples.append((elapsed, mb))
            totals = workload.totals
            progress.update(
                task,
                completed=min(int(elapsed), int(seconds)),
                description=f"{totals.requests:,} requests, {totals.errors} errors",
            )
            if clients_done.done():
                break
            await asyncio.wait({clients_done}, timeout=1.0)
    clients_done.result()


# -- what the clients were told, against the rows ---------------------------------------------


def told_checks(engine: Engine, catalog: Catalog, workload: Workload) -> list[Check]:
    ledger, run_id = workload.ledger, workload.run_id
    with engine.connect() as connection:
        orders = connection.execute(
            sa.text("SELECT id, note FROM orders WHERE id > :last AND note LIKE :run"),
            {"last": catalog.last_order_id, "run": f"load-{run_id}-%"},
        ).all()
        refunds = connection.execute(
            sa.text(
                "SELECT id, order_id FROM refunds WHERE id > :last AND created_by = :who "
                "ORDER BY id"
            ),
            {"last": catalog.last_refund_id, "who": _email(ROLE)},
        ).all()
    by_note: dict[str, list[int]] = {}
    for order_id, note in orders:
        by_note.setdefault(note.split("\n")[0], []).append(order_id)  # a fraud hold adds lines
    return [
        _orders_told(ledger, by_note),
        _orders_untold(ledger, by_note),
        _refunds_told(ledger, {refund_id for refund_id, _ in refunds}),
        _refunds_untold(ledger, refunds),
        Check(
            name="retries_replayed",
            rule="a retried idempotency key answered the first result; a refund above the "
            "capture was refused",
            rows=sum(
                s.requests for op, s in workload.stats.items() if "retr" in op or "over" in op
            ),
            violations=len(ledger.anomalies),
            sample=ledger.anomalies[:SAMPLE],
        ),
    ]


def _orders_told(ledger: Ledger, by_note: dict[str, list[int]]) -> Check:
    wrong = [
        f"{note}: {by_note.get(note, [])}"
        for note, order_id in ledger.orders.items()
        if by_note.get(note) != [order_id]
    ]
    return Check(
        name="orders_told_exist_once",
        rule="every order a client was told was created exists, exactly once",
        rows=len(ledger.orders),
        violations=len(wrong),
        sample=wrong[:SAMPLE],
    )


def _orders_untold(ledger: Ledger, by_note: dict[str, list[int]]) -> Check:
    untold = sorted(set(by_note) - set(ledger.orders))
    unexplained = [note for note in untold if note not in ledger.unknown_orders]
    return Check(
        name="no_untold_orders",
        rule="no order exists that no client was told of, but for requests that got no answer "
        f"({len(ledger.unknown_orders)} such requests, {len(untold) - len(unexplained)} of them "
        "created the order)",
        rows=sum(len(ids) for ids in by_note.values()),
        violations=len(unexplained),
        sample=unexplained[:SAMPLE],
    )


def _refunds_told(ledger: Ledger, made: set[int]) -> Check:
    missing = sorted(ledger.refunds - made)
    return Check(
        name="refunds_told_exist",
        rule="every refund a client was told of (refunds, cancellations) exists",
        rows=len(ledger.refunds),
        violations=len(missing),
        sample=[str(refund_id) for refund_id in missing[:SAMPLE]],
    )


def _refunds_untold(ledger: Ledger, refunds: Sequence[Any]) -> Check:
    untold = [(r, o) for r, o in refunds if r not in ledger.refunds]
    # A cancellation without an answer may have refunded its order; a refund request
    # without an answer, after its retry, may have made one refund.
    unexplained = [r for r, o in untold if o not in ledger.unknown_cancels]
    excess = unexplained[ledger.unknown_refunds :]
    return Check(
        name="no_untold_refunds",
        rule="no refund exists that no client was told of, but for requests that got no answer "
        f"({ledger.unknown_refunds} refunds, {len(ledger.unknown_cancels)} cancellations)",
        rows=len(refunds),
        violations=len(excess),
        sample=[str(refund_id) for refund_id in excess[:SAMPLE]],
    )


def _email(role: str) -> str:
    from db.demo import catalogue

    return next(email for email, _, staff_role in catalogue.STAFF if staff_role == role)


# -- printing ---------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def print_report(report: LoadReport) -> None:
    table = Table(title=f"{report.clients} clients for {report.seconds:.0f} s on loopback")
    for column in ("operation", "requests", "ok", "refused", "errors", "p50 ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for op, s in sorted(report.stats.items(), key=lambda item: -item[1].requests):
        table.add_row(
            op,
            f"{s.requests:,}",
            f"{s.ok:,}",
            f"{s.refused:,}",
            f"{s.errors:,}",
            _ms(s.percentile(50)),
            _ms(s.percentile(95)),
        )
    totals = report.totals
    table.add_row(
        "[bold]all",
        f"[bold]{totals.requests:,}",
        f"{totals.ok:,}",
        f"{totals.refused:,}",
        f"{totals.errors:,}",
        "",
        "",
    )
    console.print(table)
    for title, counts in (
        ("Business refusals (expected outcomes)", report.refusals),
        ("Errors (5xx, timeouts, failed connections)", report.failures),
    ):
        if counts:
            kinds = Table(title=title, show_edge=False)
            kinds.add_column("operation: what")
            kinds.add_column("count", justify="right")
            for label, count in counts.items():
                kinds.add_row(label, f"{count:,}")
            console.print(kinds)
    memory = report.memory
    console.print(
        f"Server RSS: start {memory.start:.0f} MiB, peak {memory.peak:.0f} MiB, end "
        f"{memory.end:.0f} MiB, slope {memory.slope_mb_per_minute():+.2f} MiB/min "
        f"({len(memory.samples)} samples)"
    )
    console.print(
        invariants_table(report.checks, "Invariants, checked in the database after the run")
    )
    verdict = "[green]passed" if report.passed else "[red]FAILED"
    console.print(
        f"{verdict}[/]: {totals.requests:,} requests, error rate "
        f"{report.error_rate:.3%} (limit {MAX_ERROR_RATE:.1%}), "
        f"{len(report.checks) - len(report.failed_checks)}/{len(report.checks)} invariant "
        "checks hold."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=180, help="Seconds of load.")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="comptoir-load-"))
    url, handle = fresh_database("postgres", args.postgres_url, run_dir)
    try:
        engine = create_db_engine(url, poolclass=sa.NullPool)
        with counting_progress("seeding orders") as progress:
            task = progress.add_task("seed", total=SCALES["small"].orders)
            seed_database(
                engine,
                seed=args.seed,
                scale="small",
                as_of=date.today() - timedelta(days=1),  # no row dated later than now
                progress=lambda n: progress.advance(task, n),
            )
        engine.dispose()
        console.print(f"Seeded {sa.engine.make_url(url).database} (small demo, seed {args.seed}).")
        report = run_load(
            url, clients=args.clients, seconds=args.duration, run_dir=run_dir, seed=args.seed
        )
    finally:
        if args.keep:
            console.print(f"Kept the database {url} and the server's log in {run_dir}")
        else:
            drop(handle)
    print_report(report)
    if not args.keep and report.passed:
        shutil.rmtree(run_dir)
    elif not args.keep:
        console.print(f"The server's log: {report.server_log}")
    if args.json:
        args.json.write_text(json.dumps(report.json(), indent=2, default=str))
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
