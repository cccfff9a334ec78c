"""Latency of every read tool on a small and a large demo database, side by side (issue 9).

    uv run python -m benchmarks.tool_latency --small-url URL --large-url URL [--runs 20]
        [--tools list_orders,get_order] [--bar-ms 200] [--json]

Each URL names a seeded demo database (`comptoir seed --scale small` / `--scale large`) at
the current schema revision; either may be left out to measure one size only. Every read
tool (writes false) of every agent is called in-process exactly as REST and chat call it
(`run_tool`, as an admin), with arguments taken from the database itself: the latest order
that shipped, the customer with the most orders, a SKU that sold, the last 30 days of data,
a word from a product name... (ARGUMENTS below); the filters a merchant uses most on the
big tables are measured as extra cases (VARIANTS). Each case runs once to warm up, then
`--runs` times; the table gives p50 and p95 in ms at each size, the ratio of the p95s, and
marks every case over the bar. For each case over the bar, the SQL it sent (captured with
a before_cursor_execute listener) is run again under EXPLAIN (ANALYZE, BUFFERS) and the
plans of its slowest statements are printed.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.console import counting_progress
from db.engine import create_db_engine, describe_url
from db.models import AuditChannel, Role
from tools import load_tools
from tools.base import REGISTRY, Actor, ToolError, run_tool

console = Console(width=None if sys.stdout.isatty() else 160)

# Where each argument's value comes from: one SQL query on the database being measured.
# A tool's own entry in ARGUMENTS wins over these, by argument name.
POOL_QUERIES: dict[str, str] = {
    "order_id": "SELECT max(order_id) FROM shipments",
    "customer_id": "SELECT customer_id FROM orders GROUP BY customer_id"
    " ORDER BY count(*) DESC, customer_id LIMIT 1",
    "product_id": "SELECT v.product_id FROM order_lines l JOIN product_variants v"
    " ON v.id = l.variant_id ORDER BY l.id DESC LIMIT 1",
    "variant_id": "SELECT variant_id FROM order_lines ORDER BY id DESC LIMIT 1",
    "sku": "SELECT v.sku FROM order_lines l JOIN product_variants v"
    " ON v.id = l.variant_id ORDER BY l.id DESC LIMIT 1",
    "warehouse_id": "SELECT warehouse_id FROM orders ORDER BY id DESC LIMIT 1",
    "carrier_id": "SELECT carrier_id FROM shipments ORDER BY id DESC LIMIT 1",
    "shipment_id": "SELECT max(id) FROM shipments",
    "payment_id": "SELECT max(id) FROM payments",
    "connection_id": "SELECT marketplace_connection_id FROM orders"
    " WHERE marketplace_connection_id IS NOT NULL ORDER BY id DESC LIMIT 1",
    "document_id": "SELECT max(id) FROM documents",
    "return_id": "SELECT max(id) FROM return_requests",
    "article_id": "SELECT min(id) FROM articles WHERE status = 'published'",
    "inspection_id": "SELECT max(id) FROM quality_inspections",
    "user_id": "SELECT min(id) FROM staff_users WHERE role = 'admin'",
    "key": "SELECT min(key) FROM system_settings WHERE key LIKE 'returns.%'",
    "last_day": "SELECT max(placed_at) FROM orders",
    "customer_name": "SELECT c.last_name FROM orders o JOIN customers c"
    " ON c.id = o.customer_id ORDER BY o.id DESC LIMIT 1",
    "customer_email": "SELECT email FROM customers ORDER BY id LIMIT 1",
    "product_word": "SELECT p.name FROM order_lines l JOIN product_variants v"
    " ON v.id = l.variant_id JOIN products p ON p.id = v.product_id ORDER BY l.id DESC LIMIT 1",
}

# Per tool, argument values the schema alone does not give: a literal, "@name" for a pool
# value (POOL_QUERIES or the derived start, end, search_word), or "sql:..." for its own query.
ARGUMENTS: dict[str, dict[str, Any]] = {
    "select_carrier": {
        "order_id": "sql:SELECT max(id) FROM orders WHERE status IN ('paid', 'processing')"
    },
    "product_availability": {"sku": "@sku"},
    "quote_rates": {"order_id": "@order_id"},
    "list_documents": {"order_id": "sql:SELECT max(order_id) FROM documents"},
    "product_defects": {
        "product_id": "sql:SELECT v.product_id FROM quality_defects d JOIN quality_inspections i"
        " ON i.id = d.inspection_id JOIN product_variants v ON v.id = i.variant_id"
        " ORDER BY d.id DESC LIMIT 1"
    },
    "search_products": {"query": "@search_word"},
    "search_articles": {"query": "how long do refunds take"},
    "assess_risk": {"category": "refunds"},
    "config_history": {"key": "@key"},
    "get_config": {"key": "@key"},
    "customer_fraud_history": {"customer_id": "@customer_id"},
}

# Extra cases: the filters used most on the big tables, named tool[variant].
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "list_orders": {
        "status": {"status": "paid"},
        "customer": {"customer_id": "@customer_id"},
        "channel+dates": {"channel": "amazon", "placed_from": "@start", "placed_to": "@end"},
        "min_total": {"min_total_cents": 50_000},
    },
    "list_customers": {
        "search": {"search": "@customer_name"},
        "email": {"search": "@customer_email"},  # one match: the whole table is searched
        "tier": {"tier": "gold"},
    },
    "list_movements": {"sku": {"sku": "@sku"}, "warehouse": {"warehouse_id": "@warehouse_id"}},
    "list_shipments": {
        "order": {"order_id": "@order_id"},
        "status": {"status": "in_transit"},
        "carrier": {"carrier_id": "@carrier_id"},
    },
    "list_customer_returns": {
        "customer": {"customer_id": "@customer_id"},
        "status": {"status": "requested"},
    },
    "list_surveys": {"customer": {"customer_id": "@customer_id"}, "sent": {"status": "sent"}},
    "list_warranty_claims": {"open": {"open_only": True}},
    "list_reservations": {"active": {"status": "active"}},
    "get_stock": {"sku": {"sku": "@sku"}, "low": {"low_only": True}},
    "list_events": {"order": {"entity_type": "order", "entity_id": "@order_id_text"}},
    "list_interactions": {"order": {"order_id": "@order_id"}},
    "assess_risk": {
        "stock": {"category": "stock"},
        "cancellations": {"category": "cancellations"},
        "fraud": {"category": "fraud"},
        "marketplace": {"category": "marketplace", "connection_id": "@connection_id"},
    },
    "search_articles": {"keyword": {"mode": "keyword"}},
    "list_offers": {"connection": {"connection_id": "@connection_id"}},
}


@dataclass
class Case:
    label: str
    tool: str
    template: dict[str, Any]


@dataclass
class Outcome:
    times_ms: list[float] = field(default_factory=list)
    error: str | None = None
    statements: list[tuple[str, Any, float]] = field(default_factory=list)

    def percentile(self, share: float) -> float | None:
        if not self.times_ms:
            return None
        ordered = sorted(self.times_ms)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def read_cases(only: set[str] | None) -> list[Case]:
    load_tools()
    cases = []
    for spec in sorted(REGISTRY.values(), key=lambda s: (s.agent, s.name)):
        if spec.writes or (only and spec.name not in only):
            continue
        fields = spec.args_model.model_fields
        base: dict[str, Any] = {}
        for name, info in fields.items():
            if info.is_required():
                base[name] = f"@{name}"
        if "start" in fields and "end" in fields:
            base.update(start="@start", end="@end")
        base.update(ARGUMENTS.get(spec.name, {}))
        cases.append(Case(spec.name, spec.name, base))
        for variant, extra in VARIANTS.get(spec.name, {}).items():
            cases.append(Case(f"{spec.name}[{variant}]", spec.name, {**base, **extra}))
    return cases


def pool(engine: sa.Engine) -> dict[str, Any]:
    """The values the arguments are made of, read from this database."""
    with engine.connect() as connection:
        values = {name: connection.execute(sa.text(q)).scalar() for name, q in POOL_QUERIES.items()}
    last_order = values.pop("last_day")
    if last_order is None:
        raise SystemExit(f"{describe_url(str(engine.url))} holds no orders: seed it first")
    last_day = last_order.date()
    words = re.findall(r"[A-Za-z]{4,}", values.pop("product_word") or "")
    values.update(
        start=(last_day - timedelta(days=29)).isoformat(),
        end=last_day.isoformat(),
        search_word=words[0] if words else "phone",
        order_id_text=str(values["order_id"]),
    )
    return values


def resolve(template: dict[str, Any], values: dict[str, Any], engine: sa.Engine) -> dict[str, Any]:
    args = {}
    for name, value in template.items():
        if isinstance(value, str) and value.startswith("@"):
            value = values[value[1:]]
        elif isinstance(value, str) and value.startswith("sql:"):
            with engine.connect() as connection:
                value = connection.execute(sa.text(value[4:])).scalar()
        if value is None:
            raise LookupError(f"no value for {name} in this database")
        args[name] = value
    return args


class StatementLog:
    """The SQL one tool call sends, with each statement's time, while `capturing()` is on."""

    def __init__(self, engine: sa.Engine) -> None:
        self.on = False
        self.statements: list[tuple[str, Any, float]] = []
        self._started: dict[int, float] = {}
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, _conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.on:
            self._started[id(cursor)] = time.perf_counter()

    def _after(self, _conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        started = self._started.pop(id(cursor), None)
        if self.on and started is not None:
            elapsed = (time.perf_counter() - started) * 1000
            self.statements.append((statement, parameters, elapsed))

    @contextmanager
    def capturing(self) -> Iterator[list[tuple[str, Any, float]]]:
        self.statements = []
        self.on = True
        try:
            yield self.statements
        finally:
            self.on = False


def admin(engine: sa.Engine) -> Actor:
    with engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT id, email FROM staff_users WHERE role = 'admin' ORDER BY id LIMIT 1")
        ).one()
    return Actor(user_id=row.id, email=row.email, role=Role.ADMIN, channel=AuditChannel.REST)


