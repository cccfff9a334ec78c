"""Risk tools: anomaly detection on daily metrics (finding the demo's payment outage), risk
assessment by category from real figures, and the risk alerts' lifecycle with roles."""

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tools.base import Conflict, Forbidden, InvalidInput, NotFound
from tools.risk import robust_z

OUTAGE = "2026-11-02"  # 23 days before the demo's 2026-11-25


def _day_orders(sql: Any, day: str, where: str = "1 = 1") -> int:
    return sql(
        f"SELECT COUNT(*) FROM orders WHERE placed_at >= :a AND placed_at < :b AND {where}",
        a=f"{day} 00:00:00+00",
        b=f"{date.fromisoformat(day) + timedelta(days=1)} 00:00:00+00",
    )


def test_robust_z_uses_mad_then_mean_deviation_then_a_floor() -> None:
    z, median, scale = robust_z(10.0, [1.0, 2.0, 3.0, 4.0, 5.0], 1.0)
    assert median == 3.0 and scale == pytest.approx(1.4826) and z == pytest.approx(7 / 1.4826)
    z, median, scale = robust_z(0.2, [0.0] * 20 + [0.1] * 5, 0.01)
    assert median == 0.0 and scale == pytest.approx(1.2533 * 0.5 / 25)
    assert robust_z(3.0, [0.0] * 28, 1.0) == (3.0, 0.0, 1.0)


def test_detect_anomalies_finds_the_payment_outage(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    with seeded_engine.begin() as connection:  # forget the demo's alert: detection must find it
        connection.execute(sa.text("DELETE FROM risk_alerts"))
    result = call(
        "support",
        "detect_anomalies",
        end="2026-11-24",
        days=30,
        metrics=["cancellation_rate"],
    )
    assert "median" in result.method and "3.5" in result.method
    outage = next(a for a in result.anomalies if a.day.isoformat() == OUTAGE)
    orders = _day_orders(sql, OUTAGE)
    cancelled = _day_orders(sql, OUTAGE, "status = 'cancelled'")
    assert outage.orders == orders and outage.observed == round(cancelled / orders, 4)
    assert outage.z >= 3.5 and outage.direction == "spike" and outage.new_alert
    assert outage.observed >= 2 * 0.04  # at least double the usual rate
    alert = sql("SELECT title FROM risk_alerts WHERE id = :id", id=outage.alert_id)
    assert alert == "Cancellation rate spike on 02 November 2026"
    assert sql("SELECT metric FROM risk_alerts WHERE id = :id", id=outage.alert_id) == (
        "daily_cancellation_rate"
    )
    assert sql("SELECT COUNT(*) FROM risk_alerts") == result.alerts_created == len(result.anomalies)
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'risk_alert_created'") == (
        result.alerts_created
    )


def test_detect_anomalies_does_not_alert_twice_for_a_metric_and_day(call: Any, sql: Any) -> None:
    first = call("support", "detect_anomalies", end="2026-11-24", days=30)
    outage = next(
        a
        for a in first.anomalies
        if a.day.isoformat() == OUTAGE and a.metric == "cancellation_rate"
    )
    assert outage.alert_id == 1 and not outage.new_alert  # the demo already alerted that day
    assert first.alerts_created == sql("SELECT COUNT(*) FROM risk_alerts") - 1
    again = call("support", "detect_anomalies", end="2026-11-24", days=30)
    assert again.alerts_created == 0
    assert [a.alert_id for a in again.anomalies] == [a.alert_id for a in first.anomalies]
    assert sql("SELECT COUNT(*) FROM risk_alerts") == first.alerts_created + 1


def test_detect_anomalies_skips_days_with_too_few_orders(call: Any, sql: Any) -> None:
    assert _day_orders(sql, "2026-10-12") < 5
    result = call("support", "detect_anomalies", end="2026-10-12", days=1)
    assert all(m.days_skipped == 1 and m.days_checked == 0 for m in result.metrics)
    assert result.anomalies == []


def test_detect_anomalies_rejects_bad_input(call: Any) -> None:
    with pytest.raises(InvalidInput) as error:
        call("support", "detect_anomalies", end="2099-01-01")
    assert error.value.field == "end"
    with pytest.raises(InvalidInput) as error:
        call("support", "detect_anomalies", metrics=["weather"])
    assert error.value.field == "metrics.0"
    with pytest.raises(InvalidInput):
        call("support", "detect_anomalies", days=0)
    with pytest.raises(Forbidden):
        call("viewer", "detect_anomalies", end="2026-11-24")


def test_assess_risk_cancellations_from_real_orders(call: Any, sql: Any) -> None:
    result = call("viewer", "assess_risk", category="cancellations", end="2026-11-25", days=30)
    window = {"a": "2026-10-27 00:00:00+00", "b": "2026-11-26 00:00:00+00"}
    total = sql("SELECT COUNT(*) FROM orders WHERE placed_at >= :a AND placed_at < :b", **window)
    cancelled = sql(
        "SELECT COUNT(*) FROM orders WHERE status = 'cancelled' AND placed_at >= :a "
        "AND placed_at < :b",
        **window,
    )
    factors = {f.name: f for f in result.factors}
    assert factors["cancellation_rate"].value == round(cancelled / total, 4)
    assert sum(result.breakdown.values()) == cancelled
    assert result.score == round(sum(f.points for f in result.factors), 1)
    assert sum(f.weight for f in result.factors) == 100
    assert result.level == "low" and result.start.isoformat() == "2026-10-27"


