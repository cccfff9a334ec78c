"""The database itself refuses rows that break the rules, on every backend."""

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

Statement = tuple[str, dict[str, Any]]

BAD_ROWS: dict[str, Statement] = {
    "negative_stock": ("UPDATE stock_levels SET on_hand = -1 WHERE id = 1", {}),
    "reserved_above_on_hand": ("UPDATE stock_levels SET reserved = on_hand + 1 WHERE id = 1", {}),
    "negative_price": ("UPDATE product_variants SET price_cents = -100 WHERE id = 1", {}),
    "unknown_order_status": ("UPDATE orders SET status = 'lost' WHERE id = 1", {}),
    "unknown_return_status": ("UPDATE return_requests SET status = 'maybe' WHERE id = 1", {}),
    "refund_above_capture": (
        "UPDATE payments SET refunded_cents = captured_cents + 1 WHERE id = 1",
        {},
    ),
    "total_not_adding_up": ("UPDATE orders SET total_cents = total_cents + 1 WHERE id = 1", {}),
    "zero_quantity_line": ("UPDATE order_lines SET quantity = 0 WHERE id = 1", {}),
    "fraud_score_above_100": ("UPDATE fraud_checks SET score = 101 WHERE id = 1", {}),
    "dangling_order_line": (
        "INSERT INTO order_lines (order_id, variant_id, sku, name, quantity, unit_price_cents,"
        " discount_cents, vat_rate_bp, tax_cents, total_cents)"
        " VALUES (999999, 1, 'X', 'X', 1, 100, 0, 2000, 17, 100)",
        {},
    ),
    "dangling_stock_level": (
        "INSERT INTO stock_levels (variant_id, warehouse_id, on_hand, reserved, reorder_point,"
        " reorder_quantity) VALUES (1, 999, 1, 0, 0, 0)",
        {},
    ),
    "duplicate_sku": (
        "UPDATE product_variants SET sku = (SELECT sku FROM product_variants WHERE id = 2)"
        " WHERE id = 1",
        {},
    ),
    "second_active_block": (
        "INSERT INTO blocked_entities (kind, value, reason, blocked_by, created_at)"
        " SELECT kind, value, 'again', 'test', created_at FROM blocked_entities"
        " WHERE unblocked_at IS NULL LIMIT 1",
        {},
    ),
}


def snapshot(engine: Engine) -> Callable[[], Any]:
    tables = (
        "stock_levels",
        "product_variants",
        "orders",
        "return_requests",
        "payments",
        "order_lines",
        "fraud_checks",
        "blocked_entities",
    )

    def take() -> Any:
        with engine.connect() as connection:
            return {
                t: connection.execute(sa.text(f"SELECT * FROM {t} ORDER BY id")).all()
                for t in tables
            }

    return take


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_database_rejects_bad_row(seeded_engine: Engine, case: str) -> None:
    take = snapshot(seeded_engine)
    before = take()
    sql, params = BAD_ROWS[case]
    with pytest.raises(sa.exc.IntegrityError), seeded_engine.begin() as connection:
        connection.execute(sa.text(sql), params)
    assert take() == before


def test_database_accepts_a_valid_change(seeded_engine: Engine) -> None:
    """The bad-row cases fail for their reason, not because every write fails."""
    with seeded_engine.begin() as connection:
        connection.execute(sa.text("UPDATE stock_levels SET on_hand = on_hand + 5 WHERE id = 1"))
        connection.execute(sa.text("UPDATE orders SET status = 'cancelled' WHERE id = 1"))
    with seeded_engine.connect() as connection:
        assert (
            connection.execute(sa.text("SELECT status FROM orders WHERE id = 1")).scalar()
            == "cancelled"
        )
