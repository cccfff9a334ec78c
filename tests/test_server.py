"""The HTTP app: health that really checks the database, JSON errors, request ids."""

import gc
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from db import migrate
from db.demo.reference import demo_api_key
from db.engine import create_db_engine
from knowledge.index import index_for
from server import create_app, warm_up


def test_health_reports_a_current_database(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["schema_current"] is True
    assert body["database"]["schema_revision"] == migrate.head_revision()
    assert body["database"]["backend"] in ("sqlite", "postgresql")


def test_health_is_unavailable_without_a_schema(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'blank.db'}")
    with TestClient(create_app(engine)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"]["schema_current"] is False


def test_health_is_unavailable_when_the_database_is_unreachable() -> None:
    engine = create_db_engine(
        "postgresql://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    with TestClient(create_app(engine)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False
    assert response.json()["database"]["error"] == "OperationalError"


def test_unknown_route_is_a_json_404_with_a_request_id(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        response = client.get("/api/v1/nothing-here", headers={"x-request-id": "req-123"})
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not Found", "field": None}
    }
    assert response.headers["x-request-id"] == "req-123"


def test_openapi_describes_health(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        schema = client.get("/openapi.json").json()
    assert "/health" in schema["paths"]
    assert "503" in schema["paths"]["/health"]["get"]["responses"]


# -- tool routes: one validation, after the key and the role -----------------------------

ADMIN, VIEWER = "claire.martin@maison-lumen.fr", "julie.roux@maison-lumen.fr"


def bearer(email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo_api_key(42, email)}"}


def scalar(engine: Engine, statement: str) -> Any:
    with engine.connect() as connection:
        return connection.execute(sa.text(statement)).scalar()


def test_viewer_sending_bad_input_is_refused_for_the_role(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        response = client.patch(
            "/api/v1/warehouses/1", json={"capacity_locations": -5}, headers=bearer(VIEWER)
        )
        anonymous = client.patch("/api/v1/warehouses/1", json={"capacity_locations": -5})
    assert response.status_code == 403
    assert "julie.roux@maison-lumen.fr is viewer" in response.json()["error"]["message"]
    assert anonymous.status_code == 401


def test_update_warehouse_over_rest_records_the_request_id(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        response = client.patch(
            "/api/v1/warehouses/1",
            json={"capacity_locations": 12001},
            headers={**bearer(ADMIN), "x-request-id": "req-patch-1"},
        )
    assert response.status_code == 200
    assert response.json()["capacity_locations"] == 12001
    assert response.headers["content-type"] == "application/json"
    assert scalar(seeded_engine, "SELECT capacity_locations FROM warehouses WHERE id = 1") == 12001
    assert (
        scalar(
            seeded_engine,
            "SELECT actor FROM audit_log"
            " WHERE request_id = 'req-patch-1' AND action = 'update_warehouse'",
        )
        == ADMIN
    )


def test_create_over_rest_answers_201_with_query_and_path_parameters(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        created = client.post(
            "/api/v1/warehouses",
            json={
                "code": "NTE",
                "name": "Nantes",
                "address_line": "1 quai de la Fosse",
                "postcode": "44000",
                "city": "Nantes",
                "capacity_locations": 500,
            },
            headers=bearer(ADMIN),
        )
        listed = client.get(
            "/api/v1/warehouses",
            params={"active_only": "true", "limit": "2"},
            headers=bearer(ADMIN),
        )
        fetched = client.get(f"/api/v1/warehouses/{created.json()['id']}", headers=bearer(ADMIN))
        bad_query = client.get("/api/v1/warehouses", params={"limit": "0"}, headers=bearer(ADMIN))
    assert created.status_code == 201 and created.json()["code"] == "NTE"
    assert len(listed.json()["items"]) == 2 and listed.json()["next_cursor"] is not None
    assert fetched.json()["name"] == "Nantes"
    assert bad_query.status_code == 422 and bad_query.json()["error"]["field"] == "limit"


@pytest.mark.parametrize(
    ("content", "content_type", "field", "message"),
    [
        ('{"warehouse_id": 2, "name": "Elsewhere"}', "application/json", "warehouse_id", "path"),
        ('{"colour": "red"}', "application/json", "colour", "Extra inputs"),
        ('{"name": ', "application/json", None, "not valid JSON"),
        ('["name"]', "application/json", None, "JSON object"),
        ("name=Elsewhere", "application/x-www-form-urlencoded", None, "Content-Type"),
    ],
)
def test_update_warehouse_over_rest_refuses_a_malformed_body(
    seeded_engine: Engine, content: str, content_type: str, field: str | None, message: str
) -> None:
    audit = scalar(seeded_engine, "SELECT COUNT(*) FROM audit_log")
    with TestClient(create_app(seeded_engine)) as client:
        response = client.patch(
            "/api/v1/warehouses/1",
            content=content,
            headers={**bearer(ADMIN), "Content-Type": content_type},
        )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field
    assert message in response.json()["error"]["message"]
    assert scalar(seeded_engine, "SELECT COUNT(*) FROM audit_log") == audit
    assert scalar(seeded_engine, "SELECT name FROM warehouses WHERE id = 2") != "Elsewhere"


def test_wrong_method_on_a_tool_route_is_a_json_405(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        response = client.put("/api/v1/warehouses/1", json={}, headers=bearer(ADMIN))
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_only_identified_callers_are_measured_as_tool_calls(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        assert client.get("/api/v1/warehouses/1", headers=bearer(ADMIN)).status_code == 200
        refused = client.get("/api/v1/warehouses/1", headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401
    # The server's telemetry writes its buffer when it stops.
    assert (
        scalar(seeded_engine, "SELECT COUNT(*) FROM agent_metrics WHERE name = 'get_warehouse'")
        == 1
    )


def test_openapi_documents_tool_parameters_and_errors(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        schema = client.get("/openapi.json").json()
    patch = schema["paths"]["/api/v1/warehouses/{warehouse_id}"]["patch"]
    assert patch["operationId"] == "update_warehouse" and patch["tags"] == ["warehouse"]
    assert [p["name"] for p in patch["parameters"] if p["in"] == "path"] == ["warehouse_id"]
    body = patch["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert set(schema["components"]["schemas"][body]["properties"]) == {
        "name",
        "capacity_locations",
        "is_active",
    }
    assert {"200", "401", "403", "404", "409", "422"} <= set(patch["responses"])
    listing = schema["paths"]["/api/v1/warehouses"]["get"]
    assert {p["name"] for p in listing["parameters"] if p["in"] == "query"} == {
        "active_only",
        "limit",
        "cursor",
    }
    assert schema["paths"]["/api/v1/warehouses"]["post"]["responses"].keys() >= {"201"}


def test_server_keeps_startup_objects_out_of_full_collections(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_url_for_finds_tool_and_other_routes(seeded_engine: Engine) -> None:
    app = create_app(seeded_engine)
    assert app.url_path_for("update_warehouse", warehouse_id="3") == "/api/v1/warehouses/3"
    assert app.url_path_for("health") == "/health"


def test_warm_up_leaves_the_knowledge_index_up_to_date(seeded_engine: Engine) -> None:
    warm_up(seeded_engine)

    assert index_for(seeded_engine).ensure_fresh() is None  # nothing left to sync


def test_numbers_no_integer_column_holds_are_refused_as_input(seeded_engine: Engine) -> None:
    # Found by tests/test_api_fuzz.py: such ids reached the database and failed there (500).
    huge = 2**31
    audit = scalar(seeded_engine, "SELECT COUNT(*) FROM audit_log")
    with TestClient(create_app(seeded_engine)) as client:
        in_path = client.patch(
            f"/api/v1/orders/{huge}/status", json={"status": "processing"}, headers=bearer(ADMIN)
        )
        in_query = client.get("/api/v1/warehouses", params={"cursor": huge}, headers=bearer(ADMIN))
        nested = client.post(
            "/api/v1/orders",
            json={"customer_id": 1, "lines": [{"variant_id": 2**63 + 1, "quantity": 1}]},
            headers=bearer(ADMIN),
        )
        document = client.get(f"/api/v1/documents/{huge}/file", headers=bearer(ADMIN))
    assert [r.status_code for r in (in_path, in_query, nested, document)] == [422] * 4
    assert [r.json()["error"]["field"] for r in (in_path, in_query, nested, document)] == [
        "order_id",
        "cursor",
        "lines.0.variant_id",
        "document_id",
    ]
    assert "2147483647" in in_path.json()["error"]["message"]
    assert scalar(seeded_engine, "SELECT COUNT(*) FROM audit_log") == audit


def test_text_with_a_nul_character_is_refused_as_input(seeded_engine: Engine) -> None:
    # Found by tests/test_api_fuzz.py: PostgreSQL refuses NUL in text (a 500 there).
    articles = scalar(seeded_engine, "SELECT COUNT(*) FROM articles")
    with TestClient(create_app(seeded_engine)) as client:
        response = client.post(
            "/api/v1/knowledge/articles",
            json={
                "title": "Returns",
                "category": "returns",
                "body": "Send it back\x00 within thirty days.",
            },
            headers=bearer(ADMIN),
        )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body"
    assert "NUL" in response.json()["error"]["message"]
    assert scalar(seeded_engine, "SELECT COUNT(*) FROM articles") == articles
