"""Where conversations are kept: LangGraph's SQLite checkpointer beside a SQLite database, its
PostgreSQL checkpointer (in its own schema) when the database is PostgreSQL."""

import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.engine import Engine

from db.locks import DatabaseLock

SCHEMA = "comptoir_graph"  # keeps LangGraph's tables out of the application schema


def open_checkpointer(engine: Engine) -> BaseCheckpointSaver:
    """A checkpointer for the conversations of this database, tables created if needed."""
    if engine.dialect.name == "postgresql":
        return _postgres(engine)
    database = engine.url.database
    if not database or database == ":memory:":
        path = ":memory:"
    else:
        path = str(Path(database).with_suffix(".checkpoints.db"))
    return sqlite_saver(path)


def sqlite_saver(path: str) -> BaseCheckpointSaver:
    """LangGraph's SQLite checkpointer on a WAL database, tables created if needed."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")  # WAL: safe if the process crashes
    connection.execute("PRAGMA busy_timeout=5000")
    saver = SqliteSaver(connection)
    saver.setup()
    return saver


def _postgres(engine: Engine) -> BaseCheckpointSaver:
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import Connection
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=8,
        open=True,
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "row_factory": dict_row,
            "options": f"-c search_path={SCHEMA}",
        },
    )
    saver = PostgresSaver(pool)  # type: ignore[arg-type]
    # Server workers may open theirs at the same time: neither CREATE SCHEMA IF NOT EXISTS
    # nor LangGraph's setup() (each would insert the same migration rows) is safe to run
    # twice at once.
    with DatabaseLock(engine, "checkpointer-setup").acquired():
        with Connection.connect(url, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        saver.setup()
    return saver


def close_checkpointer(saver: BaseCheckpointSaver) -> None:
    connection = getattr(saver, "conn", None)
    if connection is not None:
        connection.close()
