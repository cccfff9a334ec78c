"""The graph with scripted models: what it does with the tool calls a model makes."""

from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from graph.assistant import Assistant
from tests.graph.conftest import ask, tool_call
from tests.tools.conftest import actor

Scripted = Callable[..., Assistant]


def test_forward_the_agents_answer_without_restating_it(scripted: Scripted) -> None:
    bot = scripted(
        supervisor=[ask("orders")],
        agent=[tool_call("get_order", order_id=12), AIMessage("Order 12 was delivered.")],
    )

    result = bot.ask(actor("support"), "where is order 12?")

    assert result.answer == "Order 12 was delivered."
    assert result.model_calls == 3  # supervisor, tool choice, answer: nothing after the agent
    assert [(c.agent, c.tool, c.status) for c in result.tool_calls] == [
        ("orders", "get_order", "ok")
    ]
    assert result.tool_calls[0].result["id"] == 12


def test_two_intents_reach_two_agents(scripted: Scripted) -> None:
    supervisor = AIMessage(
        "",
        tool_calls=[
            {"name": "ask_transport", "args": {"task": "track shipment 5"}, "id": "s1"},
            {"name": "ask_documents", "args": {"task": "invoice order 77"}, "id": "s2"},
        ],
    )
    bot = scripted(
        supervisor=[supervisor],
        agent=[
            tool_call("track_shipment", shipment_id=5),
            AIMessage("Shipment 5 is delivered."),
            tool_call("generate_invoice", order_id=77),
            AIMessage("Invoice issued."),
        ],
    )

    result = bot.ask(actor("support"), "track shipment 5 and invoice order 77")

    assert result.agents == ["transport", "documents"]
    assert [c.tool for c in result.tool_calls] == ["track_shipment", "generate_invoice"]
    assert "Shipment 5 is delivered." in result.answer and "Invoice issued." in result.answer


def test_recover_from_a_tool_error(scripted: Scripted) -> None:
    def retry_after_error(messages: list[BaseMessage], tools: list[Any]) -> AIMessage:
        error = messages[-1]
        assert isinstance(error, ToolMessage) and error.status == "error"
        assert "999999" in str(error.content)  # the model reads what went wrong
        return tool_call("get_order", id="c2", order_id=12)

    bot = scripted(
        supervisor=[ask("orders")],
        agent=[
            tool_call("get_order", order_id=999999),
            retry_after_error,
            AIMessage("Order 999999 does not exist; order 12 is delivered."),
        ],
    )

    result = bot.ask(actor("support"), "show order 999999")

    assert [(c.tool, c.status) for c in result.tool_calls] == [
        ("get_order", "error"),
        ("get_order", "ok"),
    ]
    assert result.tool_calls[0].result["code"] == "not_found"
    assert result.answer.startswith("Order 999999 does not exist")


def test_stop_at_the_hop_cap(scripted: Scripted) -> None:
    looping = [tool_call("get_order", id=f"c{i}", order_id=12) for i in range(10)]
    bot = scripted(supervisor=[ask("orders")], agent=looping, max_hops=3)

    result = bot.ask(actor("support"), "keep looking at order 12")

    assert result.model_calls == 1 + 3
    assert len(result.tool_calls) == 2
    assert "stopped after 3 steps" in result.answer


def test_refuse_a_tool_of_another_agent(scripted: Scripted, sql: Callable[..., Any]) -> None:
    bot = scripted(
        supervisor=[ask("orders")],
        agent=[
            tool_call("block_entity", kind="email", value="a@b.fr", reason="x"),
            AIMessage("I cannot block from here."),
        ],
    )

    result = bot.ask(actor("manager"), "block a@b.fr")

    assert [(c.tool, c.status) for c in result.tool_calls] == [("block_entity", "error")]
    assert "not a tool of the orders agent" in result.tool_calls[0].result["message"]
    assert sql("SELECT count(*) FROM blocked_entities WHERE value = 'a@b.fr'") == 0


def test_supervisor_answers_when_no_agent_fits(scripted: Scripted) -> None:
    bot = scripted(supervisor=[AIMessage("I only help with the shop's operations.")], agent=[])

    result = bot.ask(actor("support"), "tell me a joke")

    assert result.agents == []
    assert result.answer == "I only help with the shop's operations."
    assert result.model_calls == 1
