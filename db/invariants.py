"""The rules a consistent database keeps, checked against its rows: stock never oversold and
equal to its movements, reservations equal to reserved stock, refunds within captures and
equal to their payments, order totals and loyalty balances that add up, daily tables equal
to the orders and movements they sum.

The schema enforces what a row can say about itself (no negative stock, reserved within on
hand, refunded within captured); these checks also compare rows with the rows that justify
them. `comptoir db check` prints them; the load benchmark and the crash tests assert them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from db import daily_movements, daily_sales

SAMPLE = 5  # offending ids shown per broken rule


@dataclass(frozen=True)
class Invariant:
    name: str
    table: str  # where the rows it checks live
    rule: str
    # SQL selecting the id of each row that breaks the rule, or what writes it for a dialect
    offenders: str | Callable[[sa.Dialect], str]


def _differs_from_orders(table: sa.Table) -> Callable[[sa.Dialect], str]:
    """The days on which a daily order table and the orders it sums disagree."""
    return _differs_from_rows(
        table, lambda dialect: daily_sales.recomputed(dialect, sa.true())[table]
    )


def _differs_from_rows(
    table: sa.Table, recompute: Callable[[str], sa.Select]
) -> Callable[[sa.Dialect], str]:
    """The days on which a daily table and the rows it sums (`recompute(dialect)`) disagree."""

    def offenders(dialect: sa.Dialect) -> str:
        recomputed = recompute(dialect.name).order_by(None)
        figures = [c for c in table.columns if not c.primary_key]
        kept = sa.select(*table.columns).where(sa.or_(*(c != 0 for c in figures)))
        a, b = (sa.select(q.subquery()) for q in (kept, recomputed))
        either = sa.union(
            sa.select(sa.except_(a, b).subquery()), sa.select(sa.except_(b, a).subquery())
        )
        query = sa.select(either.subquery().c.day.label("id")).distinct()
        return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))

    return offenders


@dataclass
class Check:
    name: str
    rule: str
    rows: int  # rows the rule was checked on
    violations: int
    sample: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.violations == 0


INVARIANTS = (
    Invariant(
        "stock_not_negative",
        "stock_levels",
        "on hand and reserved are never negative, per stock level",
        "SELECT id FROM stock_levels WHERE on_hand < 0 OR reserved < 0",
    ),
    Invariant(
        "reserved_within_on_hand",
        "stock_levels",
        "reserved <= on hand, per stock level (nothing oversold)",
        "SELECT id FROM stock_levels WHERE reserved > on_hand",
    ),
    Invariant(
        "stock_equals_movements",
        "stock_levels",
        "on hand == the sum of its movements, per stock level",
        """SELECT s.id FROM stock_levels s
           LEFT JOIN (SELECT variant_id, warehouse_id, SUM(quantity) AS total
                      FROM stock_movements GROUP BY variant_id, warehouse_id) m
             ON m.variant_id = s.variant_id AND m.warehouse_id = s.warehouse_id
           WHERE s.on_hand <> COALESCE(m.total, 0)""",
    ),
    Invariant(
        "reserved_equals_reservations",
        "stock_levels",
        "reserved == the active reservations, per stock level",
        """SELECT s.id FROM stock_levels s
           LEFT JOIN (SELECT variant_id, warehouse_id, SUM(quantity) AS total
                      FROM stock_reservations WHERE status = 'active'
                      GROUP BY variant_id, warehouse_id) r
             ON r.variant_id = s.variant_id AND r.warehouse_id = s.warehouse_id
           WHERE s.reserved <> COALESCE(r.total, 0)""",
    ),
    Invariant(
        "refunds_within_capture",
        "payments",
        "refunded <= captured, per payment",
        "SELECT id FROM payments WHERE refunded_cents > captured_cents",
    ),
    Invariant(
        "refunds_equal_refunded",
        "payments",
        "the sum of a payment's refunds == its refunded_cents",
        """SELECT p.id FROM payments p
           LEFT JOIN (SELECT payment_id, SUM(amount_cents) AS total
                      FROM refunds GROUP BY payment_id) r ON r.payment_id = p.id
           WHERE p.refunded_cents <> COALESCE(r.total, 0)""",
    ),
    Invariant(
        "captures_within_total",
        "orders",
        "what an order's payments captured <= its total (no order charged twice)",
        """SELECT o.id FROM orders o
           JOIN (SELECT order_id, SUM(captured_cents) AS total
                 FROM payments GROUP BY order_id) p ON p.order_id = o.id
           WHERE p.total > o.total_cents""",
    ),
    Invariant(
        "order_lines_add_up",
        "order_lines",
        "each order line's total == quantity x unit price - discount",
        """SELECT id FROM order_lines
           WHERE total_cents <> quantity * unit_price_cents - discount_cents""",
    ),
    Invariant(
        "order_totals_add_up",
        "orders",
        "total == the lines' totals + shipping and subtotal == the lines before discounts, "
        "per order",
        """SELECT o.id FROM orders o
           LEFT JOIN (SELECT order_id, SUM(total_cents) AS total,
                             SUM(quantity * unit_price_cents) AS gross
                      FROM order_lines GROUP BY order_id) l ON l.order_id = o.id
           WHERE o.total_cents <> COALESCE(l.total, 0) + o.shipping_cents
              OR o.subtotal_cents <> COALESCE(l.gross, 0)""",
    ),
    Invariant(
        "loyalty_equals_ledger",
        "customers",
        "a customer's loyalty points == the sum of their ledger",
        """SELECT c.id FROM customers c
           LEFT JOIN (SELECT customer_id, SUM(points) AS total
                      FROM loyalty_transactions GROUP BY customer_id) t
             ON t.customer_id = c.id
           WHERE c.loyalty_points <> COALESCE(t.total, 0)""",
    ),
    Invariant(
        "daily_orders_equal_orders",
        "daily_orders",
        "orders and amounts per day, channel and status == the orders placed that day",
        _differs_from_orders(daily_sales.daily_orders),
    ),
    Invariant(
        "daily_sales_equal_orders",
        "daily_sales",
        "units, revenue and tax per SKU and day == the lines of that day's sold orders",
        _differs_from_orders(daily_sales.daily_sales),
    ),
    Invariant(
        "category_orders_equal_orders",
        "daily_category_orders",
        "orders per category and day == that day's sold orders holding the category",
        _differs_from_orders(daily_sales.category_orders),
    ),
    Invariant(
        "daily_movements_equal_movements",
        "daily_stock_movements",
        "movements and units in and out per day, warehouse and kind == that day's movements",
        _differs_from_rows(daily_movements.daily_movements, daily_movements.recomputed),
    ),
)


def check_invariants(engine: Engine) -> list[Check]:
    """Every invariant against the database, in one read-only transaction (one snapshot on
    PostgreSQL, so rows written meanwhile cannot make a consistent database look broken)."""
    checks = []
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        counts = {
            table: connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in sorted({invariant.table for invariant in INVARIANTS})
        }
        for invariant in INVARIANTS:
            ids = connection.execute(
                sa.text(f"SELECT id FROM ({_sql(invariant, connection)}) broken ORDER BY id")
            ).scalars()
            offending = [str(i) for i in ids]
            checks.append(
                Check(
                    name=invariant.name,
                    rule=invariant.rule,
                    rows=counts[invariant.table],
                    violations=len(offending),
                    sample=offending[:SAMPLE],
                )
            )
    return checks


def _sql(invariant: Invariant, connection: Connection) -> str:
    if isinstance(invariant.offenders, str):
        return invariant.offenders
    return invariant.offenders(connection.dialect)
