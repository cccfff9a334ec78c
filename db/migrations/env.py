"""Alembic environment: runs against the URL Comptoir is configured with."""

from alembic import context
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on the metadata)
from db.engine import create_db_engine, is_sqlite

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is set by db.migrate"
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection, url)
        return
    engine = create_db_engine(url)
    with engine.connect() as connection:
        _run(connection, url)
    engine.dispose()


def _run(connection, url: str) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=is_sqlite(url),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
