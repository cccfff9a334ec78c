"""Property-based fuzzing of the whole REST API from its own OpenAPI schema (schemathesis).

Every operation gets requests built from its schema (valid ones, and invalid ones that must be
refused with a 4xx), as the admin, on a fresh seeded database; each answer must not be a 5xx,
must have a documented status code, content type and headers, and must match its response
schema. The run here is bounded (a few examples per operation); raise it with
COMPTOIR_FUZZ_EXAMPLES, or run `uv run python -m benchmarks.api_fuzz` for a longer one with
its figures."""

import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.core.result import Err
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.engine import Engine

from core.settings import get_settings
from db.demo.reference import demo_api_key
from server import create_app

ADMIN = "claire.martin@maison-lumen.fr"
EXAMPLES = int(os.environ.get("COMPTOIR_FUZZ_EXAMPLES", "2"))
# A chat turn runs the planner and its tools (about a second each): fewer of them.
CHAT_EXAMPLES = 1
CHAT_PATHS = ("/api/v1/chat", "/api/v1/agents/")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MODES = {
    GenerationMode.POSITIVE: CHECKS,
    GenerationMode.NEGATIVE: [*CHECKS, negative_data_rejection],
}
REQUEST_TIMEOUT = 120  # seconds
SHOWN_PER_KIND = 3  # failure messages kept per operation and kind of failure


@dataclass
class FuzzReport:
    """What a run tried and what it found."""

    requests: Counter[str] = field(default_factory=Counter)  # per operation
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)  # (operation, class)
    bad_inputs: int = 0  # requests made from data that breaks the schema
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, kind)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def failed(self, operation: str, kind: str, message: str) -> None:
        self.failures[operation, kind] += 1
        shown = self.examples.setdefault((operation, kind), [])
        if len(shown) < SHOWN_PER_KIND:
            shown.append(message)

    def by_kind(self) -> Counter[str]:
        kinds: Counter[str] = Counter()
        for (_, kind), count in self.failures.items():
            kinds[kind] += count
        return kinds

    def summary(self) -> str:
        lines = [
            f"{sum(self.requests.values())} requests ({self.bad_inputs} with bad input) "
            f"over {len(self.requests)} operations; failures by kind: {dict(self.by_kind())}"
        ]
        for (operation, kind), messages in sorted(self.examples.items()):
            lines.append(f"--- {operation}: {kind} x{self.failures[operation, kind]}")
            lines.extend(message[:1500] for message in messages)
        return "\n".join(lines)


def fuzz(
    schema: OpenApiSchema,
    headers: dict[str, str],
    *,
    examples: int,
    chat_examples: int = CHAT_EXAMPLES,
    derandomize: bool = True,
    on_operation: Callable[[str], None] | None = None,
) -> FuzzReport:
    """Runs each operation of `schema` with `examples` generated requests per generation
    mode (`chat_examples` for chat turns), checking every answer; never stops at a failure."""
    report = FuzzReport()
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the schema of an operation cannot be read: a bug too
            report.failed("schema", "InvalidSchema", str(result.err()))
            continue
        operation = result.ok()
        label = operation.label
        count = chat_examples if operation.path.startswith(CHAT_PATHS) else examples
        for mode, checks in MODES.items():
            if count:
                run_operation(operation, mode, checks, headers, count, derandomize, report)
        if on_operation is not None:
            on_operation(label)
    return report


def run_operation(
    operation: Any,
    mode: GenerationMode,
    checks: list[Any],
    headers: dict[str, str],
    examples: int,
    derandomize: bool,
    report: FuzzReport,
) -> None:
    label = operation.label

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,  # failures are collected in the report, not printed
    )
    def send(case: Any) -> None:
        report.requests[label] += 1
        report.bad_inputs += mode == GenerationMode.NEGATIVE
        try:
            # The first chat turn loads the embedding model: slow, on a busy machine most.
            response = case.call(headers=headers, timeout=REQUEST_TIMEOUT)
        except Exception as error:  # the app raised: what a client sees as a 500
            curl = case.as_curl_command(headers=headers)
            report.failed(label, "ServerError", f"{type(error).__name__}: {error}\n{curl}")
            report.statuses[label, 500] += 1
            return
        report.statuses[label, response.status_code // 100 * 100] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except* Failure as group:
            for failure in group.exceptions:
                report.failed(label, type(failure).__name__, str(failure))

    with suppress(Unsatisfiable):  # nothing in the operation can be made invalid
        send()


@pytest.fixture
def api_schema(seeded_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenApiSchema]:
    """The app's schema, served by the app itself on a fresh seeded database."""
    # The limiter stays on, with a budget the run cannot spend: 429 is not what is tested.
    monkeypatch.setenv("COMPTOIR_RATE_LIMIT", "1000000/minute")
    get_settings.cache_clear()
    app: FastAPI = create_app(seeded_engine)
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
    finally:
        shutdown_lifespans()  # schemathesis keeps the app started until told
        get_settings.cache_clear()


def test_every_operation_survives_generated_requests(api_schema: OpenApiSchema) -> None:
    headers = {"Authorization": f"Bearer {demo_api_key(42, ADMIN)}"}
    report = fuzz(api_schema, headers, examples=EXAMPLES)
    assert len(report.requests) >= 150  # every tool route, the chat routes, files, health
    assert not report.failures, report.summary()
