"""The supervisor graph, compiled with a checkpointer."""

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from graph import nodes
from graph.state import ChatState, RunContext


def build_graph(checkpointer: BaseCheckpointSaver) -> CompiledStateGraph[Any, Any, Any, Any]:
    builder = StateGraph(ChatState, context_schema=RunContext)
    builder.add_node("route", nodes.route)
    builder.add_node("supervisor", nodes.supervisor)
    builder.add_node("agent", nodes.agent)
    builder.add_node("approve", nodes.approve)
    builder.add_node("tools", nodes.tools)
    builder.add_node("finish", nodes.finish)
    builder.add_edge(START, "route")
    builder.add_conditional_edges("route", nodes.after_route)
    builder.add_conditional_edges("supervisor", nodes.after_supervisor)
    builder.add_conditional_edges("agent", nodes.after_agent)
    builder.add_edge("approve", "tools")
    builder.add_edge("tools", "agent")
    builder.add_edge("finish", END)
    return builder.compile(checkpointer=checkpointer)
