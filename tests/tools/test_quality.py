"""Quality tools: scheduling inspections of batches, returns and stock, the status machine,
defects, the 30-day defect-rate alert from system_settings, and reports from real rows."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

import tools.quality  # noqa: F401  (registers the quality tools for `call`)
from db.base import utc_now
from db.models import SystemSetting
from tools.base import Conflict, Forbidden, InvalidInput, NotFound, ToolError

FUNCTIONAL = {
    "defect_type": "functional",
    "severity": "major",
    "description": "left earcup crackles at high volume",
}


def stocked(sql: Any, product_id: int) -> tuple[int, int, int]:
    """(variant, warehouse, on hand) of the product's best-stocked SKU."""
    order = " ORDER BY s.on_hand DESC, s.id LIMIT 1"
    where = (
        " FROM stock_levels s JOIN product_variants v ON v.id = s.variant_id"
        " WHERE v.product_id = :p"
    )
    return (
        sql("SELECT s.variant_id" + where + order, p=product_id),
        sql("SELECT s.warehouse_id" + where + order, p=product_id),
        sql("SELECT s.on_hand" + where + order, p=product_id),
    )


def audit(call: Any, sql: Any, product_id: int, quantity: int, role: str = "support") -> Any:
    """A started spot-check inspection of the product's best-stocked SKU."""
    variant, warehouse, _ = stocked(sql, product_id)
    scheduled = call(
        role, "schedule_inspection", variant_id=variant, warehouse_id=warehouse, quantity=quantity
    )
    return call(role, "start_inspection", inspection_id=scheduled.id)


def test_schedule_inspection_of_a_received_batch(api: Any, sql: Any) -> None:
    last = "SELECT {} FROM stock_movements WHERE kind = 'inbound' ORDER BY id DESC LIMIT 1"
    reference = sql(last.format("reference"))
    received = sql(last.format("quantity"))
    body = {
        "sku": sql(
            "SELECT sku FROM product_variants WHERE id = :v", v=sql(last.format("variant_id"))
        ),
        "warehouse_id": sql(last.format("warehouse_id")),
        "quantity": received,
        "batch_reference": reference,
    }
    response = api("support", "POST", "/quality/inspections", json=body)
    assert response.status_code == 200, response.text
    inspection = response.json()
    assert inspection["kind"] == "inbound_batch" and inspection["status"] == "scheduled"
    assert inspection["batch_reference"] == reference and inspection["defects"] == []
    assert (
        sql("SELECT type FROM domain_events WHERE entity_id = :i", i=str(inspection["id"]))
        == "inspection_scheduled"
    )
    too_many = api(
        "support", "POST", "/quality/inspections", json={**body, "quantity": received + 1}
    )
    assert too_many.status_code == 409
    assert too_many.json()["error"]["field"] == "quantity"
    assert f"brought {received} units" in too_many.json()["error"]["message"]


def test_schedule_inspection_of_a_returned_item(call: Any, sql: Any) -> None:
    rma = sql("SELECT id FROM return_requests WHERE status = 'authorized' ORDER BY id LIMIT 1")
    line = (
        " FROM return_lines r JOIN order_lines l ON l.id = r.order_line_id"
        " WHERE r.return_id = :r ORDER BY r.id LIMIT 1"
    )
    variant = sql("SELECT l.variant_id" + line, r=rma)
    quantity = sql("SELECT r.quantity" + line, r=rma)
    warehouse = sql(
        "SELECT warehouse_id FROM orders o JOIN return_requests q ON q.order_id = o.id"
        " WHERE q.id = :r",
        r=rma,
    )
    inspection = call(
        "support",
        "schedule_inspection",
        variant_id=variant,
        warehouse_id=warehouse,
        quantity=quantity,
        return_id=rma,
    )
    assert inspection.kind == "return" and inspection.return_id == rma
    with pytest.raises(Conflict, match="already have an inspection") as error:
        call(
            "support",
            "schedule_inspection",
            variant_id=variant,
            warehouse_id=warehouse,
            quantity=1,
            return_id=rma,
        )
    assert error.value.field == "quantity"
    other = sql("SELECT id FROM product_variants WHERE id <> :v ORDER BY id LIMIT 1", v=variant)
    with pytest.raises(InvalidInput, match="is not on return") as invalid:
        call(
            "support",
            "schedule_inspection",
            variant_id=other,
            warehouse_id=warehouse,
            quantity=1,
            return_id=rma,
        )
    assert invalid.value.field == "variant_id"
    assert sql("SELECT COUNT(*) FROM quality_inspections WHERE return_id = :r", r=rma) == 1


