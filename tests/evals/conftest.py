"""Eval runs in tests: fresh seeded copies per case (SQLite files or PostgreSQL databases),
scripted models, and a router that always abstains so the scripted supervisor decides."""

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from langchain_core.messages import AIMessage
from sqlalchemy.engine import Engine

from db.engine import create_db_engine
from evals.runner import Databases, SeededCopies, eval_environment
from graph.models import Models, ScriptedChatModel
from graph.router import Route, Router
from tests.conftest import PostgresServer


class PostgresCopies:
    def __init__(self, server: PostgresServer, template: str) -> None:
        self.server = server
        self.template = template

    @contextmanager
    def fresh(self) -> Iterator[Engine]:
        url = self.server.create(template=self.template)
        engine = create_db_engine(url, poolclass=sa.NullPool)
        try:
            yield engine
        finally:
            engine.dispose()
            self.server.drop(url)


@pytest.fixture
def copies(
    backend: str,
    postgres: PostgresServer | None,
    seeded_templates: dict[str, str],
    tmp_path: Path,
) -> Iterator[Databases]:
    """Fresh copies of the seeded demo for the runner, on the test's backend; documents go
    to a scratch folder and the clock is the demo's."""
    if backend == "postgres" and postgres is None:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    with eval_environment(tmp_path / "data"):
        if backend == "sqlite":
            template = tmp_path / "template.db"
            shutil.copyfile(seeded_templates["sqlite"], template)
            yield SeededCopies(template, tmp_path)
        else:
            assert postgres is not None
            yield PostgresCopies(postgres, seeded_templates["postgres"])


class Abstain(Router):
    """Never sure: every request goes to the (scripted) supervisor."""

    def __init__(self) -> None:
        pass

    def route(self, text: str) -> Route | None:
        return None


def said(text: str = "", calls: list[tuple[str, dict[str, Any]]] | None = None) -> AIMessage:
    """A scripted model reply: text, or tool calls; each reply costs 10 tokens."""
    tool_calls = [
        {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:8]}", "type": "tool_call"}
        for name, args in calls or []
    ]
    usage = {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    return AIMessage(content=text, tool_calls=tool_calls, usage_metadata=usage)


def scripted(supervisor: list[AIMessage], agent: list[AIMessage]) -> Models:
    return Models(
        "scripted", ScriptedChatModel(replies=list(supervisor)), ScriptedChatModel(replies=agent)
    )


Script = Callable[[], Models]
