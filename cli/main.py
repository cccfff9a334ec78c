"""The `comptoir` command."""

import sys

import sqlalchemy as sa
import typer

from cli import chat, database, events, kb, serve, tools_command
from cli.console import errors
from cli.eval import eval_app
from core.settings import get_settings
from db.engine import describe_url

app = typer.Typer(
    name="comptoir",
    help="Comptoir: the operations assistant for online merchants.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(database.db_app, name="db")
app.add_typer(kb.kb_app, name="kb")
app.add_typer(events.events_app, name="events")
app.command("seed")(database.seed)
app.command("serve")(serve.serve)
app.command("tools")(tools_command.tools)
app.command("ask")(chat.ask)
app.command("chat")(chat.chat)
app.add_typer(eval_app, name="eval")


def main() -> None:
    """`comptoir`, telling a database it cannot use (a wrong DATABASE_URL, a server that is
    down, a file it may not open) in one line and exit code 2, rather than a traceback."""
    try:
        app()
    except sa.exc.OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        url = describe_url(get_settings().resolved_database_url)
        errors.print(f"[bold red]error:[/] the database {url} cannot be used: {reason}")
        sys.exit(2)
