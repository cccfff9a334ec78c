"""Inventory tools and contract functions: stock, reservations, movements, transfers,
settings, alerts, value and analytics, from the seeded demo's rows, on both backends."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

import tools.inventory as inventory
from db.base import utc_now
from db.invariants import check_invariants
from tests.tools.conftest import actor
from tools.base import Conflict, Forbidden, InvalidInput, NotFound, ToolContext

DRIFT = (
    "SELECT COUNT(*) FROM stock_levels s WHERE s.reserved <> (SELECT COALESCE(SUM(r.quantity), 0)"
    " FROM stock_reservations r WHERE r.variant_id = s.variant_id"
    " AND r.warehouse_id = s.warehouse_id AND r.status = 'active')"
)


def row(engine: Engine, statement: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(sa.text(statement), params).mappings().first()


def execute(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def in_transaction(engine: Engine, work: Callable[[ToolContext], Any]) -> Any:
    """Run contract functions the way a tool of another domain does: one transaction."""
    with Session(engine, expire_on_commit=False) as session:
        result = work(ToolContext(session=session, actor=actor("manager")))
        session.commit()
    return result


def free_level(engine: Engine, on_hand: int = 10, reorder_point: int = 0) -> Any:
    """A stock level at LYS with no reservation, set to `on_hand` units."""
    level = row(
        engine,
        "SELECT s.id, s.variant_id, s.warehouse_id, v.sku, v.cost_cents FROM stock_levels s"
        " JOIN product_variants v ON v.id = s.variant_id WHERE s.warehouse_id = 1"
        " AND s.reserved = 0 AND NOT EXISTS (SELECT 1 FROM stock_reservations r"
        " WHERE r.variant_id = s.variant_id AND r.warehouse_id = 1 AND r.status = 'active')"
        " ORDER BY s.id LIMIT 1",
    )
    execute(
        engine,
        "UPDATE stock_levels SET on_hand = :n, reorder_point = :p, max_stock = NULL WHERE id = :id",
        n=on_hand,
        p=reorder_point,
        id=level["id"],
    )
    return level


# -- reading stock -----------------------------------------------------------------------


def test_get_stock_filters_by_sku_and_warehouse_and_pages(call: Any, sql: Any) -> None:
    page = call("viewer", "get_stock", sku="iphone13", limit=5)
    assert len(page.items) == 5 and page.next_cursor == page.items[-1].id
    assert all("IPHONE13" in item.sku for item in page.items)
    assert all(i.available == i.on_hand - i.reserved for i in page.items)
    following = call("viewer", "get_stock", sku="iphone13", limit=5, cursor=page.next_cursor)
    assert following.items[0].id > page.items[-1].id
    paris = call("viewer", "get_stock", sku="IPHONE13", warehouse_id=2, limit=200)
    assert {i.warehouse_code for i in paris.items} == {"PAR"}
    assert len(paris.items) == sql(
        "SELECT COUNT(*) FROM stock_levels s JOIN product_variants v ON v.id = s.variant_id"
        " WHERE s.warehouse_id = 2 AND v.sku LIKE '%IPHONE13%'"
    )


def test_get_stock_low_only_matches_reorder_points(call: Any, sql: Any) -> None:
    page = call("viewer", "get_stock", low_only=True, limit=200)
    expected = sql("SELECT COUNT(*) FROM stock_levels WHERE on_hand - reserved < reorder_point")
    assert expected > 0 and len(page.items) == expected
    assert all(item.status in ("low", "critical") for item in page.items)
    with pytest.raises(NotFound, match="warehouse 99"):
        call("viewer", "get_stock", warehouse_id=99)


def test_product_availability_sums_every_warehouse(call: Any, sql: Any) -> None:
    product_id = sql("SELECT product_id FROM product_variants ORDER BY id LIMIT 1")
    result = call("viewer", "product_availability", product_id=product_id)
    assert len(result.variants) == sql(
        "SELECT COUNT(*) FROM product_variants WHERE product_id = :p", p=product_id
    )
    totals = "SELECT SUM({}) FROM stock_levels s JOIN product_variants v ON v.id = s.variant_id"
    totals += " WHERE v.product_id = :p"
    assert result.on_hand == sql(totals.format("s.on_hand"), p=product_id)
    assert result.reserved == sql(totals.format("s.reserved"), p=product_id)
    assert result.available == result.on_hand - result.reserved
    assert all(len(v.warehouses) == 6 for v in result.variants)
    one = call("viewer", "product_availability", sku="app-iphone13-128gb-midn-a")
    assert [v.sku for v in one.variants] == ["APP-IPHONE13-128GB-MIDN-A"]
    assert one.on_hand == sql("SELECT SUM(on_hand) FROM stock_levels WHERE variant_id = 1")


def test_product_availability_needs_a_product_or_a_sku(call: Any) -> None:
    with pytest.raises(InvalidInput, match="either product_id or sku"):
        call("viewer", "product_availability")
    with pytest.raises(NotFound) as error:
        call("viewer", "product_availability", sku="NOPE-123")
    assert error.value.field == "sku"


# -- reservations ------------------------------------------------------------------------


def test_reserve_stock_holds_units_and_records_event(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    level = free_level(seeded_engine, on_hand=10)
    result = call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=3)
    assert result.status == "active" and result.quantity == 3 and result.order_id is None
    assert sql("SELECT reserved FROM stock_levels WHERE id = :id", id=level["id"]) == 3
    assert timedelta(minutes=29) < result.expires_at - utc_now() <= timedelta(minutes=30)
    assert sql("SELECT type FROM domain_events WHERE entity_id = :id", id=str(result.id)) == (
        "stock_reserved"
    )
    assert sql("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == "reserve_stock"
    assert sql(DRIFT) == 0


def test_reserve_stock_refuses_more_than_available(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    level = free_level(seeded_engine, on_hand=2)
    with pytest.raises(Conflict) as error:
        call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=3)
    assert error.value.code == "insufficient_stock"
    assert f"only 2 unit(s) of {level['sku']} available at LYS" in error.value.message
    assert sql("SELECT reserved FROM stock_levels WHERE id = :id", id=level["id"]) == 0
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_reserve_stock_for_an_order_stays_within_its_lines(call: Any, sql: Any) -> None:
    order_id = 3986  # processing at PAR, every line reserved
    sku = sql("SELECT sku FROM order_lines WHERE order_id = :o ORDER BY id LIMIT 1", o=order_id)
    with pytest.raises(Conflict, match="at most 0 more"):
        call("support", "reserve_stock", sku=sku, warehouse_id=2, quantity=1, order_id=order_id)
    with pytest.raises(Conflict, match="no line for"):
        call(
            "support",
            "reserve_stock",
            sku="APP-IPHONE13-128GB-MIDN-A",
            warehouse_id=2,
            quantity=1,
            order_id=order_id,
        )
    delivered = sql("SELECT id FROM orders WHERE status = 'delivered' ORDER BY id LIMIT 1")
    with pytest.raises(Conflict, match="is delivered"):
        call("support", "reserve_stock", sku=sku, warehouse_id=2, quantity=1, order_id=delivered)
    reservation = sql(
        "SELECT r.id FROM stock_reservations r JOIN order_lines l ON l.order_id = r.order_id"
        " AND l.variant_id = r.variant_id WHERE r.order_id = :o AND l.sku = :s",
        o=order_id,
        s=sku,
    )
    call("manager", "release_reservation", reservation_id=reservation, reason="re-allocate")
    again = call("support", "reserve_stock", sku=sku, warehouse_id=2, quantity=1, order_id=order_id)
    assert again.order_id == order_id and again.expires_at is None  # paid: held until shipped
    assert sql(DRIFT) == 0


def test_reserve_stock_emits_low_stock_when_crossing_the_reorder_point(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    level = free_level(seeded_engine, on_hand=10, reorder_point=6)
    events = "SELECT COUNT(*) FROM domain_events WHERE type = 'low_stock'"
    call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=4)  # 6 left
    assert sql(events) == 0
    call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=1)  # 5: low
    call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=3)  # 2: critical
    call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=1)  # 1: still
    assert sql(events) == 2
    severities = sa.text("SELECT payload FROM domain_events WHERE type = 'low_stock' ORDER BY id")
    with seeded_engine.connect() as connection:
        rows = [p for (p,) in connection.execute(severities)]
    payloads = [p if isinstance(p, dict) else json.loads(p) for p in rows]
    assert [(p["severity"], p["available"]) for p in payloads] == [("low", 5), ("critical", 2)]


def test_reserve_stock_rejects_bad_input_and_viewers(api: Any, sql: Any) -> None:
    body = {"sku": "APP-IPHONE13-128GB-MIDN-A", "warehouse_id": 1, "quantity": 0}
    response = api("support", "POST", "/inventory/reservations", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "quantity"
    unknown = api(
        "support", "POST", "/inventory/reservations", json={**body, "sku": "X-1", "quantity": 1}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"] == {
        "code": "not_found",
        "message": "SKU X-1 does not exist; check the catalogue",
        "field": "sku",
    }
    forbidden = api("viewer", "POST", "/inventory/reservations", json={**body, "quantity": 1})
    assert forbidden.status_code == 403
    assert set(forbidden.json()["error"]) == {"code", "message", "field"}
    too_many = api("support", "POST", "/inventory/reservations", json={**body, "quantity": 9999})
    assert too_many.status_code == 409
    assert too_many.json()["error"]["code"] == "insufficient_stock"
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_release_reservation_frees_the_units(call: Any, sql: Any, seeded_engine: Engine) -> None:
    level = free_level(seeded_engine, on_hand=5)
    held = call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=2)
    with pytest.raises(Forbidden):
        call("support", "release_reservation", reservation_id=held.id, reason="orphan")
    released = call("manager", "release_reservation", reservation_id=held.id, reason="orphan")
    assert released.status == "released" and released.released_at is not None
    assert sql("SELECT reserved FROM stock_levels WHERE id = :id", id=level["id"]) == 0
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "stock_released"
    with pytest.raises(Conflict, match="is released"):
        call("manager", "release_reservation", reservation_id=held.id, reason="orphan")
    committed = sql("SELECT id FROM stock_reservations WHERE status = 'committed' LIMIT 1")
    with pytest.raises(Conflict, match="is committed"):
        call("manager", "release_reservation", reservation_id=committed, reason="orphan")
    with pytest.raises(InvalidInput) as error:
        call("manager", "release_reservation", reservation_id=held.id, reason="")
    assert error.value.field == "reason"
    with pytest.raises(NotFound):
        call("manager", "release_reservation", reservation_id=999999, reason="orphan")


def test_expire_reservations_releases_lapsed_ones_and_keeps_paid_orders(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    pending = sql("SELECT id FROM stock_reservations r WHERE status = 'active' AND order_id = 3928")
    paid = sql("SELECT id FROM stock_reservations WHERE status = 'active' AND order_id = 3999")
    execute(
        seeded_engine,
        "UPDATE stock_reservations SET expires_at = :t WHERE id IN (:a, :b)",
        t=datetime(2026, 1, 1, tzinfo=UTC),
        a=pending,
        b=paid,
    )
    level = "SELECT s.reserved FROM stock_levels s JOIN stock_reservations r ON"
    level += " r.variant_id = s.variant_id AND r.warehouse_id = s.warehouse_id WHERE r.id = :id"
    before = sql(level, id=pending)
    result = call("support", "expire_reservations")
    assert [r.id for r in result.expired] == [pending] and result.units_released == 1
    assert [r.id for r in result.extended] == [paid]
    assert sql("SELECT status FROM stock_reservations WHERE id = :id", id=pending) == "expired"
    assert sql("SELECT expires_at FROM stock_reservations WHERE id = :id", id=paid) is None
    assert sql(level, id=pending) == before - 1
    assert sql(DRIFT) == 0
    events = sql("SELECT COUNT(*) FROM domain_events")
    again = call("support", "expire_reservations")
    assert again.expired == [] and again.extended == [] and again.units_released == 0
    assert sql("SELECT COUNT(*) FROM domain_events") == events
    with pytest.raises(Forbidden):
        call("viewer", "expire_reservations")


def test_list_reservations_filters_by_order_and_status(call: Any, sql: Any) -> None:
    page = call("viewer", "list_reservations", order_id=3993, status="active")
    assert sum(r.quantity for r in page.items) == sql(
        "SELECT SUM(quantity) FROM stock_reservations WHERE order_id = 3993 AND status = 'active'"
    )
    everything = call("viewer", "list_reservations", status="active", limit=200)
    assert len(everything.items) == sql(
        "SELECT COUNT(*) FROM stock_reservations WHERE status = 'active'"
    )
    with pytest.raises(InvalidInput):
        call("viewer", "list_reservations", status="lost")


# -- movements, transfers, settings ------------------------------------------------------


def test_record_movement_inbound_adds_stock(call: Any, sql: Any, seeded_engine: Engine) -> None:
    level = free_level(seeded_engine, on_hand=4)
    execute(seeded_engine, "UPDATE stock_levels SET max_stock = 6 WHERE id = :id", id=level["id"])
    args = {"sku": level["sku"], "warehouse_id": 1, "kind": "inbound", "quantity": 5}
    result = call("support", "record_movement", **args, reference="PO-1")
    assert result.stock.on_hand == 9 and result.movement.quantity == 5
    assert result.warning is not None and "above its max stock of 6" in result.warning
    assert sql("SELECT on_hand FROM stock_levels WHERE id = :id", id=level["id"]) == 9
    assert sql("SELECT reference FROM stock_movements ORDER BY id DESC LIMIT 1") == "PO-1"
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == (
        "stock_movement_recorded"
    )
    with pytest.raises(InvalidInput) as error:
        call("support", "record_movement", **{**args, "kind": "transfer_in"})
    assert error.value.field == "kind"
    with pytest.raises(Forbidden):
        call("viewer", "record_movement", **args)


def test_record_movement_adjustment_needs_a_reason(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    level = free_level(seeded_engine, on_hand=4)
    args = {"sku": level["sku"], "warehouse_id": 1, "kind": "adjustment", "quantity": -1}
    with pytest.raises(InvalidInput) as error:
        call("support", "record_movement", **args)
    assert error.value.field == "reason"
    with pytest.raises(InvalidInput) as error:
        call("support", "record_movement", **{**args, "kind": "outbound"})
    assert error.value.field == "quantity"
    result = call("support", "record_movement", **args, reason="damaged in warehouse")
    assert result.movement.kind == "adjustment" and result.stock.on_hand == 3
    assert (
        sql("SELECT reason FROM stock_movements WHERE id = :id", id=result.movement.id)
        == "damaged in warehouse"
    )


def test_record_movement_never_goes_below_reserved(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    level = free_level(seeded_engine, on_hand=5)
    call("support", "reserve_stock", sku=level["sku"], warehouse_id=1, quantity=3)
    events = sql("SELECT COUNT(*) FROM domain_events")
    with pytest.raises(Conflict) as error:
        call(
            "support",
            "record_movement",
            sku=level["sku"],
            warehouse_id=1,
            kind="outbound",
            quantity=3,
        )
    assert error.value.code == "insufficient_stock" and "3 reserved" in error.value.message
    assert sql("SELECT on_hand FROM stock_levels WHERE id = :id", id=level["id"]) == 5
    assert sql("SELECT COUNT(*) FROM domain_events") == events
    out = call(
        "support", "record_movement", sku=level["sku"], warehouse_id=1, kind="outbound", quantity=2
    )
    assert out.stock.on_hand == 3 and out.stock.available == 0


def test_record_movement_creates_the_level_of_a_new_warehouse(call: Any, sql: Any) -> None:
    variant = sql(
        "SELECT v.id FROM product_variants v WHERE NOT EXISTS (SELECT 1 FROM stock_levels s"
        " WHERE s.variant_id = v.id AND s.warehouse_id = 6) ORDER BY v.id LIMIT 1"
    )
    sku = sql("SELECT sku FROM product_variants WHERE id = :v", v=variant)
    with pytest.raises(Conflict, match="only 0 unit"):
        call("support", "record_movement", sku=sku, warehouse_id=6, kind="outbound", quantity=1)
    result = call("support", "record_movement", sku=sku, warehouse_id=6, kind="inbound", quantity=4)
    assert result.stock.on_hand == 4 and result.stock.warehouse_code == "TLS"
    assert (
        sql(
            "SELECT on_hand FROM stock_levels WHERE variant_id = :v AND warehouse_id = 6", v=variant
        )
        == 4
    )


def test_transfer_stock_moves_units_with_one_reference(call: Any, sql: Any) -> None:
    variant = sql(
        "SELECT s.variant_id FROM stock_levels s WHERE s.warehouse_id = 1"
        " AND s.on_hand - s.reserved >= 3 AND NOT EXISTS (SELECT 1 FROM stock_levels t"
        " WHERE t.variant_id = s.variant_id AND t.warehouse_id = 6) ORDER BY s.id LIMIT 1"
    )
    sku = sql("SELECT sku FROM product_variants WHERE id = :v", v=variant)
    on_hand = sql(
        "SELECT on_hand FROM stock_levels WHERE variant_id = :v AND warehouse_id = 1", v=variant
    )
    result = call(
        "manager", "transfer_stock", sku=sku, from_warehouse_id=1, to_warehouse_id=6, quantity=3
    )
    assert result.origin.on_hand == on_hand - 3 and result.destination.on_hand == 3
    assert sql("SELECT COUNT(*) FROM stock_movements WHERE reference = :r", r=result.reference) == 2
    assert (
        sql("SELECT SUM(quantity) FROM stock_movements WHERE reference = :r", r=result.reference)
        == 0
    )
    assert (
        sql(
            "SELECT on_hand FROM stock_levels WHERE variant_id = :v AND warehouse_id = 6", v=variant
        )
        == 3
    )
    assert sql("SELECT type FROM domain_events WHERE entity_id = :r", r=result.reference) == (
        "stock_transferred"
    )


def test_transfer_stock_refuses_reserved_units_and_bad_requests(call: Any, sql: Any) -> None:
    level = sql("SELECT id FROM stock_levels WHERE reserved > 0 AND warehouse_id = 1 LIMIT 1")
    sku = sql(
        "SELECT v.sku FROM product_variants v JOIN stock_levels s ON s.variant_id = v.id"
        " WHERE s.id = :id",
        id=level,
    )
    on_hand = sql("SELECT on_hand FROM stock_levels WHERE id = :id", id=level)
    args = {"sku": sku, "from_warehouse_id": 1, "to_warehouse_id": 2, "quantity": on_hand}
    with pytest.raises(Conflict) as error:
        call("manager", "transfer_stock", **args)
    assert error.value.code == "insufficient_stock"
    with pytest.raises(InvalidInput) as bad:
        call("manager", "transfer_stock", **{**args, "to_warehouse_id": 1})
    assert bad.value.field == "to_warehouse_id"
    with pytest.raises(Forbidden):
        call("support", "transfer_stock", **{**args, "quantity": 1})
    with pytest.raises(NotFound) as missing:
        call("manager", "transfer_stock", **{**args, "to_warehouse_id": 99})
    assert missing.value.field == "to_warehouse_id"
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_stock_cannot_enter_a_warehouse_out_of_service(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    level = free_level(seeded_engine, on_hand=5)
    execute(seeded_engine, "UPDATE warehouses SET is_active = false WHERE id = 6")
    sku = level["sku"]
    with pytest.raises(Conflict, match="TLS is out of service"):
        call(
            "manager", "transfer_stock", sku=sku, from_warehouse_id=1, to_warehouse_id=6, quantity=1
        )
    with pytest.raises(Conflict, match="TLS is out of service"):
        call("support", "record_movement", sku=sku, warehouse_id=6, kind="inbound", quantity=1)
    with pytest.raises(Conflict, match="TLS is out of service"):
        call("support", "reserve_stock", sku=sku, warehouse_id=6, quantity=1)
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_update_stock_settings_changes_limits(api: Any, sql: Any, seeded_engine: Engine) -> None:
    level = free_level(seeded_engine, on_hand=8, reorder_point=2)
    body = {"reorder_point": 10, "reorder_quantity": 12, "max_stock": 40}
    response = api("manager", "PATCH", f"/inventory/stock/{level['id']}", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "low"
    assert sql("SELECT reorder_point FROM stock_levels WHERE id = :id", id=level["id"]) == 10
    assert sql("SELECT max_stock FROM stock_levels WHERE id = :id", id=level["id"]) == 40
    kinds = "SELECT type FROM domain_events ORDER BY id"
    with seeded_engine.connect() as connection:
        assert [t for (t,) in connection.execute(sa.text(kinds))] == [
            "stock_settings_updated",
            "low_stock",
        ]
    below = api("manager", "PATCH", f"/inventory/stock/{level['id']}", json={"max_stock": 5})
    assert below.status_code == 422 and below.json()["error"]["field"] == "max_stock"
    empty = api("manager", "PATCH", f"/inventory/stock/{level['id']}", json={})
    assert empty.status_code == 422 and "nothing to change" in empty.json()["error"]["message"]
    assert api("support", "PATCH", f"/inventory/stock/{level['id']}", json=body).status_code == 403
    assert api("manager", "PATCH", "/inventory/stock/999999", json=body).status_code == 404
    cleared = api(
        "manager", "PATCH", f"/inventory/stock/{level['id']}", json={"clear_max_stock": True}
    )
    assert cleared.json()["max_stock"] is None


def test_list_movements_filters_by_reference(call: Any, sql: Any) -> None:
    reference = sql("SELECT reference FROM stock_movements WHERE kind = 'return' LIMIT 1")
    page = call("viewer", "list_movements", reference=reference)
    assert len(page.items) == sql(
        "SELECT COUNT(*) FROM stock_movements WHERE reference = :r", r=reference
    )
    assert all(m.kind == "return" and m.quantity > 0 for m in page.items)
    with pytest.raises(NotFound):
        call("viewer", "list_movements", sku="NOPE-1")


# -- reports -----------------------------------------------------------------------------


def test_low_stock_alerts_follow_the_critical_ratio(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    result = call("viewer", "low_stock_alerts", limit=200)
    low = "SELECT COUNT(*) FROM stock_levels WHERE reorder_point > 0 AND on_hand - reserved"
    assert result.total_low == sql(low + " < reorder_point") == len(result.items) > 0
    assert result.total_critical == sql(low + " < reorder_point * 0.5")
    assert all(i.shortfall == i.reorder_point - i.available > 0 for i in result.items)
    critical = call("viewer", "low_stock_alerts", critical_only=True, limit=200)
    assert len(critical.items) == result.total_critical
    assert {i.severity for i in critical.items} <= {"critical"}
    execute(
        seeded_engine,
        "UPDATE system_settings SET value = :v WHERE key = 'inventory.critical_ratio'",
        v="0.25",
    )
    stricter = call("viewer", "low_stock_alerts", limit=200)
    assert stricter.critical_ratio == 0.25
    assert stricter.total_critical == sql(low + " < reorder_point * 0.25")
    with pytest.raises(NotFound):
        call("viewer", "low_stock_alerts", warehouse_id=99)


def test_inventory_value_is_on_hand_times_cost(call: Any, sql: Any) -> None:
    result = call("viewer", "inventory_value")
    total = sql(
        "SELECT SUM(s.on_hand * v.cost_cents) FROM stock_levels s"
        " JOIN product_variants v ON v.id = s.variant_id"
    )
    assert result.total_value_cents == total > 0
    assert sum(g.value_cents for g in result.by_category) == total
    assert result.total_units == sql("SELECT SUM(on_hand) FROM stock_levels")
    lys = next(g for g in result.by_warehouse if g.name == "LYS")
    only = call("viewer", "inventory_value", warehouse_id=1)
    assert (
        only.total_value_cents
        == lys.value_cents
        == sql(
            "SELECT SUM(s.on_hand * v.cost_cents) FROM stock_levels s"
            " JOIN product_variants v ON v.id = s.variant_id WHERE s.warehouse_id = 1"
        )
    )
    audio = call("viewer", "inventory_value", category_id=4)
    assert [g.name for g in audio.by_category] == [sql("SELECT name FROM categories WHERE id = 4")]
    with pytest.raises(NotFound, match="category"):
        call("viewer", "inventory_value", category_id=999)


def test_movement_analytics_counts_units_by_kind_and_day(call: Any, sql: Any) -> None:
    result = call("viewer", "movement_analytics", start="2026-11-01", end="2026-11-25", top=3)
    window = "created_at >= '2026-11-01' AND created_at < '2026-11-26'"
    assert result.movements == sql(f"SELECT COUNT(*) FROM stock_movements WHERE {window}") > 0
    outbound = next(k for k in result.by_kind if k.kind == "outbound")
    assert outbound.units == sql(
        f"SELECT SUM(quantity) FROM stock_movements WHERE kind = 'outbound' AND {window}"
    )
    assert result.units_out == -sql(
        f"SELECT SUM(quantity) FROM stock_movements WHERE quantity < 0 AND {window}"
    )
    assert sum(d.units_in for d in result.by_day) == result.units_in
    assert len(result.top_skus) == 3
    assert result.top_skus[0].variant_id == sql(
        f"SELECT variant_id FROM stock_movements WHERE {window} GROUP BY variant_id"
        " ORDER BY SUM(ABS(quantity)) DESC, variant_id LIMIT 1"
    )
    with pytest.raises(InvalidInput, match="starts"):
        call("viewer", "movement_analytics", start="2026-11-25", end="2026-11-01")
    with pytest.raises(InvalidInput) as error:
        call("viewer", "movement_analytics", top=0)
    assert error.value.field == "top"


def test_movement_analytics_counts_a_transfer_once_it_commits(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    variant = sql(
        "SELECT variant_id FROM stock_levels WHERE warehouse_id = 1 AND on_hand - reserved >= 5"
        " ORDER BY id LIMIT 1"
    )
    sku = sql("SELECT sku FROM product_variants WHERE id = :v", v=variant)
    today = utc_now().date().isoformat()

    def analytics(**filters: Any) -> Any:
        return call("viewer", "movement_analytics", start=today, end=today, **filters)

    origin, destination, everywhere = (
        analytics(warehouse_id=1),
        analytics(warehouse_id=6),
        analytics(),
    )
    refused = {"sku": sku, "from_warehouse_id": 1, "to_warehouse_id": 6, "quantity": 100_000}
    with pytest.raises(Conflict):
        call("manager", "transfer_stock", **refused)
    assert analytics() == everywhere  # a refused transfer counts nowhere

    call("manager", "transfer_stock", **{**refused, "quantity": 5})

    after = analytics(warehouse_id=1)
    assert (after.movements, after.units_out) == (origin.movements + 1, origin.units_out + 5)
    assert {k.kind: k.units for k in after.by_kind}["transfer_out"] == -5 + sum(
        k.units for k in origin.by_kind if k.kind == "transfer_out"
    )
    assert analytics(warehouse_id=6).units_in == destination.units_in + 5
    both = analytics()
    assert (both.movements, both.units_in, both.units_out) == (
        everywhere.movements + 2,
        everywhere.units_in + 5,
        everywhere.units_out + 5,
    )
    # One SKU's figures come from its movements themselves, and agree.
    one = analytics(sku=sku)
    assert one.top_skus[0].sku == sku and one.top_skus[0].units_in == one.units_in >= 5
    assert one.movements == sql(
        "SELECT COUNT(*) FROM stock_movements WHERE variant_id = :v AND created_at >= :d",
        v=variant,
        d=today,
    )
    assert [c.name for c in check_invariants(seeded_engine) if not c.ok] == []


# -- contract functions ------------------------------------------------------------------


def test_reserve_for_order_and_release_order_reservations(sql: Any, seeded_engine: Engine) -> None:
    level = free_level(seeded_engine, on_hand=3)
    order_id = 3928

    def reserve(quantity: int) -> Any:
        return in_transaction(
            seeded_engine,
            lambda ctx: inventory.reserve_for_order(
                ctx,
                order_id=order_id,
                variant_id=level["variant_id"],
                warehouse_id=1,
                quantity=quantity,
                expires_at=None,
            ),
        )

    assert reserve(2).status == "active"
    with pytest.raises(Conflict) as error:
        reserve(2)
    assert error.value.code == "insufficient_stock" and "LYS" in error.value.message
    held = sql(
        "SELECT SUM(quantity) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
        o=order_id,
    )
    released = in_transaction(
        seeded_engine,
        lambda ctx: inventory.release_order_reservations(ctx, order_id=order_id, reason="test"),
    )
    assert released == held == 3
    assert (
        sql(
            "SELECT COUNT(*) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
            o=order_id,
        )
        == 0
    )
    assert sql(DRIFT) == 0


def test_ship_order_stock_commits_the_reservations(sql: Any, seeded_engine: Engine) -> None:
    order_id = 3993  # processing at LYS, three lines, all reserved
    lines = sql("SELECT COUNT(*) FROM order_lines WHERE order_id = :o", o=order_id)
    units = sql("SELECT SUM(quantity) FROM order_lines WHERE order_id = :o", o=order_id)
    on_hand = "SELECT SUM(s.on_hand) FROM stock_levels s WHERE s.warehouse_id = 1 AND"
    on_hand += " s.variant_id IN (SELECT variant_id FROM order_lines WHERE order_id = :o)"
    before = sql(on_hand, o=order_id)
    in_transaction(seeded_engine, lambda ctx: inventory.ship_order_stock(ctx, order_id=order_id))
    assert sql(on_hand, o=order_id) == before - units
    assert (
        sql(
            "SELECT COUNT(*) FROM stock_movements WHERE reference = :r AND kind = 'outbound'",
            r=f"order:{order_id}",
        )
        == lines
    )
    assert (
        sql(
            "SELECT COUNT(*) FROM stock_reservations WHERE order_id = :o AND status <> 'committed'",
            o=order_id,
        )
        == 0
    )
    assert sql(DRIFT) == 0
    in_transaction(seeded_engine, lambda ctx: inventory.ship_order_stock(ctx, order_id=order_id))
    assert sql(on_hand, o=order_id) == before - units  # shipping twice takes nothing more


def test_ship_order_stock_takes_unreserved_lines_from_available(
    sql: Any, seeded_engine: Engine
) -> None:
    order_id = 3988
    variant = sql("SELECT variant_id FROM order_lines WHERE order_id = :o", o=order_id)
    level = "SELECT {} FROM stock_levels WHERE variant_id = :v AND warehouse_id = 1"
    in_transaction(
        seeded_engine,
        lambda ctx: inventory.release_order_reservations(ctx, order_id=order_id, reason="t"),
    )
    reserved, on_hand = (
        sql(level.format("reserved"), v=variant),
        sql(level.format("on_hand"), v=variant),
    )
    in_transaction(seeded_engine, lambda ctx: inventory.ship_order_stock(ctx, order_id=order_id))
    assert sql(level.format("on_hand"), v=variant) == on_hand - 1
    assert sql(level.format("reserved"), v=variant) == reserved
    in_transaction(
        seeded_engine,
        lambda ctx: inventory.release_order_reservations(ctx, order_id=3990, reason="t"),
    )
    execute(seeded_engine, "UPDATE stock_levels SET on_hand = reserved")
    with pytest.raises(Conflict) as error:
        in_transaction(seeded_engine, lambda ctx: inventory.ship_order_stock(ctx, order_id=3990))
    assert error.value.code == "insufficient_stock"


def test_restock_return_adds_a_return_movement(sql: Any, seeded_engine: Engine) -> None:
    level = free_level(seeded_engine, on_hand=1)
    in_transaction(
        seeded_engine,
        lambda ctx: inventory.restock_return(
            ctx, variant_id=level["variant_id"], warehouse_id=1, quantity=2, return_id=7
        ),
    )
    assert sql("SELECT on_hand FROM stock_levels WHERE id = :id", id=level["id"]) == 3
    assert (
        sql(
            "SELECT kind FROM stock_movements WHERE reference = 'return:7' ORDER BY id DESC LIMIT 1"
        )
        == "return"
    )
    with pytest.raises(InvalidInput):
        in_transaction(
            seeded_engine,
            lambda ctx: inventory.restock_return(
                ctx, variant_id=level["variant_id"], warehouse_id=1, quantity=0, return_id=7
            ),
        )


def test_choose_warehouse_prefers_lys_then_most_available(seeded_engine: Engine) -> None:
    level = free_level(seeded_engine, on_hand=5)
    variant = level["variant_id"]
    execute(
        seeded_engine,
        "UPDATE stock_levels SET on_hand = reserved WHERE variant_id = :v AND warehouse_id > 1",
        v=variant,
    )
    execute(
        seeded_engine,
        "UPDATE stock_levels SET on_hand = reserved + 20"
        " WHERE variant_id = :v AND warehouse_id = 2",
        v=variant,
    )
    other = row(
        seeded_engine,
        "SELECT variant_id FROM stock_levels WHERE warehouse_id = 2 AND variant_id <> :v"
        " AND on_hand - reserved >= 1 ORDER BY id LIMIT 1",
        v=variant,
    )["variant_id"]
    with Session(seeded_engine) as session:

        def choose(*lines: tuple[int, int], country: str = "FR") -> int | None:
            return inventory.choose_warehouse(session, lines=list(lines), country=country)

        assert choose((variant, 5)) == 1  # LYS can serve it: LYS
        assert choose((variant, 3), (variant, 3)) == 2  # 6 units: only PAR has them
        assert choose((variant, 6), country="BE") == 2
        assert choose((variant, 21)) is None
        assert choose((variant, 6), (other, 10_000)) is None
        assert choose() is None
