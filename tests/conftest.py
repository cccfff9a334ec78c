"""Databases for tests: every test gets its own, on SQLite and, when TEST_DATABASE_URL is
set, on PostgreSQL. Seeded databases are copied from one seeded template per session."""

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.settings import get_settings
from db import migrate
from db.base import set_clock
from db.demo.seed import seed_database
from db.engine import create_db_engine
from tests.data_folder import knowledge_data_dir, knowledge_folder

DEMO_DAY = date(2026, 11, 25)
DEMO_NOW = datetime(2026, 11, 25, 18, 5, tzinfo=UTC)  # just after the seeded history ends
BACKENDS = ["sqlite", "postgres"]
__all__ = ["knowledge_data_dir", "knowledge_folder"]  # autouse: every test's data folder


@pytest.fixture(autouse=True, scope="session")
def demo_clock() -> Iterator[None]:
    """Tools see the seeded demo's "now", whatever day the tests run on."""
    set_clock(DEMO_NOW)
    yield
    set_clock(None)


@pytest.fixture(autouse=True, scope="session")
def offline_models() -> Iterator[None]:
    """Chat in tests runs on the offline planner, whatever OPENAI_* the environment has,
    and servers under test run no background automations."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPTOIR_OFFLINE", "1")
        patch.setenv("COMPTOIR_AUTOMATIONS", "0")  # tests/events runs them on purpose
        patch.setenv("COMPTOIR_WARM_START", "0")
        get_settings.cache_clear()
        yield
    get_settings.cache_clear()


def postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL")


class PostgresServer:
    """Creates and drops scratch databases next to TEST_DATABASE_URL's."""

    def __init__(self, url: str) -> None:
        self.url = sa.engine.make_url(create_db_engine(url).url)
        self.admin = create_db_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)

    def create(self, template: str | None = None) -> str:
        name = f"comptoir_test_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}{clause}")
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    url = postgres_url()
    yield PostgresServer(url) if url else None


def _require(backend: str, postgres: PostgresServer | None) -> None:
    if backend == "postgres" and postgres is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def empty_url(backend: str, postgres: PostgresServer | None, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    _require(backend, postgres)
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    assert postgres is not None
    url = postgres.create()
    yield url
    postgres.drop(url)


@pytest.fixture
def migrated_url(empty_url: str) -> str:
    migrate.upgrade(empty_url)
    return empty_url


@pytest.fixture(scope="session")
def seeded_templates(
    postgres: PostgresServer | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """One small demo database per backend, seeded once, for tests to copy."""
    folder = tmp_path_factory.mktemp("templates")
    sqlite_engine = create_db_engine(f"sqlite:///{folder / 'seeded.db'}")
    seed_database(sqlite_engine, seed=42, scale="small", as_of=DEMO_DAY)
    sqlite_engine.dispose()  # the last connection to close folds the WAL into the file
    templates = {"sqlite": str(folder / "seeded.db")}
    if postgres:
        url = postgres.create()
        engine = create_db_engine(url, poolclass=sa.NullPool)
        seed_database(engine, seed=42, scale="small", as_of=DEMO_DAY)
        engine.dispose()
        templates["postgres"] = sa.engine.make_url(url).database or ""
    yield templates
    if postgres:
        postgres.drop(
            postgres.url.set(database=templates["postgres"]).render_as_string(hide_password=False)
        )


@pytest.fixture
def seeded_url(
    backend: str, postgres: PostgresServer | None, seeded_templates: dict[str, str], tmp_path: Path
) -> Iterator[str]:
    """A fresh copy of the seeded demo database (seed 42, as of 2026-11-25)."""
    _require(backend, postgres)
    if backend == "sqlite":
        path = tmp_path / "seeded.db"
        shutil.copyfile(seeded_templates["sqlite"], path)
        yield f"sqlite:///{path}"
        return
    assert postgres is not None
    url = postgres.create(template=seeded_templates["postgres"])
    yield url
    postgres.drop(url)


@pytest.fixture
def seeded_engine(seeded_url: str) -> Iterator[Engine]:
    engine = create_db_engine(seeded_url)
    yield engine
    engine.dispose()
