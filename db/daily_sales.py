"""Keeping the daily tables (db/models/sales.py) equal to the orders they sum.

Orders are counted from their creation (`record_order` in create_order and the marketplace
intake) and move between statuses in `tools.orders.transition`, which calls it again; an
order's lines count in the daily sales while it is a sale (paid, not cancelled). Changes are
applied when the session commits, after everything else the transaction writes, with the
rows of each table in key order: the rows of a day are shared by all of that day's orders,
and taking their locks last and in one order means two transactions never each hold a lock
the other waits for (orders that became sales and orders that stopped being sales in one
transaction are the exception: no tool changes orders both ways at once). A product moved
to another category changes which category its past orders count in:
`recount_category_orders`.

`rebuild` recomputes the tables from the orders (migration, seeding); `comptoir db check`
compares them with `recomputed`.
"""

import functools
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction

from db.models import (
    SOLD_STATUSES,
    DailyCategoryOrders,
    DailyOrders,
    DailySales,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductVariant,
)

# Key in Session.info: {order id: status at the start of the transaction (None: created)}.
PENDING = "daily_tables_pending"

daily_orders = DailyOrders.__table__  # type: ignore[attr-defined]
daily_sales = DailySales.__table__  # type: ignore[attr-defined]
category_orders = DailyCategoryOrders.__table__  # type: ignore[attr-defined]
TABLES = (daily_orders, daily_sales, category_orders)  # in the order their locks are taken
orders, lines = Order.__table__, OrderLine.__table__  # type: ignore[attr-defined]
variants, products = ProductVariant.__table__, Product.__table__  # type: ignore[attr-defined]
AMOUNTS = ("total_cents", "shipping_cents", "discount_cents", "tax_cents")
KEYED_FIGURES = ("day", "channel", "status", "orders", *AMOUNTS)  # a daily_orders row


def utc_day(dialect: str, column: Any) -> Any:
    """The UTC calendar day of a timestamp column."""
    if dialect == "postgresql":
        return sa.func.date(sa.func.timezone(sa.text("'UTC'"), column))
    return sa.func.date(column)


def recomputed(dialect: str, where: Any, sold: Any = None) -> dict[sa.Table, sa.Select]:
    """Each table's rows for the orders matching `where`, in key order: orders counted in
    their status, and the lines of the sold ones; or, given `sold` (1 or -1), the lines of
    all of them, counted with that sign."""
    day = utc_day(dialect, orders.c.placed_at)
    if sold is None:
        sold = sa.case((orders.c.status.in_(SOLD_STATUSES), 1))
    keys = (day.label("day"), orders.c.channel, orders.c.status)
    by_status = (
        sa.select(
            *keys,
            sa.func.count().label("orders"),
            *(sa.func.sum(orders.c[c]).label(c) for c in AMOUNTS),
        )
        .where(where)
        .group_by(*keys)
        .order_by(*keys)
    )

    sign = sold.label("sign")
    sold_lines = (
        lines.join(orders, orders.c.id == lines.c.order_id)
        .join(variants, variants.c.id == lines.c.variant_id)
        .join(products, products.c.id == variants.c.product_id)
    )
    per_line = (
        sa.select(day.label("day"), lines, products.c.category_id, sign)
        .select_from(sold_lines)
        .where(where, sold.is_not(None))
        .subquery()
    )
    by_sku = (
        sa.select(
            per_line.c.day,
            per_line.c.variant_id,
            sa.func.sum(per_line.c.sign * per_line.c.quantity).label("units"),
            sa.func.sum(per_line.c.sign * per_line.c.total_cents).label("revenue_cents"),
            sa.func.sum(per_line.c.sign * per_line.c.tax_cents).label("tax_cents"),
        )
        .group_by(per_line.c.day, per_line.c.variant_id)
        .order_by(per_line.c.day, per_line.c.variant_id)
    )
    # An order counts once in a category, whatever its number of lines there.
    per_order = (
        sa.select(per_line.c.order_id, per_line.c.day, per_line.c.category_id, per_line.c.sign)
        .distinct()
        .subquery()
    )
    by_category = (
        sa.select(
            per_order.c.day,
            per_order.c.category_id,
            sa.func.sum(per_order.c.sign).label("orders"),
        )
        .group_by(per_order.c.day, per_order.c.category_id)
        .order_by(per_order.c.day, per_order.c.category_id)
    )
    return {daily_orders: by_status, daily_sales: by_sku, category_orders: by_category}


def _insert(dialect: str, table: sa.Table) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _adding(statement: Any, table: sa.Table) -> Any:
    """`statement` (an insert) adding its figures to the rows it finds already there."""
    return statement.on_conflict_do_update(
        index_elements=[c.name for c in table.primary_key],
        set_={c.name: c + statement.excluded[c.name] for c in table.columns if not c.primary_key},
    )


def adding_rows(dialect: str, table: sa.Table, rows: sa.Select) -> Any:
    """INSERT the rows (figures per key) into `table`, in key order, adding them to the rows
    already there."""
    given = rows.subquery()
    # SQLite needs a WHERE in INSERT ... SELECT ... ON CONFLICT (its parser's ambiguity).
    source = sa.select(given).where(sa.true())
    source = source.order_by(*(given.c[c.name] for c in table.primary_key))
    columns = [c.name for c in rows.selected_columns]
    return _adding(_insert(dialect, table).from_select(columns, source), table)


