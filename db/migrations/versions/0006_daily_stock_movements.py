"""daily stock movements per warehouse and kind, for movement_analytics; the statistics on a
movement's UTC day go, as nothing groups the movements per day any more

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("inbound", "outbound", "transfer_in", "transfer_out", "adjustment", "return")
MOVEMENT_DAYS = "st_stock_movements_utc_day"


def upgrade() -> None:
    op.create_table(
        "daily_stock_movements",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="movementkind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("movements", "units_in", "units_out")
        ),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouses.id"]),
        sa.PrimaryKeyConstraint("day", "warehouse_id", "kind"),
    )
    # Filled from the movements already there (the rebuild reads only columns of 0001).
    from db.daily_movements import rebuild

    rebuild(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {MOVEMENT_DAYS}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.dialect.server_version_info >= (14,):
        op.execute(
            f"CREATE STATISTICS {MOVEMENT_DAYS} "
            "ON (CAST(timezone('UTC', created_at) AS date)) FROM stock_movements"
        )
    op.drop_table("daily_stock_movements")
