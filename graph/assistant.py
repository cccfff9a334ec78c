"""The assistant: one object the chat API, the CLI and the evals talk to.

    assistant = Assistant(engine)
    result = assistant.ask(actor, "cancel order 1042, the customer changed their mind")
    result.pending_approval          # the cancellation waits for a decision
    assistant.decide(actor, result.thread_id, {"decision": "approve"})

Each call runs the graph on the thread's checkpoint, so a conversation (and a pending
approval) survives a restart and can be continued from another process or worker.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.types import Command, StateSnapshot
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.settings import get_settings
from db.base import as_utc, utc_now
from db.engine import serialized_writer
from db.locks import one_at_a_time
from db.models import AuditChannel, ChatThread
from graph.approvals import Decision
from graph.build import build_graph
from graph.checkpoint import close_checkpointer, open_checkpointer
from graph.errors import ApprovalPending, NothingToApprove
from graph.models import Models, models_from_settings
from graph.results import (
    ChatMessage,
    PendingApproval,
    Routing,
    ThreadOut,
    ThreadSummary,
    ToolCallOut,
    TurnResult,
)
from graph.router import Router
from graph.state import RunContext
from tools.base import REGISTRY, Actor, InvalidInput, NotFound, ToolContext, validate_args

Event = dict[str, Any]


class Assistant:
    def __init__(
        self,
        engine: Engine,
        models: Models | None = None,
        *,
        router: Router | None = None,
        max_hops: int | None = None,
    ) -> None:
        settings = get_settings()
        self.engine = engine
        self.models = models or models_from_settings(settings)
        self.router = router or Router()
        self.max_hops = max_hops or settings.max_hops
        self.checkpointer = open_checkpointer(engine)
        self.graph = build_graph(self.checkpointer)

    def close(self) -> None:
        close_checkpointer(self.checkpointer)

    # -- a turn ------------------------------------------------------------------------

    def ask(
        self, actor: Actor, message: str, thread_id: str | None = None, agent: str | None = None
    ) -> TurnResult:
        """One turn; `agent` sends the request straight to that agent, skipping routing."""
        return _last_result(self.stream_ask(actor, message, thread_id, agent))

    def decide(self, actor: Actor, thread_id: str, decision: dict[str, Any]) -> TurnResult:
        return _last_result(self.stream_decide(actor, thread_id, decision))

    def stream_ask(
        self, actor: Actor, message: str, thread_id: str | None = None, agent: str | None = None
    ) -> Iterator[Event]:
        """Events as the graph works (routing, agent, tool_result, approval, answer), then
        `done` with the whole TurnResult."""
        message = message.strip()
        if not message:
            raise InvalidInput("message must not be empty", field="message")
        if len(message) > 4000:
            raise InvalidInput("message is longer than 4000 characters", field="message")
        thread_id = self._open_thread(actor, thread_id, title=message)
        with self._turn(thread_id):
            if self._pending(thread_id) is not None:
                raise ApprovalPending(
                    "this conversation waits for a decision on a pending action: approve, "
                    "reject or edit it first",
                    field="thread_id",
                )
            yield from self._run(
                actor, thread_id, {"messages": [HumanMessage(message)], "direct": agent}
            )

    def stream_decide(
        self, actor: Actor, thread_id: str, decision: dict[str, Any]
    ) -> Iterator[Event]:
        self._owned_thread(actor, thread_id)
        answer = Decision.parse(decision)
        with self._turn(thread_id):
            pending = self._pending(thread_id)
            if pending is None:
                raise NothingToApprove("nothing in this conversation waits for a decision")
            if answer["decision"] == "edit":
                validate_args(REGISTRY[pending.tool], answer["args"])
            self._touch(thread_id)
            yield from self._run(actor, thread_id, Command(resume=answer))

    def _turn(self, thread_id: str) -> AbstractContextManager[None]:
        """One turn of a conversation at a time, whichever worker takes it: a second request
        waits, then sees what the first left (two approvals of one action: one runs it, the
        other hears there is nothing left to approve)."""
        return one_at_a_time(self.engine, f"chat.{thread_id}")

    def _run(self, actor: Actor, thread_id: str, graph_input: Any) -> Iterator[Event]:
        started = time.perf_counter()
        config = {"configurable": {"thread_id": thread_id}}
        context = RunContext(self.engine, actor, self.models, self.router, self.max_hops)
        # One checkpoint per turn (at its end or at an approval), not one per step: a turn
        # cut short by a crash is simply asked again, and tool calls that pay carry
        # idempotency keys derived from the call.
        for mode, chunk in self.graph.stream(  # type: ignore[call-overload]
            graph_input,
            config,
            context=context,
            stream_mode=["custom", "updates"],
            durability="exit",
        ):
            if mode == "custom":
                yield chunk
            elif "__interrupt__" in chunk:
                yield {"event": "approval", **chunk["__interrupt__"][0].value}
        result = self._result(thread_id, resumed=isinstance(graph_input, Command))
        result.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 2)
        yield {"event": "done", "result": result.model_dump(mode="json")}

    def _result(self, thread_id: str, resumed: bool) -> TurnResult:
        snapshot = self.graph.get_state(_config(thread_id))
        values, pending = snapshot.values, _pending_in(snapshot)
        trace = [ToolCallOut(**entry) for entry in values.get("trace", [])]
        routing = values.get("routing") or {}
        agents = list(dict.fromkeys([*routing.get("agents", []), *(t.agent for t in trace)]))
        if pending is not None:
            answer = f"Approval needed: {pending.summary}"
            agents = list(dict.fromkeys([*agents, pending.agent]))
        else:
            last = values["messages"][-1]
            answer = str(last.content) if isinstance(last, AIMessage) else ""
        return TurnResult(
            thread_id=thread_id,
            answer=answer,
            agents=agents,
            tool_calls=trace,
            pending_approval=pending,
            model_calls=values.get("model_calls", 0),
            tokens=values.get("tokens", 0),
            routing=Routing(
                method="resume" if resumed else routing.get("method", "direct"),
                agents=routing.get("agents", []),
                confidence=routing.get("confidence"),
            ),
        )

    def _pending(self, thread_id: str) -> PendingApproval | None:
        return _pending_in(self.graph.get_state(_config(thread_id)))

    # -- threads -----------------------------------------------------------------------

    def history(self, actor: Actor, thread_id: str) -> ThreadOut:
        thread = self._owned_thread(actor, thread_id)
        snapshot = self.graph.get_state(_config(thread_id))
        messages = [
            ChatMessage(role="user" if isinstance(m, HumanMessage) else "assistant", content=m.text)
            for m in snapshot.values.get("messages", [])
            if isinstance(m, HumanMessage | AIMessage)
        ]
        return ThreadOut(
            thread_id=thread_id,
            title=thread.title,
            messages=messages,
            pending_approval=_pending_in(snapshot),
        )

    def threads(self, actor: Actor, limit: int = 50) -> list[ThreadSummary]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(ChatThread)
                .where(ChatThread.user_id == actor.user_id)
                .order_by(col(ChatThread.updated_at).desc())
                .limit(limit)
            ).all()
        return [
            ThreadSummary(
                thread_id=t.id, title=t.title, updated_at=as_utc(t.updated_at).isoformat()
            )
            for t in rows
        ]

    def _owned_thread(self, actor: Actor, thread_id: str) -> ChatThread:
        with Session(self.engine) as session:
            thread = session.get(ChatThread, thread_id)
        # Another user's thread is answered like a missing one: ids reveal nothing.
        if thread is None or thread.user_id != actor.user_id:
            raise NotFound(f"there is no conversation {thread_id}", field="thread_id")
        return thread

    def _open_thread(self, actor: Actor, thread_id: str | None, title: str) -> str:
        if actor.user_id is None:
            raise InvalidInput("chat needs a staff user")
        if thread_id is not None:
            self._owned_thread(actor, thread_id)
            self._touch(thread_id)
            return thread_id
        thread_id = str(uuid.uuid4())
        with serialized_writer(self.engine), Session(self.engine) as session:
            session.add(ChatThread(id=thread_id, user_id=actor.user_id, title=title[:120]))
            ToolContext(
                session=session, actor=actor.model_copy(update={"channel": AuditChannel.CHAT})
            ).record(
                action="start_conversation",
                entity_type="chat_thread",
                entity_id=thread_id,
                event="conversation_started",
                domain="chat",
                after={"title": title[:120]},
                # The event is readable by all staff (list_events): never the user's words.
                payload={"user_id": actor.user_id},
            )
            session.commit()
        return thread_id

    def _touch(self, thread_id: str) -> None:
        with serialized_writer(self.engine), Session(self.engine) as session:
            thread = session.get(ChatThread, thread_id)
            if thread is not None:
                thread.updated_at = utc_now()
                session.add(thread)
                session.commit()


def _pending_in(snapshot: StateSnapshot) -> PendingApproval | None:
    """The action a paused conversation waits on (one at a time)."""
    for item in snapshot.interrupts:
        return PendingApproval(**item.value)
    return None


def _config(thread_id: str) -> Any:
    return {"configurable": {"thread_id": thread_id}}


def _last_result(events: Iterator[Event]) -> TurnResult:
    result = None
    for event in events:
        if event["event"] == "done":
            result = event["result"]
    if result is None:
        raise RuntimeError("the graph ended without a result")
    return TurnResult.model_validate(result)
