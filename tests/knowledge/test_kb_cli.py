"""`comptoir kb reindex | search | eval` as a user runs them."""

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from cli import app
from core.settings import get_settings

runner = CliRunner()


@pytest.fixture
def database(seeded_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", seeded_url)
    get_settings.cache_clear()
    yield seeded_url
    get_settings.cache_clear()


def test_kb_reindex_prints_its_figures(database: str) -> None:
    result = runner.invoke(app, ["kb", "reindex"])
    assert result.exit_code == 0, result.output
    assert "articles" in result.output and " 61 " in result.output
    assert "passages embedded" in result.output and "articles_" in result.output


def test_kb_search_prints_passages_and_json(database: str) -> None:
    result = runner.invoke(app, ["kb", "search", "customer opened the box, can we refuse?"])
    assert result.exit_code == 0, result.output
    assert "Handling a return of an opened item" in result.output
    as_json = runner.invoke(
        app, ["kb", "search", "bank reversed a payment", "--k", "2", "--mode", "vector", "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    passages = json.loads(as_json.output)
    assert len(passages) == 2 and passages[0]["slug"] == "handling-a-chargeback"
    assert passages[0]["keyword_score"] is None and passages[0]["text"]


def test_kb_search_refuses_an_unknown_mode(database: str) -> None:
    result = runner.invoke(app, ["kb", "search", "refund", "--mode", "fuzzy"])
    assert result.exit_code == 2
    assert "fuzzy" in result.output
