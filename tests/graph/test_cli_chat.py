"""`comptoir ask` and `comptoir chat` on a seeded database."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from core.settings import get_settings
from db.engine import get_engine

runner = CliRunner()


@pytest.fixture
def local_database(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.mark.usefixtures("local_database")
def test_ask_prints_the_chat_json() -> None:
    result = runner.invoke(app, ["ask", "track shipment 5", "--json"])

    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["agents"] == ["transport"]
    assert body["tool_calls"][0]["tool"] == "track_shipment"


@pytest.mark.usefixtures("local_database")
def test_chat_asks_before_a_cancellation(sql: Callable[..., Any]) -> None:
    order = sql("SELECT max(id) FROM orders WHERE status = 'paid'")

    result = runner.invoke(
        app,
        ["chat", "--user", "lucas.petit@maison-lumen.fr"],
        input=f"cancel order {order}, the customer changed their mind\ny\n\n",
    )

    assert result.exit_code == 0, result.output
    assert "approval needed" in result.output
    assert "orders.cancel_order" in result.output
    assert sql("SELECT status FROM orders WHERE id = :id", id=order) == "cancelled"


@pytest.mark.usefixtures("local_database")
def test_ask_as_an_unknown_user_fails_plainly() -> None:
    result = runner.invoke(app, ["ask", "hello", "--user", "nobody@example.com"])

    assert result.exit_code == 1
    assert "no active staff user" in result.output
