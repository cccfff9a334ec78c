"""customers' search text: names and e-mail with accents removed, so that a search typed
without accents finds them; one trigram index on it replaces the three of 0005

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SEARCH_INDEXES = (
    ("ix_customers_email_trgm", "lower(email)"),
    ("ix_customers_first_last_trgm", "lower(first_name || ' ' || last_name)"),
    ("ix_customers_last_first_trgm", "lower(last_name || ' ' || first_name)"),
)
SEARCH_INDEX = "ix_customers_search_text_trgm"
BATCH = 5_000


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("search_text", sa.Text(), nullable=False, server_default="")
    )
    _fill_search_text(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        for name, _ in OLD_SEARCH_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {SEARCH_INDEX} ON customers USING gin (search_text gin_trgm_ops)")


def _fill_search_text(connection: sa.Connection) -> None:
    from db.models.customers import customer_search_text

    customers = sa.table(
        "customers",
        sa.column("id", sa.Integer),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("email", sa.String),
        sa.column("search_text", sa.Text),
    )
    update = (
        customers.update()
        .where(customers.c.id == sa.bindparam("customer_id"))
        .values(search_text=sa.bindparam("text"))
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(
                customers.c.id, customers.c.first_name, customers.c.last_name, customers.c.email
            )
            .where(customers.c.id > last_id)
            .order_by(customers.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [
                {"customer_id": id_, "text": customer_search_text(first, last, email)}
                for id_, first, last, email in rows
            ],
        )
        last_id = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
        for name, expression in OLD_SEARCH_INDEXES:
            op.execute(f"CREATE INDEX {name} ON customers USING gin ({expression} gin_trgm_ops)")
    # Not batch mode: SQLite (3.35+) drops a column in place, where a rebuilt table would
    # break the foreign keys of the rows that point at customers.
    op.execute("ALTER TABLE customers DROP COLUMN search_text")