def test_schedule_inspection_refuses_returns_not_yet_authorized_or_closed(
    call: Any, sql: Any
) -> None:
    for status, message in (("requested", "authorize it first"), ("refunded", "closed")):
        rma = sql("SELECT id FROM return_requests WHERE status = :s ORDER BY id LIMIT 1", s=status)
        variant = sql(
            "SELECT l.variant_id FROM return_lines r JOIN order_lines l ON l.id = r.order_line_id"
            " WHERE r.return_id = :r",
            r=rma,
        )
        with pytest.raises(Conflict, match=message):
            call(
                "support",
                "schedule_inspection",
                variant_id=variant,
                warehouse_id=1,
                quantity=1,
                return_id=rma,
            )


def test_schedule_inspection_rejects_bad_input(call: Any, sql: Any) -> None:
    variant, warehouse, on_hand = stocked(sql, 8)
    base = {"variant_id": variant, "warehouse_id": warehouse, "quantity": 1}
    cases: list[tuple[dict[str, Any], type[ToolError], str | None]] = [
        ({"return_id": 1, "batch_reference": "PO-1"}, InvalidInput, "batch_reference"),
        ({"sku": "APP-X"}, InvalidInput, "variant_id"),
        ({"variant_id": None}, InvalidInput, "variant_id"),
        ({"variant_id": None, "sku": "NO-SUCH-SKU"}, NotFound, "sku"),
        ({"scheduled_for": "2020-01-01T09:00:00Z"}, InvalidInput, "scheduled_for"),
        ({"quantity": 0}, InvalidInput, "quantity"),
        ({"quantity": on_hand + 1}, Conflict, "quantity"),
        ({"warehouse_id": 99}, NotFound, "warehouse_id"),
        ({"batch_reference": "bad ref!"}, InvalidInput, "batch_reference"),
    ]
    for change, error_type, field in cases:
        with pytest.raises(error_type) as error:
            call("support", "schedule_inspection", **{**base, **change})
        assert error.value.field == field, (change, error.value.message)
    assert sql("SELECT COUNT(*) FROM domain_events") == 0
    by_sku = call(
        "support",
        "schedule_inspection",
        sku=sql("SELECT LOWER(sku) FROM product_variants WHERE id = :v", v=variant),
        warehouse_id=warehouse,
        quantity=on_hand,
        scheduled_for=(utc_now() + timedelta(days=2)).isoformat(),
    )
    assert by_sku.variant_id == variant and by_sku.kind == "audit"


def test_start_inspection_moves_it_in_progress(call: Any, sql: Any) -> None:
    started = audit(call, sql, 8, 1, role="manager")
    assert started.status == "in_progress" and started.started_at is not None
    assert started.inspector_id == sql(
        "SELECT id FROM staff_users WHERE email = 'thomas.bernard@maison-lumen.fr'"
    )
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "inspection_started"
    with pytest.raises(Conflict, match="only a scheduled inspection"):
        call("manager", "start_inspection", inspection_id=started.id)
    with pytest.raises(NotFound, match="inspection 9999 does not exist"):
        call("manager", "start_inspection", inspection_id=9999)


def test_complete_inspection_needs_it_started(call: Any, sql: Any) -> None:
    variant, warehouse, _ = stocked(sql, 8)
    scheduled = call(
        "support", "schedule_inspection", variant_id=variant, warehouse_id=warehouse, quantity=1
    )
    with pytest.raises(Conflict, match="start it first"):
        call("support", "complete_inspection", inspection_id=scheduled.id, result="passed")
    done = sql("SELECT id FROM quality_inspections WHERE status = 'completed' LIMIT 1")
    with pytest.raises(Conflict, match="final"):
        call("support", "complete_inspection", inspection_id=done, result="passed")


def test_complete_inspection_records_result_grade_and_defects(call: Any, sql: Any) -> None:
    started = audit(call, sql, 8, 4)
    packaging = {
        "defect_type": "packaging",
        "severity": "minor",
        "quantity": 1,
        "description": "box corner crushed",
    }
    done = call(
        "support",
        "complete_inspection",
        inspection_id=started.id,
        result="passed",
        grade="A",
        defects=[packaging],
        notes="sealed units, one dented box",
    )
    assert done.status == "completed" and done.result == "passed" and done.grade == "A"
    assert done.quantity_failed == 0 and not done.alert_raised
    assert [d.defect_type for d in done.defects] == ["packaging"]
    assert sql("SELECT status FROM quality_inspections WHERE id = :i", i=started.id) == "completed"
    assert sql("SELECT COUNT(*) FROM quality_defects WHERE inspection_id = :i", i=started.id) == 1
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "inspection_completed"
    fetched = call("viewer", "get_inspection", inspection_id=started.id)
    assert fetched.defects[0].description == "box corner crushed" and fetched.notes


