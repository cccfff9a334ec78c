"""Shared terminal output for the CLI."""

from rich.console import Console

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> None:
    import typer

    errors.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
