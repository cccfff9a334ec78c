"""The demo data: deterministic, complete and consistent with the business rules."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from db.demo.seed import SCALES, DatabaseNotEmptyError, seed_database
from db.engine import create_db_engine
from db.models import OrderStatus, Role
from tests.conftest import DEMO_DAY, PostgresServer


def dump(engine: Engine, tables: list[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered by primary key, in a backend-neutral form."""
    rows = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if tables and table.name not in tables:
                continue
            query = sa.select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [
                tuple(_neutral(v) for v in row) for row in connection.execute(query)
            ]
    return rows


def _neutral(value: Any) -> Any:
    if isinstance(value, datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone(UTC).replace(tzinfo=None)
        )
    if isinstance(value, float | Decimal):
        return round(float(value), 6)
    return value


def _seed_fresh(url: str, **kwargs: Any) -> Engine:
    engine = create_db_engine(url)
    seed_database(engine, **kwargs)
    return engine


@pytest.fixture
def second_url(backend: str, postgres: PostgresServer | None, tmp_path: Any) -> Any:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    if postgres is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    url = postgres.create()
    yield url
    postgres.drop(url)


def test_seed_twice_gives_identical_rows(empty_url: str, second_url: str) -> None:
    first = _seed_fresh(empty_url, seed=7, scale="small", as_of=date(2026, 6, 30))
    second = _seed_fresh(second_url, seed=7, scale="small", as_of=date(2026, 6, 30))
    first_rows, second_rows = dump(first), dump(second)
    first.dispose()
    second.dispose()
    assert sum(len(rows) for rows in first_rows.values()) > 50_000
    for table, rows in first_rows.items():
        assert rows == second_rows[table], table


def test_seed_with_another_seed_gives_other_rows(seeded_engine: Engine, second_url: str) -> None:
    other = _seed_fresh(second_url, seed=43, scale="small", as_of=DEMO_DAY)
    assert dump(other, ["orders"]) != dump(seeded_engine, ["orders"])
    other.dispose()


def test_seed_gives_the_same_rows_on_sqlite_and_postgres(
    seeded_templates: dict[str, str], postgres: PostgresServer | None
) -> None:
    if postgres is None:
        pytest.skip("needs TEST_DATABASE_URL")
    sqlite_engine = create_db_engine(f"sqlite:///{seeded_templates['sqlite']}")
    postgres_engine = create_db_engine(
        postgres.url.set(database=seeded_templates["postgres"]).render_as_string(
            hide_password=False
        )
    )
    sqlite_rows, postgres_rows = dump(sqlite_engine), dump(postgres_engine)
    sqlite_engine.dispose()
    postgres_engine.dispose()
    for table, rows in sqlite_rows.items():
        assert rows == postgres_rows[table], table


def test_seed_refuses_a_database_that_holds_data(seeded_engine: Engine) -> None:
    before = dump(seeded_engine, ["orders"])
    with pytest.raises(DatabaseNotEmptyError):
        seed_database(seeded_engine, seed=1, scale="small", as_of=DEMO_DAY)
    assert dump(seeded_engine, ["orders"]) == before


def test_seed_reports_progress_for_every_order(tmp_path: Any) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'progress.db'}")
    reported: list[int] = []
    result = seed_database(engine, seed=3, scale="small", as_of=DEMO_DAY, progress=reported.append)
    engine.dispose()
    assert sum(reported) == SCALES["small"].orders
    assert result.counts["orders"] <= SCALES["small"].orders  # refused checkouts are not orders
    assert result.counts["orders"] > 0.99 * SCALES["small"].orders


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(sa.text(sql)).scalar()


def rows(engine: Engine, sql: str) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(sql)))


def test_seed_covers_every_status_role_and_domain(seeded_engine: Engine) -> None:
    statuses = {r[0] for r in rows(seeded_engine, "SELECT DISTINCT status FROM orders")}
    assert statuses == {s.value for s in OrderStatus}
    roles = {r[0] for r in rows(seeded_engine, "SELECT DISTINCT role FROM staff_users")}
    assert roles == {r.value for r in Role}
    assert scalar(seeded_engine, "SELECT COUNT(*) FROM articles WHERE status = 'published'") >= 40
    assert scalar(seeded_engine, "SELECT COUNT(DISTINCT city) FROM warehouses") >= 5
    carriers = {r[0] for r in rows(seeded_engine, "SELECT name FROM carriers")}
    assert {"Colissimo", "Chronopost", "UPS", "FedEx"} <= carriers
    channels = {r[0] for r in rows(seeded_engine, "SELECT DISTINCT channel FROM orders")}
    assert {"shop", "amazon", "cdiscount", "backmarket", "refurbed", "mirakl", "ebay"} == channels
    for table in (
        "product_variants",
        "stock_reservations",
        "refunds",
        "shipments",
        "tracking_events",
        "return_requests",
        "marketplace_messages",
        "marketplace_offers",
        "quality_inspections",
        "quality_defects",
        "fraud_checks",
        "blocked_entities",
        "system_alerts",
        "risk_alerts",
        "satisfaction_surveys",
        "warranty_claims",
        "interactions",
        "loyalty_transactions",
        "payment_methods",
    ):
        assert scalar(seeded_engine, f"SELECT COUNT(*) FROM {table}") > 0, table
    statuses = {r[0] for r in rows(seeded_engine, "SELECT DISTINCT status FROM return_requests")}
    assert {"refunded", "rejected"} <= statuses
    assert statuses & {"requested", "authorized", "received", "inspected"}  # some still open


