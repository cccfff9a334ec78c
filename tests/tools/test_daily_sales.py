"""The daily tables that reports read: an order counts in them from its payment to its
cancellation, a moved product takes its past orders to its new category, a write that fails
leaves them alone, and `db check` names a day they disagree on (stock movements' daily table
is tested with movement_analytics in test_inventory)."""

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.daily_sales import record_order
from db.invariants import check_invariants
from db.models import Order, OrderStatus
from tests.tools.test_orders import new_order, quiet_fraud  # noqa: F401 (fixtures)
from tests.tools.test_payments import APPROVED


def broken(engine: Engine) -> list[str]:
    return [check.name for check in check_invariants(engine) if not check.ok]


def sales_of(sql: Any, day: date, variant_id: int) -> tuple[int, int, int]:
    row = (
        "SELECT {} FROM daily_sales WHERE day = :d AND variant_id = :v",
        {"d": day, "v": variant_id},
    )
    return tuple(sql(row[0].format(f"COALESCE(SUM({c}), 0)"), **row[1]) for c in (
        "units", "revenue_cents", "tax_cents"))  # fmt: skip


def orders_in(sql: Any, day: date, status: str) -> tuple[int, int]:
    return tuple(
        sql(
            f"SELECT COALESCE(SUM({c}), 0) FROM daily_orders"
            " WHERE day = :d AND channel = 'shop' AND status = :s",
            d=day,
            s=status,
        )
        for c in ("orders", "total_cents")
    )


def category_orders(sql: Any, day: date, category_id: int) -> int:
    return sql(
        "SELECT COALESCE(SUM(orders), 0) FROM daily_category_orders"
        " WHERE day = :d AND category_id = :c",
        d=day,
        c=category_id,
    )


def test_an_order_counts_from_its_payment_to_its_cancellation(
    call: Any,
    sql: Any,
    seeded_engine: Engine,
    new_order: Any,  # noqa: F811
) -> None:
    line = new_order.lines[0]
    day = new_order.placed_at.date()
    category = sql(
        "SELECT p.category_id FROM product_variants v JOIN products p ON p.id = v.product_id"
        " WHERE v.id = :v",
        v=line.variant_id,
    )
    before = sales_of(sql, day, line.variant_id), category_orders(sql, day, category)
    pending, paid, cancelled = (orders_in(sql, day, s) for s in ("pending", "paid", "cancelled"))
    total = new_order.total_cents
    assert pending[0] >= 1 and broken(seeded_engine) == []  # the new order, as pending

    call("support", "process_payment", order_id=new_order.id, card_number=APPROVED,
         idempotency_key="daily-1")  # fmt: skip

    (units, revenue, tax), orders = before
    assert sales_of(sql, day, line.variant_id) == (
        units + line.quantity,
        revenue + line.total_cents,
        tax + line.tax_cents,
    )
    assert category_orders(sql, day, category) == orders + 1
    assert orders_in(sql, day, "pending") == (pending[0] - 1, pending[1] - total)
    assert orders_in(sql, day, "paid") == (paid[0] + 1, paid[1] + total)
    assert broken(seeded_engine) == []

    call("manager", "cancel_order", order_id=new_order.id, reason="customer changed their mind")

    assert (sales_of(sql, day, line.variant_id), category_orders(sql, day, category)) == before
    assert orders_in(sql, day, "paid") == paid
    assert orders_in(sql, day, "cancelled") == (cancelled[0] + 1, cancelled[1] + total)
    assert broken(seeded_engine) == []


def test_a_product_moved_to_another_category_takes_its_orders_along(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    product, old = (
        sql(f"SELECT {c} FROM products WHERE id = (SELECT MIN(v.product_id) FROM daily_sales s"
            " JOIN product_variants v ON v.id = s.variant_id)")
        for c in ("id", "category_id")
    )  # fmt: skip
    new = sql("SELECT MIN(id) FROM categories WHERE id <> :c", c=old)
    report_before = call("viewer", "sales_report", start="2025-11-01", end="2026-11-25")

    call("manager", "update_product", product_id=product, category_id=new)

    assert broken(seeded_engine) == []
    report = call("viewer", "sales_report", start="2025-11-01", end="2026-11-25")
    moved = sql(
        "SELECT SUM(s.units) FROM daily_sales s JOIN product_variants v ON v.id = s.variant_id"
        " WHERE v.product_id = :p AND s.day BETWEEN '2025-11-01' AND '2026-11-25'",
        p=product,
    )
    units = {c.category: c.units for c in report.by_category}
    units_before = {c.category: c.units for c in report_before.by_category}
    names = {i: sql("SELECT name FROM categories WHERE id = :i", i=i) for i in (old, new)}
    assert units[names[new]] == units_before.get(names[new], 0) + moved > 0
    assert units.get(names[old], 0) == units_before[names[old]] - moved
    assert report.units == report_before.units


def test_a_transaction_rolled_back_leaves_the_daily_sales_alone(
    sql: Any, seeded_engine: Engine
) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'pending'")
    rows = sql("SELECT SUM(units) FROM daily_sales")
    paid = sql("SELECT SUM(orders) FROM daily_orders WHERE status = 'paid'")
    with Session(seeded_engine) as session:
        order = session.get(Order, order_id)
        assert order is not None
        order.status = OrderStatus.PAID
        session.flush()
        record_order(session, order, OrderStatus.PENDING)
        session.rollback()
        session.execute(sa.text("SELECT 1"))
        session.commit()  # a later commit of the same session must not apply it

    assert sql("SELECT SUM(units) FROM daily_sales") == rows
    assert sql("SELECT SUM(orders) FROM daily_orders WHERE status = 'paid'") == paid
    assert broken(seeded_engine) == []


@pytest.mark.parametrize(
    ("table", "figure", "invariant"),
    [
        ("daily_sales", "units", "daily_sales_equal_orders"),
        ("daily_category_orders", "orders", "category_orders_equal_orders"),
        ("daily_stock_movements", "units_in", "daily_movements_equal_movements"),
    ],
)
def test_db_check_names_the_day_a_daily_table_disagrees(
    table: str, figure: str, invariant: str, seeded_engine: Engine, sql: Any
) -> None:
    day = sql(f"SELECT MAX(day) FROM {table}")
    with seeded_engine.begin() as connection:
        connection.execute(
            sa.text(f"UPDATE {table} SET {figure} = {figure} + 1 WHERE day = :d AND {figure} > 0"),
            {"d": day},
        )

    failed = {c.name: c.sample for c in check_invariants(seeded_engine) if not c.ok}
    assert failed == {invariant: [str(day)]}
