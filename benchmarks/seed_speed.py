"""How long seeding takes per scale on SQLite and PostgreSQL, and what the bulk path buys.

    uv run python -m benchmarks.seed_speed [--scales small,medium,large]
        [--backends sqlite,postgres] [--postgres-url postgresql://postgres@127.0.0.1/postgres]

Each run seeds a fresh database. The baseline, measured in the same run, seeds `small`
through SQLAlchemy's plain executemany; the ratio says how much faster the bulk path
(COPY on PostgreSQL, raw executemany on SQLite) is.
"""

import argparse
import json
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from db.demo.seed import SCALES, seed_database
from db.engine import create_db_engine

AS_OF = date(2026, 11, 25)
console = Console()


Handle = tuple[sa.Engine, str] | None


def fresh_database(backend: str, postgres_url: str, folder: Path) -> tuple[str, Handle]:
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}", None
    admin = create_db_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    name = f"comptoir_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    url = sa.engine.make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    return url, (admin, name)


def drop(handle: Handle) -> None:
    if handle is None:
        return
    admin, name = handle
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def timed_seed(
    backend: str, scale: str, postgres_url: str, folder: Path, plain: bool = False
) -> tuple[float, int]:
    url, handle = fresh_database(backend, postgres_url, folder)
    engine = create_db_engine(url, poolclass=sa.NullPool)
    try:
        started = time.perf_counter()
        result = seed_database(engine, seed=42, scale=scale, as_of=AS_OF, plain_inserts=plain)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
        drop(handle)
    return seconds, sum(result.counts.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="small,medium,large")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for backend in args.backends.split(","):
            baseline, _ = timed_seed(backend, "small", args.postgres_url, folder, plain=True)
            console.print(f"{backend}: baseline (small, plain executemany) {baseline:.1f} s")
            for scale in args.scales.split(","):
                seconds, rows = timed_seed(backend, scale, args.postgres_url, folder)
                results.append(
                    {
                        "backend": backend,
                        "scale": scale,
                        "orders": SCALES[scale].orders,
                        "rows": rows,
                        "seconds": round(seconds, 2),
                        "rows_per_second": round(rows / seconds),
                        "baseline_small_seconds": round(baseline, 2),
                    }
                )
                console.print(f"{backend} {scale}: {seconds:.1f} s, {rows:,} rows")
    table = Table(title="Seeding (fresh database each, seed 42, as of 2026-11-25)")
    for column in (
        "backend",
        "scale",
        "orders",
        "rows",
        "seconds",
        "rows/s",
        "small vs plain inserts",
    ):
        table.add_column(column, justify="right")
    for r in results:
        ratio = (
            f"{r['baseline_small_seconds'] / r['seconds']:.2f}x faster"
            if r["scale"] == "small"
            else ""
        )
        table.add_row(
            r["backend"],
            r["scale"],
            f"{r['orders']:,}",
            f"{r['rows']:,}",
            f"{r['seconds']:.1f}",
            f"{r['rows_per_second']:,}",
            ratio,
        )
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
