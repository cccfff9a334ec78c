"""Each automation fires on its event through the same tools and audit trail as the agents,
never twice for a duplicate, and does nothing while switched off. No broker is involved:
automations read the outbox."""

import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli import app as cli_app
from events.automations import AUTOMATIONS
from events.runner import AutomationRunner, PassSummary
from events.worker import AutomationWorker
from tests.tools.test_after_sales import all_lines, delivered_order
from tools.base import Conflict

AMAZON = 1


def run(engine: Engine) -> dict[str, PassSummary]:
    return AutomationRunner(engine).run_once()


def replay_everything(engine: Engine) -> None:
    """Move every automation's cursor back to the start: every event comes again."""
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE automation_cursors SET last_event_id = 0"))


def audit_actors(rows: Callable[..., list[Any]], action: str) -> set[tuple[str, str]]:
    return {
        (actor, channel)
        for actor, channel in rows(
            "SELECT actor, channel FROM audit_log WHERE action = :a", a=action
        )
    }


def switch(call: Callable[..., Any], name: str, on: bool) -> None:
    value = {automation.name: True for automation in AUTOMATIONS}
    value[name] = on
    call("admin", "set_config", key="automations.enabled", value=value)


def deliver(call: Callable[..., Any], sql: Callable[..., Any], skip: int = 0) -> int:
    """A processing order shipped and delivered through the transport tools."""
    order_id = sql(
        "SELECT id FROM orders WHERE status = 'processing' ORDER BY id LIMIT 1 OFFSET :s", s=skip
    )
    shipment = call("support", "create_shipment", order_id=order_id)
    call("support", "mark_delivered", shipment_id=shipment.id, note="signed POD")
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "delivered"
    return int(order_id)


# -- low stock -----------------------------------------------------------------------------


def test_low_stock_raises_one_reorder_alert_per_level(
    seeded_engine: Engine, call: Any, sql: Any, rows: Any
) -> None:
    level, available = rows(
        "SELECT id, on_hand - reserved FROM stock_levels WHERE reorder_point > 0"
        " AND on_hand - reserved >= reorder_point AND on_hand - reserved >= 10 AND reserved = 0"
        " ORDER BY id LIMIT 1"
    )[0]
    call(
        "manager",
        "update_stock_settings",
        stock_level_id=level,
        reorder_point=available + 5,
        reorder_quantity=40,
        clear_max_stock=True,
    )
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'low_stock'") == 1

    summary = run(seeded_engine)["low_stock_reorder"]
    assert summary.outcomes == {"done": 1}
    alerts = "SELECT COUNT(*) FROM system_alerts WHERE dedupe_key = :k"
    key = f"low_stock:{level}"
    assert sql(alerts, k=key) == 1
    title = sql("SELECT title FROM system_alerts WHERE dedupe_key = :k", k=key)
    assert title.startswith("Reorder 40 x ")
    assert sql("SELECT source FROM system_alerts WHERE dedupe_key = :k", k=key) == "inventory"
    assert audit_actors(rows, "raise_system_alert") == {("system:low_stock_reorder", "automation")}

    replay_everything(seeded_engine)  # the same event again: not handled twice
    again = run(seeded_engine)["low_stock_reorder"]
    assert again.outcomes == {} and again.duplicates == 1
    # A second low_stock event for the same level (it turned critical): the open alert stays one.
    call("manager", "update_stock_settings", stock_level_id=level, reorder_point=available * 3)
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'low_stock'") == 2
    assert run(seeded_engine)["low_stock_reorder"].outcomes == {"done": 1}
    assert sql(alerts, k=key) == 1
    assert sql("SELECT COUNT(*) FROM automation_runs WHERE automation = 'low_stock_reorder'") == 2


# -- delivered -> survey, and the switch ---------------------------------------------------


def test_delivered_order_gets_a_survey_due_once(
    seeded_engine: Engine, call: Any, sql: Any, rows: Any
) -> None:
    order_id = deliver(call, sql)
    summary = run(seeded_engine)["delivered_survey"]
    assert summary.outcomes == {"done": 1}
    survey = "SELECT status FROM satisfaction_surveys WHERE order_id = :o"
    assert sql(survey, o=order_id) == "due"
    assert audit_actors(rows, "schedule_survey") == {("system:delivered_survey", "automation")}
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'survey_due'") == 1

    replay_everything(seeded_engine)
    assert run(seeded_engine)["delivered_survey"].duplicates == 1
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'survey_due'") == 1
    # send_survey sends the survey the automation made due.
    assert call("support", "send_survey", order_id=order_id).status == "sent"


