"""`comptoir db ...` and `comptoir seed`."""

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from cli.console import console, counting_progress, fail
from core.settings import get_settings
from db import daily_movements, daily_sales, migrate
from db.demo.seed import SCALES, DatabaseNotEmptyError, SeedResult, seed_database, wipe
from db.engine import create_db_engine, describe_url
from db.invariants import Check, check_invariants

db_app = typer.Typer(help="Schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database (DATABASE_URL, or the SQLite file) to the current schema."""
    url = get_settings().resolved_database_url
    migrate.upgrade(url, revision)
    console.print(
        f"Schema of {describe_url(url)} is at revision "
        f"[bold]{migrate.current_revision(create_db_engine(url))}[/]."
    )


@db_app.command("current")
def current() -> None:
    """Show the schema revision of the database and the latest one."""
    url = get_settings().resolved_database_url
    console.print(
        f"database: {describe_url(url)}\n"
        f"revision: {migrate.current_revision(create_db_engine(url))}\n"
        f"latest:   {migrate.head_revision()}"
    )


@db_app.command("check")
def check() -> None:
    """Check the rules the rows must keep together (stock equals its movements, reserved
    stock equals its reservations, refunds within and equal to their payments, totals and
    loyalty balances that add up, daily tables equal to the orders); exit code 1 when one
    is broken."""
    url = get_settings().resolved_database_url
    checks = check_invariants(create_db_engine(url))
    console.print(invariants_table(checks, f"Invariants of {describe_url(url)}"))
    if broken := [one.name for one in checks if not one.ok]:
        fail(f"{len(broken)} invariant(s) broken: {', '.join(broken)}")


@db_app.command("rebuild-daily")
def rebuild_daily() -> None:
    """Recompute the daily tables that reports read (orders, sales, stock movements) from the
    rows they sum: when `db check` finds them off, e.g. after orders were edited by hand in
    SQL. Writers of those tables wait until it is done (seconds at a million orders)."""
    url = get_settings().resolved_database_url
    with create_db_engine(url).begin() as connection:
        daily_sales.rebuild(connection)
        daily_movements.rebuild(connection)
    console.print(f"Daily tables of {describe_url(url)} recomputed from the orders and movements.")


def invariants_table(checks: list[Check], title: str) -> Table:
    table = Table(title=title, show_edge=False)
    for column in ("check", "rule", "rows", "result"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for one in checks:
        result = "[green]ok" if one.ok else f"[red]{one.violations} broken: {', '.join(one.sample)}"
        table.add_row(one.name, one.rule, f"{one.rows:,}", result)
    return table


@db_app.command("revision")
def revision(message: Annotated[str, typer.Option("-m", "--message")]) -> None:
    """(Developers) Write a migration from the difference between the models and the database."""
    migrate.make_revision(get_settings().resolved_database_url, message)


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None


def seed(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 42,
    scale: Annotated[
        str, typer.Option(help="small, medium or large (a million orders).")
    ] = "small",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The demo's today, YYYY-MM-DD (default: today).")
    ] = None,
    reset: Annotated[bool, typer.Option(help="Delete all rows first.")] = False,
) -> None:
    """Fill the database with the demo merchant, Maison Lumen: a year of trading."""
    if scale not in SCALES:
        raise typer.BadParameter(
            f"{scale!r} is not a scale; choose small, medium or large", param_hint="--scale"
        )
    day = _parse_date(as_of)
    url = get_settings().resolved_database_url
    engine = create_db_engine(url)
    if reset:
        migrate.upgrade(url)
        wipe(engine)
    size = SCALES[scale]
    console.print(
        f"Seeding {describe_url(url)} with the [bold]{scale}[/] demo "
        f"({size.orders:,} orders), seed {seed}."
    )
    with counting_progress("orders") as progress:
        task = progress.add_task("orders", total=size.orders)
        try:
            result = seed_database(
                engine,
                seed=seed,
                scale=scale,
                as_of=day,
                progress=lambda n: progress.advance(task, n),
            )
        except DatabaseNotEmptyError as error:
            fail(str(error))
            return
    print_seed_result(result, describe_url(url))


def print_seed_result(result: SeedResult, where: str) -> None:
    table = Table(title=f"Created in {where}", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in result.counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    console.print(
        f"{sum(result.counts.values()):,} rows in {result.seconds:.1f} s "
        f"(seed {result.seed}, as of {result.as_of})."
    )
    console.print("Demo API keys (send as 'Authorization: Bearer <key>'):")
    for role, key in result.api_keys.items():
        console.print(f"  {role:<8} {key}")
