"""`comptoir serve`: the API (and, later, the chat page)."""

from typing import Annotated

import typer
import uvicorn

from cli.console import console
from cli.database import print_seed_result
from core.logging import configure_logging
from core.settings import get_settings
from db.engine import get_engine
from db.setup import prepare_database


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Start Comptoir; an empty database is brought to the schema and seeded first."""
    settings = get_settings()
    configure_logging(settings)
    preparation = prepare_database(get_engine(), settings)
    if preparation.seeded:
        console.print("The database was empty: seeded the demo merchant, Maison Lumen.")
        print_seed_result(preparation.seeded, preparation.url)
    else:
        console.print(f"Database: {preparation.url}")
    host, port = host or settings.host, port or settings.port
    console.print(
        f"Comptoir is listening on [bold]http://{host}:{port}[/] "
        f"(API docs: http://{host}:{port}/docs)."
    )
    uvicorn.run(
        "server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
