"""Keeping daily_stock_movements equal to the stock movements it sums.

Every movement is written by `tools.inventory_core.move_stock`, which records it here; its
day's row is updated when the session commits, in key order and after the order tables of
db.daily_sales (whose commit hook is registered first, as this module imports it): the rows
of a day are shared by all of that day's movements, and taking their locks last and in one
order means two transactions never each hold a lock the other waits for. Movements are
re-read from the database at commit, so a savepoint rolled back takes its movements along.

`rebuild` recomputes the table (migration, seeding, `comptoir db rebuild-daily`); `comptoir db
check` compares it with `recomputed`.
"""

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from db.daily_sales import adding_rows, apply_at_commit, lock_tables, utc_day
from db.models import DailyStockMovements, StockMovement

# Key in Session.info: ids of the movements written in the transaction.
PENDING = "daily_movements_pending"

daily_movements = DailyStockMovements.__table__  # type: ignore[attr-defined]
movements = StockMovement.__table__  # type: ignore[attr-defined]
_quantity = movements.c.quantity
# A group of movements' units added and units removed (a positive number).
UNITS_IN = sa.func.sum(sa.case((_quantity > 0, _quantity), else_=0))
UNITS_OUT = sa.func.sum(sa.case((_quantity < 0, -_quantity), else_=0))


def recomputed(dialect: str, where: Any = None) -> sa.Select:
    """The table's rows for the movements matching `where` (None: all), in key order."""
    keys = (
        utc_day(dialect, movements.c.created_at).label("day"),
        movements.c.warehouse_id,
        movements.c.kind,
    )
    return (
        sa.select(
            *keys,
            sa.func.count().label("movements"),
            UNITS_IN.label("units_in"),
            UNITS_OUT.label("units_out"),
        )
        .where(sa.true() if where is None else where)
        .group_by(*keys)
        .order_by(*keys)
    )


@functools.cache
def _adding_movements(dialect: str) -> Any:
    ids: Any = sa.bindparam("ids", expanding=True)
    return adding_rows(dialect, daily_movements, recomputed(dialect, movements.c.id.in_(ids)))


def rebuild(connection: Connection) -> None:
    """Recompute the table from every stock movement."""
    lock_tables(connection, daily_movements)
    rows = recomputed(connection.dialect.name)
    connection.execute(daily_movements.delete())
    columns = list(rows.selected_columns.keys())
    connection.execute(daily_movements.insert().from_select(columns, rows))


def record_movement(session: Session, movement: StockMovement) -> None:
    """The movement was just written (and flushed); counted when the session commits."""
    session.info.setdefault(PENDING, set()).add(movement.id)


def _apply_movements(session: Session, ids: set[int]) -> None:
    connection = session.connection()
    connection.execute(_adding_movements(connection.dialect.name), {"ids": sorted(ids)})


apply_at_commit(PENDING, _apply_movements)  # after db.daily_sales's, registered on its import