def measure(
    url: str, cases: list[Case], runs: int, advance: Any
) -> tuple[dict[str, Outcome], sa.Engine]:
    engine = create_db_engine(url)
    log = StatementLog(engine)
    actor = admin(engine)
    values = pool(engine)
    outcomes: dict[str, Outcome] = {}
    for case in cases:
        outcome = outcomes[case.label] = Outcome()
        try:
            args = resolve(case.template, values, engine)
            with log.capturing() as statements:
                run_tool(engine, actor, case.tool, args)  # warm-up, and the SQL it sends
            outcome.statements = list(statements)
            for _ in range(runs):
                started = time.perf_counter()
                run_tool(engine, actor, case.tool, args)
                outcome.times_ms.append((time.perf_counter() - started) * 1000)
        except ToolError as error:
            outcome.error = f"{error.code}: {error.message}"
        except LookupError as error:
            outcome.error = f"not measured: {error}"
        advance()
    return outcomes, engine


def explain(engine: sa.Engine, statements: list[tuple[str, Any, float]], top: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest reads (EXPLAIN QUERY PLAN on SQLite)."""
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    reads = [s for s in statements if s[0].lstrip().upper().startswith(("SELECT", "WITH"))]
    plans = []
    for statement, parameters, elapsed in sorted(reads, key=lambda s: -s[2])[:top]:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + statement, parameters or {}).all()
            connection.rollback()
        plan = "\n".join(" ".join(str(part) for part in row) for row in rows)
        plans.append(f"-- {elapsed:.1f} ms when captured\n{statement}\n{plan}")
    return plans


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small-url", help="A database seeded with --scale small.")
    parser.add_argument("--large-url", help="A database seeded with --scale large.")
    parser.add_argument("--runs", type=int, default=20, help="Timed calls per case.")
    parser.add_argument("--tools", help="Only these tools, comma-separated.")
    parser.add_argument("--bar-ms", type=float, default=200.0, help="The p95 target, in ms.")
    parser.add_argument("--plans", type=int, default=3, help="Plans printed per slow case.")
    parser.add_argument(
        "--json", action="store_true", help="Figures as JSON on stdout (the table on stderr)."
    )
    args = parser.parse_args()
    sizes = {n: url for n, url in (("small", args.small_url), ("large", args.large_url)) if url}
    if not sizes:
        parser.error("give --small-url, --large-url or both")
    # Knowledge search keeps its vector index in the data folder: a scratch one, not data/.
    os.environ.setdefault("COMPTOIR_DATA_DIR", tempfile.mkdtemp(prefix="tool_latency_"))
    only = {name.strip() for name in args.tools.split(",")} if args.tools else None
    cases = read_cases(only)
    if only and (unknown := only - {case.tool for case in cases}):
        parser.error(f"no read tool named {', '.join(sorted(unknown))}")
    out = Console(stderr=True, width=console.width) if args.json else console

    results: dict[str, dict[str, Outcome]] = {}
    engines: dict[str, sa.Engine] = {}
    with counting_progress("tool cases") as progress:
        task = progress.add_task("tool cases", total=len(cases) * len(sizes))
        for size, url in sizes.items():
            progress.update(task, description=f"{size}: {describe_url(url)}")
            results[size], engines[size] = measure(
                url, cases, args.runs, lambda: progress.advance(task)
            )
    judged = "large" if "large" in sizes else next(iter(sizes))
    slow = [
        case.label
        for case in cases
        if (results[judged][case.label].percentile(0.95) or 0) > args.bar_ms
    ]
    out.print(latency_table(cases, results, judged, args.runs, args.bar_ms, set(slow)))
    out.print(
        f"{len(cases)} cases of {len({c.tool for c in cases})} read tools; "
        f"{len(slow)} over the bar at {judged}."
    )
    plans: dict[str, list[str]] = {}
    for label in slow:
        plans[label] = explain(engines[judged], results[judged][label].statements, args.plans)
        out.rule(
            f"{escape(label)}: p95 {fmt(results[judged][label].percentile(0.95))} ms at {judged}"
        )
        for plan in plans[label]:
            out.print(plan, markup=False, highlight=False)
    if args.json:
        figures = {
            size: {
                label: {
                    "p50_ms": outcome.percentile(0.5),
                    "p95_ms": outcome.percentile(0.95),
                    "statements": len(outcome.statements),
                    "error": outcome.error,
                }
                for label, outcome in by_case.items()
            }
            for size, by_case in results.items()
        }
        document = {"runs": args.runs, "bar_ms": args.bar_ms, "sizes": figures}
        print(json.dumps({**document, "over_bar": slow, "plans": plans}, indent=2))


def latency_table(
    cases: list[Case],
    results: dict[str, dict[str, Outcome]],
    judged: str,
    runs: int,
    bar_ms: float,
    slow: set[str],
) -> Table:
    sizes = list(results)
    table = Table(title=f"Read tools, ms over {runs} warm calls (bar: p95 {bar_ms:g} ms)")
    table.add_column("tool")
    for size in sizes:
        table.add_column(f"{size} p50", justify="right")
        table.add_column(f"{size} p95", justify="right")
    if len(sizes) == 2:
        table.add_column("p95 ratio", justify="right")
    table.add_column(f"SQL at {judged}", justify="right")
    table.add_column("", justify="center")
    for case in cases:
        outcomes = {size: results[size][case.label] for size in sizes}
        row = [escape(case.label)]
        for outcome in outcomes.values():
            row += [fmt(outcome.percentile(0.5)), fmt(outcome.percentile(0.95))]
        if len(sizes) == 2:
            small, large = (outcomes[s].percentile(0.95) for s in ("small", "large"))
            row.append(f"{large / small:.1f}x" if small and large else "-")
        row.append(str(len(outcomes[judged].statements)))
        errors = [f"{size}: {o.error}" for size, o in outcomes.items() if o.error]
        mark = "ok" if not errors else "[yellow]error[/]"
        row.append("[red]OVER[/]" if case.label in slow else mark)
        table.add_row(*row)
        for message in errors:
            table.add_row(f"  [yellow]{escape(message)}[/]")
    return table


if __name__ == "__main__":
    main()
