"""Backoffice tools: staff users and roles (the last admin stays), API keys (shown once, stored
hashed, revocable), typed configuration with its audit trail, sales report and dashboard."""

import hashlib
from datetime import date, timedelta
from typing import Any

import pytest

from tools.base import Conflict, Forbidden, InvalidInput, NotFound

NEW_USER = {"email": "Nora.Blanc@maison-lumen.fr", "full_name": "Nora Blanc", "role": "support"}


def test_create_staff_user_normalises_email_and_records_it(api: Any, sql: Any) -> None:
    response = api("admin", "POST", "/backoffice/staff", json=NEW_USER)
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["email"] == "nora.blanc@maison-lumen.fr" and user["active_api_keys"] == 0
    assert sql("SELECT role FROM staff_users WHERE id = :id", id=user["id"]) == "support"
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "staff_user_created"
    assert sql("SELECT actor FROM audit_log ORDER BY id DESC LIMIT 1") == (
        "claire.martin@maison-lumen.fr"
    )
    again = api(
        "admin",
        "POST",
        "/backoffice/staff",
        json={**NEW_USER, "email": "nora.blanc@Maison-Lumen.fr"},
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "email"
    bad = api("admin", "POST", "/backoffice/staff", json={**NEW_USER, "email": "nora"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "email"
    refused = api("manager", "POST", "/backoffice/staff", json=NEW_USER)
    assert refused.status_code == 403
    assert set(refused.json()["error"]) == {"code", "message", "field"}
    assert sql("SELECT COUNT(*) FROM staff_users") == 8


def test_list_and_get_staff_users(call: Any, sql: Any) -> None:
    page = call("viewer", "list_staff_users", role="support")
    assert [u.email for u in page.items] == [
        "lucas.petit@maison-lumen.fr",
        "sarah.lefebvre@maison-lumen.fr",
        "mehdi.haddad@maison-lumen.fr",
    ]
    first = call("viewer", "list_staff_users", limit=3)
    second = call("viewer", "list_staff_users", limit=3, cursor=first.next_cursor)
    assert [u.id for u in first.items + second.items] == [1, 2, 3, 4, 5, 6]
    user = call("viewer", "get_staff_user", user_id=2)
    assert user.full_name == "Thomas Bernard" and user.active_api_keys == sql(
        "SELECT COUNT(*) FROM api_keys WHERE user_id = 2 AND revoked_at IS NULL"
    )
    with pytest.raises(NotFound, match="staff user 99"):
        call("viewer", "get_staff_user", user_id=99)


def test_update_staff_user_keeps_the_last_active_admin(call: Any, sql: Any) -> None:
    with pytest.raises(Conflict, match="last active admin"):
        call("admin", "update_staff_user", user_id=1, role="manager")
    assert sql("SELECT role FROM staff_users WHERE id = 1") == "admin"
    promoted = call("admin", "update_staff_user", user_id=2, role="admin", full_name="T. Bernard")
    assert promoted.role == "admin" and promoted.full_name == "T. Bernard"
    demoted = call("admin", "update_staff_user", user_id=1, role="manager")
    assert demoted.role == "manager"
    assert sql("SELECT COUNT(*) FROM staff_users WHERE role = 'admin'") == 1
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'staff_user_updated'") == 2
    with pytest.raises(InvalidInput, match="deactivate_staff_user"):
        call("admin", "update_staff_user", user_id=3, is_active=False)
    with pytest.raises(InvalidInput, match="nothing to change"):
        call("admin", "update_staff_user", user_id=3)
    with pytest.raises(Forbidden):
        call("manager", "update_staff_user", user_id=3, full_name="Someone")


def test_deactivate_staff_user_revokes_their_keys(api: Any, call: Any, sql: Any) -> None:
    assert api("support", "GET", "/backoffice/dashboard").status_code == 200
    result = call("admin", "deactivate_staff_user", user_id=4)
    assert not result.is_active and len(result.revoked_api_keys) == 1
    assert sql("SELECT is_active FROM staff_users WHERE id = 4") in (0, False)
    assert sql("SELECT COUNT(*) FROM api_keys WHERE user_id = 4 AND revoked_at IS NULL") == 0
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'api_key_revoked'") == 1
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == (
        "staff_user_deactivated"
    )
    assert api("support", "GET", "/backoffice/dashboard").status_code == 401
    with pytest.raises(Conflict, match="already deactivated"):
        call("admin", "deactivate_staff_user", user_id=4)
    with pytest.raises(Conflict, match="your own account"):
        call("admin", "deactivate_staff_user", user_id=1)
    with pytest.raises(Forbidden):
        call("manager", "deactivate_staff_user", user_id=5)
    reactivated = call("admin", "update_staff_user", user_id=4, is_active=True)
    assert reactivated.is_active and reactivated.active_api_keys == 0


def test_create_api_key_shows_it_once_and_stores_its_hash(api: Any, call: Any, sql: Any) -> None:
    created = call("admin", "create_api_key", user_id=5, name="ERP sync", expires_in_days=30)
    assert created.key.startswith("cpt_") and created.prefix == created.key[:16]
    stored = sql("SELECT key_hash FROM api_keys WHERE id = :id", id=created.id)
    assert stored == hashlib.sha256(created.key.encode()).hexdigest()
    assert created.status == "active" and created.expires_at is not None
    assert (
        sql(
            "SELECT COUNT(*) FROM audit_log WHERE CAST(after AS TEXT) LIKE :k", k=f"%{created.key}%"
        )
        == 0
    )
    works = api(
        None, "GET", "/backoffice/staff/5", headers={"Authorization": f"Bearer {created.key}"}
    )
    assert works.status_code == 200
    listed = call("admin", "list_api_keys", user_id=5)
    assert len(listed.items) == 2 and all(not hasattr(k, "key") for k in listed.items)
    with pytest.raises(NotFound):
        call("admin", "create_api_key", user_id=99, name="ghost")
    with pytest.raises(Forbidden):
        call("manager", "create_api_key", user_id=5, name="mine")
    with pytest.raises(Forbidden):
        call("viewer", "list_api_keys")


def test_revoke_api_key_refuses_the_last_admin_key(api: Any, call: Any, sql: Any) -> None:
    admin_key = sql("SELECT id FROM api_keys WHERE user_id = 1")
    with pytest.raises(Conflict, match="last usable key"):
        call("admin", "revoke_api_key", key_id=admin_key)
    spare = call("admin", "create_api_key", user_id=1, name="spare admin key")
    revoked = call("admin", "revoke_api_key", key_id=admin_key, reason="rotated")
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    assert api("admin", "GET", "/backoffice/staff").status_code == 401
    headers = {"Authorization": f"Bearer {spare.key}"}
    assert api(None, "GET", "/backoffice/staff", headers=headers).status_code == 200
    with pytest.raises(Conflict, match="already revoked"):
        call("admin", "revoke_api_key", key_id=admin_key)
    assert call("admin", "list_api_keys", user_id=1).items[0].id == spare.id
    everything = call("admin", "list_api_keys", user_id=1, include_revoked=True)
    assert {k.status for k in everything.items} == {"active", "revoked"}


def test_set_config_checks_types_and_rules(call: Any, sql: Any) -> None:
    with pytest.raises(InvalidInput, match="integer") as error:
        call("admin", "set_config", key="returns.window_days", value="45")
    assert error.value.field == "value"
    with pytest.raises(InvalidInput, match="type cannot change"):
        call("admin", "set_config", key="returns.window_days", value=45, value_type="string")
    with pytest.raises(InvalidInput, match="negative"):
        call("admin", "set_config", key="returns.window_days", value=-1)
    with pytest.raises(InvalidInput, match="flag <= review <= block"):
        call("admin", "set_config", key="fraud.review_threshold", value=90)
    with pytest.raises(InvalidInput, match="between 0"):
        call("admin", "set_config", key="inventory.critical_ratio", value=1.5)
    with pytest.raises(InvalidInput, match="unknown automations"):
        call("admin", "set_config", key="automations.enabled", value={"teleport": True})
    with pytest.raises(InvalidInput) as error:
        call("admin", "set_config", key="shop.banner_text", value="Black Friday")
    assert error.value.field == "value_type"
    with pytest.raises(Forbidden):
        call("manager", "set_config", key="returns.window_days", value=45)
    assert sql("SELECT COUNT(*) FROM audit_log") == 1  # only the seed's entry


def test_set_config_audits_old_and_new_values(call: Any, sql: Any) -> None:
    changed = call("admin", "set_config", key="returns.window_days", value=45)
    assert (changed.previous_value, changed.value, changed.changed) == (30, 45, True)
    assert sql("SELECT value FROM system_settings WHERE key = 'returns.window_days'") in (45, "45")
    same = call("admin", "set_config", key="returns.window_days", value=45)
    assert not same.changed
    created = call(
        "admin", "set_config", key="shop.banner_text", value="Black Friday", value_type="string"
    )
    assert created.changed and created.previous_value is None
    call("admin", "set_config", key="returns.window_days", value=60)
    history = call("viewer", "config_history", key="returns.window_days").items
    assert [(c.old_value, c.new_value) for c in history] == [(45, 60), (30, 45)]
    assert history[0].changed_by == "claire.martin@maison-lumen.fr"
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'config_changed'") == 3
    assert call("viewer", "get_config", key="returns.window_days").value == 60
    with pytest.raises(NotFound, match=r"no setting shop\.nothing") as error:
        call("viewer", "get_config", key="shop.nothing")
    assert error.value.field == "key"
    total = sql("SELECT COUNT(*) FROM system_settings")
    page = call("viewer", "list_config", limit=total - 3)
    rest = call("viewer", "list_config", limit=10, cursor=page.next_cursor)
    keys = [c.key for c in page.items + rest.items]
    assert keys == sorted(keys) and len(keys) == total and rest.next_cursor is None
    assert [c.key for c in call("viewer", "list_config", prefix="fraud.").items] == [
        "fraud.block_threshold",
        "fraud.flag_threshold",
        "fraud.review_threshold",
    ]


def test_sales_report_comes_from_real_orders(call: Any, sql: Any) -> None:
    report = call("viewer", "sales_report", start="2026-11-01", end="2026-11-25", top=5)
    window = {"a": "2026-11-01 00:00:00+00", "b": "2026-11-26 00:00:00+00"}
    sold = "status NOT IN ('pending', 'cancelled') AND placed_at >= :a AND placed_at < :b"
    assert report.orders == sql(f"SELECT COUNT(*) FROM orders WHERE {sold}", **window) > 0
    assert report.gross_revenue_cents == sql(
        f"SELECT SUM(total_cents) FROM orders WHERE {sold}", **window
    )
    refunds = sql(
        "SELECT SUM(amount_cents) FROM refunds WHERE status = 'succeeded' AND created_at >= :a "
        "AND created_at < :b",
        **window,
    )
    assert report.refunds_cents == refunds > 0
    assert report.net_revenue_cents == report.gross_revenue_cents - refunds
    assert report.average_order_value_cents == round(report.gross_revenue_cents / report.orders)
    assert sum(c.orders for c in report.by_channel) == report.orders
    assert sum(c.refunds_cents for c in report.by_channel) == refunds
    assert sum(c.units for c in report.by_category) == report.units
    assert sum(c.revenue_cents for c in report.by_category) == report.gross_revenue_cents - (
        report.shipping_cents
    )
    tops = [p.revenue_cents for p in report.top_products]
    assert len(tops) == 5 and tops == sorted(tops, reverse=True)
    with pytest.raises(InvalidInput) as error:
        call("viewer", "sales_report", start="2026-11-10", end="2026-11-01")
    assert error.value.field == "start"


def test_dashboard_metrics_for_a_day(call: Any, sql: Any) -> None:
    day = date(2026, 11, 24)
    result = call("viewer", "dashboard_metrics", day=day.isoformat())
    sold = "status NOT IN ('pending', 'cancelled') AND placed_at >= :a AND placed_at < :b"
    today = {"a": f"{day} 00:00:00+00", "b": f"{day + timedelta(days=1)} 00:00:00+00"}
    week = {**today, "a": f"{day - timedelta(days=6)} 00:00:00+00"}
    assert result.today.orders == sql(f"SELECT COUNT(*) FROM orders WHERE {sold}", **today)
    assert result.last_7_days.revenue_cents == sql(
        f"SELECT SUM(total_cents) FROM orders WHERE {sold}", **week
    )
    assert result.open_returns == sql(
        "SELECT COUNT(*) FROM return_requests WHERE status IN "
        "('requested', 'authorized', 'received', 'inspected')"
    )
    assert result.low_stock_skus == sql(
        "SELECT COUNT(DISTINCT variant_id) FROM stock_levels"
        " WHERE on_hand - reserved < reorder_point"
    )
    assert result.unread_marketplace_messages == sql(
        "SELECT COUNT(*) FROM marketplace_messages WHERE direction = 'inbound' AND NOT is_read"
    )
    assert result.open_system_alerts == sql(
        "SELECT COUNT(*) FROM system_alerts WHERE status = 'open'"
    )
