"""`comptoir serve`: the API and the chat page, in one or several worker processes."""

from typing import Annotated

import typer
import uvicorn

from cli.console import console, fail
from cli.database import print_seed_result
from core.logging import configure_logging
from core.settings import Settings, get_settings
from db.engine import describe_url, get_engine, is_sqlite
from db.setup import prepare_database


def several_workers_problem(settings: Settings, workers: int) -> str | None:
    """Why this configuration cannot run `workers` processes, or None when it can.

    Each worker is a process with its own pools; what they share must be shareable:
    PostgreSQL (conversations in its checkpointer, one automation runner and one
    help-article indexer at a time by advisory locks) and a Chroma server."""
    if workers <= 1:
        return None
    if is_sqlite(settings.resolved_database_url):
        # SQLite could take the processes (WAL, busy timeout) but not the load they are for:
        # one writer at a time per file, and writers in other processes wait by sleeping and
        # polling rather than in the queue that keeps one process's writers fast. A second
        # worker would slow writes down, not speed them up.
        return (
            f"--workers {workers} needs PostgreSQL: SQLite lets one process write at a time, "
            "so more workers would slow writes down rather than serve more. Set "
            "DATABASE_URL=postgresql://... or serve SQLite with --workers 1."
        )
    if not settings.chroma_url:
        return (
            f"--workers {workers} needs a Chroma server for the help-article index: a local "
            "Chroma folder must not be opened by several processes. Start one (`chroma run "
            "--path data/chroma --port 8001`) and set CHROMA_URL=http://127.0.0.1:8001, or "
            "serve with --workers 1."
        )
    return None


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="COMPTOIR_WORKERS",
            help="Worker processes; more than one needs PostgreSQL and a Chroma server "
            "(CHROMA_URL).",
        ),
    ] = 1,
) -> None:
    """Start Comptoir; an empty database is brought to the schema and seeded first."""
    settings = get_settings()
    configure_logging(settings)
    problem = several_workers_problem(settings, workers)
    if problem:
        fail(problem, code=2)
    preparation = prepare_database(get_engine(), settings)
    if preparation.seeded:
        console.print("The database was empty: seeded the demo merchant, Maison Lumen.")
        print_seed_result(preparation.seeded, preparation.url)
    else:
        console.print(f"Database: {preparation.url}")
    if workers > 1:
        console.print(
            f"{workers} workers on {describe_url(settings.resolved_database_url)}, "
            f"help articles in the Chroma server at {settings.chroma_url}."
        )
    # The workers open their own pools; the parent's (used to prepare the database) would
    # only hold connections for nothing while they serve.
    get_engine().dispose()
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
