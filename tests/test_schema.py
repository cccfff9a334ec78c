"""The migrations build the whole schema, the same on SQLite and PostgreSQL."""

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import db.models  # noqa: F401
from db import migrate
from db.engine import create_db_engine
from tests.conftest import PostgresServer

DOMAIN_TABLES = {
    "products",
    "product_variants",
    "categories",
    "warehouses",
    "stock_levels",
    "stock_reservations",
    "stock_movements",
    "customers",
    "addresses",
    "loyalty_transactions",
    "interactions",
    "orders",
    "order_lines",
    "order_status_history",
    "payment_gateways",
    "payment_methods",
    "payments",
    "refunds",
    "carriers",
    "carrier_rates",
    "shipments",
    "tracking_events",
    "marketplace_connections",
    "marketplace_orders",
    "marketplace_messages",
    "marketplace_offers",
    "documents",
    "document_sequences",
    "fraud_checks",
    "blocked_entities",
    "risk_alerts",
    "system_alerts",
    "agent_heartbeats",
    "agent_metrics",
    "articles",
    "article_feedback",
    "return_requests",
    "return_lines",
    "satisfaction_surveys",
    "warranty_claims",
    "staff_users",
    "api_keys",
    "system_settings",
    "quality_inspections",
    "quality_defects",
    "domain_events",
    "audit_log",
    "idempotency_records",
}


def postgres_only(index_name: str | None) -> bool:
    """Trigram search indexes (pg_trgm) exist on PostgreSQL only, made by migration 0005
    alone: a model cannot declare them for both backends."""
    return bool(index_name and index_name.endswith("_trgm"))


def describe_schema(engine: sa.Engine) -> dict[str, Any]:
    """Tables with their columns, keys, constraints and indexes, in a backend-neutral form."""
    inspector = sa.inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        uniques = inspector.get_unique_constraints(table)
        # PostgreSQL also lists each unique constraint as an index; count it once.
        unique_names = {u["name"] for u in uniques}
        schema[table] = {
            "columns": {
                c["name"]: (
                    type(c["type"]).__visit_name__ in ("integer", "big_integer"),
                    c["nullable"],
                )
                for c in inspector.get_columns(table)
            },
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in uniques),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
                if i["name"] not in unique_names and not postgres_only(i["name"])
            ),
            "checks": sorted(c["name"] for c in inspector.get_check_constraints(table)),
        }
    return schema


def test_upgrade_builds_every_domain_table(migrated_url: str) -> None:
    engine = create_db_engine(migrated_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert DOMAIN_TABLES <= tables
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


def test_migrations_match_the_models(migrated_url: str) -> None:
    engine = create_db_engine(migrated_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _: kind != "index" or not postgres_only(name),
            },
        )
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_build_the_same_tables_on_sqlite_and_postgres(
    tmp_path: Any, postgres: PostgresServer | None
) -> None:
    if postgres is None:
        pytest.skip("needs TEST_DATABASE_URL")
    sqlite_url = f"sqlite:///{tmp_path / 'schema.db'}"
    postgres_url = postgres.create()
    try:
        migrate.upgrade(sqlite_url)
        migrate.upgrade(postgres_url)
        sqlite_engine = create_db_engine(sqlite_url)
        postgres_engine = create_db_engine(postgres_url)
        sqlite_schema = describe_schema(sqlite_engine)
        postgres_schema = describe_schema(postgres_engine)
        sqlite_engine.dispose()
        postgres_engine.dispose()
    finally:
        postgres.drop(postgres_url)
    assert set(sqlite_schema) == set(postgres_schema)
    for table in sqlite_schema:
        assert sqlite_schema[table] == postgres_schema[table], table
    # Not vacuous: the schema really has constraints and indexes to compare.
    assert sum(len(t["checks"]) for t in sqlite_schema.values()) > 100
    assert sum(len(t["indexes"]) for t in sqlite_schema.values()) > 80


def test_downgrade_removes_the_schema_and_upgrade_restores_it(migrated_url: str) -> None:
    migrate.downgrade(migrated_url, "base")
    engine = create_db_engine(migrated_url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(migrated_url)
    engine = create_db_engine(migrated_url)
    assert DOMAIN_TABLES <= set(sa.inspect(engine).get_table_names())
    engine.dispose()
