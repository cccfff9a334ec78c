"""Graph overhead per request: Comptoir's supervisor graph against a reference supervisor built
with `langgraph-supervisor`, same scripted models, same tool, same checkpointer, same run.

    uv run python -m benchmarks.graph_overhead [--requests 200]

Each request is single-intent with one tool ("track shipment N", N varying so nothing is
cached): the scripted agent model calls track_shipment, then answers; the reference's scripted
supervisor also hands off and answers after the agent, as that library requires. Both graphs
use LangGraph's SQLite checkpointer on a file, a new thread per request, on a seeded demo
database. Prints time per request, the tool's own time, the graph overhead (total minus tool)
and model calls per request. Targets (issue 4): at most half the reference's time per request,
and at most 2 model calls per single-intent request.
"""

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import StructuredTool
from langgraph.prebuilt import create_react_agent
from langgraph_supervisor import create_supervisor
from rich.console import Console
from rich.table import Table

from db.base import set_clock
from db.demo.seed import seed_database
from db.engine import create_db_engine
from graph.assistant import Assistant
from graph.checkpoint import close_checkpointer, sqlite_saver
from graph.models import Models, ScriptedChatModel
from tests.conftest import DEMO_DAY, DEMO_NOW
from tests.tools.conftest import actor
from tools.base import run_tool

console = Console()
TOOL_SECONDS: list[float] = []


def timed_tool(engine: Any, shipment_id: int) -> Any:
    started = time.perf_counter()
    result = run_tool(engine, actor("support"), "track_shipment", {"shipment_id": shipment_id})
    TOOL_SECONDS.append(time.perf_counter() - started)
    return result


def agent_reply(messages: list[BaseMessage], _tools: list[Any]) -> AIMessage:
    """Call track_shipment for the shipment named in the request, then answer from it."""
    if isinstance(messages[-1], ToolMessage) and messages[-1].name == "track_shipment":
        return AIMessage("Here is the tracking.")
    request = next(m for m in reversed(messages) if isinstance(m, HumanMessage))
    shipment = int(str(request.content).split()[-1])
    call = {"name": "track_shipment", "args": {"shipment_id": shipment}, "id": uuid.uuid4().hex}
    return AIMessage("", tool_calls=[call])


def reference_supervisor_reply(messages: list[BaseMessage], _tools: list[Any]) -> AIMessage:
    """Hand off to the transport agent, then (once it is back) answer."""
    if any(isinstance(m, AIMessage) and m.name == "transport" for m in messages):
        return AIMessage("Here is the tracking.")
    call = {"name": "transfer_to_transport", "args": {}, "id": uuid.uuid4().hex}
    return AIMessage("", tool_calls=[call])


def scripted(reply: Callable[..., AIMessage], count: int) -> ScriptedChatModel:
    return ScriptedChatModel(replies=[reply] * count)


def run_comptoir(engine: Any, requests: int) -> tuple[list[float], int]:
    agent_model = scripted(agent_reply, 3 * requests)
    supervisor_model = scripted(agent_reply, 0)  # the fast router should leave it idle
    bot = Assistant(engine, Models("scripted", supervisor_model, agent_model))
    original = run_tool

    def patched(engine_: Any, actor_: Any, name: str, args: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return original(engine_, actor_, name, args)
        finally:
            TOOL_SECONDS.append(time.perf_counter() - started)

    import graph.nodes

    graph.nodes.run_tool = patched  # type: ignore[assignment]
    durations = []
    try:
        bot.ask(actor("support"), "track shipment 1")  # warm-up: router index, first queries
        agent_model.calls = 0
        TOOL_SECONDS.clear()
        for i in range(requests):
            started = time.perf_counter()
            bot.ask(actor("support"), f"track shipment {2 + i % 300}")
            durations.append(time.perf_counter() - started)
    finally:
        graph.nodes.run_tool = original  # type: ignore[assignment]
        bot.close()
    return durations, agent_model.calls + supervisor_model.calls


def run_reference(engine: Any, folder: Path, requests: int) -> tuple[list[float], int]:
    agent_model = scripted(agent_reply, 3 * requests + 3)
    supervisor_model = scripted(reference_supervisor_reply, 3 * requests + 3)
    track = StructuredTool.from_function(
        lambda shipment_id: timed_tool(engine, shipment_id),
        name="track_shipment",
        description="Fetch a shipment's tracking from its carrier.",
    )
    transport = create_react_agent(agent_model, tools=[track], name="transport")
    saver = sqlite_saver(str(folder / "reference.db"))  # configured as Comptoir's
    app = create_supervisor([transport], model=supervisor_model).compile(checkpointer=saver)

    def ask(text: str) -> None:
        config = {"configurable": {"thread_id": uuid.uuid4().hex}}
        app.invoke({"messages": [HumanMessage(text)]}, config)  # type: ignore[call-overload]

    ask("track shipment 1")
    agent_model.calls = supervisor_model.calls = 0
    TOOL_SECONDS.clear()
    durations = []
    for i in range(requests):
        started = time.perf_counter()
        ask(f"track shipment {2 + i % 300}")
        durations.append(time.perf_counter() - started)
    close_checkpointer(saver)
    return durations, agent_model.calls + supervisor_model.calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()
    set_clock(DEMO_NOW)
    folder = Path(tempfile.mkdtemp(prefix="comptoir-graph-bench-"))
    engine = create_db_engine(f"sqlite:///{folder / 'comptoir.db'}")
    console.print("Seeding a small demo database...")
    seed_database(engine, seed=42, scale="small", as_of=DEMO_DAY)

    rows = []
    for name, run in (
        (
            "langgraph-supervisor (reference)",
            lambda: run_reference(engine, folder, options.requests),
        ),
        ("Comptoir graph", lambda: run_comptoir(engine, options.requests)),
    ):
        console.print(f"{name}: {options.requests} requests...")
        durations, calls = run()
        tool_ms = statistics.fmean(TOOL_SECONDS) * 1000 if TOOL_SECONDS else 0.0
        total_ms = statistics.fmean(durations) * 1000
        p95 = sorted(durations)[int(0.95 * len(durations)) - 1] * 1000
        rows.append((name, total_ms, p95, tool_ms, total_ms - tool_ms, calls / options.requests))

    table = Table(title=f"Single-intent request with one tool, {options.requests} requests each")
    for column in ("graph", "ms / request", "p95 ms", "tool ms", "overhead ms", "model calls"):
        table.add_column(column, justify="right")
    for name, total, p95, tool_ms, overhead, calls in rows:
        table.add_row(name, f"{total:.2f}", f"{p95:.2f}", f"{tool_ms:.2f}", f"{overhead:.2f}",
                      f"{calls:.1f}")  # fmt: skip
    console.print(table)
    reference, ours = rows
    console.print(
        f"Comptoir takes {ours[1] / reference[1]:.0%} of the reference's time per request "
        f"({ours[4] / reference[4]:.0%} of its graph overhead), with {ours[5]:.1f} model calls "
        f"against {reference[5]:.1f}. Targets: at most 50%, at most 2 model calls."
    )


if __name__ == "__main__":
    main()
