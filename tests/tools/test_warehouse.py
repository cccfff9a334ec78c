"""Warehouse tools: CRUD, capacity and performance from real rows, pick lists, roles."""

from typing import Any

import pytest

from tools.base import Conflict, Forbidden, InvalidInput, NotFound

NEW = {
    "code": "NTE",
    "name": "Nantes Carquefou",
    "address_line": "2 rue du Tertre",
    "postcode": "44470",
    "city": "Carquefou",
    "capacity_locations": 1500,
}


def test_list_warehouses_pages_with_a_cursor(api: Any) -> None:
    first = api("viewer", "GET", "/warehouses", params={"limit": 4})
    assert first.status_code == 200
    page = first.json()
    assert [w["code"] for w in page["items"]] == ["LYS", "PAR", "LIL", "MRS"]
    second = api("viewer", "GET", "/warehouses", params={"limit": 4, "cursor": page["next_cursor"]})
    assert [w["code"] for w in second.json()["items"]] == ["BOD", "TLS"]
    assert second.json()["next_cursor"] is None


def test_create_warehouse_records_audit_and_event(api: Any, sql: Any) -> None:
    response = api("manager", "POST", "/warehouses", json=NEW)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["code"] == "NTE" and created["country"] == "FR"
    assert (
        sql("SELECT actor FROM audit_log WHERE action = 'create_warehouse'")
        == "thomas.bernard@maison-lumen.fr"
    )
    assert (
        sql("SELECT type FROM domain_events WHERE entity_id = :id", id=str(created["id"]))
        == "warehouse_created"
    )


def test_create_warehouse_rejects_a_used_code_and_writes_nothing(api: Any, sql: Any) -> None:
    response = api("manager", "POST", "/warehouses", json={**NEW, "code": "LYS"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert sql("SELECT COUNT(*) FROM warehouses") == 6
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "lyon"}, "code"),
        ({"capacity_locations": 0}, "capacity_locations"),
        ({"country": "France"}, "country"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_create_warehouse_rejects_bad_input(api: Any, change: dict, field: str) -> None:
    response = api("manager", "POST", "/warehouses", json={**NEW, **change})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_support_and_viewer_cannot_create_warehouses(api: Any, call: Any) -> None:
    assert api("support", "POST", "/warehouses", json=NEW).status_code == 403
    with pytest.raises(Forbidden, match="viewer"):
        call("viewer", "create_warehouse", **NEW)


def test_requests_without_a_valid_key_are_refused(api: Any) -> None:
    assert api(None, "GET", "/warehouses").status_code == 401
    bad = api(None, "GET", "/warehouses", headers={"Authorization": "Bearer cpt_nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["message"] == "this API key is not valid"


def test_get_warehouse_unknown_is_404(api: Any) -> None:
    response = api("viewer", "GET", "/warehouses/999")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "warehouse 999 does not exist"


def test_delete_warehouse_refuses_one_with_stock(call: Any) -> None:
    with pytest.raises(Conflict, match="out of service"):
        call("admin", "delete_warehouse", warehouse_id=1)


def test_delete_an_unused_warehouse(call: Any, sql: Any) -> None:
    created = call("manager", "create_warehouse", **NEW)
    call("manager", "delete_warehouse", warehouse_id=created.id)
    assert sql("SELECT COUNT(*) FROM warehouses WHERE code = 'NTE'") == 0
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "warehouse_deleted"
    with pytest.raises(NotFound):
        call("viewer", "get_warehouse", warehouse_id=created.id)


def test_update_warehouse_refuses_to_close_one_with_orders_to_ship(call: Any, sql: Any) -> None:
    busy = sql("SELECT warehouse_id FROM orders WHERE status IN ('paid', 'processing') LIMIT 1")
    with pytest.raises(Conflict, match="orders to ship"):
        call("manager", "update_warehouse", warehouse_id=busy, is_active=False)
    renamed = call("manager", "update_warehouse", warehouse_id=busy, name="Renamed")
    assert renamed.name == "Renamed" and renamed.is_active


def test_capacity_comes_from_stock_levels(call: Any, sql: Any) -> None:
    capacity = call("viewer", "warehouse_capacity", warehouse_id=1)
    assert capacity.units_on_hand == sql(
        "SELECT SUM(on_hand) FROM stock_levels WHERE warehouse_id = 1"
    )
    assert 0 < capacity.used_locations <= capacity.total_locations
    assert capacity.utilisation == round(capacity.used_locations / 12000, 4)


def test_performance_counts_shipped_orders_in_the_period(call: Any, sql: Any) -> None:
    result = call(
        "viewer", "warehouse_performance", warehouse_id=1, start="2026-10-01", end="2026-10-31"
    )
    assert result.orders_shipped == sql(
        "SELECT COUNT(*) FROM orders WHERE warehouse_id = 1 AND shipped_at >= '2026-10-01'"
        " AND shipped_at < '2026-11-01'"
    )
    assert result.orders_shipped > 0
    assert 0 < result.avg_hours_paid_to_shipped < 72
    with pytest.raises(InvalidInput, match="starts"):
        call(
            "viewer", "warehouse_performance", warehouse_id=1, start="2026-10-31", end="2026-10-01"
        )


def test_pick_list_covers_orders_waiting_to_ship(call: Any, sql: Any) -> None:
    waiting = sql(
        "SELECT warehouse_id FROM orders WHERE status IN ('paid', 'processing')"
        " GROUP BY warehouse_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    result = call("support", "pick_list", warehouse_id=waiting)
    assert result.orders == sql(
        "SELECT COUNT(*) FROM orders WHERE warehouse_id = :w AND status IN ('paid', 'processing')",
        w=waiting,
    )
    assert {line.order_id for line in result.lines} and all(
        line.quantity > 0 for line in result.lines
    )
    express = [line.express for line in result.lines]
    assert express == sorted(express, reverse=True)
