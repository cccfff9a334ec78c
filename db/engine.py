"""Engines and sessions for SQLite (the default) and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import get_settings, normalize_database_url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _begin_sqlite(connection: sa.Connection) -> None:
    # pysqlite's own BEGIN is deferred: two writers that both read first then deadlock and
    # one fails with "database is locked". Writers ask for BEGIN IMMEDIATE instead, which
    # queues them (busy_timeout) before they read: SQLite's serialized writes.
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enable_sqlite_rules(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (_begin_sqlite)
    # SQLite leaves foreign keys off unless each connection asks; WAL lets readers
    # run beside the single writer, and busy_timeout makes writers queue instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_database_url(url)
    if is_sqlite(url):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        sa.event.listen(engine, "connect", _enable_sqlite_rules)
        sa.event.listen(engine, "begin", _begin_sqlite)
        return engine
    if "poolclass" not in kwargs:
        kwargs = {"pool_size": 10, "max_overflow": 20, **kwargs}
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


@lru_cache
def get_engine() -> Engine:
    return create_db_engine(get_settings().resolved_database_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commits when the block ends, rolls back if it raises."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def describe_url(url: str) -> str:
    """The URL without its password, fit for logs and messages."""
    return sa.engine.make_url(normalize_database_url(url)).render_as_string(hide_password=True)
