"""What a chat turn returns, the same for the chat API, the CLI and the evals."""

from typing import Any, Literal

from pydantic import BaseModel, Field

ToolStatus = Literal["ok", "error", "rejected", "forbidden"]


class ToolCallOut(BaseModel):
    agent: str
    tool: str
    args: dict[str, Any]
    status: ToolStatus
    result: Any = Field(description="The tool's result, or its error {code, message, field}.")
    duration_ms: float = 0.0
    approved: bool | None = Field(
        default=None, description="For tools that need approval: what the user decided."
    )


class PendingApproval(BaseModel):
    id: str = Field(description="The tool call waiting for a decision.")
    agent: str
    tool: str
    args: dict[str, Any]
    summary: str = Field(description="What will happen, in words.")


class Routing(BaseModel):
    method: Literal["router", "supervisor", "direct", "followup", "resume"]
    agents: list[str]
    confidence: float | None = None


class TurnResult(BaseModel):
    thread_id: str
    answer: str
    agents: list[str]
    tool_calls: list[ToolCallOut]
    pending_approval: PendingApproval | None
    model_calls: int
    tokens: int = 0
    routing: Routing | None = None
    timings: dict[str, float] = Field(default_factory=dict, description="Milliseconds.")


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class ThreadOut(BaseModel):
    thread_id: str
    title: str
    messages: list[ChatMessage]
    pending_approval: PendingApproval | None


class ThreadSummary(BaseModel):
    thread_id: str
    title: str
    updated_at: str
