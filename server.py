"""The HTTP face of Comptoir: FastAPI app with health, errors as JSON and request ids."""

import gc
import inspect
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from functools import cache
from typing import Annotated, Any

import sqlalchemy as sa
import structlog
from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, TypeAdapter, create_model
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, NoMatchFound

from chat_api import chat_router
from core.logging import configure_logging, get_logger
from core.ratelimit import KeyRateLimiter, RateLimitByKey
from core.settings import get_settings
from db import migrate
from db.engine import describe_url, get_engine
from db.models import AuditChannel, Document
from events.worker import AutomationWorker
from tools import load_tools
from tools.auth import MISSING_KEY, authenticate, identify
from tools.base import (
    DB_INT_MAX,
    REGISTRY,
    Actor,
    InvalidInput,
    NotFound,
    ToolError,
    ToolSpec,
    Unauthorized,
    check_role,
    run_tool_for_caller,
)
from tools.telemetry import Telemetry
from web import mount_web

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
            or os.urandom(8).hex()
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

        bound = structlog.contextvars.bind_contextvars(request_id=request_id)
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
            structlog.contextvars.reset_contextvars(**bound)


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def current_actor(
    request: Request,
    authorization: str | None = Header(default=None, description="Bearer <API key>"),
) -> Actor:
    return authenticate(
        request.app.state.engine,
        bearer_token(authorization),
        AuditChannel.REST,
        request_id=request.state.request_id,
    )


ActorDep = Annotated[Actor, Depends(current_actor)]

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "Bad request"),
        (401, "Missing or invalid API key"),
        (403, "The caller's role may not run this"),
        (404, "Not found"),
        (409, "The current state forbids it (a business rule)"),
        (422, "Invalid input"),
        (429, "Too many requests for this API key; retry after Retry-After seconds"),
    )
}
ERROR_RESPONSES[429]["headers"] = {
    "Retry-After": {
        "description": "Seconds until the key's window resets",
        "schema": {"type": "integer"},
    }
}
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def tool_endpoint(spec: ToolSpec) -> Callable[..., bytes]:
    """Runs a tool for a REST request, in the thread pool (one hop per request): the bearer
    key is looked up, the role checked and the arguments validated once, in the tool's own
    transaction (run_tool_for_caller); returns the result as JSON.

    Its `__signature__` is what FastAPI documents: the path and query (or JSON body)
    parameters, taken from the tool's argument model."""
    result = TypeAdapter(spec.result_type)

    def endpoint(
        request: Request, authorization: str | None, args: dict[str, Any], problem: ToolError | None
    ) -> bytes:
        engine = request.app.state.engine
        token = bearer_token(authorization)
        if not token:
            raise Unauthorized(MISSING_KEY)
        request_id = request.state.request_id
        if problem is not None:  # a malformed body, reported after the key and the role
            check_role(spec, authenticate(engine, token, AuditChannel.REST, request_id))
            raise problem
        value = run_tool_for_caller(
            engine,
            lambda connection: identify(connection, token, AuditChannel.REST, request_id),
            spec.name,
            args,
        )
        return result.dump_json(result.validate_python(value, from_attributes=True))

    endpoint.__signature__ = documented_signature(spec)  # type: ignore[attr-defined]
    endpoint.__name__ = spec.name
    return endpoint


def documented_signature(spec: ToolSpec) -> inspect.Signature:
    """The tool's REST parameters as FastAPI reads them for OpenAPI: path parameters, then
    the other arguments as query parameters (GET, DELETE) or as one JSON body."""
    fields = spec.args_model.model_fields
    parameters = [
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
    if spec.method in BODY_METHODS and rest:
        body_model = create_model(  # type: ignore[call-overload]
            f"{spec.args_model.__name__.removesuffix('Args')}Body",
            __config__=ConfigDict(extra="forbid"),
            **{name: (info.annotation, info) for name, info in rest.items()},
        )
        parameters.append(
            inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body_model)
        )
        return inspect.Signature(parameters)
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
    return inspect.Signature(parameters)


