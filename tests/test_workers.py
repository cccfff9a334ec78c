"""Several workers on one PostgreSQL database and one Chroma server: two real `comptoir serve`
processes on two ports (so "the other worker" is a known one, which uvicorn's shared socket
cannot give), and `comptoir serve --workers 2` itself."""

import json
import signal
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from benchmarks.served import ServedComptoir, ServerDidNotStart, staff_key
from cli import app
from core.settings import get_settings
from db.engine import create_db_engine
from db.locks import DatabaseLock
from tests.conftest import PostgresServer
from tests.graph.test_approvals import cancellations
from tests.knowledge.test_server_mode import chroma_server

__all__ = ["chroma_server"]  # the fixture, reused: a Chroma server on loopback

SUPPORT = {"Authorization": f"Bearer {staff_key('support')}"}
Sql = Callable[..., Any]


@pytest.fixture
def database(postgres: PostgresServer | None, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh copy of the seeded demo on PostgreSQL (several workers need it)."""
    if postgres is None:
        pytest.skip("several workers need PostgreSQL: set TEST_DATABASE_URL")
    templates: dict[str, str] = request.getfixturevalue("seeded_templates")  # seeded only now
    url = postgres.create(template=templates["postgres"])
    yield url
    postgres.drop(url)


@pytest.fixture
def sql(database: str) -> Iterator[Sql]:
    engine = create_db_engine(database, poolclass=sa.NullPool)

    def run(statement: str, **params: Any) -> Any:
        with engine.connect() as connection:
            return connection.execute(sa.text(statement), params).scalar()

    yield run
    engine.dispose()


def start_together(*servers: ServedComptoir) -> None:
    with ThreadPoolExecutor(len(servers)) as pool:
        for server, started in [(server, pool.submit(server.start)) for server in servers]:
            try:
                started.result()
            except ServerDidNotStart as error:
                tail = server.log_path.read_text()[-3000:]
                raise AssertionError(f"{error}\n{tail}") from error


@pytest.fixture
def workers(
    database: str, chroma_server: str, knowledge_data_dir: Path, tmp_path: Path
) -> Iterator[Callable[..., tuple[ServedComptoir, ServedComptoir]]]:
    """workers(**env): servers A and B, started at the same time, same database, Chroma
    server and data folder (as two workers of one machine would), logs in JSON."""
    started: list[ServedComptoir] = []

    def start(**env: str) -> tuple[ServedComptoir, ServedComptoir]:
        a, b = (
            ServedComptoir(
                database,
                knowledge_data_dir,
                tmp_path / f"{name}.log",
                env={"COMPTOIR_LOG_FORMAT": "json", "CHROMA_URL": chroma_server, **env},
            )
            for name in "ab"
        )
        started.extend((a, b))
        start_together(a, b)
        return a, b

    yield start
    for server in started:
        server.stop()


def log_events(server: ServedComptoir, event: str) -> list[dict[str, Any]]:
    lines = server.log_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    return [entry for entry in entries if entry.get("event") == event]


def post(server: ServedComptoir, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.base_url}/api/v1{path}", json=body, headers=SUPPORT, timeout=60)


def chat(server: ServedComptoir, message: str, thread_id: str | None = None) -> dict[str, Any]:
    response = post(server, "/chat", {"message": message, "thread_id": thread_id})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def history(server: ServedComptoir, thread_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/api/v1/chat/{thread_id}", headers=SUPPORT)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def paid_order(sql: Sql) -> int:
    return int(sql("SELECT max(id) FROM orders WHERE status = 'paid'"))


def test_a_conversation_and_its_approval_move_between_workers(
    workers: Callable[..., tuple[ServedComptoir, ServedComptoir]], sql: Sql
) -> None:
    a, b = workers()
    order = paid_order(sql)
    asked = chat(a, "cancel an order, the customer changed their mind")
    assert "Which one?" in asked["answer"], asked  # the agent on A asks for the order

    answered = chat(b, f"order {order}", asked["thread_id"])  # answered on B

    thread = asked["thread_id"]
    assert answered["thread_id"] == thread
    pending = answered["pending_approval"]  # paused on B
    assert pending["tool"] == "cancel_order" and pending["args"]["order_id"] == order
    for server in (a, b):
        turns = history(server, thread)
        assert [m["content"] for m in turns["messages"]] == [
            "cancel an order, the customer changed their mind",
            asked["answer"],
            f"order {order}",
        ]
        assert turns["pending_approval"]["tool"] == "cancel_order"
    assert sql("SELECT status FROM orders WHERE id = :id", id=order) == "paid"

    approved = post(a, f"/chat/{thread}/approval", {"decision": "approve"})  # through A

    assert approved.status_code == 200, approved.text
    calls = approved.json()["tool_calls"]
    assert [(c["tool"], c["status"], c["approved"]) for c in calls] == [
        ("cancel_order", "ok", True)
    ]
    assert sql("SELECT status FROM orders WHERE id = :id", id=order) == "cancelled"
    again = post(b, f"/chat/{thread}/approval", {"decision": "approve"})
    assert again.status_code == 409, again.text  # B sees the decision made through A
    assert history(b, thread)["pending_approval"] is None
    assert cancellations(sql, order) == 1


def test_two_workers_warming_up_index_the_articles_once(
    workers: Callable[..., tuple[ServedComptoir, ServedComptoir]], sql: Sql
) -> None:
    a, b = workers(COMPTOIR_WARM_START="1")
    warmed = wait_for(lambda: [log_events(s, "warmed up") for s in (a, b)], all)
    indexed = sorted(entries[0]["articles_indexed"] for entries in warmed)
    published = sql("SELECT count(*) FROM articles WHERE status = 'published'")
    # One worker indexed every article; the other, waiting on the collection's lock, found
    # them indexed and reused the vectors (without it, both would embed them all at once).
    assert indexed == [0, published]

    for server in (a, b):  # each worker answers from the one index
        found = httpx.get(
            f"{server.base_url}/api/v1/knowledge/search",
            params={"query": "what's our policy on opened items?", "limit": 3},
            headers=SUPPORT,
            timeout=60,
        )
        assert found.status_code == 200, found.text
        assert found.json()["hits"][0]["article"]["slug"] == "handling-a-return-of-an-opened-item"
    asked = chat(b, "what is our policy on returns of opened items?")
    assert "handling-a-return-of-an-opened-item" in json.dumps(asked), asked["answer"]


def test_automations_run_in_one_worker_and_move_when_it_dies(
    workers: Callable[..., tuple[ServedComptoir, ServedComptoir]],
) -> None:
    a, b = workers(COMPTOIR_AUTOMATIONS="1")
    running = "automations run in this process"
    holders = wait_for(lambda: [s for s in (a, b) if log_events(s, running)], bool)
    assert len(holders) == 1
    holder, other = holders[0], (b if holders[0] is a else a)

    holder.kill()

    wait_for(lambda: log_events(other, running), bool)


def test_a_lock_lost_with_its_session_is_known_lost(database: str) -> None:
    engine = create_db_engine(database)
    lock, rival = DatabaseLock(engine, "test"), DatabaseLock(engine, "test")
    assert lock.try_acquire() and not rival.try_acquire()
    key = zlib.crc32(b"comptoir.test")
    with engine.connect() as admin:  # the holder's session ends (a cut, a restart)
        admin.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND objid = :key"
            ),
            {"key": key},
        )

    assert not lock.still_held()
    assert rival.try_acquire() and not lock.try_acquire()
    rival.release()
    engine.dispose()


def test_serve_with_two_workers_answers_from_both(
    database: str, chroma_server: str, knowledge_data_dir: Path, tmp_path: Path
) -> None:
    server = ServedComptoir(
        database,
        knowledge_data_dir,
        tmp_path / "serve.log",
        env={"COMPTOIR_WORKERS": "2", "CHROMA_URL": chroma_server},
    )
    with server:
        pids: set[str] = set()
        for _ in range(200):  # a new connection each time: the kernel spreads them
            response = httpx.get(f"{server.base_url}/health", timeout=10)
            assert response.status_code == 200, response.text
            pids.add(response.headers["x-worker-pid"])
            if len(pids) == 2:
                break
        assert len(pids) == 2 and str(server.pid) not in pids
        server.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        assert server.process.wait(timeout=30) == 0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("database_url", "chroma_url", "message"),
    [
        ("sqlite:///{tmp}/comptoir.db", "http://127.0.0.1:9", "needs PostgreSQL"),
        ("postgresql://postgres@127.0.0.1:9/none", None, "needs a Chroma server"),
    ],
)
def test_serve_refuses_several_workers_on_what_cannot_share(
    database_url: str,
    chroma_url: str | None,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url.format(tmp=tmp_path))
    if chroma_url:
        monkeypatch.setenv("CHROMA_URL", chroma_url)
    get_settings.cache_clear()

    result = CliRunner().invoke(app, ["serve", "--workers", "2"])

    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "comptoir.db").exists()  # refused before anything was written


def wait_for(probe: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 600) -> Any:
    """probe() until done(its value), within a deadline that only a hang would reach."""
    deadline = time.monotonic() + seconds
    while not done(value := probe()):
        assert time.monotonic() < deadline, f"still {value!r} after {seconds:.0f} s"
        time.sleep(0.25)
    return value
