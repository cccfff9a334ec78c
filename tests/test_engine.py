"""SQLite transactions as db.engine begins them: a writer's (the sqlite_immediate option)
holds SQLite's write lock from its BEGIN, before it reads; a reader's takes none, even on a
pooled connection a writer used before."""

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from db.engine import IMMEDIATE, create_db_engine


def write_lock_taken(database: Path) -> bool:
    """Whether another connection would have to wait for SQLite's write lock."""
    other = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return True
    finally:
        other.close()


def test_writers_lock_at_begin_and_readers_do_not(tmp_path: Path) -> None:
    database = tmp_path / "engine.db"
    engine = create_db_engine(f"sqlite:///{database}", pool_size=1, max_overflow=0)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    locked = []
    with Session(engine) as session:
        session.connection(execution_options={IMMEDIATE: True})
        locked.append(write_lock_taken(database))
        session.execute(sa.text("INSERT INTO t VALUES (1)"))
        session.commit()
    # The one pooled connection again, for a reader: its BEGIN is deferred again.
    with Session(engine) as session:
        assert session.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
        locked.append(write_lock_taken(database))
    with engine.connect().execution_options(**{IMMEDIATE: True}) as connection:
        for _ in range(2):  # every transaction of a writer's connection
            with connection.begin():
                locked.append(write_lock_taken(database))
    assert locked == [True, False, True, True]
    assert not write_lock_taken(database)
    engine.dispose()
