"""`comptoir seed`: the demo merchant's database, the same row for row for a seed and a date."""

import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from db import daily_movements, daily_sales, migrate
from db.bulk import BulkWriter, bulk_load, reset_sequences
from db.demo import catalogue as c
from db.demo.customers import CustomerFactory
from db.demo.history import OrderHistory, external_order_id
from db.demo.reference import Reference, demo_api_key, write_reference


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    orders: int


SCALES = {
    "small": Scale("small", customers=600, orders=4_000),
    "medium": Scale("medium", customers=12_000, orders=80_000),
    "large": Scale("large", customers=220_000, orders=1_000_000),
}


class DatabaseNotEmptyError(Exception):
    """Seeding would mix demo rows into a database that already holds data."""


@dataclass
class SeedResult:
    seed: int
    scale: str
    as_of: date
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    api_keys: dict[str, str] = field(default_factory=dict)


def has_data(engine: Engine) -> bool:
    inspector = sa.inspect(engine)
    if not inspector.has_table("staff_users"):
        return False
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT 1 FROM staff_users LIMIT 1")).first() is not None


def wipe(engine: Engine) -> None:
    """Delete every row, keeping the schema."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                connection.exec_driver_sql(f"DELETE FROM {table}")


def seed_database(
    engine: Engine,
    *,
    seed: int = 42,
    scale: str = "small",
    as_of: date | None = None,
    progress: Callable[[int], None] | None = None,
    plain_inserts: bool = False,
) -> SeedResult:
    """Bring the database to the current schema and fill it with the demo merchant.

    `progress` is called with the number of orders written since its last call;
    `plain_inserts` is for benchmarks (see BulkWriter).
    """
    size = SCALES[scale]
    as_of = as_of or datetime.now(UTC).date()
    migrate.upgrade(engine.url.render_as_string(hide_password=False))
    if has_data(engine):
        raise DatabaseNotEmptyError(
            "the database already holds data; seed an empty database or pass --reset"
        )
    started = clock.perf_counter()
    now = datetime.combine(as_of, time(18, 0), tzinfo=UTC)
    start = now - timedelta(days=365)
    rng = Random(seed)
    with bulk_load(engine) as connection:
        writer = BulkWriter(connection, plain_inserts=plain_inserts)
        try:
            ref = write_reference(writer, rng, seed, start)
            customers = CustomerFactory(writer, rng, ref, seed)
            first_signup, last_signup = start - timedelta(days=730), now - timedelta(hours=2)
            customers.make_many(size.customers, first_signup, last_signup)
            writer.flush()
            history = OrderHistory(writer, rng, ref, customers, start, now)
            history.open_stock(size.orders)
            result = history.run(size.orders, progress)
            _stock_levels(writer, history, now)
            _offers(writer, rng, ref, history, now)
            _waiting_marketplace_orders(writer, rng, ref, history, now)
            _alerts(writer, ref, history, result.anomalies, now)
            writer.add(
                "audit_log",
                {
                    "id": 1,
                    "user_id": None,
                    "actor": "system:seed",
                    "channel": "seed",
                    "action": "seed_demo_data",
                    "entity_type": "database",
                    "entity_id": "demo",
                    "before": None,
                    "after": {"seed": seed, "scale": scale, "as_of": as_of.isoformat()},
                    "request_id": None,
                    "created_at": now,
                },
            )
        finally:
            writer.finish()  # every batch is written before the transaction ends
        _settle_loyalty(connection)
        daily_sales.rebuild(connection)
        daily_movements.rebuild(connection)
    with engine.begin() as connection:
        reset_sequences(connection)
    if engine.dialect.name == "postgresql":
        # Until autovacuum gets to the rows just loaded, the first queries on a big demo were
        # planned as if the tables were empty (no statistics), and index-only scans read every
        # row's table page too (no visibility map): movement_analytics 106 ms, 48 after.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    counts = dict(sorted(writer.counts.items()))
    return SeedResult(
        seed=seed,
        scale=scale,
        as_of=as_of,
        seconds=clock.perf_counter() - started,
        counts=counts,
        api_keys={role: demo_api_key(seed, emails[0]) for role, emails in ref.staff_emails.items()},
    )


def _stock_levels(writer: BulkWriter, history: OrderHistory, now: datetime) -> None:
    for level_id, ((variant_id, warehouse_id), stock) in enumerate(history.stock.items(), 1):
        writer.add(
            "stock_levels",
            {
                "id": level_id,
                "variant_id": variant_id,
                "warehouse_id": warehouse_id,
                "on_hand": stock.on_hand,
                "reserved": stock.committed,
                "reorder_point": stock.reorder_point,
                "reorder_quantity": stock.reorder_quantity,
                "max_stock": stock.reorder_quantity * 3,
                "bin_location": f"{chr(65 + variant_id % 20)}-{variant_id % 40 + 1:02d}-"
                f"{warehouse_id}{variant_id % 7}",
                "updated_at": now,
            },
        )


OFFER_REJECTIONS = {
    "amazon": "price above the marketplace's fair-price ceiling",
    "cdiscount": "missing EAN for this category",
    "backmarket": "grade C not accepted for this model",
    "refurbed": "price below refurbed's floor for this model",
    "mirakl": "category not allowed for this shop",
    "ebay": "listing title too long",
}


def _offers(
    writer: BulkWriter, rng: Random, ref: Reference, history: OrderHistory, now: datetime
) -> None:
    available: dict[int, int] = {}
    for (variant_id, _), stock in history.stock.items():
        available[variant_id] = available.get(variant_id, 0) + stock.available
    offer_id = 0
    for marketplace, *_ in c.MARKETPLACE_CONNECTIONS:
        refurbished_only = marketplace in ("backmarket", "refurbed")
        for variant in ref.variants:
            if (refurbished_only and not variant.refurbished) or rng.random() < 0.35:
                continue
            offer_id += 1
            status = rng.choices(
                ("active", "rejected", "pending", "paused"), weights=(90, 4, 3, 3)
            )[0]
            price = int(variant.price_cents * rng.uniform(0.98, 1.06)) // 100 * 100 - 1
            writer.add(
                "marketplace_offers",
                {
                    "id": offer_id,
                    "connection_id": ref.connection_ids[marketplace],
                    "variant_id": variant.id,
                    "external_offer_id": None
                    if status in ("pending", "rejected")
                    else f"{marketplace[:2].upper()}-OF-{offer_id:07d}",
                    "price_cents": max(price, 99),
                    "quantity": max(0, available.get(variant.id, 0) - 1),
                    "status": status,
                    "rejection_reason": OFFER_REJECTIONS[marketplace]
                    if status == "rejected"
                    else None,
                    "created_at": now - timedelta(days=rng.randint(20, 300)),
                    "updated_at": now - timedelta(days=rng.randint(0, 19)),
                },
            )


def _waiting_marketplace_orders(
    writer: BulkWriter, rng: Random, ref: Reference, history: OrderHistory, now: datetime
) -> None:
    """Orders the marketplaces sent in the last hours that sync has not turned into orders."""
    for marketplace, *_ in c.MARKETPLACE_CONNECTIONS:
        for _ in range(rng.randint(1, 3)):
            mp_id = history.next_id("marketplace_orders")
            variant = rng.choice(ref.variants)
            failed = marketplace == "backmarket" and rng.random() < 0.5
            sku = f"{variant.sku}-X" if failed else variant.sku
            writer.add(
                "marketplace_orders",
                {
                    "id": mp_id,
                    "connection_id": ref.connection_ids[marketplace],
                    "external_order_id": external_order_id(marketplace, mp_id),
                    "marketplace_status": "WAITING_ACCEPTANCE",
                    "sync_status": "failed" if failed else "pending",
                    "order_id": None,
                    "total_cents": variant.price_cents,
                    "payload": {
                        "buyer_email": f"buyer{mp_id}@marketplace.example",
                        "lines": [
                            {"sku": sku, "quantity": 1, "unit_price_cents": variant.price_cents}
                        ],
                    },
                    "error": f"SKU {sku} is not in the catalogue" if failed else None,
                    "received_at": now - timedelta(minutes=rng.randint(5, 180)),
                    "synced_at": None,
                },
            )


def _alerts(
    writer: BulkWriter, ref: Reference, history: OrderHistory, anomalies: list[dict], now: datetime
) -> None:
    alert_id = 0
    codes = {warehouse_id: code for code, warehouse_id in ref.warehouse_ids.items()}
    for (variant_id, warehouse_id), stock in history.stock.items():
        if stock.available >= stock.reorder_point:
            continue
        alert_id += 1
        variant = ref.variants[variant_id - 1]
        critical = stock.available < stock.reorder_point / 2
        writer.add(
            "system_alerts",
            {
                "id": alert_id,
                "source": "inventory",
                "severity": "critical" if critical else "medium",
                "status": "open",
                "title": f"{'Critical' if critical else 'Low'} stock: {variant.sku} at "
                f"{codes[warehouse_id]}",
                "message": f"{stock.available} available, reorder point {stock.reorder_point}; "
                f"suggested reorder: {stock.reorder_quantity} units.",
                "dedupe_key": f"low_stock:{variant_id}:{warehouse_id}",
                "created_at": now - timedelta(hours=1),
                "resolved_at": None,
                "resolved_by": None,
            },
        )
    manager = ref.staff_emails["manager"][0]
    for title, source, message, days in (
        (
            "Cdiscount order sync rate-limited",
            "marketplace",
            "The Cdiscount API answered 429 Too Many Requests for 40 minutes; sync resumed.",
            41,
        ),
        (
            "Colissimo tracking updates delayed",
            "transport",
            "No tracking update received from Colissimo for 3 hours.",
            12,
        ),
    ):
        alert_id += 1
        writer.add(
            "system_alerts",
            {
                "id": alert_id,
                "source": source,
                "severity": "medium",
                "status": "resolved",
                "title": title,
                "message": message,
                "dedupe_key": None,
                "created_at": now - timedelta(days=days),
                "resolved_at": now - timedelta(days=days, hours=-2),
                "resolved_by": manager,
            },
        )
    for risk_id, anomaly in enumerate(anomalies, start=1):
        detected = datetime.combine(anomaly["day"] + timedelta(days=1), time(6, 0), tzinfo=UTC)
        writer.add(
            "risk_alerts",
            {
                "id": risk_id,
                "category": "cancellations",
                "severity": "high",
                "status": "resolved",
                "title": f"Cancellation rate spike on {anomaly['day']:%d %B %Y}",
                "metric": "daily_cancellation_rate",
                "observed_value": round(anomaly["observed"], 4),
                "expected_value": round(anomaly["expected"], 4),
                "method": "z-score of the day's rate against the previous 28 days (|z| >= 3)",
                "detail": f"{anomaly['cancelled']} of {anomaly['orders']} orders cancelled "
                f"(z = {anomaly['z']:.1f}); payments failed during a card provider outage "
                "between 09:00 and 16:00.",
                "detected_at": detected,
                "acknowledged_at": detected + timedelta(hours=2),
                "acknowledged_by": manager,
                "resolved_at": detected + timedelta(hours=5),
                "resolved_by": manager,
                "resolution_note": "provider outage confirmed; customers invited to pay again",
            },
        )


def _settle_loyalty(connection: sa.Connection) -> None:
    """Balances and tiers follow from the loyalty ledger, as the tools compute them."""
    connection.exec_driver_sql("""
        UPDATE customers SET loyalty_points = ledger.balance,
            loyalty_tier = CASE WHEN ledger.lifetime >= 5000 THEN 'platinum'
                                WHEN ledger.lifetime >= 2000 THEN 'gold'
                                WHEN ledger.lifetime >= 500 THEN 'silver'
                                ELSE 'bronze' END
        FROM (SELECT customer_id, SUM(points) AS balance,
                     SUM(CASE WHEN kind IN ('earn', 'revoke') THEN points ELSE 0 END) AS lifetime
              FROM loyalty_transactions GROUP BY customer_id) AS ledger
        WHERE customers.id = ledger.customer_id
    """)
