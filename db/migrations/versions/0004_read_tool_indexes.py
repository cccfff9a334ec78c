"""read tool indexes: the date windows and filters the read tools use at a million orders

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 14:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns, columns carried along on PostgreSQL): each serves a read tool's
# date window or filter (see the models' __table_args__). The carried columns (INCLUDE) let
# a month of analytics be summed from the index alone, without visiting the table rows.
NEW: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("payments", "ix_payments_captured_at", ["captured_at"], ["captured_cents", "fee_cents",
                                                             "gateway_id"]),
    ("orders", "ix_orders_delivered_at", ["delivered_at"], []),
    ("orders", "ix_orders_warehouse_id_shipped_at", ["warehouse_id", "shipped_at"],
     ["id", "paid_at"]),
    ("fraud_checks", "ix_fraud_checks_created_at", ["created_at"], ["decision", "score"]),
    ("satisfaction_surveys", "ix_satisfaction_surveys_sent_at", ["sent_at"],
     ["status", "score", "nps"]),
    ("shipments", "ix_shipments_delivered_at", ["delivered_at"], []),
    ("return_requests", "ix_return_requests_requested_at", ["requested_at"], []),
)  # fmt: skip
# Existing indexes rebuilt with carried columns: (table, index, columns, before, after).
WIDENED: tuple[tuple[str, str, list[str], list[str], list[str]], ...] = (
    ("orders", "ix_orders_placed_at", ["placed_at"], [], ["id", "status", "channel",
                                                          "total_cents"]),
    ("payments", "ix_payments_created_at", ["created_at"], [], ["status", "gateway_id"]),
    ("stock_movements", "ix_stock_movements_created_at", ["created_at"], [],
     ["kind", "quantity", "variant_id", "warehouse_id"]),
    ("order_lines", "ix_order_lines_order_id", ["order_id"], [],
     ["variant_id", "quantity", "total_cents", "tax_cents"]),
)  # fmt: skip


def upgrade() -> None:
    for table, name, columns, include in NEW:
        op.create_index(name, table, columns, postgresql_include=include)
    for table, name, columns, _, include in WIDENED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_include=include)


def downgrade() -> None:
    for table, name, columns, include, _ in reversed(WIDENED):
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_include=include)
    for table, name, _, _ in reversed(NEW):
        op.drop_index(name, table_name=table)