class ToolRoute(APIRoute):
    """The route of one tool under /api/v1, documented by FastAPI like any route, but served
    without FastAPI's parameter solving and response validation: the tool's own argument
    model validates once, after the key and the role are checked (so a viewer sending bad
    input gets 403, not 422), and the tool's typed result is dumped to JSON directly."""

    def __init__(self, spec: ToolSpec) -> None:
        self.spec = spec
        # The part of the path before its first parameter: a string test that lets most of
        # the ~160 tool routes refuse a request without running their regular expression.
        self.static_prefix = f"/api/v1{spec.path}".split("{")[0]
        super().__init__(
            f"/api/v1{spec.path}",
            tool_endpoint(spec),
            methods=[spec.method],
            response_model=spec.result_type,
            summary=spec.description.split("\n")[0],
            description=spec.description,
            operation_id=spec.name,
            name=spec.name,
            tags=[spec.agent],
            responses=ERROR_RESPONSES,
            status_code=201 if spec.method == "POST" and spec.name.startswith("create") else 200,
        )
        self.tool_handler = self.get_route_handler()

    def matches(self, scope: Any) -> tuple[Match, Any]:
        if not scope.get("root_path") and not scope.get("path", "").startswith(self.static_prefix):
            return Match.NONE, {}
        return super().matches(scope)

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """Calls the tool's handler itself rather than through FastAPI's request_response
        wrapper (self.app): its two exit stacks serve dependencies with yield, which a tool
        route has none of, and its exception handling is the app's, which ExceptionMiddleware
        applies to whatever this raises. A method the route does not take still gets 405."""
        if scope["method"] not in (self.methods or ()):
            await super().handle(scope, receive, send)
            return
        response = await self.tool_handler(Request(scope, receive, send))
        await response(scope, receive, send)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        spec, endpoint = self.spec, self.endpoint
        inputs = frozenset(spec.args_model.model_fields) - frozenset(spec.path_params)
        reads_body = spec.method in BODY_METHODS and bool(inputs)
        status_code = self.status_code or 200

        async def handle(request: Request) -> Response:
            args: dict[str, Any] = dict(request.path_params)
            problem = None
            if reads_body:
                body, problem = await json_object(request)
                clash = sorted(set(body) & set(spec.path_params))
                if clash and problem is None:
                    problem = InvalidInput(
                        f"{clash[0]}: given by the path, not the body", field=clash[0]
                    )
                args.update(body)
            elif request.scope["query_string"]:
                args.update((k, v) for k, v in request.query_params.items() if k in inputs)
            content = await run_in_threadpool(
                endpoint, request, request.headers.get("authorization"), args, problem
            )
            return Response(content, status_code=status_code, media_type="application/json")

        return handle


async def json_object(request: Request) -> tuple[dict[str, Any], ToolError | None]:
    """The request's JSON object body, or the reason it is not one."""
    content_type = request.headers.get("content-type", "")
    media = content_type.partition(";")[0].strip().lower()
    if not (media == "application/json" or media.endswith("+json")):
        return {}, InvalidInput(
            "send the arguments as a JSON object (Content-Type: application/json)"
        )
    try:
        body = json.loads(await request.body())
    except ValueError as error:
        return {}, InvalidInput(f"the body is not valid JSON: {error}")
    if not isinstance(body, dict):
        return {}, InvalidInput("the body must be a JSON object of the tool's arguments")
    return body, None


@cache
def tool_routes() -> tuple[ToolRoute, ...]:
    """One route per tool, tagged with its agent's domain (built once per process)."""
    load_tools()
    return tuple(ToolRoute(spec) for spec in REGISTRY.values())


