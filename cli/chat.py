"""`comptoir ask` and `comptoir chat`: the assistant from the terminal, on the local database."""

import json
from typing import Annotated

import typer
from rich.panel import Panel
from rich.prompt import Prompt
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.console import console, fail
from db.engine import get_engine
from db.models import AuditChannel, Role, StaffUser
from graph.assistant import Assistant
from graph.results import TurnResult
from tools.auth import authenticate
from tools.base import Actor, ToolError

KeyOption = Annotated[
    str | None,
    typer.Option("--key", envvar="COMPTOIR_API_KEY", help="Act as this API key's user."),
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Act as this staff user (e-mail); default: an admin.")
]


def ask(
    message: Annotated[str, typer.Argument(help="The request, in plain language.")],
    thread: Annotated[str | None, typer.Option(help="Continue this conversation.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the chat API's JSON.")] = False,
    key: KeyOption = None,
    user: UserOption = None,
) -> None:
    """Ask Comptoir once; pending approvals are printed (decide them with `comptoir chat`)."""
    engine = get_engine()
    assistant = Assistant(engine)
    try:
        result = assistant.ask(_actor(engine, key, user), message, thread)
    except ToolError as error:
        fail(error.message)
        return
    finally:
        assistant.close()
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        show(result)


def chat(
    thread: Annotated[str | None, typer.Option(help="Continue this conversation.")] = None,
    key: KeyOption = None,
    user: UserOption = None,
) -> None:
    """An interactive chat: shows which agents and tools ran, asks y/n/edit for approvals."""
    engine = get_engine()
    actor = _actor(engine, key, user)
    assistant = Assistant(engine)
    console.print(f"Comptoir, as [bold]{actor.email}[/] ({actor.role}). Empty line or Ctrl-D ends.")
    try:
        while True:
            try:
                message = Prompt.ask("[bold cyan]you[/]", console=console).strip()
            except EOFError:
                break
            if not message:
                break
            try:
                result = assistant.ask(actor, message, thread)
                thread = result.thread_id
                show(result)
                while result.pending_approval is not None:
                    result = assistant.decide(actor, thread, _decision(result))
                    show(result)
            except ToolError as error:
                console.print(f"[red]{error.message}[/]")
    finally:
        assistant.close()
    if thread:
        console.print(f"[dim]conversation {thread}[/]")


def _decision(result: TurnResult) -> dict[str, object]:
    pending = result.pending_approval
    assert pending is not None
    console.print(
        Panel(
            f"{pending.summary}\n\n[dim]{pending.tool} {json.dumps(pending.args)}[/]",
            title="approval needed",
            border_style="yellow",
        )
    )
    answer = Prompt.ask("approve?", choices=["y", "n", "edit"], default="n", console=console)
    if answer == "y":
        return {"decision": "approve"}
    if answer == "n":
        return {"decision": "reject"}
    raw = Prompt.ask("arguments (JSON)", default=json.dumps(pending.args), console=console)
    try:
        return {"decision": "edit", "args": json.loads(raw)}
    except json.JSONDecodeError:
        console.print("[red]not valid JSON; rejected instead[/]")
        return {"decision": "reject"}


def show(result: TurnResult) -> None:
    routing = result.routing
    via = f" via {routing.method}" if routing else ""
    console.print(f"[dim]agents: {', '.join(result.agents) or 'none'}{via}[/]")
    for call in result.tool_calls:
        colour = "green" if call.status == "ok" else "red"
        console.print(
            f"[dim]  {call.agent}.{call.tool}({json.dumps(call.args, default=str)}) -> "
            f"[{colour}]{call.status}[/] {call.duration_ms:.0f} ms[/]"
        )
    console.print(result.answer)
    console.print(
        f"[dim]{result.model_calls} model calls, {result.timings.get('total_ms', 0):.0f} ms[/]"
    )


def _actor(engine: Engine, key: str | None, user: str | None) -> Actor:
    if key:
        try:
            return authenticate(engine, key, AuditChannel.CHAT)
        except ToolError as error:
            fail(error.message)
    with Session(engine) as session:
        query = select(StaffUser).where(StaffUser.is_active)
        if user:
            query = query.where(StaffUser.email == user)
        else:
            query = query.where(StaffUser.role == Role.ADMIN).order_by(col(StaffUser.id))
        staff = session.exec(query).first()
    if staff is None:
        fail(f"no active staff user {user}" if user else "no active admin: run `comptoir seed`")
        raise AssertionError
    return Actor(user_id=staff.id, email=staff.email, role=staff.role, channel=AuditChannel.CHAT)