def test_assess_risk_refunds_and_stock(call: Any, sql: Any) -> None:
    refunds = call("viewer", "assess_risk", category="refunds", end="2026-11-25", days=30)
    window = {"a": "2026-10-27 00:00:00+00", "b": "2026-11-26 00:00:00+00"}
    refunded = sql(
        "SELECT SUM(amount_cents) FROM refunds WHERE status = 'succeeded' AND created_at >= :a "
        "AND created_at < :b",
        **window,
    )
    revenue = sql(
        "SELECT SUM(total_cents) FROM orders WHERE status NOT IN ('pending', 'cancelled') "
        "AND placed_at >= :a AND placed_at < :b",
        **window,
    )
    rate = next(f for f in refunds.factors if f.name == "refund_rate")
    assert rate.value == round(refunded / revenue, 4) and 0 < rate.value < 1
    stock = call("viewer", "assess_risk", category="stock")
    below = sql(
        "SELECT COUNT(*) FROM stock_levels WHERE reorder_point > 0 "
        "AND on_hand - reserved < reorder_point"
    )
    assert stock.breakdown["below_reorder_point"] == below > 0


def test_assess_risk_of_a_marketplace_connection(call: Any, sql: Any) -> None:
    result = call("viewer", "assess_risk", category="marketplace", connection_id=3)
    assert result.subject == "Back Market (connection 3)"
    assert result.breakdown["offers_rejected"] == sql(
        "SELECT COUNT(*) FROM marketplace_offers WHERE connection_id = 3 AND status = 'rejected'"
    )
    assert result.breakdown["orders_failed"] == sql(
        "SELECT COUNT(*) FROM marketplace_orders WHERE connection_id = 3 AND sync_status = 'failed'"
        " AND received_at >= :a",
        a=result.start.isoformat() + " 00:00:00+00",
    )
    sync = next(f for f in result.factors if f.name == "hours_since_sync")
    assert "never synced" in sync.detail and sync.points == sync.weight
    with pytest.raises(InvalidInput) as error:
        call("viewer", "assess_risk", category="marketplace")
    assert error.value.field == "connection_id"
    with pytest.raises(NotFound, match="marketplace connection 99"):
        call("viewer", "assess_risk", category="marketplace", connection_id=99)


def test_list_risk_alerts_active_by_default(call: Any, sql: Any) -> None:
    assert call("viewer", "list_risk_alerts").items == []
    everything = call("viewer", "list_risk_alerts", status="all")
    assert [a.id for a in everything.items] == [1]
    assert (
        everything.items[0].status == "resolved" and everything.items[0].category == "cancellations"
    )
    call("support", "detect_anomalies", end="2026-11-24", days=30)
    active = call("viewer", "list_risk_alerts", limit=2)
    assert len(active.items) == 2 and active.next_cursor == active.items[-1].id
    stock = call("viewer", "list_risk_alerts", category="stock")
    assert len(stock.items) == sql(
        "SELECT COUNT(*) FROM risk_alerts WHERE category = 'stock' AND status = 'open'"
    )


def test_acknowledge_then_resolve_a_risk_alert(call: Any, sql: Any) -> None:
    detection = call("support", "detect_anomalies", end="2026-11-24", days=30)
    alert_id = next(a.alert_id for a in detection.anomalies if a.new_alert)
    acknowledged = call("support", "acknowledge_risk_alert", alert_id=alert_id)
    assert acknowledged.status == "acknowledged"
    assert acknowledged.acknowledged_by == "lucas.petit@maison-lumen.fr"
    with pytest.raises(Conflict, match="already acknowledged"):
        call("support", "acknowledge_risk_alert", alert_id=alert_id)
    with pytest.raises(Forbidden):
        call("support", "resolve_risk_alert", alert_id=alert_id, note="checked")
    with pytest.raises(InvalidInput) as error:
        call("manager", "resolve_risk_alert", alert_id=alert_id, note="")
    assert error.value.field == "note"
    resolved = call("manager", "resolve_risk_alert", alert_id=alert_id, note="Black Friday promo")
    assert resolved.status == "resolved" and resolved.resolution_note == "Black Friday promo"
    assert sql("SELECT resolved_by FROM risk_alerts WHERE id = :id", id=alert_id) == (
        "thomas.bernard@maison-lumen.fr"
    )
    assert (
        sql(
            "SELECT COUNT(*) FROM domain_events WHERE entity_id = :id AND type IN "
            "('risk_alert_acknowledged', 'risk_alert_resolved')",
            id=str(alert_id),
        )
        == 2
    )
    with pytest.raises(Conflict, match="already resolved"):
        call("manager", "resolve_risk_alert", alert_id=alert_id, note="again")


def test_risk_rest_status_codes_and_error_shape(api: Any, sql: Any) -> None:
    done = api("support", "POST", "/risk/alerts/1/acknowledge")
    assert done.status_code == 409
    assert (
        done.json()["error"]["code"] == "conflict" and done.json()["error"]["field"] == "alert_id"
    )
    missing = api("manager", "POST", "/risk/alerts/404/resolve", json={"note": "gone"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad = api("viewer", "GET", "/risk/assessment", params={"category": "weather"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "category"
    viewer = api("viewer", "POST", "/risk/anomalies/detect", json={"end": "2026-11-24"})
    assert viewer.status_code == 403
    assert sql("SELECT COUNT(*) FROM risk_alerts") == 1
    ok = api("viewer", "GET", "/risk/assessment", params={"category": "fraud", "end": "2026-11-25"})
    assert ok.status_code == 200 and 0 <= ok.json()["score"] <= 100