def test_complete_inspection_rejects_inconsistent_results(call: Any, sql: Any) -> None:
    started = audit(call, sql, 8, 3)
    one = {**FUNCTIONAL, "quantity": 1}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"result": "failed"}, "quantity_failed"),
        ({"result": "failed", "quantity_failed": 4, "defects": [one]}, "quantity_failed"),
        ({"result": "passed", "quantity_failed": 3, "defects": [{**one, "quantity": 3}]}, "result"),
        ({"result": "failed", "quantity_failed": 2, "defects": [one]}, "defects"),
        ({"result": "failed", "quantity_failed": 1, "defects": [one], "grade": "B"}, "grade"),
        ({"result": "passed", "defects": [{**one, "quantity": 5}]}, "defects.0.quantity"),
        (
            {"result": "passed", "defects": [{**one, "defect_type": "rust"}]},
            "defects.0.defect_type",
        ),
        ({"result": "maybe"}, "result"),
    ]
    for args, field in cases:
        with pytest.raises(InvalidInput) as error:
            call("support", "complete_inspection", inspection_id=started.id, **args)
        assert error.value.field == field, (args, error.value.message)
    assert sql("SELECT status FROM quality_inspections WHERE id = :i", i=started.id) == (
        "in_progress"
    )
    assert sql("SELECT COUNT(*) FROM quality_defects WHERE inspection_id = :i", i=started.id) == 0


