"""The chat API: requests in plain language through the supervisor graph, approvals, history,
and a server-sent-events variant of each turn. Roles apply exactly as on REST: every tool
call runs through the same run_tool."""

import json
import threading
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from agents import AGENT_SPECS
from core.logging import get_logger
from db.models import AuditChannel, Role
from graph.assistant import Assistant, Event
from graph.results import ThreadOut, ThreadSummary, TurnResult
from tools.base import Actor, NotFound, ToolError

log = get_logger("comptoir.chat")
INTERNAL = "Something went wrong on our side; the error has been logged."
ThreadId = Annotated[str, Path(max_length=36, description="The conversation's id.")]


class ChatRequest(BaseModel):
    message: str = Field(
        min_length=1,
        max_length=4000,
        description="What the merchant asks, in plain language.",
        examples=["cancel order 1042, the customer changed their mind"],
    )
    thread_id: str | None = Field(
        default=None, max_length=36, description="Continue this conversation; new if omitted."
    )


class ApprovalRequest(BaseModel):
    decision: Literal["approve", "reject", "edit"]
    args: dict[str, Any] | None = Field(
        default=None, description="For edit: the tool's arguments to run instead."
    )


class Me(BaseModel):
    user_id: int | None
    email: str
    role: Role


def chat_router(
    authenticate: Callable[..., Actor], errors: dict[int | str, dict[str, Any]]
) -> APIRouter:
    """The chat routes; `authenticate` is the REST layer's bearer-key dependency, `errors` the
    error responses its routes document."""
    router = APIRouter(prefix="/api/v1", tags=["chat"], responses=errors)
    lock = threading.Lock()

    def assistant(request: Request) -> Assistant:
        state = request.app.state
        with lock:
            if getattr(state, "assistant", None) is None:
                state.assistant = Assistant(state.engine)
        return state.assistant  # type: ignore[no-any-return]

    def chat_actor(actor: Annotated[Actor, Depends(authenticate)]) -> Actor:
        return actor.model_copy(update={"channel": AuditChannel.CHAT})

    ActorDep = Annotated[Actor, Depends(chat_actor)]
    AssistantDep = Annotated[Assistant, Depends(assistant)]

    @router.get("/auth/me", tags=["auth"])
    def me(actor: ActorDep) -> Me:
        """Who the API key belongs to (the chat page checks a key with it)."""
        return Me(user_id=actor.user_id, email=actor.email, role=actor.role)

    @router.post("/chat")
    def chat(body: ChatRequest, actor: ActorDep, bot: AssistantDep) -> TurnResult:
        """Ask in plain language; the right agents run the right tools. Consequential writes
        come back as `pending_approval` and wait for POST /chat/{thread_id}/approval."""
        return bot.ask(actor, body.message, body.thread_id)

    @router.post("/chat/stream", response_class=StreamingResponse)
    def chat_stream(body: ChatRequest, actor: ActorDep, bot: AssistantDep) -> StreamingResponse:
        """Like POST /chat, as server-sent events: routing, agent, tool_result, approval,
        answer, then done with the whole result."""
        return _sse(bot.stream_ask(actor, body.message, body.thread_id))

    @router.post("/chat/{thread_id}/approval")
    def decide(
        thread_id: ThreadId, body: ApprovalRequest, actor: ActorDep, bot: AssistantDep
    ) -> TurnResult:
        """Approve, reject, or edit the arguments of the action waiting in a conversation."""
        return bot.decide(actor, thread_id, body.model_dump(exclude_none=True))

    @router.post("/chat/{thread_id}/approval/stream", response_class=StreamingResponse)
    def decide_stream(
        thread_id: ThreadId, body: ApprovalRequest, actor: ActorDep, bot: AssistantDep
    ) -> StreamingResponse:
        """Like POST /chat/{thread_id}/approval, as server-sent events."""
        return _sse(bot.stream_decide(actor, thread_id, body.model_dump(exclude_none=True)))

    @router.get("/chat/{thread_id}")
    def history(thread_id: ThreadId, actor: ActorDep, bot: AssistantDep) -> ThreadOut:
        """A conversation's messages and the action waiting for a decision, if any."""
        return bot.history(actor, thread_id)

    @router.get("/chat")
    def threads(actor: ActorDep, bot: AssistantDep) -> list[ThreadSummary]:
        """The caller's conversations, most recent first."""
        return bot.threads(actor)

    @router.post("/agents/{agent}/invoke")
    def invoke(
        agent: Annotated[str, Path(description="One of the sixteen agents.")],
        body: ChatRequest,
        actor: ActorDep,
        bot: AssistantDep,
    ) -> TurnResult:
        """Send a request straight to one agent, skipping routing."""
        if agent not in AGENT_SPECS:
            known = ", ".join(AGENT_SPECS)
            raise NotFound(f"there is no agent {agent!r}; agents are {known}", field="agent")
        return bot.ask(actor, body.message, body.thread_id, agent=agent)

    return router


def _sse(events: Iterator[Event]) -> StreamingResponse:
    # The first event is computed before answering, so bad input still gets a plain 4xx.
    first = next(events)

    def encode() -> Iterator[str]:
        try:
            for event in chain([first], events):
                yield f"event: {event['event']}\ndata: {json.dumps(event, default=str)}\n\n"
        except ToolError as error:
            yield f"event: error\ndata: {json.dumps({'error': error.to_dict()})}\n\n"
        except Exception:  # the stream has started: a 500 can no longer be sent
            log.exception("chat stream failed")
            failure = {"code": "internal_error", "message": INTERNAL}
            yield f"event: error\ndata: {json.dumps({'error': failure})}\n\n"

    return StreamingResponse(
        encode(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
