"""Requests per API key: the limit, then 429 with Retry-After; other keys, bad keys, /health
and a switched-off limit are not affected. In memory and in Redis (shared by two servers)."""

import time
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.ratelimit import MemoryWindows
from core.security import generate_api_key, hash_api_key, key_prefix
from core.settings import Settings, get_settings
from db.models import ApiKey, StaffUser
from server import create_app

REDIS_URL = "redis://127.0.0.1:6379/0"
STORAGES = ["memory", "redis"]
ADMIN, VIEWER = "claire.martin@maison-lumen.fr", "julie.roux@maison-lumen.fr"


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=STORAGES)
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "redis" and not redis_answers():
        pytest.skip(f"the Redis storage tests need Redis at {REDIS_URL}")
    return "memory://" if request.param == "memory" else REDIS_URL


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch, storage: str) -> Iterator[None]:
    """Limits set by each test through COMPTOIR_RATE_LIMIT, counted in `storage`."""
    monkeypatch.setenv("COMPTOIR_RATE_LIMIT_STORAGE", storage)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def set_limit(monkeypatch: pytest.MonkeyPatch, rate: str) -> None:
    monkeypatch.setenv("COMPTOIR_RATE_LIMIT", rate)
    get_settings.cache_clear()


def new_key(engine: Engine, email: str) -> dict[str, str]:
    """A key of its own for each test: Redis keeps counts between tests and runs."""
    secret = generate_api_key()
    with Session(engine) as session:
        user = session.exec(select(StaffUser).where(StaffUser.email == email)).one()
        assert user.id is not None
        session.add(
            ApiKey(
                user_id=user.id,
                name="rate limit test",
                prefix=key_prefix(secret),
                key_hash=hash_api_key(secret),
            )
        )
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_key_gets_its_budget_then_429_with_retry_after(
    seeded_engine: Engine, limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "3/minute")
    admin, viewer = new_key(seeded_engine, ADMIN), new_key(seeded_engine, VIEWER)
    with TestClient(create_app(seeded_engine)) as client:
        # A tool route, a chat route and a file download all count against the same key.
        allowed = [
            client.get("/api/v1/warehouses/1", headers=admin),
            client.get("/api/v1/auth/me", headers=admin),
            client.get("/api/v1/documents/999999/file", headers=admin),
        ]
        refused = client.get("/api/v1/warehouses/1", headers=admin)
        refused_chat = client.post("/api/v1/chat", json={"message": "hello"}, headers=admin)
        other_key = client.get("/api/v1/warehouses/1", headers=viewer)
        health = [client.get("/health").status_code for _ in range(5)]
    assert [r.status_code for r in allowed] == [200, 200, 404]
    assert [r.headers["RateLimit-Remaining"] for r in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["RateLimit-Limit"] == "3"
    assert allowed[0].headers["X-RateLimit-Limit"] == "3"
    assert refused.status_code == refused_chat.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.json() == {
        "error": {
            "code": "rate_limited",
            "message": refused.json()["error"]["message"],
            "field": None,
        }
    }
    assert "3 per minute" in refused.json()["error"]["message"]
    assert other_key.status_code == 200 and other_key.headers["RateLimit-Remaining"] == "2"
    assert health == [200] * 5


def test_a_bad_key_keeps_getting_401_and_spends_no_budget(
    seeded_engine: Engine, limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "2/minute")
    admin = new_key(seeded_engine, ADMIN)
    with TestClient(create_app(seeded_engine)) as client:
        bad = [
            client.get("/api/v1/warehouses/1", headers={"Authorization": "Bearer cpt_wrong"})
            for _ in range(4)
        ]
        missing = [client.get("/api/v1/warehouses/1").status_code for _ in range(3)]
        good = [client.get("/api/v1/warehouses/1", headers=admin).status_code for _ in range(3)]
    assert [r.status_code for r in bad] == [401] * 4
    assert all(r.json()["error"]["code"] == "unauthorized" for r in bad)
    assert missing == [401] * 3
    assert good == [200, 200, 429]


def test_the_budget_comes_back_when_the_window_ends(
    seeded_engine: Engine, limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "2/second")
    admin = new_key(seeded_engine, ADMIN)
    with TestClient(create_app(seeded_engine)) as client:
        statuses = [client.get("/api/v1/warehouses/1", headers=admin).status_code for _ in range(3)]
        time.sleep(1.05)  # the window is one second long and started with the first request
        after = client.get("/api/v1/warehouses/1", headers=admin)
    assert statuses == [200, 200, 429]
    assert after.status_code == 200 and after.headers["RateLimit-Remaining"] == "1"


def test_off_means_no_limit_and_no_headers(
    seeded_engine: Engine, limit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_limit(monkeypatch, "off")
    admin = new_key(seeded_engine, ADMIN)
    with TestClient(create_app(seeded_engine)) as client:
        responses = [client.get("/api/v1/warehouses/1", headers=admin) for _ in range(30)]
    assert {r.status_code for r in responses} == {200}
    assert "RateLimit-Limit" not in responses[-1].headers


def test_servers_sharing_redis_share_one_budget(
    seeded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not redis_answers():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    monkeypatch.setenv("COMPTOIR_RATE_LIMIT_STORAGE", REDIS_URL)
    set_limit(monkeypatch, "3/minute")
    admin = new_key(seeded_engine, ADMIN)
    with (
        TestClient(create_app(seeded_engine)) as first,
        TestClient(create_app(seeded_engine)) as second,
    ):
        statuses = [
            client.get("/api/v1/warehouses/1", headers=admin).status_code
            for client in (first, second, first, second)
        ]
    get_settings.cache_clear()
    assert statuses == [200, 200, 200, 429]


def test_memory_windows_open_with_the_first_request_and_are_forgotten_once_ended() -> None:
    windows = MemoryWindows()
    assert windows.window("a", now=100.0) == (100.0, 0)  # none open: full budget
    windows.hit("a", period=60, now=100.0)
    windows.hit("a", period=60, now=130.0)
    assert windows.window("a", now=159.0) == (160.0, 2)
    assert windows.window("a", now=160.0) == (160.0, 0)  # ended: a new one opens at its hit
    windows.hit("b", period=60, now=161.0)  # a new window, a period after the last sweep
    assert windows.window("b", now=161.0) == (221.0, 1)
    assert set(windows.windows) == {"b"}  # "a" ended, and is no longer kept


@pytest.mark.parametrize(
    ("rate", "problem"),
    [("lots", "is not a rate"), ("10 per fortnight", "is not a rate")],
)
def test_an_unreadable_limit_is_refused_at_start(rate: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Settings.model_validate({"COMPTOIR_RATE_LIMIT": rate})
    with pytest.raises(ValueError, match="redis://"):
        Settings.model_validate({"COMPTOIR_RATE_LIMIT_STORAGE": "memcached://localhost"})
