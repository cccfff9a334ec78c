"""marketplace orders found by the number the marketplace gave them, whatever the connection
(get_marketplace_order): an index on external_order_id

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_marketplace_orders_external_order_id"


def upgrade() -> None:
    op.create_index(INDEX, "marketplace_orders", ["external_order_id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="marketplace_orders")
