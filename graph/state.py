"""The graph's state (checkpointed) and its run context (not checkpointed)."""

from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from sqlalchemy.engine import Engine

from graph.models import Models
from graph.router import Router
from tools.base import Actor


class Task(TypedDict):
    agent: str
    task: str


class ChatState(TypedDict, total=False):
    # The conversation as the user sees it: requests and final answers, across turns.
    messages: Annotated[list[AnyMessage], add_messages]
    direct: str | None  # an agent named by the caller: no routing
    followup: dict[str, str] | None  # the agent that asked a question last turn, and what for
    # This turn: the agents still to run, the one running and its working messages.
    queue: list[Task]
    agent: str | None
    scratch: list[AnyMessage]
    decisions: dict[str, dict[str, Any]]
    answers: list[dict[str, str]]
    trace: list[dict[str, Any]]
    routing: dict[str, Any]
    model_calls: int
    tokens: int
    hops: int


@dataclass(frozen=True)
class RunContext:
    engine: Engine
    actor: Actor
    models: Models
    router: Router
    max_hops: int = 8