def test_switched_off_automation_skips_the_events_that_pass(
    seeded_engine: Engine, call: Any, sql: Any
) -> None:
    switch(call, "delivered_survey", on=False)
    first = deliver(call, sql)
    summaries = run(seeded_engine)
    assert summaries["delivered_survey"].outcomes == {"off": 1}
    assert sql("SELECT COUNT(*) FROM satisfaction_surveys WHERE order_id = :o", o=first) == 0
    assert sql("SELECT outcome FROM automation_runs WHERE automation = 'delivered_survey'") == "off"

    switch(call, "delivered_survey", on=True)
    second = deliver(call, sql, skip=1)
    assert run(seeded_engine)["delivered_survey"].outcomes == {"done": 1}
    assert sql("SELECT COUNT(*) FROM satisfaction_surveys WHERE order_id = :o", o=second) == 1
    # What passed while it was off is not caught up.
    assert sql("SELECT COUNT(*) FROM satisfaction_surveys WHERE order_id = :o", o=first) == 0


def test_set_config_refuses_an_unknown_automation(call: Any) -> None:
    with pytest.raises(Exception, match="unknown automations"):
        call("admin", "set_config", key="automations.enabled", value={"teleport": False})


# -- return received -> inspections ----------------------------------------------------------


def test_received_return_gets_every_unit_inspected_once(
    seeded_engine: Engine, call: Any, sql: Any, rows: Any
) -> None:
    order_id = delivered_order(sql, 0, 12, "AND o.channel = 'shop'")
    lines = all_lines(seeded_engine, order_id)
    rma = call("support", "request_return", order_id=order_id, lines=lines, reason="changed_mind")
    call("support", "authorize_return", return_id=rma.id)
    call("support", "receive_return", return_id=rma.id)
    inspections = "SELECT COALESCE(SUM(quantity_inspected), 0) FROM quality_inspections"
    inspections += " WHERE return_id = :r AND status = 'scheduled'"
    units = sum(line["quantity"] for line in lines)
    assert sql(inspections, r=rma.id) == units  # receive_return schedules them itself
    # ... so the automation finds nothing missing and schedules nothing twice.
    assert run(seeded_engine)["return_inspection"].outcomes == {"skipped": 1}
    assert sql(inspections, r=rma.id) == units

    # A receipt whose inspections are missing (recorded before they were scheduled on receipt,
    # or removed): replayed, the event schedules exactly what is missing.
    with seeded_engine.begin() as connection:
        connection.execute(
            sa.text("DELETE FROM quality_inspections WHERE return_id = :r"), {"r": rma.id}
        )
        connection.execute(
            sa.text("DELETE FROM automation_runs WHERE automation = 'return_inspection'")
        )
    replay_everything(seeded_engine)
    assert run(seeded_engine)["return_inspection"].outcomes == {"done": 1}
    assert sql(inspections, r=rma.id) == units
    assert audit_actors(rows, "schedule_inspection") == {("system:return_inspection", "automation")}
    replay_everything(seeded_engine)
    assert run(seeded_engine)["return_inspection"].duplicates == 1
    assert sql(inspections, r=rma.id) == units


# -- blocked entity -> orders held ------------------------------------------------------------


def test_blocking_a_customer_holds_their_unshipped_orders(
    seeded_engine: Engine, call: Any, sql: Any, rows: Any
) -> None:
    customer = sql(
        "SELECT customer_id FROM orders WHERE status = 'paid' AND held_at IS NULL"
        " GROUP BY customer_id ORDER BY COUNT(*) DESC, customer_id LIMIT 1"
    )
    open_orders = [
        order_id
        for (order_id,) in rows(
            "SELECT id FROM orders WHERE customer_id = :c"
            " AND status IN ('pending', 'paid', 'processing') ORDER BY id",
            c=customer,
        )
    ]
    call("manager", "block_entity", kind="customer", value=str(customer), reason="stolen cards")
    assert run(seeded_engine)["fraud_hold"].outcomes == {"done": 1}
    held = rows(
        "SELECT id, hold_reason FROM orders WHERE customer_id = :c AND held_at IS NOT NULL"
        " ORDER BY id",
        c=customer,
    )
    assert [order_id for order_id, _ in held] == open_orders
    assert all(f"customer {customer} blocked: stolen cards" in reason for _, reason in held)
    assert audit_actors(rows, "hold_order") == {("system:fraud_hold", "automation")}

    paid = sql(
        "SELECT id FROM orders WHERE customer_id = :c AND status = 'paid' ORDER BY id LIMIT 1",
        c=customer,
    )
    # A held order does not go on to the warehouse...
    with pytest.raises(Conflict, match="held for review"):
        call("support", "update_order_status", order_id=paid, status="processing")
    # ...until a manager releases it.
    call("manager", "release_order_hold", order_id=paid, reason="customer verified")
    assert call("support", "update_order_status", order_id=paid, status="processing").to_status == (
        "processing"
    )

    replay_everything(seeded_engine)
    assert run(seeded_engine)["fraud_hold"].duplicates == 1
    events = "SELECT COUNT(*) FROM domain_events WHERE type = 'order_held'"
    assert sql(events) == len(open_orders)


