"""The chat API over HTTP: the same turns as in Python, with keys, roles and JSON errors."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.tools.conftest import Api

Sql = Callable[..., Any]


@pytest.fixture
def paid_order(sql: Sql) -> int:
    return int(sql("SELECT max(id) FROM orders WHERE status = 'paid'"))


def test_chat_answers_with_the_trace(api: Api) -> None:
    response = api("support", "POST", "/chat", json={"message": "track shipment 5"})

    assert response.status_code == 200
    body = response.json()
    assert body["agents"] == ["transport"]
    assert body["tool_calls"][0]["tool"] == "track_shipment"
    assert body["tool_calls"][0]["status"] == "ok"
    assert body["pending_approval"] is None
    assert body["model_calls"] == 2
    assert body["timings"]["total_ms"] > 0


def test_approve_over_http_then_read_the_history(api: Api, sql: Sql, paid_order: int) -> None:
    paused = api(
        "manager", "POST", "/chat", json={"message": f"cancel order {paid_order}, duplicate"}
    ).json()
    assert paused["pending_approval"]["tool"] == "cancel_order"

    done = api(
        "manager", "POST", f"/chat/{paused['thread_id']}/approval", json={"decision": "approve"}
    )

    assert done.status_code == 200
    assert done.json()["tool_calls"][-1]["status"] == "ok"
    assert sql("SELECT status FROM orders WHERE id = :id", id=paid_order) == "cancelled"
    history = api("manager", "GET", f"/chat/{paused['thread_id']}").json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"]
    assert history["pending_approval"] is None
    threads = api("manager", "GET", "/chat").json()
    assert [t["thread_id"] for t in threads] == [paused["thread_id"]]


def test_stream_a_turn_as_server_sent_events(api: Api) -> None:
    response = api("support", "POST", "/chat/stream", json={"message": "track shipment 5"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("data: ", 1)[1]))
        for block in response.text.strip().split("\n\n")
    ]
    names = [name for name, _ in events]
    assert names[0] == "routing" and names[-1] == "done"
    assert "tool_result" in names and "answer" in names
    assert events[-1][1]["result"]["tool_calls"][0]["tool"] == "track_shipment"


def test_invoke_one_agent_directly(api: Api) -> None:
    response = api("support", "POST", "/agents/transport/invoke", json={"message": "shipment 5"})

    assert response.status_code == 200
    assert response.json()["routing"]["method"] == "direct"
    assert response.json()["agents"] == ["transport"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/chat", {"message": ""}, 422, "invalid_input"),
        ("POST", "/chat", {"message": "hi", "thread_id": "nope"}, 404, "not_found"),
        ("POST", "/agents/sales/invoke", {"message": "hi"}, 404, "not_found"),
        ("POST", "/chat/nope/approval", {"decision": "approve"}, 404, "not_found"),
        ("POST", "/chat/nope/approval", {"decision": "maybe"}, 422, "invalid_input"),
        ("GET", "/chat/nope", None, 404, "not_found"),
    ],
)
def test_reject_bad_chat_requests(
    api: Api, method: str, path: str, body: Any, status: int, code: str
) -> None:
    response = api("support", method, path, json=body)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_name_the_problem_with_a_malformed_chat_request(api: Api) -> None:
    no_body = api("support", "POST", "/chat")
    not_json = api(
        "support", "POST", "/chat", content="{oops", headers={"Content-Type": "application/json"}
    )
    long_id = api("support", "GET", "/chat/" + "x" * 37)

    assert no_body.status_code == not_json.status_code == long_id.status_code == 422
    assert "JSON object body" in no_body.json()["error"]["message"]
    assert not_json.json()["error"]["message"] == "the body is not valid JSON"
    assert long_id.json()["error"]["field"] == "thread_id"
    assert long_id.json()["error"]["message"].startswith("thread_id: ")


def test_chat_needs_a_key(api: Api) -> None:
    response = api(None, "POST", "/chat", json={"message": "track shipment 5"})

    assert response.status_code == 401


def test_approval_of_nothing_is_a_conflict(api: Api) -> None:
    turn = api("support", "POST", "/chat", json={"message": "track shipment 5"}).json()

    response = api(
        "support", "POST", f"/chat/{turn['thread_id']}/approval", json={"decision": "approve"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "nothing_to_approve"


def test_who_am_i(api: Api) -> None:
    response = api("viewer", "GET", "/auth/me")

    assert response.status_code == 200
    assert response.json()["role"] == "viewer"
