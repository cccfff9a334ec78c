"""Shared building blocks for the tables: naming convention, timestamps, enum columns."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, overload

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic migrations match on SQLite and PostgreSQL alike.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


_clock_offset = timedelta(0)


def utc_now() -> datetime:
    """The current time, for every timestamp Comptoir writes or compares against."""
    return datetime.now(UTC) + _clock_offset


def set_clock(moment: datetime | None) -> None:
    """Make `utc_now()` start from `moment` and keep ticking (None: back to real time).

    Tests set it to the seeded demo's "now", so their data is as fresh on any later day.
    """
    global _clock_offset
    _clock_offset = timedelta(0) if moment is None else moment - datetime.now(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """A stored time as an aware UTC datetime (None stays None): SQLite hands times back
    naive, PostgreSQL aware in the connection's time zone."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def enum_field(
    enum: type[StrEnum],
    *,
    default: Any = ...,
    nullable: bool = False,
    index: bool = False,
    check_name: str | None = None,
    primary_key: bool = False,
) -> Any:
    """A VARCHAR column whose values a CHECK constraint limits to the enum's, on every database.

    `check_name` names that constraint when a table has two columns of the same enum.
    """
    column_type = sa.Enum(
        enum,
        name=check_name or enum.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
    )
    return Field(
        default=default,
        sa_column=sa.Column(column_type, nullable=nullable, index=index, primary_key=primary_key),
    )


def created_at_field() -> Any:
    return Field(
        default_factory=utc_now,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False),
    )


def timestamp_field(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index),
    )


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=sa.Column(sa.JSON, nullable=False))


def non_negative(*columns: str) -> Iterable[sa.CheckConstraint]:
    """CHECK constraints that keep quantities and money at zero or above."""
    return [
        sa.CheckConstraint(f"{column} >= 0", name=f"{column}_non_negative") for column in columns
    ]


def text_field(*, nullable: bool = True, default: Any = None) -> Any:
    return Field(default=default, sa_column=sa.Column(sa.Text, nullable=nullable))
