"""Logs: JSON lines when asked, with the request id bound."""

import json
import logging

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

import server
from core.logging import configure_logging, get_logger, mask_event, mask_text
from core.settings import Settings, get_settings
from db.demo.reference import demo_api_key


def test_json_logs_are_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings.model_validate({"COMPTOIR_LOG_FORMAT": "json"}))
    structlog.contextvars.bind_contextvars(request_id="abc")
    try:
        get_logger("test").info("order cancelled", order_id=1042)
        get_logger("test").debug("hidden below INFO")
    finally:
        structlog.contextvars.clear_contextvars()
        configure_logging(Settings())
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "order cancelled"
    assert record["order_id"] == 1042
    assert record["request_id"] == "abc"
    assert record["level"] == "info"


def test_uvicorn_access_log_stays_off_when_logging_is_configured() -> None:
    # uvicorn writes its access line only if its logger has a handler; the server's own
    # request line (with the request id) replaces it, so each request is logged once.
    configure_logging(Settings())
    assert not logging.getLogger("uvicorn.access").hasHandlers()
    assert logging.getLogger("uvicorn.error").hasHandlers()


# -- masking: secrets never, customers' contact details only in part ----------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Authorization: Bearer cpt_demo_0123456789abcdef", "Authorization: Bearer ***"),
        ("key cpt_0123456789abcdef0123456789abcdef used", "key cpt_*** used"),
        ("OPENAI_API_KEY=sk-proj-abcdefghijklmnop1234", "OPENAI_API_KEY=***"),
        ("with sk-abcdefghijklmnop1234 as key", "with sk-*** as key"),
        (
            "postgresql+psycopg://app:hunter2@db:5432/shop",
            "postgresql+psycopg://app:***@db:5432/shop",
        ),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("{'password': 'two words'}", "{'password': ***}"),
        ("write to jeanne.dupont@example.org", "write to j***@example.org"),
        ("call +33 6 98 76 54 32 or 06 98 76 54 31", "call ***32 or ***31"),
        # Left as they are: ids, amounts, dates, SKUs, paths.
        ("order 1042 on 2026-11-25T18:05:00.123456Z", "order 1042 on 2026-11-25T18:05:00.123456Z"),
        ("1234567890 cents for LUM-0612345678-X", "1234567890 cents for LUM-0612345678-X"),
        ("/api/v1/warehouses/12", "/api/v1/warehouses/12"),
    ],
)
def test_mask_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_masking_reaches_nested_values_and_secret_keys() -> None:
    event = mask_event(
        None,
        "info",
        {
            "event": "called",
            "headers": {"Authorization": "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "accept": "*/*"},
            "args": [{"email": "Marc.Petit@example.com", "phone": "0612345678"}],
            "password": "x",
            "amount_cents": 4200,
        },
    )
    assert event == {
        "event": "called",
        "headers": {"Authorization": "***", "accept": "*/*"},
        "args": [{"email": "M***@example.com", "phone": "***78"}],
        "password": "***",
        "amount_cents": 4200,
    }


def test_server_logs_carry_no_key_email_or_phone_in_clear(
    seeded_engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPTOIR_LOG_FORMAT", "json")
    get_settings.cache_clear()
    # A logger not yet used: structlog caches each logger's configuration on first use.
    monkeypatch.setattr(server, "log", get_logger("comptoir.http"))
    key = demo_api_key(42, "claire.martin@maison-lumen.fr")
    email, phone = "jeanne.dupont@example.org", "+33 6 98 76 54 32"
    customer = {"email": email, "first_name": "Jeanne", "last_name": "Dupont", "phone": phone}
    app = server.create_app(seeded_engine)

    @app.get("/api/v1/failing")
    def failing() -> None:
        raise RuntimeError(f"lost {email} {phone} with Bearer {key} on sk-abcdefghijklmnop1234")

    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            headers = {"Authorization": f"Bearer {key}"}
            created = client.post("/api/v1/customers", json=customer, headers=headers)
            again = client.post("/api/v1/customers", json=customer, headers=headers)
            failed = client.get("/api/v1/failing", headers=headers)
    finally:
        get_settings.cache_clear()
        configure_logging(get_settings())
    assert (created.status_code, again.status_code, failed.status_code) == (201, 409, 500)
    logs = capsys.readouterr().err
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert {r["event"] for r in records} >= {"request", "refused", "unhandled error"}
    for secret in (key, email, "98 76 54 32", "abcdefghijklmnop1234"):
        assert secret not in logs
    refused = next(r for r in records if r["event"] == "refused")
    assert refused["message"] == "a customer with e-mail j***@example.org already exists"
    failure = next(r for r in records if r["event"] == "unhandled error")
    assert "lost j***@example.org ***32 with Bearer *** on sk-***" in failure["exception"]
