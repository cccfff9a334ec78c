"""Monitoring tools: overview, agent health from heartbeats, measured calls and live checks,
system alerts with deduplication, performance metrics from agent_metrics, roles over REST."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import get_settings
from db.base import utc_now
from db.models import AgentMetric, MetricKind
from tools.base import Conflict, Forbidden, InvalidInput, NotFound
from tools.monitoring import percentile, record_metric


def _midnight() -> str:
    return utc_now().strftime("%Y-%m-%d 00:00:00+00")


def _metrics(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with Session(engine) as session:
        for row in rows:
            record_metric(session, **row)
        session.commit()


@pytest.fixture
def no_endpoints(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    for name in ("CHROMA_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_system_overview_counts_from_the_database(call: Any, sql: Any) -> None:
    call("support", "record_heartbeat", agent="orders", status="healthy", detail="ok")
    overview = call("viewer", "system_overview")
    assert overview.database.ok and overview.database.latency_ms >= 0
    active = "status IN ('open', 'acknowledged')"
    assert overview.open_system_alerts_total == sql(
        f"SELECT COUNT(*) FROM system_alerts WHERE {active}"
    )
    assert overview.open_system_alerts["critical"] == sql(
        f"SELECT COUNT(*) FROM system_alerts WHERE {active} AND severity = 'critical'"
    )
    assert overview.open_risk_alerts == sql(f"SELECT COUNT(*) FROM risk_alerts WHERE {active}")
    assert overview.orders_today == sql(
        "SELECT COUNT(*) FROM orders WHERE placed_at >= :m", m=_midnight()
    )
    agents = {a.agent: a for a in overview.agents}
    assert len(agents) == 16
    assert agents["orders"].status == "healthy" and agents["orders"].detail == "ok"
    assert agents["fraud"].status is None


def test_agents_health_reports_absent_endpoints_as_not_configured(
    call: Any, no_endpoints: Any
) -> None:
    health = call("viewer", "agents_health")
    checks = {c.component: c for c in health.checks}
    assert checks["database"].status == "ok"
    assert checks["vector_store"].status == "not_configured"
    assert "CHROMA_URL" in checks["vector_store"].detail
    assert checks["llm_endpoint"].status == "not_configured"
    assert "offline planner" in checks["llm_endpoint"].detail
    assert health.status == "healthy"
    assert {a.status for a in health.agents} == {"unknown"}


def test_agents_health_checks_configured_endpoints_live(call: Any, no_endpoints: Any) -> None:
    no_endpoints.setenv("CHROMA_URL", "http://127.0.0.1:9")
    no_endpoints.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    get_settings.cache_clear()
    health = call("viewer", "agents_health")
    checks = {c.component: c for c in health.checks}
    assert checks["vector_store"].status == "down"
    assert "127.0.0.1:9" in checks["vector_store"].detail
    assert checks["llm_endpoint"].status == "down"
    assert health.status == "down"
    knowledge = next(a for a in health.agents if a.agent == "knowledge")
    assert knowledge.status == "degraded" and "vector store" in knowledge.reasons[-1]


def test_agents_health_combines_heartbeats_and_measured_failures(
    call: Any, seeded_engine: Engine, no_endpoints: Any
) -> None:
    call("support", "record_heartbeat", agent="orders", status="healthy")
    failing = {"agent": "payments", "kind": MetricKind.TOOL_CALL, "name": "refund_order"}
    _metrics(
        seeded_engine,
        [{**failing, "duration_ms": 40, "success": False, "error_code": "ProviderError"}] * 3
        + [{**failing, "duration_ms": 20, "success": False, "error_code": "not_found"}] * 5
        + [{**failing, "duration_ms": 20, "success": True}],
    )
    health = {a.agent: a for a in call("viewer", "agents_health").agents}
    assert health["orders"].status == "healthy" and health["orders"].heartbeat_age_s is not None
    payments = health["payments"]
    assert (payments.calls_last_hour, payments.failures_last_hour) == (9, 3)
    assert payments.status == "degraded"
    assert health["customers"].status == "unknown"


def test_record_heartbeat_down_raises_one_alert_and_healthy_resolves_it(
    call: Any, sql: Any
) -> None:
    first = call("support", "record_heartbeat", agent="transport", status="down", detail="502s")
    second = call("support", "record_heartbeat", agent="transport", status="down")
    assert first.alert_id == second.alert_id is not None
    assert (
        sql("SELECT COUNT(*) FROM system_alerts WHERE dedupe_key = 'agent_health:transport'") == 1
    )
    assert sql("SELECT severity FROM system_alerts WHERE id = :id", id=first.alert_id) == "high"
    healthy = call("support", "record_heartbeat", agent="transport", status="healthy")
    assert healthy.alert_id == first.alert_id
    assert sql("SELECT status FROM system_alerts WHERE id = :id", id=first.alert_id) == "resolved"
    assert sql("SELECT COUNT(*) FROM agent_heartbeats WHERE agent = 'transport'") == 3
    events = sql(
        "SELECT COUNT(DISTINCT type) FROM domain_events WHERE type IN "
        "('agent_heartbeat_recorded', 'system_alert_raised', 'system_alert_resolved')"
    )
    assert events == 3


def test_record_heartbeat_rejects_an_unknown_agent_and_viewers(call: Any, sql: Any) -> None:
    with pytest.raises(InvalidInput) as error:
        call("support", "record_heartbeat", agent="accounting", status="healthy")
    assert error.value.field == "agent"
    with pytest.raises(Forbidden):
        call("viewer", "record_heartbeat", agent="orders", status="healthy")
    assert sql("SELECT COUNT(*) FROM agent_heartbeats") == 0


def test_raise_system_alert_dedupes_by_key_while_open(call: Any, sql: Any) -> None:
    args = {"source": "transport", "severity": "medium", "title": "Colissimo API slow"}
    first = call("support", "raise_system_alert", **args, dedupe_key="colissimo:slow")
    again = call("support", "raise_system_alert", **args, dedupe_key="colissimo:slow")
    assert not first.deduplicated and again.deduplicated and again.id == first.id
    assert sql("SELECT COUNT(*) FROM system_alerts WHERE dedupe_key = 'colissimo:slow'") == 1
    call("manager", "resolve_system_alert", alert_id=first.id)
    reopened = call("support", "raise_system_alert", **args, dedupe_key="colissimo:slow")
    assert reopened.id != first.id and not reopened.deduplicated
    seeded = sql("SELECT id FROM system_alerts WHERE dedupe_key = 'low_stock:312:1'")
    existing = call("support", "raise_system_alert", **args, dedupe_key="low_stock:312:1")
    assert existing.id == seeded and existing.source == "inventory"


def test_resolve_system_alert_records_who_and_refuses_twice(call: Any, sql: Any) -> None:
    alert_id = sql("SELECT MIN(id) FROM system_alerts WHERE status = 'open'")
    resolved = call("manager", "resolve_system_alert", alert_id=alert_id)
    assert (
        resolved.status == "resolved" and resolved.resolved_by == "thomas.bernard@maison-lumen.fr"
    )
    assert sql("SELECT status FROM system_alerts WHERE id = :id", id=alert_id) == "resolved"
    assert sql("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == "resolve_system_alert"
    with pytest.raises(Conflict, match="already resolved"):
        call("manager", "resolve_system_alert", alert_id=alert_id)
    with pytest.raises(NotFound, match="system alert 9999"):
        call("manager", "resolve_system_alert", alert_id=9999)


def test_list_system_alerts_filters_and_pages(api: Any, sql: Any) -> None:
    first = api("viewer", "GET", "/monitoring/alerts", params={"limit": 5})
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 5 and page["next_cursor"] == page["items"][-1]["id"]
    rest = api("viewer", "GET", "/monitoring/alerts", params={"cursor": page["next_cursor"]})
    total = sql("SELECT COUNT(*) FROM system_alerts WHERE status IN ('open', 'acknowledged')")
    assert len(page["items"]) + len(rest.json()["items"]) == total
    resolved = api("viewer", "GET", "/monitoring/alerts", params={"status": "resolved"}).json()
    assert {a["title"] for a in resolved["items"]} == {
        "Cdiscount order sync rate-limited",
        "Colissimo tracking updates delayed",
    }
    critical = api("viewer", "GET", "/monitoring/alerts", params={"severity": "critical"}).json()
    assert len(critical["items"]) == sql(
        "SELECT COUNT(*) FROM system_alerts WHERE severity = 'critical' AND status = 'open'"
    )


def test_monitoring_rest_status_codes_and_error_shape(api: Any, sql: Any) -> None:
    body = {"source": "kafka", "severity": "high", "title": "Outbox relay stopped"}
    refused = api("viewer", "POST", "/monitoring/alerts", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert set(refused.json()["error"]) == {"code", "message", "field"}
    bad = api("support", "POST", "/monitoring/alerts", json={**body, "severity": "urgent"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "severity"
    missing = api("support", "POST", "/monitoring/alerts/9999/resolve")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "system alert 9999 does not exist",
        "field": "system_alert_id",
    }
    raised = api("support", "POST", "/monitoring/alerts", json=body)
    assert raised.status_code == 200 and raised.json()["status"] == "open"
    assert sql("SELECT COUNT(*) FROM system_alerts WHERE source = 'kafka'") == 1
    assert api("viewer", "GET", "/monitoring/overview").status_code == 200


def test_performance_metrics_from_agent_metrics(call: Any, seeded_engine: Engine) -> None:
    tool = {"agent": "orders", "kind": MetricKind.TOOL_CALL, "name": "get_order"}
    _metrics(
        seeded_engine,
        [{**tool, "duration_ms": float(ms), "success": True} for ms in range(10, 110, 10)]
        + [{**tool, "duration_ms": 500.0, "success": False, "error_code": "OperationalError"}]
        + [
            {
                "agent": "orders",
                "kind": MetricKind.MODEL_CALL,
                "name": "gpt",
                "duration_ms": 900.0,
                "success": True,
                "tokens_in": 1200,
                "tokens_out": 300,
            }
        ]
        * 2,
    )
    with Session(seeded_engine) as session:  # an old measurement, outside a 24 h window
        session.add(
            AgentMetric(
                agent="orders",
                kind=MetricKind.TOOL_CALL,
                name="get_order",
                duration_ms=9999.0,
                success=True,
                recorded_at=utc_now() - timedelta(days=3),
            )
        )
        session.commit()
    report = call("viewer", "performance_metrics", hours=24)
    assert report.measurements == 13
    stats = {(s.agent, s.kind): s for s in report.by_kind}
    tools = stats[("orders", MetricKind.TOOL_CALL)]
    durations = [float(ms) for ms in range(10, 110, 10)] + [500.0]
    assert tools.count == 11 and tools.errors == tools.failures == 1
    assert tools.p50_ms == round(percentile(durations, 0.5), 1) == 60.0
    assert tools.p95_ms == round(percentile(durations, 0.95), 1) == 300.0
    assert tools.error_codes == {"OperationalError": 1}
    orders = report.by_agent[0]
    assert (orders.tool_calls, orders.model_calls) == (11, 2)
    assert (orders.tokens_in, orders.tokens_out) == (2400, 600)
    assert report.error_rate == round(1 / 11, 4) and report.meets_targets is False
    assert call("viewer", "performance_metrics", hours=96).measurements == 14
    with pytest.raises(InvalidInput) as error:
        call("viewer", "performance_metrics", agent="billing")
    assert error.value.field == "agent"


def test_raise_system_alert_concurrently_creates_one_alert(seeded_engine: Engine, sql: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.tools.conftest import actor
    from tools.base import run_tool

    args = {"source": "payments", "severity": "high", "title": "Stripe webhooks failing"}

    def raise_it(_: int) -> int:
        alert = run_tool(
            seeded_engine, actor("support"), "raise_system_alert", {**args, "dedupe_key": "stripe"}
        )
        return int(alert.id)

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = set(pool.map(raise_it, range(4)))
    assert len(ids) == 1
    assert sql("SELECT COUNT(*) FROM system_alerts WHERE dedupe_key = 'stripe'") == 1


def test_agents_health_reports_a_database_that_does_not_answer(no_endpoints: Any) -> None:
    from db.engine import create_db_engine
    from tests.tools.conftest import actor
    from tools.base import ProviderError, run_tool

    engine = create_db_engine(
        "postgresql://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    health = run_tool(engine, actor("viewer"), "agents_health", {})
    assert health.status == "down" and health.checks[0].status == "down"
    assert {a.status for a in health.agents} == {"down"}
    with pytest.raises(ProviderError, match="does not answer"):
        run_tool(engine, actor("viewer"), "system_overview", {})
