"""The offline planner routes requests in plain language to the right agents and tools."""

import pytest

from graph.assistant import Assistant
from tests.tools.conftest import actor

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
