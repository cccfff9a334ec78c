"""The `comptoir` command."""

import typer

from cli import database, serve, tools_command

app = typer.Typer(
    name="comptoir",
    help="Comptoir: the operations assistant for online merchants.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(database.db_app, name="db")
app.command("seed")(database.seed)
app.command("serve")(serve.serve)
app.command("tools")(tools_command.tools)
