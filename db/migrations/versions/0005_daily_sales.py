"""daily tables: orders per day, channel and status, sales per SKU and orders per category;
trigram search of customers; orders' channel by id; a SKU's lines by order id; the
number of days stock movements span

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STATUSES = ("pending", "paid", "processing", "shipped", "delivered", "cancelled", "returned")
CHANNELS = ("shop", "cdiscount", "backmarket", "refurbed", "mirakl", "amazon", "ebay")


def upgrade() -> None:
    op.create_table(
        "daily_orders",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(*CHANNELS, name="saleschannel", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="orderstatus", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("orders", "total_cents", "shipping_cents", "discount_cents", "tax_cents")
        ),
        sa.PrimaryKeyConstraint("day", "channel", "status"),
    )
    op.create_table(
        "daily_sales",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("revenue_cents", sa.Integer(), nullable=False),
        sa.Column("tax_cents", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["variant_id"], ["product_variants.id"]),
        sa.PrimaryKeyConstraint("day", "variant_id"),
    )
    op.create_table(
        "daily_category_orders",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"]),
        sa.PrimaryKeyConstraint("day", "category_id"),
    )
    # Filled from the orders already there. The rebuild reads only columns that exist at
    # this revision (orders' dates, channels, statuses and amounts, their lines, products'
    # categories).
    from db.daily_sales import rebuild

    rebuild(op.get_bind())
    op.create_index("ix_orders_id_channel", "orders", ["id", "channel"])
    op.drop_index("ix_order_lines_variant_id", table_name="order_lines")
    op.create_index(
        "ix_order_lines_variant_id",
        "order_lines",
        ["variant_id", "order_id"],
        postgresql_include=["quantity"],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in CUSTOMER_SEARCH:
            op.execute(f"CREATE INDEX {name} ON customers USING gin ({expression} gin_trgm_ops)")
        if op.get_bind().dialect.server_version_info >= (14,):
            # How many days a period of movements spans: without it PostgreSQL expects a group
            # per movement when movement_analytics sums them per day, and sums them serially.
            op.execute(
                f"CREATE STATISTICS {MOVEMENT_DAYS} ON ({MOVEMENT_DAY}) FROM stock_movements"
            )
            op.execute("ANALYZE stock_movements")


# The three texts list_customers matches a search against, each with a trigram index so
# that '%part%' does not read every customer.
CUSTOMER_SEARCH = (
    ("ix_customers_email_trgm", "lower(email)"),
    ("ix_customers_first_last_trgm", "lower(first_name || ' ' || last_name)"),
    ("ix_customers_last_first_trgm", "lower(last_name || ' ' || first_name)"),
)


MOVEMENT_DAYS = "st_stock_movements_utc_day"
MOVEMENT_DAY = "CAST(timezone('UTC', created_at) AS date)"  # as movement_analytics groups


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {MOVEMENT_DAYS}")
        for name, _ in reversed(CUSTOMER_SEARCH):
            op.execute(f"DROP INDEX {name}")
    op.drop_index("ix_order_lines_variant_id", table_name="order_lines")
    op.create_index("ix_order_lines_variant_id", "order_lines", ["variant_id"])
    op.drop_index("ix_orders_id_channel", table_name="orders")
    op.drop_table("daily_category_orders")
    op.drop_table("daily_sales")
    op.drop_table("daily_orders")
