"""Fast inserts of many rows: COPY on PostgreSQL, executemany on SQLite."""

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel


class BulkWriter:
    """Buffers rows per table and writes them in large batches inside one connection.

    Rows must name every column they set, including primary keys: demo data sets its
    ids itself so that a seed gives the same rows every time. A flush writes the tables
    parents first, so rows may be added in any order between two flushes, and a row
    stays editable until the next flush.

    Batches are written by a background thread so that generating the next batch (Python)
    overlaps with the database indexing this one (the server, or SQLite with the GIL
    released): on two cores that is most of the gain. `finish()` waits for the last one
    and re-raises any error; the connection must not be used before it returns.
    """

    def __init__(
        self, connection: Connection, batch_size: int = 50_000, plain_inserts: bool = False
    ) -> None:
        """`plain_inserts` writes through SQLAlchemy's executemany instead of COPY or raw
        executemany: slower, kept so benchmarks can show what the fast path buys."""
        self.connection = connection
        self.plain_inserts = plain_inserts
        self.batch_size = batch_size
        self.is_postgres = connection.dialect.name == "postgresql"
        self.buffers: dict[str, list[dict[str, Any]]] = self._empty_buffers()
        self.buffered = 0
        self.counts: dict[str, int] = {}
        self.pending: queue.Queue[dict[str, list[dict[str, Any]]] | None] = queue.Queue(1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._drain, name="bulk-writer", daemon=True)
        self.thread.start()

    @staticmethod
    def _empty_buffers() -> dict[str, list[dict[str, Any]]]:
        return {table.name: [] for table in SQLModel.metadata.sorted_tables}

    def add(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        self.buffers[table].append(row)
        self.buffered += 1
        return row

    def add_all(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.add(table, row)

    def flush_if_full(self) -> None:
        if self.buffered >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Hand the buffered rows to the writer thread; rows added from now on are new."""
        if self.error:
            raise self.error
        batch, self.buffers, self.buffered = self.buffers, self._empty_buffers(), 0
        for table, rows in batch.items():
            if rows:
                self.counts[table] = self.counts.get(table, 0) + len(rows)
        self.pending.put(batch)

    def finish(self) -> None:
        """Write what is buffered, wait for every batch, and raise the writer's error if any."""
        self.flush()
        self.pending.put(None)
        self.thread.join()
        if self.error:
            raise self.error

    def _drain(self) -> None:
        while (batch := self.pending.get()) is not None:
            if self.error:
                continue  # keep draining so flush() never blocks; finish() raises
            try:
                for table, rows in batch.items():
                    if rows:
                        self._write(SQLModel.metadata.tables[table], rows)
            except BaseException as error:  # re-raised in the generating thread
                self.error = error

    def _write(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        if self.plain_inserts:
            self.connection.execute(table.insert(), rows)
            return
        columns = list(rows[0].keys())
        special = [
            (index, convert)
            for index, name in enumerate(columns)
            if (convert := _converter(table.columns[name], self.is_postgres))
        ]
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        values = (_row_values(row, columns, special) for row in rows)
        if self.is_postgres:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row_values in values:
                    copy.write_row(row_values)
        else:
            placeholders = ", ".join("?" * len(columns))
            cursor.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})",
                values,
            )


def _row_values(
    row: dict[str, Any], columns: list[str], special: list[tuple[int, Callable[[Any], Any]]]
) -> list[Any]:
    values = [row[name] for name in columns]
    for index, convert in special:
        if values[index] is not None:
            values[index] = convert(values[index])
    return values


def _converter(column: sa.Column, is_postgres: bool) -> Callable[[Any], Any] | None:
    """How a value must change on its way to the driver to match what SQLAlchemy stores."""
    if isinstance(column.type, sa.JSON):
        return partial(json.dumps, ensure_ascii=False)
    if isinstance(column.type, sa.DateTime) and not is_postgres:
        # SQLAlchemy's SQLite format: ISO text with microseconds, no offset (times are UTC).
        return lambda value: value.isoformat(" ", "microseconds")[:26]
    if isinstance(column.type, sa.Date) and not is_postgres:
        return date.isoformat
    return None


def reset_sequences(connection: Connection) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the largest id."""
    if connection.dialect.name != "postgresql":
        return
    for table in SQLModel.metadata.sorted_tables:
        id_column = table.columns.get("id")
        if id_column is None or not isinstance(id_column.type, sa.Integer):
            continue
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
        )


@contextmanager
def bulk_load(engine: Engine) -> Iterator[Connection]:
    """One transaction for a bulk load; on SQLite, foreign keys are checked once at the end.

    SQLite looks up the parent of every foreign key on every insert; for millions of rows
    it is much faster to check them all at once with `foreign_key_check` before committing,
    so that a dangling key still rolls the whole load back.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only outside a transaction
            connection.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MiB of index pages
            connection.commit()
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if dangling:
                        raise sa.exc.IntegrityError(
                            "PRAGMA foreign_key_check",
                            dangling[:5],
                            Exception(f"{len(dangling)} rows with dangling foreign keys"),
                        )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
