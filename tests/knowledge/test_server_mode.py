"""CHROMA_URL: the same search through a Chroma server started on loopback."""

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from core.settings import get_settings
from knowledge.index import index_for
from knowledge.search import search


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists() and not shutil.which("chroma"):
        pytest.skip("the chroma command is not installed in this environment")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(chroma if chroma.exists() else "chroma"),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"chroma run could not start on {url}")
                time.sleep(0.3)
        monkeypatch.setenv("CHROMA_URL", url)
        get_settings.cache_clear()
        yield url
    finally:
        get_settings.cache_clear()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_search_through_a_chroma_server(
    chroma_server: str, call: Any, seeded_engine: Engine
) -> None:
    question = "what's our policy on opened items?"
    top = search(seeded_engine, question, k=3)
    assert top[0].slug == "handling-a-return-of-an-opened-item"
    index = index_for(seeded_engine)
    assert index.location.url == chroma_server and index.collection is not None
    assert index.collection.count() == len(index.chunks)
    created = call(
        "support",
        "create_article",
        title="Opening hours of the Lyon showroom",
        category="backoffice",
        body="The showroom next to the head office opens Tuesday to Saturday, 10:00 to 19:00.",
    )
    assert search(seeded_engine, "when is the Lyon shop open?", k=1)[0].article_id == created.id
    found = call("viewer", "search_articles", query=question, limit=3)
    assert [h.article.slug for h in found.hits] == [p.slug for p in top]


def test_search_articles_answers_502_when_the_server_is_down(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    response = api("viewer", "GET", "/knowledge/search", params={"query": "refund a return"})
    assert response.status_code == 502, response.text
    assert "vector store" in response.json()["error"]["message"]
