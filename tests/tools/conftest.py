"""Calling tools in tests: over REST with a role's demo key, or directly as a role."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from db.demo import catalogue
from db.demo.reference import demo_api_key
from db.models import AuditChannel
from server import create_app
from tools import load_tools
from tools.base import Actor, run_tool

load_tools()

STAFF_BY_ROLE = {
    role: (index, email)
    for index, (email, _, role) in reversed(list(enumerate(catalogue.STAFF, start=1)))
}


def actor(role: str, channel: AuditChannel = AuditChannel.REST) -> Actor:
    user_id, email = STAFF_BY_ROLE[role]
    return Actor(user_id=user_id, email=email, role=role, channel=channel)  # type: ignore[arg-type]


@pytest.fixture
def call(seeded_engine: Engine) -> Callable[..., Any]:
    """call("manager", "tool_name", arg=value): run a tool directly, as REST and chat do."""

    def run(role: str, name: str, /, **args: Any) -> Any:
        return run_tool(seeded_engine, actor(role), name, args)

    return run


class Api:
    def __init__(self, client: TestClient) -> None:
        self.client = client

    def __call__(self, role: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if role:
            headers["Authorization"] = f"Bearer {demo_api_key(42, STAFF_BY_ROLE[role][1])}"
        return self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)


@pytest.fixture
def api(seeded_engine: Engine) -> Iterator[Api]:
    """api("support", "GET", "/orders/1"): a request with that role's demo key."""
    with TestClient(create_app(seeded_engine)) as client:
        yield Api(client)


@pytest.fixture
def sql(seeded_engine: Engine) -> Callable[..., Any]:
    """sql("SELECT ..."): the first column of the first row."""

    def query(statement: str, **params: Any) -> Any:
        with seeded_engine.connect() as connection:
            return connection.execute(sa.text(statement), params).scalar()

    return query
