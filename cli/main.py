"""The `comptoir` command."""

import typer

from cli import chat, database, events, kb, serve, tools_command
from cli.eval import eval_app

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
