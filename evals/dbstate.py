"""Comparing two databases' business state, the tau-bench way: the database after a run
against the database after replaying the gold tool calls on a fresh copy.

What is compared: every row of every business table, by primary key. What is not, and why:

- tables that record *how* something was done rather than *what* the business state is:
  the audit log, the event outbox, telemetry, chat threads, idempotency records (keys are
  made up by whoever calls), the automation relay's bookkeeping;
- time columns (the clock ticks during a run): compared as set / not set only, so
  "cancelled_at was filled in" still counts;
- free text a person or a model words in its own way (reasons, notes, comments, message
  bodies and subjects, resolutions): compared as set / not set only;
- values drawn at random by design: sandbox provider references, API key secrets and
  prefixes, stock transfer references, marketplace external ids and payloads, and the
  rendered bytes of documents (their path, size and hash; the document row, its kind,
  format and number are compared).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table on SQLModel.metadata)

IGNORED_TABLES = frozenset(
    {
        "audit_log",
        "domain_events",
        "agent_metrics",
        "chat_threads",
        "idempotency_records",
        "automation_runs",
        "automation_cursors",
    }
)

FREE_TEXT = frozenset(
    {
        "reason",
        "cancel_reason",
        "hold_reason",
        "rejection_reason",
        "note",
        "notes",
        "comment",
        "customer_comment",
        "body",
        "subject",
        "description",
        "resolution",
        "resolution_note",
        "fault_description",
        "message",
        "detail",
    }
)

RANDOM_COLUMNS = frozenset(
    {
        ("payments", "provider_reference"),
        ("refunds", "provider_reference"),
        ("api_keys", "prefix"),
        ("api_keys", "key_hash"),
        ("stock_movements", "reference"),
        ("marketplace_messages", "external_id"),
        ("marketplace_orders", "external_order_id"),
        ("marketplace_orders", "payload"),
        ("marketplace_offers", "external_offer_id"),
        ("documents", "path"),
        ("documents", "size_bytes"),
        ("documents", "sha256"),
    }
)


def _presence_only(table: sa.Table, column: sa.Column[Any]) -> bool:
    return (
        isinstance(column.type, sa.DateTime)
        or column.name in FREE_TEXT
        or (table.name, column.name) in RANDOM_COLUMNS
    )


def compared_tables() -> list[sa.Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name not in IGNORED_TABLES]


def _select(table: sa.Table) -> sa.Select[Any]:
    """The table's rows as compared: presence-only columns reduced to 0/1."""
    columns: list[Any] = []
    for column in table.columns:
        if _presence_only(table, column):
            columns.append(sa.case((column.is_(None), 0), else_=1).label(column.name))
        else:
            columns.append(column)
    order = list(table.primary_key.columns)
    return sa.select(*columns).order_by(*order)


Row = tuple[Any, ...]


@dataclass
class TableDiff:
    table: str
    columns: list[str]
    only_run: list[Row] = field(default_factory=list)  # rows the run has and gold has not
    only_gold: list[Row] = field(default_factory=list)

    def describe(self, sample: int = 3) -> str:
        def rows(items: list[Row]) -> str:
            shown = [
                {k: getattr(v, "value", v) for k, v in zip(self.columns, row, strict=True)}
                for row in items[:sample]
            ]
            more = f" (+{len(items) - sample} more)" if len(items) > sample else ""
            return f"{shown}{more}"

        parts = []
        if self.only_run:
            parts.append(f"run has {len(self.only_run)} row(s) gold lacks: {rows(self.only_run)}")
        if self.only_gold:
            parts.append(
                f"gold has {len(self.only_gold)} row(s) the run lacks: {rows(self.only_gold)}"
            )
        return f"{self.table}: " + "; ".join(parts)


@dataclass
class StateDiff:
    tables: list[TableDiff]

    @property
    def equal(self) -> bool:
        return not self.tables

    def summary(self, limit: int = 4) -> str:
        if self.equal:
            return "same state"
        lines = [diff.describe() for diff in self.tables[:limit]]
        if len(self.tables) > limit:
            lines.append(f"... and {len(self.tables) - limit} more table(s)")
        return "\n".join(lines)


def _normalise(value: Any) -> Any:
    # JSON columns come back as dicts/lists: make them hashable and order-independent.
    if isinstance(value, dict):
        return tuple(sorted((k, _normalise(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_normalise(v) for v in value)
    return value


def _rows(engine: Engine, table: sa.Table) -> Iterator[Row]:
    with engine.connect() as connection:
        for row in connection.execute(_select(table)):
            yield tuple(_normalise(value) for value in row)


def compare(run: Engine, gold: Engine) -> StateDiff:
    """The business tables where two databases differ (empty when they hold the same state)."""
    if _sqlite_files(run, gold):
        return _compare_sqlite(run, gold)
    diffs = []
    for table in compared_tables():
        run_rows, gold_rows = set(_rows(run, table)), set(_rows(gold, table))
        if run_rows != gold_rows:
            diffs.append(
                TableDiff(
                    table.name,
                    [c.name for c in table.columns],
                    sorted(run_rows - gold_rows, key=repr),
                    sorted(gold_rows - run_rows, key=repr),
                )
            )
    return StateDiff(diffs)


def _sqlite_files(*engines: Engine) -> bool:
    return all(
        e.dialect.name == "sqlite" and e.url.database not in (None, "", ":memory:") for e in engines
    )


def _compare_sqlite(run: Engine, gold: Engine) -> StateDiff:
    """Both files in one connection (ATTACH), each table compared with EXCEPT in SQLite
    itself: about 20 times faster than reading both databases into Python."""
    diffs = []
    with run.connect() as connection:
        connection.exec_driver_sql("ATTACH DATABASE ? AS gold", (gold.url.database,))
        try:
            for table in compared_tables():
                mine = _select(table).order_by(None)
                theirs = _select(table.to_metadata(sa.MetaData(), schema="gold")).order_by(None)
                only_run = connection.execute(sa.except_(mine, theirs)).all()
                only_gold = connection.execute(sa.except_(theirs, mine)).all()
                if only_run or only_gold:
                    diffs.append(
                        TableDiff(
                            table.name,
                            [c.name for c in table.columns],
                            [tuple(r) for r in only_run],
                            [tuple(r) for r in only_gold],
                        )
                    )
        finally:
            connection.rollback()
            connection.exec_driver_sql("DETACH DATABASE gold")
    return StateDiff(diffs)