def test_hold_and_release_refuse_what_does_not_apply(call: Any, sql: Any) -> None:
    shipped = sql("SELECT id FROM orders WHERE status = 'shipped' ORDER BY id LIMIT 1")
    with pytest.raises(Conflict, match="have not shipped"):
        call("support", "hold_order", order_id=shipped, reason="suspicious")
    paid = sql("SELECT id FROM orders WHERE status = 'paid' ORDER BY id LIMIT 1")
    with pytest.raises(Conflict, match="is not held"):
        call("manager", "release_order_hold", order_id=paid, reason="all good")
    call("support", "hold_order", order_id=paid, reason="suspicious")
    with pytest.raises(Conflict, match="already held"):
        call("support", "hold_order", order_id=paid, reason="suspicious")
    with pytest.raises(Exception, match="roles"):
        call("support", "release_order_hold", order_id=paid, reason="all good")


# -- marketplace order synced -> stock reserved -----------------------------------------------


def test_synced_marketplace_order_gets_its_stock_reserved(
    seeded_engine: Engine, call: Any, sql: Any, rows: Any
) -> None:
    call("manager", "update_connection", connection_id=AMAZON, simulate_buyers=False)
    result = call("support", "sync_orders", connection_id=AMAZON)
    assert len(result.synced) >= 2
    first, others = result.synced[0].order_id, [s.order_id for s in result.synced[1:]]
    reserved = (
        "SELECT COALESCE(SUM(quantity), 0) FROM stock_reservations"
        " WHERE order_id = :o AND status = 'active'"
    )
    ordered = "SELECT SUM(quantity) FROM order_lines WHERE order_id = :o"
    # The stock of the first order is released by mistake before the automation runs.
    reservation = sql("SELECT id FROM stock_reservations WHERE order_id = :o LIMIT 1", o=first)
    call("manager", "release_reservation", reservation_id=reservation, reason="wrong order")
    assert sql(reserved, o=first) < sql(ordered, o=first)

    summary = run(seeded_engine)["marketplace_reserve"]
    assert summary.outcomes == {"done": 1, "skipped": len(others)}
    assert sql(reserved, o=first) == sql(ordered, o=first)
    for order_id in others:  # sync_orders had reserved them: nothing reserved twice
        assert sql(reserved, o=order_id) == sql(ordered, o=order_id)
    assert ("system:marketplace_reserve", "automation") in audit_actors(rows, "reserve_stock")
    automated = "SELECT COUNT(*) FROM audit_log WHERE actor = 'system:marketplace_reserve'"
    assert sql(automated) == 1

    replay_everything(seeded_engine)
    assert run(seeded_engine)["marketplace_reserve"].duplicates == len(result.synced)
    assert sql(reserved, o=first) == sql(ordered, o=first) and sql(automated) == 1


# -- running them ------------------------------------------------------------------------------


def test_worker_runs_automations_in_the_background_one_per_database(
    seeded_engine: Engine, call: Any, sql: Any
) -> None:
    worker = AutomationWorker(seeded_engine, interval_s=0.05).start()
    second = AutomationWorker(seeded_engine)
    try:
        order_id = deliver(call, sql)
        deadline = time.monotonic() + 30
        survey = "SELECT COUNT(*) FROM satisfaction_surveys WHERE order_id = :o"
        while sql(survey, o=order_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sql(survey, o=order_id) == 1
        assert second.tick() is False  # the first worker holds the lock
    finally:
        worker.stop()
    assert second.tick() is True  # and hands it over when it stops
    second.lock.release()


def test_cli_runs_the_automations_once(
    seeded_url: str, seeded_engine: Engine, call: Any, sql: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    order_id = deliver(call, sql)
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    result = CliRunner().invoke(cli_app, ["events", "automations", "--once"])
    assert result.exit_code == 0, result.output
    assert "delivered_survey" in result.output
    assert sql("SELECT COUNT(*) FROM satisfaction_surveys WHERE order_id = :o", o=order_id) == 1
