"""Engines and sessions for SQLite (the default) and PostgreSQL."""

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.engine.characteristics import ConnectionCharacteristic
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.pool import PoolProxiedConnection
from sqlmodel import Session

from core.settings import get_settings, normalize_database_url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


IMMEDIATE = "sqlite_immediate"  # execution option: this connection's transactions write


class _SQLiteConnection(sqlite3.Connection):
    """pysqlite's connection, knowing how its next transaction begins."""

    begin_immediate = False


class _BeginImmediate(ConnectionCharacteristic):
    """The `sqlite_immediate` execution option, kept on the DBAPI connection while it is
    checked out (and reset when it goes back to the pool), where _begin_sqlite reads it."""

    def set_characteristic(self, dialect: Dialect, dbapi_conn: DBAPIConnection, value: Any) -> None:
        cast(_SQLiteConnection, dbapi_conn).begin_immediate = bool(value)

    def reset_characteristic(self, dialect: Dialect, dbapi_conn: DBAPIConnection) -> None:
        cast(_SQLiteConnection, dbapi_conn).begin_immediate = False

    def get_characteristic(self, dialect: Dialect, dbapi_conn: DBAPIConnection) -> bool:
        return cast(_SQLiteConnection, dbapi_conn).begin_immediate


def _begin_sqlite(connection: PoolProxiedConnection) -> None:
    """The SQLite dialect's BEGIN (its do_begin), on the pooled DBAPI connection.

    pysqlite's own BEGIN is deferred: two writers that both read first then deadlock and
    one fails with "database is locked". Writers ask for BEGIN IMMEDIATE instead, which
    queues them (busy_timeout) before they read: SQLite's serialized writes.

    Emitted by the dialect rather than from a "begin" event (SQLAlchemy's recipe): any
    connection event on the engine sends every statement, begin and commit through the event
    machinery, which cost a quarter of an empty transaction and 6% of a REST write."""
    dbapi_connection = cast(_SQLiteConnection, connection.dbapi_connection)
    dbapi_connection.execute("BEGIN IMMEDIATE" if dbapi_connection.begin_immediate else "BEGIN")


def _enable_sqlite_rules(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # the dialect emits BEGIN itself (_begin_sqlite)
    # SQLite leaves foreign keys off unless each connection asks; WAL lets readers
    # run beside the single writer, and busy_timeout makes writers queue instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A writer whose commit takes the WAL past this many pages copies them into the database
    # and syncs it, inside its request. SQLite's default of 1,000 pages (4 MB) did that every
    # ~100 writes; 10,000 does it a tenth as often, and a page changed many times in between
    # (indexes, hot rows) is copied once. The WAL file grows to ~40 MB at most.
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_database_url(url)
    if is_sqlite(url):
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        if "poolclass" not in kwargs and database not in (None, "", ":memory:"):
            # Enough pooled connections for the server's thread pool (40 threads): with
            # SQLAlchemy's default of 5, the rest were opened and closed on every request,
            # each running the pragmas below again. Last in, first out: each connection has
            # its own page cache, which SQLite empties at its next transaction once another
            # connection has written; handing out the connection used last (the previous
            # writer's, as writers take turns) keeps its pages, where the default rotation
            # through the pool started most writes from an empty cache (8% of a write's time).
            kwargs = {"pool_size": 40, "max_overflow": 20, "pool_use_lifo": True, **kwargs}
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "factory": _SQLiteConnection}, **kwargs
        )
        sa.event.listen(engine, "connect", _enable_sqlite_rules)  # a pool event
        dialect = cast(DefaultDialect, engine.dialect)
        dialect.connection_characteristics = dialect.connection_characteristics.union(
            {IMMEDIATE: _BeginImmediate()}
        )
        dialect.do_begin = _begin_sqlite  # type: ignore[method-assign,assignment]
        return engine
    if "poolclass" not in kwargs:
        kwargs = {"pool_size": 10, "max_overflow": 20, **kwargs}
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


_writer_locks: "weakref.WeakKeyDictionary[Engine, threading.RLock]" = weakref.WeakKeyDictionary()
_writer_locks_guard = threading.Lock()


@contextmanager
def serialized_writer(engine: Engine) -> Iterator[None]:
    """Hold this process's writer lock for a SQLite write transaction (nothing on PostgreSQL).

    Writers already queue on SQLite's lock (BEGIN IMMEDIATE, busy_timeout), but SQLite's busy
    handler makes a waiting writer sleep and poll, up to 100 ms at a time: under load the lock
    sat free while the writers slept. In-process writers queue on this lock first, which wakes
    the next one as soon as it is released; other processes still queue on busy_timeout.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    with _writer_locks_guard:
        lock = _writer_locks.setdefault(engine, threading.RLock())
    with lock:
        yield


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
