"""Which chat models the graph uses: an OpenAI-compatible endpoint, or the offline planner."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolCall, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from core.settings import Settings


@dataclass
class Models:
    """The supervisor's model and each agent's (the same one unless overridden)."""

    name: str
    supervisor: BaseChatModel
    default: BaseChatModel
    per_agent: dict[str, BaseChatModel] = field(default_factory=dict)

    def agent(self, name: str) -> BaseChatModel:
        return self.per_agent.get(name, self.default)


def models_from_settings(settings: Settings) -> Models:
    """OpenAI-compatible models when an endpoint or key is configured, else the offline
    planner (no LLM)."""
    if settings.offline or not (settings.openai_api_key or settings.openai_base_url):
        from graph.planner import OfflinePlanner

        planner = OfflinePlanner()
        return Models(name="offline", supervisor=planner, default=planner)
    from langchain_openai import ChatOpenAI

    def chat(model: str) -> ChatOpenAI:
        return ChatOpenAI(
            model=model,
            api_key=settings.openai_api_key or "not-needed",  # type: ignore[arg-type]
            base_url=settings.openai_base_url,
            temperature=0,
            max_retries=2,
            timeout=60,
        )

    agent_model = chat(settings.agent_model)
    router = chat(settings.router_model) if settings.router_model else agent_model
    return Models(name=f"openai:{settings.agent_model}", supervisor=router, default=agent_model)


Script = Callable[[list[BaseMessage], list[dict[str, Any]]], AIMessage]


class ToolCallingModel(BaseChatModel):
    """A chat model of our own that takes tools as OpenAI function schemas, as an endpoint
    would: the base of the offline planner and of the scripted model."""

    def bind_tools(  # type: ignore[override]
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[Any, BaseMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)


class ScriptedChatModel(ToolCallingModel):
    """A chat model whose replies are written in advance: for tests and benchmarks, where
    the graph's behaviour must be checked without a language model.

    `replies` is consumed in order; each is an AIMessage (with tool_calls if wanted) or a
    function of (messages, bound tools) returning one.
    """

    replies: list[Any] = []
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        if not self.replies:
            raise RuntimeError("the scripted model has no reply left")
        reply = self.replies.pop(0)
        message = reply(messages, kwargs.get("tools", [])) if callable(reply) else reply
        self.calls += 1
        return ChatResult(generations=[ChatGeneration(message=message.model_copy())])


def answered_calls(messages: Sequence[BaseMessage]) -> list[tuple[ToolCall | None, ToolMessage]]:
    """Each tool result among `messages`, with the model's call it answers (None when that
    call is not among them)."""
    calls = {
        call["id"]: call
        for message in messages
        if isinstance(message, AIMessage)
        for call in message.tool_calls
    }
    return [
        (calls.get(message.tool_call_id), message)
        for message in messages
        if isinstance(message, ToolMessage)
    ]
