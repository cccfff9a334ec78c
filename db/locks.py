"""A lock per database and name that holds across processes: one event relay, one automation
runner, one help-article indexer at a time, however many server workers and CLI commands run.
`one_at_a_time` waits for its lock, and suits names that come and go (one per conversation).

PostgreSQL: a session advisory lock, held on a connection kept open for as long as the
lock is held; it goes away by itself if the process dies. SQLite: an exclusive `flock` on a
file next to the database (`<database>.<name>.lock`), which the kernel also releases when
the process dies. A SQLite database in memory is private to its process: a lock in the
process is enough.
"""

import fcntl
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.engine import is_sqlite

_memory_locks: dict[tuple[int, str], threading.Lock] = {}
_guard = threading.Lock()


class DatabaseLock:
    """`try_acquire()` returns False while another process (or thread) holds it."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._connection: sa.Connection | None = None
        self._file: IO[Any] | None = None
        self._memory: threading.Lock | None = None

    @property
    def held(self) -> bool:
        return any(x is not None for x in (self._connection, self._file, self._memory))

    def try_acquire(self) -> bool:
        if self.held:
            return True
        url = self.engine.url
        if not is_sqlite(url.drivername):
            return self._try_postgres()
        database = url.database
        if not database or database == ":memory:":
            return self._try_memory()
        return self._try_file(Path(database).with_name(f"{Path(database).name}.{self.name}.lock"))

    def still_held(self) -> bool:
        """Whether the lock is still this object's. On PostgreSQL it lives as long as its
        session: a connection cut or a server restart ends both, and another process may
        have taken the lock since. A lost lock is forgotten here (try_acquire again)."""
        if self._connection is None:
            return self.held
        try:
            self._connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.DBAPIError:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
            return False

    @contextmanager
    def acquired(self, poll_s: float = 0.25) -> Iterator[None]:
        """Wait for the lock (polling: it frees when its holder finishes or dies), hold it
        for the block, then release it."""
        while not self.try_acquire():
            time.sleep(poll_s)
        try:
            yield
        finally:
            self.release()

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": self._key()}
                )
            finally:
                self._connection.close()
                self._connection = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._memory is not None:
            self._memory.release()
            self._memory = None

    def _key(self) -> int:
        # A stable signed 64-bit key per name (advisory locks are keyed by bigint).
        return zlib.crc32(f"comptoir.{self.name}".encode())

    def _try_postgres(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = connection.execute(
            sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key()}
        ).scalar()
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def _try_file(self, path: Path) -> bool:
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _try_memory(self) -> bool:
        with _guard:
            lock = _memory_locks.setdefault((id(self.engine), self.name), threading.Lock())
        if lock.acquire(blocking=False):
            self._memory = lock
            return True
        return False

    def __enter__(self) -> "DatabaseLock":
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


# SQLite is served by one process (`comptoir serve` refuses several workers on it), so a lock in
# the process is enough there; names share a few locks rather than each keeping one (or a
# file) forever. Plain locks, not RLocks: a streamed response may release from another thread.
_stripes = [threading.Lock() for _ in range(64)]


@contextmanager
def one_at_a_time(engine: Engine, name: str) -> Iterator[None]:
    """Hold the lock on `name` for the block, waiting for it: across every worker on
    PostgreSQL (polling an advisory lock, so that waiters hold no connection), within the
    process on SQLite."""
    if not is_sqlite(engine.url.drivername):
        with DatabaseLock(engine, name).acquired(poll_s=0.05):
            yield
        return
    with _stripes[zlib.crc32(name.encode()) % len(_stripes)]:
        yield