class ToolIndex(BaseRoute):
    """Finds a request's tool route from the first path segment after /api/v1 ("orders",
    "warehouses"...) and the method, among a handful of routes, rather than trying all ~160
    in turn: that loop was a fifth of a request's time. Placed first among the app's routes;
    the tool routes stay in the list after it, where FastAPI documents them and url_path_for
    finds them."""

    prefix = "/api/v1/"

    def __init__(self, routes: tuple[ToolRoute, ...]) -> None:
        self.by_segment: dict[str, list[ToolRoute]] = {}
        self.by_method: dict[tuple[str, str], list[ToolRoute]] = {}
        for route in routes:
            segment = route.path.removeprefix(self.prefix).split("/")[0]
            if "{" in segment:
                raise ValueError(f"{route.path}: a tool path starts with a fixed segment")
            self.by_segment.setdefault(segment, []).append(route)
            for method in route.methods or ():
                self.by_method.setdefault((segment, method), []).append(route)

    def matches(self, scope: Any) -> tuple[Match, Any]:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("root_path") or not path.startswith(self.prefix):
            return Match.NONE, {}
        segment = path[len(self.prefix) :].split("/", 1)[0]
        for route in self.by_method.get((segment, scope["method"]), ()):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return match, child_scope
        # No route takes this method there: the first one with the path answers 405.
        for route in self.by_segment.get(segment, ()):
            match, child_scope = route.matches(scope)
            if match is Match.PARTIAL:
                return match, child_scope
        return Match.NONE, {}

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        await scope["route"].handle(scope, receive, send)  # the tool route matches() chose

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)  # the tool routes themselves answer this


def warm_up(engine: Engine) -> None:
    """Load the embedding model, the router's index and the help-article index, so the first
    chat request does not pay for them (a fresh index embeds every article once)."""
    from graph.router import agent_index
    from knowledge.index import index_for

    started = time.perf_counter()
    try:
        agent_index()
        report = index_for(engine).ensure_fresh()
    except Exception:  # a failure here only delays the first request, which retries
        log.exception("warm-up failed")
        return
    log.info(
        "warmed up",
        ms=round((time.perf_counter() - started) * 1000),
        # 0 where another worker (or an earlier start) had indexed them already
        articles_indexed=report.added if report else 0,
        passages_embedded=report.embedded if report else 0,
    )


def create_app(engine: Engine | None = None) -> FastAPI:
    settings = get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or get_engine()
        app.state.rate_limiter = KeyRateLimiter.from_settings(settings)
        telemetry = Telemetry(app.state.engine).start()
        automations = AutomationWorker(app.state.engine).start() if settings.automations else None
        if settings.warm_start:
            threading.Thread(
                target=warm_up, args=(app.state.engine,), name="warm-up", daemon=True
            ).start()
        # What is loaded by now (tools, models, routes: ~300k objects) lives as long as the
        # server: out of the garbage collector's sight, a full collection no longer walks it
        # (it paused requests for ~200 ms). Given back to the collector when the server stops.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            if automations is not None:
                automations.stop()
            if getattr(app.state, "assistant", None) is not None:
                app.state.assistant.close()
            telemetry.stop()

    app = FastAPI(
        title="Comptoir",
        version="0.1.0",
        summary="Operations assistant for online merchants.",
        lifespan=lifespan,
    )

    app.add_middleware(RateLimitByKey)  # inside RequestContext: a 429 is logged with its id
    app.add_middleware(RequestContext)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            message, field = "the body is not valid JSON", None
        elif first["type"] == "missing" and tuple(first["loc"]) == ("body",):
            message, field = "send a JSON object body (Content-Type: application/json)", None
        else:  # where in the request is in the location's first part: body, query, path
            field = ".".join(str(part) for part in first["loc"][1:]) or None
            message = f"{field}: {first['msg']}" if field else first["msg"]
        return JSONResponse(error_body("invalid_input", message, field), status_code=422)

    @app.exception_handler(ToolError)
    async def tool_error(_: Request, error: ToolError) -> JSONResponse:
        log.info("refused", **error.to_dict())  # the reason, masked like every log line
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

    # Added as routes rather than one included router per domain: FastAPI 0.16x resolves
    # an included router's routes on every request, which cost a fifth of a request's time.
    app.router.routes.extend([ToolIndex(tool_routes()), *tool_routes()])

    @app.get(
        "/api/v1/documents/{document_id}/file",
        tags=["documents"],
        response_class=FileResponse,
        responses=ERROR_RESPONSES,
    )
    def download_document(
        document_id: Annotated[int, Path(ge=1, le=DB_INT_MAX, description="Id of the document.")],
        request: Request,
        actor: ActorDep,
    ) -> FileResponse:
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

    app.include_router(chat_router(current_actor, ERROR_RESPONSES))

    mount_web(app)  # the chat page at /

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
        return JSONResponse(
            body.model_dump(),
            status_code=200 if database.ok else 503,
            headers={"X-Worker-Pid": str(os.getpid())},  # which of several workers answered
        )

    return app
