"""The graph on an OpenAI-compatible endpoint: a small server on loopback speaks the chat
completions protocol with scripted replies, and Comptoir talks to it through its settings."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy.engine import Engine

from core.settings import get_settings
from graph.assistant import Assistant
from graph.models import models_from_settings
from tests.tools.conftest import actor


class CompletionsServer:
    """Answers POST /v1/chat/completions with the next scripted message, keeping requests."""

    def __init__(self, replies: list[dict[str, Any]]) -> None:
        self.replies = replies
        self.requests: list[dict[str, Any]] = []
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def completions(request: Request) -> dict[str, Any]:
            self.requests.append(await request.json())
            message = self.replies.pop(0)
            return {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.requests[-1]["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
            }

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "CompletionsServer":
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[CompletionsServer]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "track_shipment", "arguments": json.dumps({"shipment_id": 5})},
    }
    replies: list[dict[str, Any]] = [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "assistant", "content": "Shipment 5 was delivered."},
    ]
    with CompletionsServer(replies) as server:
        monkeypatch.setenv("COMPTOIR_OFFLINE", "0")
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{server.port}/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("COMPTOIR_AGENT_MODEL", "local-model")
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


def test_run_a_turn_on_an_openai_compatible_endpoint(
    endpoint: CompletionsServer, seeded_engine: Engine
) -> None:
    models = models_from_settings(get_settings())
    bot = Assistant(seeded_engine, models)
    try:
        result = bot.ask(actor("support"), "track shipment 5")
    finally:
        bot.close()

    assert models.name == "openai:local-model"
    assert result.answer == "Shipment 5 was delivered."
    assert [(c.tool, c.status) for c in result.tool_calls] == [("track_shipment", "ok")]
    assert result.model_calls == 2 and result.tokens == 220
    first = endpoint.requests[0]
    assert first["model"] == "local-model"
    assert "track_shipment" in {t["function"]["name"] for t in first["tools"]}
    assert first["messages"][0]["role"] == "system"
    second = endpoint.requests[1]["messages"]
    assert second[-1]["role"] == "tool" and '"id": 5' in second[-1]["content"]
