"""Chat fixtures: an assistant on a fresh seeded database, with the offline planner or with
scripted models whose replies a test writes in advance."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from sqlalchemy.engine import Engine

from graph.assistant import Assistant
from graph.models import Models, ScriptedChatModel
from graph.planner import OfflinePlanner
from graph.router import Route, Router
from tests.tools.conftest import api, sql  # noqa: F401  (fixtures shared with the tool tests)


@pytest.fixture
def assistant(seeded_engine: Engine) -> Iterator[Assistant]:
    """The assistant with the offline planner (no LLM)."""
    planner = OfflinePlanner()
    bot = Assistant(seeded_engine, Models("offline", planner, planner))
    yield bot
    bot.close()


@pytest.fixture
def scripted(seeded_engine: Engine) -> Iterator[Callable[..., Assistant]]:
    """scripted(supervisor=[...], agent=[...], max_hops=N): an assistant whose models reply
    with the given messages (or functions of the messages) in order."""
    made: list[Assistant] = []

    def make(
        agent: list[Any], supervisor: list[Any] | None = None, max_hops: int | None = None
    ) -> Assistant:
        models = Models(
            "scripted",
            ScriptedChatModel(replies=list(supervisor or [])),
            ScriptedChatModel(replies=list(agent)),
        )
        bot = Assistant(seeded_engine, models, router=NeverSure(), max_hops=max_hops)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.close()


class NeverSure(Router):
    """A router that always abstains, so the scripted supervisor decides."""

    def __init__(self) -> None:
        pass  # no agent index: it never looks

    def route(self, text: str) -> Route | None:
        return None


def ask(agent: str, task: str = "do it", id: str = "s1") -> AIMessage:
    """The supervisor's reply handing `task` to `agent`."""
    return AIMessage("", tool_calls=[{"name": f"ask_{agent}", "args": {"task": task}, "id": id}])


def tool_call(tool: str, id: str = "c1", **args: Any) -> AIMessage:
    """An agent's reply calling one tool."""
    return AIMessage("", tool_calls=[{"name": tool, "args": args, "id": id}])