def test_seeded_stock_matches_movements_and_reservations(seeded_engine: Engine) -> None:
    mismatched = rows(
        seeded_engine,
        """
        SELECT s.id FROM stock_levels s
        LEFT JOIN (SELECT variant_id, warehouse_id, SUM(quantity) AS total
                   FROM stock_movements GROUP BY variant_id, warehouse_id) m
          ON m.variant_id = s.variant_id AND m.warehouse_id = s.warehouse_id
        WHERE s.on_hand <> COALESCE(m.total, 0)""",
    )
    assert mismatched == []
    reserved = scalar(seeded_engine, "SELECT SUM(reserved) FROM stock_levels")
    active = scalar(
        seeded_engine, "SELECT SUM(quantity) FROM stock_reservations WHERE status = 'active'"
    )
    assert reserved == active > 0
    assert scalar(
        seeded_engine, "SELECT COUNT(*) FROM stock_levels WHERE on_hand - reserved < reorder_point"
    ) == scalar(
        seeded_engine,
        "SELECT COUNT(*) FROM system_alerts "
        "WHERE dedupe_key LIKE 'low_stock:%' AND status = 'open'",
    )


def test_seeded_money_adds_up(seeded_engine: Engine) -> None:
    assert (
        rows(
            seeded_engine,
            """
        SELECT o.id FROM orders o JOIN order_lines l ON l.order_id = o.id
        GROUP BY o.id, o.total_cents, o.shipping_cents
        HAVING SUM(l.total_cents) + o.shipping_cents <> o.total_cents""",
        )
        == []
    )
    assert (
        rows(
            seeded_engine,
            """
        SELECT p.id FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id
        GROUP BY p.id, p.refunded_cents
        HAVING COALESCE(SUM(r.amount_cents), 0) <> p.refunded_cents""",
        )
        == []
    )
    assert (
        rows(
            seeded_engine,
            """
        SELECT c.id FROM customers c LEFT JOIN loyalty_transactions t ON t.customer_id = c.id
        GROUP BY c.id, c.loyalty_points
        HAVING COALESCE(SUM(t.points), 0) <> c.loyalty_points""",
        )
        == []
    )
    # A return never refunds more than was paid for the order.
    assert (
        rows(
            seeded_engine,
            """
        SELECT r.id FROM return_requests r JOIN orders o ON o.id = r.order_id
        WHERE r.refund_cents > o.total_cents""",
        )
        == []
    )
    assert scalar(seeded_engine, "SELECT COUNT(*) FROM orders WHERE status = 'returned'") == scalar(
        seeded_engine,
        """SELECT COUNT(*) FROM order_status_history
                                 WHERE to_status = 'returned'""",
    )


def test_seeded_history_never_passes_the_demo_day(seeded_engine: Engine) -> None:
    now = "2026-11-25 18:00:00"
    for table, column in (
        ("orders", "placed_at"),
        ("orders", "delivered_at"),
        ("tracking_events", "occurred_at"),
        ("refunds", "created_at"),
        ("stock_movements", "created_at"),
        ("return_requests", "closed_at"),
        ("order_status_history", "created_at"),
    ):
        latest = scalar(seeded_engine, f"SELECT MAX({column}) FROM {table}")
        latest = latest if isinstance(latest, str) else latest.strftime("%Y-%m-%d %H:%M:%S")
        assert latest[:19] <= now, (table, column, latest)
    assert (
        rows(
            seeded_engine,
            """
        SELECT o.id FROM orders o LEFT JOIN shipments s ON s.order_id = o.id
        WHERE o.status IN ('shipped', 'delivered', 'returned') AND s.id IS NULL""",
        )
        == []
    )


def test_seed_leaves_planner_statistics_and_visibility_maps_on_postgres(
    second_url: str, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("planner statistics are PostgreSQL's")
    engine = _seed_fresh(second_url, seed=42, scale="small", as_of=DEMO_DAY)
    with engine.connect() as connection:
        unvacuumed = connection.execute(
            sa.text(
                "SELECT relname FROM pg_stat_user_tables WHERE n_live_tup > 0"
                " AND ((last_analyze IS NULL AND last_autoanalyze IS NULL)"
                " OR (last_vacuum IS NULL AND last_autovacuum IS NULL))"
            )
        ).scalars()
        missing = sorted(unvacuumed)
    engine.dispose()
    assert missing == []
