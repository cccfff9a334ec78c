"""Customer search on PostgreSQL: the one trigram index on customers.search_text (migration
0007) against the three ORed expressions and their indexes it replaced (migration 0005).

    uv run python -m benchmarks.customer_search --database-url postgresql://.../empty_db
        [--customers 220000] [--runs 40]

The database must be empty: it is migrated, filled with customers (demo names, unique
e-mails) and left so. Both layouts are measured in the same run on the same rows: first the
current one, then the 0005 indexes are put back in its place and the old query timed. The
searches are a full name, part of an e-mail and a last name, each as list_customers writes
it (newest first, 50 at most).
"""

import argparse
import random
import statistics
import time
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from core.text import ascii_fold
from db import migrate
from db.demo import people
from db.engine import create_db_engine
from db.models.customers import customer_search_text

CURRENT = "SELECT * FROM customers WHERE search_text LIKE :q ORDER BY id DESC LIMIT 50"
BEFORE_0007 = (
    "SELECT * FROM customers WHERE lower(email) LIKE :q "
    "OR lower(first_name || ' ' || last_name) LIKE :q "
    "OR lower(last_name || ' ' || first_name) LIKE :q ORDER BY id DESC LIMIT 50"
)
OLD_INDEXES = (
    ("ix_customers_email_trgm", "lower(email)"),
    ("ix_customers_first_last_trgm", "lower(first_name || ' ' || last_name)"),
    ("ix_customers_last_first_trgm", "lower(last_name || ' ' || first_name)"),
)


def fill(engine: sa.Engine, count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for number in range(1, count + 1):
        first, last = rng.choice(people.FIRST_NAMES), rng.choice(people.LAST_NAMES)
        local = f"{ascii_fold(first)}.{ascii_fold(last)}".replace(" ", "").replace("'", "")
        email = f"{local}{number}@example.fr"
        rows.append(
            {"id": number, "email": email, "first": first, "last": last,
             "search": customer_search_text(first, last, email)}
        )  # fmt: skip
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO customers (id, email, first_name, last_name, locale, "
                "marketing_opt_in, loyalty_points, loyalty_tier, created_at, search_text) "
                "VALUES (:id, :email, :first, :last, 'fr-FR', false, 0, 'bronze', now(), "
                ":search)"
            ),
            rows,
        )
        connection.execute(sa.text("ANALYZE customers"))
    return rows


def timed(engine: sa.Engine, query: str, text: str, runs: int) -> tuple[float, float]:
    with engine.connect() as connection:
        connection.execute(sa.text(query), {"q": f"%{text}%"}).all()  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            connection.execute(sa.text(query), {"q": f"%{text}%"}).all()
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--customers", type=int, default=220_000)
    parser.add_argument("--runs", type=int, default=40)
    options = parser.parse_args()
    if not options.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL database (trigram indexes)")
    migrate.upgrade(options.database_url)
    engine = create_db_engine(options.database_url)
    console = Console()
    console.print(f"filling {options.customers:,} customers...")
    rows = fill(engine, options.customers)
    someone = rows[len(rows) // 3]
    searches = {
        "full name": ascii_fold(f"{someone['first']} {someone['last']}"),
        "part of an e-mail": someone["email"][:14],
        "last name": ascii_fold(someone["last"]),
    }
    current = {
        label: timed(engine, CURRENT, text, options.runs) for label, text in searches.items()
    }
    with engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_customers_search_text_trgm"))
        for name, expression in OLD_INDEXES:
            connection.execute(
                sa.text(f"CREATE INDEX {name} ON customers USING gin ({expression} gin_trgm_ops)")
            )
        connection.execute(sa.text("ANALYZE customers"))
    before = {
        label: timed(engine, BEFORE_0007, text, options.runs) for label, text in searches.items()
    }
    engine.dispose()
    table = Table(title=f"list_customers search, {options.customers:,} customers (ms)")
    for column in ("search", "search_text p50", "p95", "0005 p50", "p95", "p50 ratio"):
        table.add_column(column, justify="right")
    for label in searches:
        (now_50, now_95), (then_50, then_95) = current[label], before[label]
        table.add_row(
            label, f"{now_50:.2f}", f"{now_95:.2f}", f"{then_50:.2f}", f"{then_95:.2f}",
            f"{then_50 / now_50:.1f}x",
        )  # fmt: skip
    console.print(table)


if __name__ == "__main__":
    main()
