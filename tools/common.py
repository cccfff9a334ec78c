"""Helpers most tools share: fetching by id, keyset pagination, money, time windows."""

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, SQLModel, col, select

from db.base import utc_now
from db.daily_sales import utc_day
from db.demo.catalogue import SYSTEM_SETTINGS
from db.models import Order, SystemSetting
from tools.base import InvalidInput, NotFound

Row = TypeVar("Row", bound=SQLModel)
Item = TypeVar("Item")

Limit = Annotated[int, Field(ge=1, le=200, description="How many items to return (1-200).")]
Cursor = Annotated[
    int | None,
    Field(ge=0, description="Return items after this id: the `next_cursor` of the previous page."),
]


class Page(BaseModel, Generic[Item]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next one."""

    items: list[Item]
    next_cursor: int | None = None


def get_or_404(
    session: Session, model: type[Row], id_: Any, label: str | None = None, *, lock: bool = False
) -> Row:
    """The row with this primary key, or a NotFound naming what was looked for.

    `lock` takes a row lock on PostgreSQL (SELECT ... FOR UPDATE) for read-modify-write.
    """
    if lock:
        row = session.exec(_locking_select(model), params={"id_": id_}).first()
    else:
        row = session.get(model, id_)
    if row is None:
        table = str(model.__tablename__)
        name = label or table.rstrip("s").replace("_", " ")
        raise NotFound(f"{name} {id_} does not exist", field=f"{name.replace(' ', '_')}_id")
    return row


@cache
def _locking_select(model: type[Row]) -> Any:
    """SELECT ... FOR UPDATE of one row of `model` by primary key, built once per model: a
    statement built per call cost half of the locked fetch (building, then its cache key)."""
    key = model.__table__.primary_key.columns[0]  # type: ignore[attr-defined]
    return select(model).where(key == sa.bindparam("id_")).with_for_update()


def rows_by_id(session: Session, model: type[Row], ids: Iterable[Any]) -> dict[Any, Row]:
    """The rows with these primary keys, by key, in one query: for the rows a page refers to
    (one `session.get` per item would query again for each, as the session keeps no row that
    nothing refers to any more)."""
    key = model.__table__.primary_key.columns[0]  # type: ignore[attr-defined]
    wanted = {id_ for id_ in ids if id_ is not None}
    if not wanted:
        return {}
    rows = session.exec(select(model).where(key.in_(wanted))).all()
    return {getattr(row, key.name): row for row in rows}


def paginate(
    session: Session,
    statement: Any,
    id_column: Any,
    limit: int,
    cursor: int | None,
    *,
    descending: bool = True,
) -> tuple[list[Any], int | None]:
    """Keyset pagination on an id column: stable and as fast on page 1,000 as on page 1."""
    if cursor is not None:
        statement = statement.where(id_column < cursor if descending else id_column > cursor)
    statement = statement.order_by(id_column.desc() if descending else id_column).limit(limit + 1)
    rows = list(session.exec(statement).all())
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if rows else None
    next_cursor = None
    if more and last is not None:
        next_cursor = getattr(last, "id", None) if not isinstance(last, sa.Row) else last[0].id
    return rows, next_cursor


SEEDED_SETTINGS: dict[str, Any] = {key: value for key, value, *_ in SYSTEM_SETTINGS}


def setting(session: Session, key: str, default: Any = None) -> Any:
    """A merchant setting from system_settings; when it is unset, `default`, else the value
    Comptoir ships with."""
    row = session.get(SystemSetting, key)
    if row is not None and row.value is not None and row.value != "":
        return row.value
    return default if default is not None else SEEDED_SETTINGS.get(key)


def setting_int(session: Session, key: str, default: int | None = None) -> int:
    """An integer setting; a stored value that is not a number falls back like an unset one."""
    fallback = default if default is not None else SEEDED_SETTINGS[key]
    try:
        return int(setting(session, key, fallback))
    except (TypeError, ValueError):
        return int(fallback)


def contains(expression: Any, text: str, *, prefix: bool = False) -> Any:
    """`expression LIKE '%text%'` ('text%' with prefix), the text's own % and _ taken
    literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return expression.like(f"{escaped}%" if prefix else f"%{escaped}%", escape="\\")


def euros(cents: int) -> str:
    """A euro amount as a French merchant reads it: 1 234,50 EUR."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}".replace(",", "\u202f") + f",{rest:02d} EUR"


def period(
    start: date | None, end: date | None, default_days: int = 30, today: date | None = None
) -> tuple[datetime, datetime]:
    """[start, end] as UTC datetimes covering whole days; the last `default_days` by default."""
    end = end or today or utc_now().date()
    start = start or end - timedelta(days=default_days - 1)
    if start > end:
        raise InvalidInput(f"the period starts ({start}) after it ends ({end})", field="start")
    if (end - start).days > 3660:
        raise InvalidInput("a period can cover ten years at most", field="start")
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def on_days(day: Any, since: datetime, until: datetime) -> Any:
    """`day` (a daily table's day column) within [since, until), whole UTC days."""
    return sa.and_(day >= since.date(), day < until.date())


def day_of(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, on SQLite and PostgreSQL."""
    return utc_day(session.get_bind().dialect.name, column)


def as_date(value: Any) -> date:
    """A day_of value as a date (SQLite gives the text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def hours_between(session: Session, start: Any, end: Any) -> Any:
    """Hours from one timestamp column to another, as a SQL expression (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.extract("epoch", end - start) / 3600.0
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 24.0


def order_id_range(session: Session, *where: Any) -> tuple[int, int]:
    """The smallest and largest id of the orders matching `where` ((0, -1) if none), for
    `OrderLine.order_id.between(...)` (or any order id column). Joining those orders implies
    it already; said outright, it lets the database read only that id range of a big table
    (orders get ids in the order they come, so a period's orders have neighbouring ids)
    instead of all of it. Given as numbers rather than a subquery, they let PostgreSQL see
    how many rows the range holds and plan for it."""
    # "+ 0": PostgreSQL would otherwise read min(id) by walking the primary key from the
    # first order until one matches, most of the table for a recent period.
    first, last = session.execute(
        sa.select(sa.func.min(col(Order.id) + 0), sa.func.max(col(Order.id) + 0)).where(*where)
    ).one()
    return (first, last) if first is not None else (0, -1)
