"""The HTTP face of Comptoir: FastAPI app with health, errors as JSON and request ids."""

import inspect
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import cache
from typing import Annotated, Any

import sqlalchemy as sa
import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, create_model
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.logging import configure_logging, get_logger
from core.settings import get_settings
from db import migrate
from db.engine import describe_url, get_engine
from db.models import AuditChannel, Document
from tools import load_tools
from tools.auth import authenticate
from tools.base import REGISTRY, Actor, NotFound, ToolError, ToolSpec, run_tool
from tools.telemetry import Telemetry

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


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


class RequestContext:
    """Gives each request an id (the caller's x-request-id or a new one), binds it to the logs
    and the response, and logs one line per request. Plain ASGI: no per-request task."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (
            next(
                (
                    value.decode("latin-1")
                    for key, value in scope["headers"]
                    if key == b"x-request-id"
                ),
                "",
            )[:40]
            or uuid.uuid4().hex[:16]
        )
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )


def current_actor(
    request: Request,
    authorization: str | None = Header(default=None, description="Bearer <API key>"),
) -> Actor:
    token = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else None
    return authenticate(
        request.app.state.engine, token, AuditChannel.REST, request_id=request.state.request_id
    )


ActorDep = Annotated[Actor, Depends(current_actor)]


def tool_endpoint(spec: ToolSpec) -> Callable[..., Any]:
    """A thin route for a tool: path and query (or JSON body) parameters in, the tool's result
    out, with the same validation, roles and transaction as in chat."""
    fields = spec.args_model.model_fields
    parameters = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter(
            "authorization",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[str | None, Header(description="Bearer <API key>")],
            default=None,
        ),
    ]
    for name in spec.path_params:
        info = fields[name]
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[
                    (info.annotation, *info.metadata, Path(description=info.description))
                ],
            )
        )
    rest = {name: info for name, info in fields.items() if name not in spec.path_params}
    uses_body = spec.method in ("POST", "PUT", "PATCH") and rest
    if uses_body:
        body_model = create_model(  # type: ignore[call-overload]
            f"{spec.args_model.__name__.removesuffix('Args')}Body",
            __config__=ConfigDict(extra="forbid"),
            **{name: (info.annotation, info) for name, info in rest.items()},
        )
        parameters.append(
            inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body_model)
        )
    else:
        for name, info in rest.items():
            parameters.append(
                inspect.Parameter(
                    name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=inspect.Parameter.empty if info.is_required() else info.default,
                    annotation=Annotated[
                        (info.annotation, *info.metadata, Query(description=info.description))
                    ],
                )
            )

    def endpoint(**kwargs: Any) -> Any:
        # Authentication runs here rather than as a dependency: one thread hop per request.
        request: Request = kwargs.pop("request")
        actor = current_actor(request, kwargs.pop("authorization"))
        body = kwargs.pop("body", None)
        if body is not None:
            kwargs.update(dict(body))
        return run_tool(request.app.state.engine, actor, spec.name, kwargs)

    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    endpoint.__name__ = spec.name
    return endpoint


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "Bad request"),
        (401, "Missing or invalid API key"),
        (403, "The caller's role may not run this"),
        (404, "Not found"),
        (409, "The current state forbids it (a business rule)"),
        (422, "Invalid input"),
    )
}


@cache
def tool_routers() -> list[APIRouter]:
    """One router per agent domain, each route calling its tool (built once per process)."""
    load_tools()
    routers: dict[str, APIRouter] = {}
    for spec in REGISTRY.values():
        router = routers.setdefault(spec.agent, APIRouter(prefix="/api/v1", tags=[spec.agent]))
        router.add_api_route(
            spec.path,
            tool_endpoint(spec),
            methods=[spec.method],
            response_model=spec.result_type,
            summary=spec.description.split("\n")[0],
            description=spec.description,
            operation_id=spec.name,
            responses=ERROR_RESPONSES,
            status_code=201 if spec.method == "POST" and spec.name.startswith("create") else 200,
        )
    return list(routers.values())


def create_app(engine: Engine | None = None) -> FastAPI:
    settings = get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or get_engine()
        telemetry = Telemetry(app.state.engine).start()
        try:
            yield
        finally:
            telemetry.stop()

    app = FastAPI(
        title="Comptoir",
        version="0.1.0",
        summary="Operations assistant for online merchants.",
        lifespan=lifespan,
    )

    app.add_middleware(RequestContext)

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

    @app.exception_handler(ToolError)
    async def tool_error(_: Request, error: ToolError) -> JSONResponse:
        return JSONResponse({"error": error.to_dict()}, status_code=error.status)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return JSONResponse(
            error_body(
                "internal_error", "Something went wrong on our side; the error has been logged."
            ),
            status_code=500,
        )

    for router in tool_routers():
        app.include_router(router)

    @app.get(
        "/api/v1/documents/{document_id}/file",
        tags=["documents"],
        response_class=FileResponse,
        responses=ERROR_RESPONSES,
    )
    def download_document(document_id: int, request: Request, actor: ActorDep) -> FileResponse:
        """The file of a generated document (invoice, credit note, packing slip, label)."""
        with Session(request.app.state.engine) as session:
            document = session.get(Document, document_id)
        if document is None:
            raise NotFound(f"document {document_id} does not exist", field="document_id")
        folder = (settings.data_dir / "documents").resolve()
        path = (folder / document.path).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise NotFound(f"the file of document {document_id} is missing; generate it again")
        media = {"pdf": "application/pdf", "png": "image/png", "zpl": "text/plain"}
        return FileResponse(path, media_type=media[document.format], filename=path.name)

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
