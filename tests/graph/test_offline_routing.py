"""The offline planner routes requests in plain language to the right agents and tools."""

import pytest
from sqlalchemy.engine import Engine

from graph.assistant import Assistant
from tests.tools.conftest import actor
from tools.base import run_tool

ONE_PER_AGENT = [
    ("is comptoir healthy? any system alerts?", "monitoring"),
    ("show me order 12", "orders"),
    ("search the catalogue for iphone", "products"),
    ("any unread buyer messages on our marketplaces?", "marketplace"),
    ("loyalty points of Chloé Fontaine", "customers"),
    ("which SKUs will run out in Lyon this week?", "inventory"),
    ("track shipment 5", "transport"),
    ("list the payments of order 12", "payments"),
    ("how full is the Paris warehouse?", "warehouse"),
    ("generate the invoice for order 77", "documents"),
    ("fraud score of order 881", "fraud"),
    ("any anomalies in cancellations this week?", "risk"),
    ("what's our policy on opened items?", "knowledge"),
    ("show me the return requests of order 30", "after_sales"),
    ("sales report for last month", "backoffice"),
    ("list the quality inspections", "quality"),
]


@pytest.mark.parametrize(
    ("request_text", "agent"), ONE_PER_AGENT, ids=[a for _, a in ONE_PER_AGENT]
)
def test_route_a_request_to_its_agent(assistant: Assistant, request_text: str, agent: str) -> None:
    result = assistant.ask(actor("manager"), request_text)

    assert result.agents == [agent]
    assert result.tool_calls, result.answer
    assert result.tool_calls[-1].agent == agent
    assert result.tool_calls[-1].status == "ok"
    # routing (unless the fast router was sure) + one call per tool + the answer
    assert result.model_calls <= len(result.tool_calls) + 2


def test_route_a_two_intent_request_to_two_agents(assistant: Assistant) -> None:
    result = assistant.ask(
        actor("manager"), "track shipment 5 and generate the invoice for order 77"
    )

    assert set(result.agents) == {"transport", "documents"}
    assert {(c.agent, c.tool) for c in result.tool_calls} == {
        ("transport", "track_shipment"),
        ("documents", "generate_invoice"),
    }
    assert "**transport**" in result.answer and "**documents**" in result.answer


def test_answer_small_talk_without_any_agent(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "hello, how are you?")

    assert result.agents == []
    assert result.tool_calls == []
    assert "can't help" in result.answer


def test_resolve_a_customer_named_in_words(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "loyalty points of Chloé Fontaine")

    assert [c.tool for c in result.tool_calls] == ["list_customers", "get_loyalty"]
    assert result.tool_calls[1].args == {"customer_id": 4}
    assert "balance" in result.answer


def test_ask_for_what_is_missing(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "cancel the order please")

    assert result.agents == ["orders"]
    assert result.tool_calls == []
    assert result.pending_approval is None
    assert "order" in result.answer and "?" in result.answer


def test_fast_router_skips_the_supervisor_call(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "track shipment 5")

    assert result.routing is not None and result.routing.method == "router"
    assert result.model_calls == 2  # decide the tool, phrase the answer


def test_a_question_left_open_takes_its_answer(assistant: Assistant) -> None:
    first = assistant.ask(actor("manager"), "I need to cancel an order")
    assert first.tool_calls == [] and "?" in first.answer

    second = assistant.ask(actor("manager"), "it's 3988, found it cheaper", first.thread_id)

    assert second.routing is not None and second.routing.method == "followup"
    assert second.pending_approval is not None
    assert second.pending_approval.args["order_id"] == 3988


def test_a_new_request_after_an_open_question_is_routed_on_its_own(
    assistant: Assistant,
) -> None:
    first = assistant.ask(actor("manager"), "move some stock between warehouses")
    assert first.pending_approval is None and first.answer.rstrip().endswith("?")

    second = assistant.ask(
        actor("manager"), "cancel order 3999, the customer changed their mind", first.thread_id
    )

    assert second.routing is not None and second.routing.method != "followup"
    assert second.agents == ["orders"]
    assert second.pending_approval is not None
    assert second.pending_approval.tool == "cancel_order"


def test_a_message_about_what_the_last_turn_showed_acts_on_it(assistant: Assistant) -> None:
    listed = assistant.ask(actor("manager"), "list the open critical alerts")
    [listing] = [call for call in listed.tool_calls if call.tool == "list_system_alerts"]
    alerts = {item["id"]: item["title"] for item in listing.result["items"]}
    assert len(alerts) > 1
    [chosen] = [i for i, title in alerts.items() if "SAM-45WSUPERFASTCH" in title]

    resolved = assistant.ask(
        actor("manager"), "the samsung 45W charger one is fixed, resolve it", listed.thread_id
    )

    assert resolved.agents == ["monitoring"]
    # the alert was found from the merchant's own words, so no approval is asked
    assert resolved.pending_approval is None
    assert [(c.tool, c.args) for c in resolved.tool_calls] == [
        ("resolve_system_alert", {"alert_id": chosen})
    ]
    assert resolved.tool_calls[0].status == "ok"


def test_a_warehouse_opened_during_the_session_is_a_place_at_once(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    asked = "how did Herblain perform last month?"
    assert assistant.ask(actor("manager"), asked).agents == []  # no site of ours yet
    run_tool(seeded_engine, actor("admin"), "create_warehouse", {
        "code": "NTE", "name": "Nantes Herblain", "address_line": "10 quai de la Fosse",
        "postcode": "44000", "city": "Nantes", "capacity_locations": 2000,
    })  # fmt: skip

    assert assistant.ask(actor("manager"), asked).agents == ["warehouse"]
