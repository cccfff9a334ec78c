"""What every tool is made of: a typed function, its flags, its context and its errors.

A tool is a plain function whose first parameter is a `ToolContext` (the database session
and the acting user, never shown to a model) and whose other parameters are typed and
described with `Annotated[..., Field(description=...)]`. `@tool(...)` turns it into a
`ToolSpec`: the argument model (one JSON schema for the model, the REST body and the
validation), the docstring as description, and the flags the REST layer and the graph
enforce. Tools never commit: `run_tool` wraps one call in one transaction.
"""

import inspect
import re
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_type_hints

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.base import utc_now
from db.engine import serialized_writer
from db.models import AuditChannel, AuditEntry, DomainEvent, MetricKind, Role
from tools.telemetry import Measurement, observe

AGENTS = (
    "monitoring", "orders", "products", "marketplace", "customers", "inventory", "transport",
    "payments", "warehouse", "documents", "fraud", "risk", "knowledge", "after_sales",
    "backoffice", "quality",
)  # fmt: skip

EVERYONE = frozenset(Role)
STAFF = frozenset({Role.ADMIN, Role.MANAGER, Role.SUPPORT})
MANAGERS = frozenset({Role.ADMIN, Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})


# -- errors ------------------------------------------------------------------------------


class ToolError(Exception):
    """A failure written for the person and the model: what is wrong and what to do."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code  # type: ignore[misc]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidInput(ToolError):
    status = 422
    code = "invalid_input"


class NotFound(ToolError):
    status = 404
    code = "not_found"


class Conflict(ToolError):
    """The request is valid but the current state forbids it (a business rule)."""

    status = 409
    code = "conflict"


class Forbidden(ToolError):
    status = 403
    code = "forbidden"


class Unauthorized(ToolError):
    status = 401
    code = "unauthorized"


class ProviderError(ToolError):
    """A sandbox or live provider refused or failed (declined card, rate limit...)."""

    status = 502
    code = "provider_error"


# -- who is acting -----------------------------------------------------------------------


class Actor(BaseModel):
    """The staff user (or system process) on whose behalf a tool runs."""

    model_config = ConfigDict(frozen=True)

    user_id: int | None
    email: str
    role: Role
    channel: AuditChannel = AuditChannel.REST
    request_id: str | None = None

    @classmethod
    def system(cls, name: str, channel: AuditChannel = AuditChannel.AUTOMATION) -> "Actor":
        return cls(user_id=None, email=f"system:{name}", role=Role.ADMIN, channel=channel)


_AUDIT_TABLE: sa.Table = AuditEntry.__table__  # type: ignore[attr-defined]
_EVENT_TABLE: sa.Table = DomainEvent.__table__  # type: ignore[attr-defined]
_INSERT_AUDIT = sa.insert(_AUDIT_TABLE)
_INSERT_EVENT = sa.insert(_EVENT_TABLE)


def _prefixed_values(table: sa.Table, prefix: str) -> dict[str, sa.BindParameter[Any]]:
    return {
        column.name: sa.bindparam(prefix + column.name, type_=column.type)
        for column in table.columns
        if not column.primary_key and column.server_default is None
    }


# PostgreSQL writes both rows in one statement (an INSERT in a WITH clause): one round trip
# less inside every write's transaction, while it holds its row locks.
_INSERT_AUDIT_AND_EVENT = (
    sa.insert(_EVENT_TABLE)
    .values(_prefixed_values(_EVENT_TABLE, "event_"))
    .add_cte(sa.insert(_AUDIT_TABLE).values(_prefixed_values(_AUDIT_TABLE, "audit_")).cte("audit"))
)


@dataclass
class ToolContext:
    session: Session
    actor: Actor
    records: int = 0  # audit entries written during this call

    def record(
        self,
        *,
        action: str,
        entity_type: str,
        entity_id: Any,
        event: str,
        domain: str,
        payload: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Write the audit entry and the outbox event of a change, in the change's transaction.

        Core INSERTs on the session's connection: the same rows as ORM objects would give,
        without building and flushing two mapped objects (a third of a write's time).
        """
        now = utc_now()
        audit = {
            "user_id": self.actor.user_id,
            "actor": self.actor.email,
            "channel": self.actor.channel,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "before": before,
            "after": after,
            "request_id": self.actor.request_id,
            "created_at": now,
        }
        outbox = {
            "event_id": str(uuid.uuid4()),
            "type": event,
            "domain": domain,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "payload": payload or after or {},
            "actor": self.actor.email,
            "created_at": now,
            "published_at": None,
            "attempts": 0,
        }
        connection = self.session.connection()
        if connection.dialect.name == "postgresql":
            connection.execute(
                _INSERT_AUDIT_AND_EVENT,
                {f"audit_{k}": v for k, v in audit.items()}
                | {f"event_{k}": v for k, v in outbox.items()},
            )
        else:
            connection.execute(_INSERT_AUDIT, audit)
            connection.execute(_INSERT_EVENT, outbox)
        self.records += 1