def test_complete_inspection_raises_a_quality_alert_above_the_threshold(
    call: Any, sql: Any
) -> None:
    started = audit(call, sql, 8, 4)
    done = call(
        "support",
        "complete_inspection",
        inspection_id=started.id,
        result="failed",
        quantity_failed=2,
        defects=[{**FUNCTIONAL, "quantity": 2}],
    )
    since = (utc_now() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    window = (
        " FROM quality_inspections q JOIN product_variants v ON v.id = q.variant_id"
        " WHERE v.product_id = 8 AND q.status = 'completed' AND q.completed_at >= :since"
    )
    inspected = sql("SELECT SUM(q.quantity_inspected)" + window, since=since)
    failed = sql("SELECT SUM(q.quantity_failed)" + window, since=since)
    assert done.product_defect_rate_30d == round(failed / inspected, 4) > 0.05
    assert done.alert_raised and done.alert_threshold == 0.05
    assert sql("SELECT source FROM system_alerts WHERE id = :a", a=done.alert_id) == "quality"
    assert sql("SELECT dedupe_key FROM system_alerts WHERE id = :a", a=done.alert_id) == (
        "quality:product:8"
    )
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "quality_alert"
    again = audit(call, sql, 8, 1)
    second = call(
        "support",
        "complete_inspection",
        inspection_id=again.id,
        result="failed",
        quantity_failed=1,
        defects=[FUNCTIONAL],
    )
    assert second.alert_id == done.alert_id and not second.alert_raised
    assert sql("SELECT COUNT(*) FROM system_alerts WHERE source = 'quality'") == 1
    metrics = call("viewer", "product_quality_metrics", product_id=8)
    assert metrics.open_alert_id == done.alert_id


def test_complete_inspection_reads_the_threshold_from_settings(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    with Session(seeded_engine) as session:
        setting = session.get(SystemSetting, "quality.defect_rate_alert")
        assert setting is not None
        setting.value = 0.9
        session.add(setting)
        session.commit()
    started = audit(call, sql, 8, 4)
    done = call(
        "support",
        "complete_inspection",
        inspection_id=started.id,
        result="failed",
        quantity_failed=2,
        defects=[{**FUNCTIONAL, "quantity": 2}],
    )
    assert done.alert_threshold == 0.9 and not done.alert_raised and done.alert_id is None
    assert sql("SELECT COUNT(*) FROM system_alerts WHERE source = 'quality'") == 0


def test_get_inspection_with_defects(api: Any, sql: Any) -> None:
    inspection = sql("SELECT inspection_id FROM quality_defects ORDER BY id LIMIT 1")
    response = api("viewer", "GET", f"/quality/inspections/{inspection}")
    assert response.status_code == 200
    body = response.json()
    assert len(body["defects"]) == sql(
        "SELECT COUNT(*) FROM quality_defects WHERE inspection_id = :i", i=inspection
    )
    assert body["quantity_failed"] == sql(
        "SELECT quantity_failed FROM quality_inspections WHERE id = :i", i=inspection
    )
    missing = api("viewer", "GET", "/quality/inspections/99999")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "inspection 99999 does not exist",
        "field": "inspection_id",
    }


def test_viewer_cannot_schedule_start_or_complete(api: Any, call: Any) -> None:
    body = {"variant_id": 1, "warehouse_id": 1, "quantity": 1}
    response = api("viewer", "POST", "/quality/inspections", json=body)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden" and "viewer" in error["message"]
    assert api("viewer", "POST", "/quality/inspections/1/start").status_code == 403
    with pytest.raises(Forbidden):
        call("viewer", "complete_inspection", inspection_id=1, result="passed")


def test_list_inspections_filters_and_pages(call: Any, sql: Any) -> None:
    page = call("viewer", "list_inspections", kind="return", result="failed", limit=200)
    assert len(page.items) == sql(
        "SELECT COUNT(*) FROM quality_inspections WHERE kind = 'return' AND result = 'failed'"
    )
    ids = [i.id for i in page.items]
    assert ids == sorted(ids, reverse=True)
    product = call("viewer", "list_inspections", product_id=2, limit=200).items
    assert {i.product_id for i in product} == {2}
    assert len(product) == sql(
        "SELECT COUNT(*) FROM quality_inspections q JOIN product_variants v"
        " ON v.id = q.variant_id WHERE v.product_id = 2"
    )
    first = call("viewer", "list_inspections", limit=5)
    second = call("viewer", "list_inspections", limit=5, cursor=first.next_cursor)
    assert first.items[-1].id > second.items[0].id
    with pytest.raises(InvalidInput):
        call("viewer", "list_inspections", status="done")


def test_product_defects_over_a_period(call: Any, sql: Any) -> None:
    defects = call(
        "viewer", "product_defects", product_id=2, start="2025-01-01", end="2026-12-31", limit=200
    )
    assert sum(d.quantity for d in defects.items) == sql(
        "SELECT SUM(d.quantity) FROM quality_defects d JOIN product_variants v"
        " ON v.id = d.variant_id WHERE v.product_id = 2"
    )
    cosmetic = call(
        "viewer",
        "product_defects",
        product_id=2,
        start="2025-01-01",
        end="2026-12-31",
        defect_type="cosmetic",
        limit=200,
    ).items
    assert cosmetic and all(d.defect_type == "cosmetic" for d in cosmetic)
    with pytest.raises(NotFound):
        call("viewer", "product_defects", product_id=999)


def test_product_quality_metrics_from_inspections(api: Any, sql: Any) -> None:
    response = api(
        "viewer",
        "GET",
        "/quality/products/2/metrics",
        params={"start": "2025-01-01", "end": "2026-12-31"},
    )
    assert response.status_code == 200, response.text
    metrics = response.json()
    done = (
        " FROM quality_inspections q JOIN product_variants v ON v.id = q.variant_id"
        " WHERE v.product_id = 2 AND q.status = 'completed'"
    )
    assert metrics["inspections"] == sql("SELECT COUNT(*)" + done)
    assert metrics["passed"] == sql("SELECT COUNT(*)" + done + " AND q.result = 'passed'")
    inspected = sql("SELECT SUM(q.quantity_inspected)" + done)
    failed = sql("SELECT SUM(q.quantity_failed)" + done)
    assert metrics["defect_rate"] == round(failed / inspected, 4)
    assert metrics["pass_rate"] == round(metrics["passed"] / metrics["inspections"], 4)
    by_type = {t["defect_type"]: t["units"] for t in metrics["defects_by_type"]}
    assert by_type.get("cosmetic", 0) == sql(
        "SELECT COALESCE(SUM(d.quantity), 0) FROM quality_defects d"
        " JOIN product_variants v ON v.id = d.variant_id"
        " WHERE v.product_id = 2 AND d.defect_type = 'cosmetic'"
    )
    assert sum(metrics["defects_by_severity"].values()) == sum(by_type.values())
    assert sum(k["inspections"] for k in metrics["by_kind"]) == metrics["inspections"]
    bad = api("viewer", "GET", "/quality/products/2/metrics", params={"start": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "start"
