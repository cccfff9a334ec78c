"""The HTTP face of Comptoir: FastAPI app with health, errors as JSON and request ids."""

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.logging import configure_logging, get_logger
from core.settings import get_settings
from db import migrate
from db.engine import describe_url, get_engine

log = get_logger("comptoir.http")


class DatabaseHealth(BaseModel):
    ok: bool
    backend: str
    url: str
    schema_revision: str | None
    schema_current: bool
    latency_ms: float
    error: str | None = None


class Health(BaseModel):
    status: str
    version: str
    database: DatabaseHealth


def check_database(engine: Engine) -> DatabaseHealth:
    started = time.perf_counter()
    url = describe_url(engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        revision = migrate.current_revision(engine)
    except sa.exc.SQLAlchemyError as error:
        return DatabaseHealth(
            ok=False,
            backend=engine.dialect.name,
            url=url,
            schema_revision=None,
            schema_current=False,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=type(getattr(error, "orig", None) or error).__name__,
        )
    current = revision == migrate.head_revision()
    return DatabaseHealth(
        ok=current,
        backend=engine.dialect.name,
        url=url,
        schema_revision=revision,
        schema_current=current,
        latency_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def create_app(engine: Engine | None = None) -> FastAPI:
    settings = get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or get_engine()
        yield

    app = FastAPI(
        title="Comptoir",
        version="0.1.0",
        summary="Operations assistant for online merchants.",
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def request_context(request: Request, call_next: Any) -> Any:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response.headers["x-request-id"] = request_id
        log.info(
            "request",
            method=request.method,
            path=request.url.path,
            status=response.status_code,
            request_id=request_id,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"] if part not in ("body", "query"))
        return JSONResponse(
            error_body("invalid_input", first["msg"], field or None), status_code=422
        )

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return JSONResponse(
            error_body(
                "internal_error", "Something went wrong on our side; the error has been logged."
            ),
            status_code=500,
        )

    @app.get("/", include_in_schema=False)
    def index() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get(
        "/health",
        response_model=Health,
        tags=["monitoring"],
        responses={503: {"model": Health, "description": "The database is not usable."}},
    )
    def health(request: Request) -> JSONResponse:
        """Whether Comptoir can serve: its database answers and has the current schema."""
        database = check_database(request.app.state.engine)
        body = Health(
            status="ok" if database.ok else "unavailable", version=app.version, database=database
        )
        return JSONResponse(body.model_dump(), status_code=200 if database.ok else 503)

    return app
