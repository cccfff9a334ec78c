"""Shared terminal output for the CLI."""

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    import typer

    errors.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def counting_progress(label: str, transient: bool = True) -> Progress:
    """A progress bar of done / total items with the time elapsed: seeding, indexing, relaying."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )
