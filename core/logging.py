"""Structured logs: readable in a terminal, one JSON object per line when asked; secrets and
customers' contact details masked in every line."""

import json
import logging
import re
import sys
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

import structlog

from core.settings import Settings


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if settings.log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Masking runs last before rendering, after tracebacks have been turned into text.
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, mask_event, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Route uvicorn's and alembic's standard-library logs through the same renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                mask_event,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "alembic"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The server logs each request once, with its request id (server.RequestContext); uvicorn
    # writes its access line only when its logger has a handler, so it gets none.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def _unserializable(value: Any) -> Any:
    """What structlog's JSON renderer writes for a value JSON has no form for."""
    try:
        return value.__structlog__()
    except AttributeError:
        return repr(value)


# json.dumps(event, default=...) builds an encoder for every line; this one is built once and
# writes the same text.
_ENCODER = json.JSONEncoder(default=_unserializable)


def _json_line(event: Any, **_dumps_kw: Any) -> str:
    return _ENCODER.encode(event)


MASK = "***"
# Values of these keys are never shown, whatever they look like.
SECRET_KEYS = re.compile(
    r"authorization|cookie|password|passwd|secret|api_?key|access_?token|refresh_?token"
    r"|^token$|credential",
    re.IGNORECASE,
)
PHONE_KEYS = re.compile(r"phone|mobile|^tel$", re.IGNORECASE)
# Left untouched: written by the logging chain itself, never from user input.
TRUSTED_KEYS = frozenset({"timestamp", "level", "logger", "ms", "status", "method"})
# Secrets and contact details inside any text, each group kept but the secret part.
SECRETS_IN_TEXT = re.compile(
    r"(?P<bearer>\b[Bb]earer\s+)[^\s\"',;]+"
    r"|(?P<comptoir>\bcpt_)[A-Za-z0-9_]{8,}"
    r"|(?P<openai>\bsk-)[A-Za-z0-9_-]{12,}"
    r"|(?P<url>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(?=@)"
    r"|(?P<named>\b\w*?(?:password|passwd|secret|api_?key|access_?token)[\"']?\s*[:=]\s*)"
    r"(?:\"[^\"]*\"|'[^']*'|[^\s\"',;&]+)"
    r"|(?P<email_head>\b[A-Za-z0-9])[A-Za-z0-9._%+-]*(?P<email_tail>@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"
    r"|(?P<phone>(?<![\w.-])(?:\+|00|0(?=[1-9]))(?:[\s.()-]?\d){7,14})(?![\w-])",
    re.IGNORECASE,
)


# Something SECRETS_IN_TEXT could match starts with one of these, or with a phone number's
# start: most log text has none, and looking for them, in one search of the lowered text,
# costs a tenth of the full search (every request logs a line).
MARKERS = ("@", "://", "bearer", "cpt_", "sk-", "pass", "secret", "key", "token")
PHONE_START = r"\+\d|(?<![\w.-])0\d"
MAYBE_SECRET = re.compile("|".join([*(re.escape(marker) for marker in MARKERS), PHONE_START]))


def mask_text(text: str) -> str:
    """`text` with bearer tokens, API keys, `sk-` secrets, URL passwords and `password=...`
    values replaced by ***, emails as j***@example.com and phone numbers as ***78."""
    if not MAYBE_SECRET.search(text.lower()):
        return text
    return SECRETS_IN_TEXT.sub(_masked_match, text)


def _masked_match(match: re.Match[str]) -> str:
    group = match.lastgroup
    if group is None:  # every alternative is a named group: not reached
        return match[0]
    if group == "email_tail":
        return f"{match['email_head']}{MASK}{match['email_tail']}"
    if group == "phone":
        return mask_phone(match["phone"])
    return f"{match[group]}{MASK}"


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return f"{MASK}{digits[-2:]}" if len(digits) > 2 else MASK


@lru_cache(maxsize=4096)
def key_kind(key: str) -> Literal["secret", "phone"] | None:
    """Whether values logged under `key` are secrets, phone numbers, or text to search."""
    if SECRET_KEYS.search(key):
        return "secret"
    return "phone" if PHONE_KEYS.search(key) else None


def mask_value(value: Any, key: str = "") -> Any:
    """Masks a logged value: text, and the text inside dicts, lists and other objects."""
    if isinstance(value, str):
        kind = key_kind(key)
        if kind == "secret":
            return MASK
        return mask_phone(value) if kind == "phone" else mask_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(item, key) for item in value]
    if isinstance(value, bytes):
        return mask_value(value.decode("utf-8", "replace"), key)
    return mask_value(repr(value), key)  # what the renderers would show, masked


def mask_event(
    _logger: Any, _method: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """structlog processor: masks every value of the event (the message included)."""
    for key, value in event.items():
        if key not in TRUSTED_KEYS:
            event[key] = mask_value(value, key)
    return event
