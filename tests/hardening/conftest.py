"""A real `comptoir serve` process per test, on the test's fresh database."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from benchmarks.served import ServedComptoir, staff_key
from db.engine import create_db_engine

CHAT_TIMEOUT_S = 120  # the first chat turn of a fresh process loads the embedding model


@pytest.fixture
def server(seeded_url: str, tmp_path: Path) -> Iterator[ServedComptoir]:
    """The server, started; a test may kill and start it again."""
    (tmp_path / "data").mkdir()
    served = ServedComptoir(seeded_url, tmp_path / "data", tmp_path / "server.log")
    with served:
        yield served


def api(server: ServedComptoir, role: str = "manager") -> httpx.Client:
    """A client of the server's /api/v1 with that role's demo key (a new one per server
    process: connections to a killed one are gone)."""
    return httpx.Client(
        base_url=f"{server.base_url}/api/v1",
        headers={"Authorization": f"Bearer {staff_key(role)}"},
        timeout=CHAT_TIMEOUT_S,
    )


@pytest.fixture
def db(seeded_url: str) -> Iterator[Engine]:
    """The test's own connections to the database, none kept open between statements."""
    engine = create_db_engine(seeded_url, poolclass=sa.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def sql(db: Engine) -> Callable[..., Any]:
    """sql("SELECT ...", name=value): every row, as tuples."""

    def query(statement: str, **params: Any) -> list[tuple[Any, ...]]:
        with db.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(statement), params)]

    return query