# -- the tool decorator and registry -----------------------------------------------------


@dataclass(frozen=True)
class ToolSpec:
    name: str
    agent: str
    func: Callable[..., Any]
    description: str
    args_model: type[BaseModel]
    result_type: Any
    writes: bool
    approval: bool
    roles: frozenset[Role]
    method: str
    path: str
    path_params: tuple[str, ...] = field(default=())
    # A read-only check of the rules the write enforces, run before a person is asked to
    # approve it: nobody approves a cancellation the order's status refuses anyway.
    precheck: Callable[..., None] | None = None

    def json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "name": self.name,
            "description": self.description,
            "writes": self.writes,
            "approval": self.approval,
            "roles": sorted(role.value for role in self.roles),
            "http": {"method": self.method, "path": f"/api/v1{self.path}"},
            "args_schema": self.args_model.model_json_schema(),
        }


REGISTRY: dict[str, ToolSpec] = {}


def tool(
    *,
    agent: str,
    path: str,
    method: str | None = None,
    writes: bool = False,
    approval: bool = False,
    roles: frozenset[Role] | None = None,
    precheck: Callable[..., None] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a tool of `agent`, served at `method path` under /api/v1.

    Reads default to every role and GET; writes default to staff (not viewers) and POST.
    `approval` marks consequential writes (refunds, cancellations, blocks, price changes,
    deletions) that the chat must have approved before they run; `precheck(ctx, **args)`
    raises the ToolError the write would (reading only), so the chat does not ask first.
    """
    if agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}")
    if approval and not writes:
        raise ValueError("only writing tools need approval")

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        name = func.__name__
        if name in REGISTRY:
            raise ValueError(f"tool {name!r} is defined twice")
        hints = get_type_hints(func, include_extras=True)
        parameters = list(inspect.signature(func).parameters.values())
        if not parameters or hints.get(parameters[0].name) is not ToolContext:
            raise TypeError(f"{name}: the first parameter must be `ctx: ToolContext`")
        fields: dict[str, Any] = {}
        for parameter in parameters[1:]:
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[parameter.name] = (hints[parameter.name], default)
        args_model = create_model(  # type: ignore[call-overload]
            f"{_camel(name)}Args", __config__=ConfigDict(extra="forbid"), **fields
        )
        path_params = tuple(re.findall(r"{(\w+)}", path))
        missing = [p for p in path_params if p not in fields]
        if missing:
            raise TypeError(f"{name}: path parameters {missing} are not arguments")
        description = inspect.cleandoc(func.__doc__ or "").strip()
        if not description:
            raise TypeError(f"{name}: a tool needs a docstring; the model reads it")
        REGISTRY[name] = ToolSpec(
            name=name,
            agent=agent,
            func=func,
            description=description,
            args_model=args_model,
            result_type=hints.get("return"),
            writes=writes,
            approval=approval,
            roles=roles if roles is not None else (STAFF if writes else EVERYONE),
            method=method or ("POST" if writes else "GET"),
            path=path,
            path_params=path_params,
            precheck=precheck,
        )
        return func

    return register


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


# -- running a tool ----------------------------------------------------------------------


def validate_args(spec: ToolSpec, args: dict[str, Any]) -> BaseModel:
    try:
        validated = spec.args_model.model_validate(args)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidInput(
            f"{where}: {first['msg']}" if where else first["msg"], field=where
        ) from None
    if (unstorable := _unstorable(validated)) is not None:
        where, problem = unstorable
        raise InvalidInput(f"{where}: {problem}", field=where)
    return validated


# Integer columns (ids, cents, quantities) are 32-bit on PostgreSQL and 64-bit on SQLite, and
# PostgreSQL's text and JSON refuse the NUL character: such input would fail in the database
# (a 500) rather than be refused as input.
DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1
OUT_OF_RANGE = f"Input should be between {DB_INT_MIN} and {DB_INT_MAX}"
NUL_IN_TEXT = "text cannot contain the NUL character (\\x00)"


def _unstorable(value: Any, where: str = "") -> tuple[str, str] | None:
    """The path of the first value in `value` (arguments, nested models, lists, dicts) that
    the database cannot store, and why; None when all can be."""
    if isinstance(value, str):
        return (where, NUL_IN_TEXT) if "\x00" in value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return None if DB_INT_MIN <= value <= DB_INT_MAX else (where, OUT_OF_RANGE)
    if isinstance(value, BaseModel):
        items: Any = ((name, getattr(value, name)) for name in type(value).model_fields)
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple | set | frozenset):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        path = f"{where}.{key}" if where else str(key)
        found = _unstorable(key, path) if isinstance(key, str) else None
        found = found or _unstorable(item, path)
        if found is not None:
            return found
    return None


def check_role(spec: ToolSpec, actor: Actor) -> None:
    if actor.role not in spec.roles:
        allowed = ", ".join(sorted(role.value for role in spec.roles))
        raise Forbidden(
            f"{spec.name} needs one of the roles {allowed}; {actor.email} is {actor.role.value}"
        )


ROWS_FLUSHED = "comptoir_rows_flushed"


@sa.event.listens_for(Session, "after_flush")
def _count_flushed_rows(session: Session, _context: Any) -> None:
    """How many rows a session has written so far, for run_tool's checks."""
    written = len(session.new) + len(session.dirty) + len(session.deleted)
    session.info[ROWS_FLUSHED] = session.info.get(ROWS_FLUSHED, 0) + written


def run_tool(engine: Engine, actor: Actor, name: str, args: dict[str, Any]) -> Any:
    """Validate, authorize and run one tool in one transaction; the chat and automation entry
    point (REST uses run_tool_for_caller, which identifies the caller in the same transaction)."""
    return _run(engine, _spec(name), args, actor=actor)


def precheck_tool(engine: Engine, actor: Actor, name: str, args: dict[str, Any]) -> None:
    """Raise the ToolError a write would refuse with, reading only (nothing is written or
    committed); nothing when the tool has no check or its rules let the write through."""
    spec = _spec(name)
    if spec.precheck is None:
        return
    arguments = validate_args(spec, args)
    with Session(engine) as session:
        try:
            spec.precheck(ToolContext(session=session, actor=actor), **dict(arguments))
        finally:
            session.rollback()


def run_tool_for_caller(
    engine: Engine,
    identify: Callable[[sa.Connection], Actor],
    name: str,
    args: dict[str, Any],
) -> Any:
    """As run_tool, for a caller known by a credential: `identify` finds the caller on the
    tool's own connection, first thing in its transaction (so a request needs one connection
    and one transaction), then the role is checked and the arguments validated. A caller who
    cannot be identified raises Unauthorized and is not measured as a tool call."""
    return _run(engine, _spec(name), args, identify=identify)


def _spec(name: str) -> ToolSpec:
    spec = REGISTRY.get(name)
    if spec is None:
        raise NotFound(f"there is no tool named {name!r}")
    return spec


def _run(
    engine: Engine,
    spec: ToolSpec,
    args: dict[str, Any],
    *,
    actor: Actor | None = None,
    identify: Callable[[sa.Connection], Actor] | None = None,
) -> Any:
    started = time.perf_counter()
    error_code = None
    measured = identify is None
    try:
        arguments = None
        if actor is not None:  # nothing to look up: refuse before opening a transaction
            check_role(spec, actor)
            arguments = validate_args(spec, args)
        with (
            serialized_writer(engine) if spec.writes else nullcontext(),
            Session(engine, expire_on_commit=False) as session,
        ):
            if spec.writes:
                # Writers take SQLite's write lock up front; PostgreSQL relies on row locks.
                session.connection(execution_options={"sqlite_immediate": True})
            if identify is not None:
                actor = identify(session.connection())
                measured = True
                check_role(spec, actor)
                arguments = validate_args(spec, args)
            assert actor is not None and arguments is not None
            return _call(spec, session, actor, arguments)
    except ToolError as error:
        error_code = error.code
        raise
    except Exception as error:
        error_code = type(error).__name__
        raise
    finally:
        if measured:
            observe(
                engine,
                Measurement(
                    agent=spec.agent,
                    kind=MetricKind.TOOL_CALL,
                    name=spec.name,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    success=error_code is None,
                    error_code=error_code,
                ),
            )


def _call(spec: ToolSpec, session: Session, actor: Actor, arguments: BaseModel) -> Any:
    """The tool's function in the session's transaction, committed if it kept the rules."""
    context = ToolContext(session=session, actor=actor)
    try:
        result = spec.func(context, **dict(arguments))
        session.flush()
        changed = session.info.get(ROWS_FLUSHED, 0)
        if changed and context.records == 0:
            raise RuntimeError(f"{spec.name} changed rows without an audit entry and event")
        if (changed or context.records) and not spec.writes:
            raise RuntimeError(f"{spec.name} is declared read-only but changed rows")
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result
