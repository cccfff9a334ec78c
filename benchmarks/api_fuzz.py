"""A longer fuzzing run of the whole REST API from its OpenAPI schema (schemathesis), with its
figures; tests/test_api_fuzz.py runs the same fuzzer, bounded, in the test suite.

    uv run python -m benchmarks.api_fuzz [--examples 25] [--chat-examples 2]
        [--database-url URL] [--show 2]

Seeds a fresh small demo database (a SQLite file by default, or the PostgreSQL database given,
which must be empty), starts the app in this process and, as the admin, sends each operation
`--examples` requests built from its schema and as many built to break it, in random order
(a new draw each run). Every answer is checked: no 5xx, a documented status code, content
type and headers, a body matching the response schema, and invalid input refused with a 4xx.
Prints the requests made, how many carried bad input, the failures by kind, and per
operation the requests, their status classes and failures; exits 1 when anything failed.
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import schemathesis
from rich.console import Console
from rich.table import Table
from schemathesis.python.asgi import shutdown_lifespans

from cli.console import counting_progress
from core.settings import get_settings
from db.base import set_clock
from db.demo.reference import demo_api_key
from db.demo.seed import seed_database
from db.engine import create_db_engine
from server import create_app
from tests.conftest import DEMO_DAY, DEMO_NOW
from tests.test_api_fuzz import ADMIN, CHAT_EXAMPLES, FuzzReport, fuzz

console = Console(width=None if sys.stdout.isatty() else 160)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=25, help="Per operation and mode.")
    parser.add_argument("--chat-examples", type=int, default=CHAT_EXAMPLES)
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default SQLite).")
    parser.add_argument("--show", type=int, default=2, help="Failure messages shown per kind.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ.update(
            {
                "COMPTOIR_DATA_DIR": str(folder),
                "COMPTOIR_OFFLINE": "1",
                "COMPTOIR_AUTOMATIONS": "0",
                "COMPTOIR_WARM_START": "0",
                "COMPTOIR_LOG_LEVEL": "WARNING",  # the failures are reported below
                "COMPTOIR_RATE_LIMIT": "1000000/minute",  # on, out of reach
            }
        )
        get_settings.cache_clear()  # read again, with the environment above
        set_clock(DEMO_NOW)  # the seeded demo's "now"
        engine = create_db_engine(args.database_url or f"sqlite:///{folder / 'fuzz.db'}")
        with console.status("seeding the demo database"):
            seed_database(engine, seed=42, scale="small", as_of=DEMO_DAY)
        schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(engine))
        operations = sum(1 for _ in schema.get_all_operations())
        headers = {"Authorization": f"Bearer {demo_api_key(42, ADMIN)}"}
        try:
            with counting_progress("fuzzing operations") as progress:
                task = progress.add_task("fuzz", total=operations)
                report = fuzz(
                    schema,
                    headers,
                    examples=args.examples,
                    chat_examples=args.chat_examples,
                    derandomize=False,
                    on_operation=lambda _: progress.advance(task),
                )
        finally:
            shutdown_lifespans()
            engine.dispose()
    print_report(report, args.show)
    sys.exit(1 if report.failures else 0)


def print_report(report: FuzzReport, show: int) -> None:
    table = Table(title="Requests per operation")
    for column in ("operation", "requests", "2xx", "4xx", "5xx", "failures"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for operation, requests in sorted(report.requests.items()):
        failures = sum(n for (op, _), n in report.failures.items() if op == operation)
        table.add_row(
            operation,
            str(requests),
            *(str(report.statuses[operation, status]) for status in (200, 400, 500)),
            f"[red]{failures}[/red]" if failures else "0",
        )
    console.print(table)
    total = sum(report.requests.values())
    console.print(
        f"{total} requests over {len(report.requests)} operations, {report.bad_inputs} of them "
        f"with bad input; {sum(report.failures.values())} failures"
    )
    for kind, count in report.by_kind().most_common():
        console.print(f"  {kind}: {count}")
    for (operation, kind), messages in sorted(report.examples.items()):
        console.rule(f"{operation}: {kind} x{report.failures[operation, kind]}")
        for message in messages[:show]:
            console.print(message[:2000], markup=False, highlight=False)


if __name__ == "__main__":
    main()
