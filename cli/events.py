"""`comptoir events relay | tail | automations`."""

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.table import Table

from cli.console import console, counting_progress, fail
from core.settings import get_settings
from db.engine import create_db_engine, describe_url

events_app = typer.Typer(
    help="The event outbox: relay it to Kafka, follow it, run the automations.",
    no_args_is_help=True,
)


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


@events_app.command("relay")
def relay(
    once: Annotated[
        bool, typer.Option("--once", help="Publish what is waiting, then stop.")
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=10_000, help="Events per batch.")
    ] = 500,
) -> None:
    """Publish outbox events to Kafka (KAFKA_BOOTSTRAP_SERVERS), topic comptoir.<domain>,
    keyed by entity. At least once: consumers de-duplicate by the event_id header."""
    from events.outbox import count_unpublished
    from events.relay import DeliveryFailed, Relay, RelayBusy

    settings = get_settings()
    if not settings.kafka_bootstrap_servers:
        fail(
            "no broker configured: set KAFKA_BOOTSTRAP_SERVERS. Meanwhile events stay in the "
            "outbox, readable at GET /api/v1/monitoring/events",
            2,
        )
    url = settings.resolved_database_url
    engine = create_db_engine(url)
    try:
        with Relay(engine, settings.kafka_bootstrap_servers or "", batch_size=batch) as relay_:
            if not once:
                console.print(
                    f"Relaying {describe_url(url)} to {settings.kafka_bootstrap_servers}; "
                    "Ctrl-C stops."
                )
                relay_.run(_stop_on_signals())
                return
            waiting = count_unpublished(engine)
            with counting_progress("publishing", transient=False) as progress:
                task = progress.add_task("publish", total=waiting)
                report = relay_.drain(lambda n: progress.advance(task, n))
    except RelayBusy as error:
        fail(str(error))
    except DeliveryFailed as error:
        fail(str(error))
    table = Table(title=f"Published in {report.seconds:.1f} s")
    table.add_column("topic")
    table.add_column("events", justify="right")
    for topic, count in sorted(report.published.items()):
        table.add_row(topic, str(count))
    table.add_row("[bold]total[/]", f"[bold]{report.total}[/]")
    if report.recovered:
        table.add_row("already in the broker (after a crash)", str(report.recovered))
    console.print(table)


@events_app.command("tail")
def tail(
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Show past events first.")
    ] = False,
    type_: Annotated[
        list[str] | None, typer.Option("--type", help="Only this event type (repeatable).")
    ] = None,
) -> None:
    """Follow events as they happen, one line each: from Kafka when KAFKA_BOOTSTRAP_SERVERS is
    set, else from the outbox."""
    from events.tail import follow

    settings = get_settings()
    url = settings.resolved_database_url
    engine = create_db_engine(url)
    stop = _stop_on_signals()
    source = settings.kafka_bootstrap_servers or f"the outbox of {describe_url(url)}"
    console.print(f"[dim]Following {source}; Ctrl-C stops.[/]")
    follow(
        engine,
        settings.kafka_bootstrap_servers,
        from_start=from_start,
        types=frozenset(type_) if type_ else None,
        stop=stop,
        write=lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True),
        width=console.width if console.is_terminal else None,
    )


@events_app.command("automations")
def automations(
    once: Annotated[
        bool, typer.Option("--once", help="Catch up with the outbox, then stop.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes.", min=0.1)] = 2.0,
) -> None:
    """Run the automations (low stock, delivered, return received, entity blocked,
    marketplace order synced) over the outbox; each can be switched off in automations.enabled."""
    from events.automations import AUTOMATIONS
    from events.lock import RunnerLock
    from events.runner import LOCK_NAME, AutomationRunner, PassSummary

    engine = create_db_engine(get_settings().resolved_database_url)
    lock = RunnerLock(engine, LOCK_NAME)
    if not lock.try_acquire():
        fail("the automations already run for this database (another process holds the lock)")
    runner = AutomationRunner(engine)
    totals: dict[str, PassSummary] = {a.name: PassSummary() for a in AUTOMATIONS}
    stop = threading.Event() if once else _stop_on_signals()
    try:
        while True:
            for name, summary in runner.run_once().items():
                totals[name].outcomes.update(summary.outcomes)
                totals[name].duplicates += summary.duplicates
                totals[name].cursor = summary.cursor
            if once or stop.wait(interval):
                break
    finally:
        lock.release()
    table = Table(title="Automations")
    for column in ("automation", "done", "skipped", "off", "failed", "duplicates", "cursor"):
        table.add_column(column, justify="left" if column == "automation" else "right")
    for name, summary in totals.items():
        table.add_row(
            name,
            *(str(summary.outcomes[k]) for k in ("done", "skipped", "off", "failed")),
            str(summary.duplicates),
            str(summary.cursor),
        )
    console.print(table)
