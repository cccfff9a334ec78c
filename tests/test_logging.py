"""Logs: JSON lines when asked, with the request id bound."""

import json
import logging

import pytest
import structlog

from core.logging import configure_logging, get_logger
from core.settings import Settings


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
