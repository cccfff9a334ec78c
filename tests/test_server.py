"""The HTTP app: health that really checks the database, JSON errors, request ids."""

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from db.engine import create_db_engine
from server import create_app


def test_health_reports_a_current_database(seeded_engine: Engine) -> None:
    with TestClient(create_app(seeded_engine)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["schema_current"] is True
    assert body["database"]["schema_revision"] == "0001"
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