class _Statements:
    """What apply_changes sends, built once per dialect: building them is most of the cost."""

    def __init__(self, dialect: str) -> None:
        ids: Any = sa.bindparam("ids", expanding=True)
        self.orders = sa.select(
            orders.c.id,
            utc_day(dialect, orders.c.placed_at),
            orders.c.channel,
            orders.c.status,
            *(orders.c[c] for c in AMOUNTS),
        ).where(orders.c.id.in_(ids))
        self.add_orders = _adding(_insert(dialect, daily_orders), daily_orders)
        sold = sa.bindparam("sign", type_=sa.Integer)  # 1: became sales, -1: stopped being
        rows = recomputed(dialect, orders.c.id.in_(ids), sold)
        self.add_sales = [
            adding_rows(dialect, table, rows[table]) for table in (daily_sales, category_orders)
        ]


@functools.cache
def _statements(dialect: str) -> _Statements:
    return _Statements(dialect)


def apply_changes(connection: Connection, previous: dict[int, OrderStatus | None]) -> None:
    """Count these orders' changes since `previous` (their status then, None: created)."""
    if not previous:
        return
    statements = _statements(connection.dialect.name)
    ids = sorted(previous)
    moved: dict[tuple[date, str, str], list[int]] = {}
    became_sales: list[int] = []
    stopped_being_sales: list[int] = []
    for order_id, day, channel, status, *amounts in connection.execute(
        statements.orders, {"ids": ids}
    ):
        before = previous[order_id]
        if before == status:
            continue
        day = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
        for sign, state in ((-1, before), (1, status)):
            if state is not None:
                figures = moved.setdefault((day, str(channel), str(state)), [0] * 5)
                for i, value in enumerate((1, *amounts)):
                    figures[i] += sign * value
        if (before in SOLD_STATUSES) != (status in SOLD_STATUSES):
            (became_sales if status in SOLD_STATUSES else stopped_being_sales).append(order_id)
    if moved:  # one row after the other in key order: see the module's docstring
        connection.execute(
            statements.add_orders,
            [
                dict(
                    zip(
                        ("day", "channel", "status", "orders", *AMOUNTS),
                        (*key, *figures),
                        strict=True,
                    )
                )
                for key, figures in sorted(moved.items())
            ],
        )
    for sign, ids in ((1, became_sales), (-1, stopped_being_sales)):
        if ids:
            for statement in statements.add_sales:
                connection.execute(statement, {"ids": ids, "sign": sign})


def lock_tables(connection: Connection, *tables: sa.Table) -> None:
    """Hold off other writers of these tables until the transaction ends (PostgreSQL; SQLite
    runs one writer at a time anyway): rows they would add meanwhile would collide with the
    recomputed ones."""
    if connection.dialect.name == "postgresql":
        names = ", ".join(table.name for table in tables)
        connection.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def rebuild(connection: Connection) -> None:
    """Recompute the daily tables from every order."""
    lock_tables(connection, *TABLES)
    rows = recomputed(connection.dialect.name, sa.true())
    for table in TABLES:
        connection.execute(table.delete())
        columns = list(rows[table].selected_columns.keys())
        connection.execute(table.insert().from_select(columns, rows[table]))


def recount_category_orders(connection: Connection, category_ids: Iterable[int]) -> None:
    """Recount these categories' orders from the sold orders, all days (a product moved)."""
    ids = sorted(set(category_ids))
    lock_tables(connection, category_orders)
    rows = recomputed(connection.dialect.name, products.c.category_id.in_(ids))[category_orders]
    connection.execute(category_orders.delete().where(category_orders.c.category_id.in_(ids)))
    connection.execute(
        category_orders.insert().from_select(list(rows.selected_columns.keys()), rows)
    )


def record_order(session: Session, order: Order, previous: OrderStatus | None) -> None:
    """The order was just created (previous None) or is leaving status `previous`; counted
    when the session commits."""
    session.connection()  # in a transaction, so that a rollback forgets it
    changes = session.info.setdefault(PENDING, {})
    changes.setdefault(order.id, previous)  # its status when the transaction began


def apply_at_commit(key: str, apply: Callable[[Session, Any], None]) -> None:
    """Have `apply(session, pending)` run when a session commits a transaction that left
    something under `session.info[key]`, after everything else it wrote; forget it when the
    transaction ends otherwise (a rollback). Hooks run in the order they were registered in,
    so the daily tables' row locks are taken in that order by every transaction."""

    @event.listens_for(Session, "before_commit")
    def _apply_pending(session: Session) -> None:
        if pending := session.info.pop(key, None):
            apply(session, pending)

    @event.listens_for(Session, "after_transaction_end")
    def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # rolled back, or committed (already applied)
            session.info.pop(key, None)


def _apply_orders(session: Session, changes: dict[int, OrderStatus | None]) -> None:
    session.flush()  # the new statuses, and the lines of an order created here
    apply_changes(session.connection(), changes)


apply_at_commit(PENDING, _apply_orders)
