"""`comptoir eval run|check`: the offline eval suite (evals/)."""

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from cli.console import console, errors, fail
from core.settings import get_settings
from evals.cases import Case, CaseFileError, load_cases
from evals.metrics import Judged, metric_names, per_agent, summarize
from evals.report import write_report
from evals.runner import Runner, SeededCopies, check_case, check_gold, eval_environment, run_suite
from graph.models import Models, models_from_settings

eval_app = typer.Typer(help="Evaluate the assistant on merchant requests.", no_args_is_help=True)

DatasetArg = Annotated[Path, typer.Argument(help="A .jsonl file of cases, or a folder of them.")]


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,  # stderr: --json keeps standard output for the JSON
    )


def _load(dataset: Path, agent: str | None, limit: int | None) -> list[Case]:
    try:
        cases = load_cases(dataset)
    except CaseFileError as error:
        fail(str(error))
        raise
    if agent is not None:
        cases = [c for c in cases if c.stratum == agent or agent in c.expect.agents]
    return cases[:limit] if limit is not None else cases


def models_named(name: str) -> Models:
    """`offline`; `scripted:obey`, the offline planner obeying every instruction planted in
    the data (evals.obeying, for evals/injection.jsonl); or `openai:<model>` on the
    configured OpenAI-compatible endpoint."""
    settings = get_settings()
    if name == "offline":
        return models_from_settings(settings.model_copy(update={"offline": True}))
    if name == "scripted:obey":
        from evals.obeying import ObeyingModel

        obeying = ObeyingModel()
        return Models(name=name, supervisor=obeying, default=obeying)
    if name.startswith("openai:") and len(name) > len("openai:"):
        if not (settings.openai_api_key or settings.openai_base_url):
            fail(f"--model {name} needs OPENAI_API_KEY or OPENAI_BASE_URL")
        chosen = name.removeprefix("openai:")
        update = {"offline": False, "agent_model": chosen, "router_model": None}
        return models_from_settings(settings.model_copy(update=update))
    raise typer.BadParameter(
        "use offline, scripted:obey or openai:<model name>", param_hint="--model"
    )


@eval_app.command("run")
def run(
    dataset: DatasetArg,
    model: Annotated[
        str, typer.Option(help="offline, scripted:obey, or openai:<model name>.")
    ] = "offline",
    k: Annotated[int, typer.Option("--k", min=1, help="Runs per case, for pass^k.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option(help="Write report.md and report.html into this folder.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N cases.")] = None,
    agent: Annotated[str | None, typer.Option(help="Only the cases of this agent.")] = None,
    min_routing: Annotated[
        float | None, typer.Option(help="Exit 1 when routing accuracy is below this.")
    ] = None,
    min_success: Annotated[
        float | None, typer.Option(help="Exit 1 when task success is below this.")
    ] = None,
    metrics_only: Annotated[
        bool,
        typer.Option(
            "--metrics-only",
            help="Print the metrics and the per-agent table, not the failing cases: for a "
            "held-out split, whose failures must stay out of sight of whoever tunes.",
        ),
    ] = False,
) -> None:
    """Run the cases, each on a fresh copy of the seeded demo, and score them."""
    cases = _load(dataset, agent, limit)
    if not cases:
        fail("no case to run")
    models = models_named(model)
    from graph.router import Router

    with _progress() as progress, tempfile.TemporaryDirectory() as data_dir:
        task = progress.add_task("seeding the demo", total=len(cases) * k, status="")
        with SeededCopies.seeded() as copies, eval_environment(Path(data_dir)):
            runner = Runner(copies, lambda _case: models, router=Router())
            progress.update(task, description=f"{dataset.name} ({model})")
            passed = 0

            def advance(judged: Judged) -> None:
                nonlocal passed
                passed += judged.success
                done = progress.tasks[0].completed + 1
                progress.update(task, advance=1, status=f"{passed}/{done:.0f} succeed")

            runs = run_suite(runner, cases, k=k, on_run=advance)
    metrics = summarize(runs)
    if as_json:
        print(
            json.dumps(
                {"cases": len(cases), "metrics": metrics, "per_case": [r.json() for r in runs]},
                ensure_ascii=False,
                default=str,
            )
        )
    else:
        _print_tables(metrics, runs, len(cases), model, failing=not metrics_only)
    if report is not None:
        title = f"Comptoir eval: {dataset.name}, {model}"
        paths = write_report(report, title, cases, runs, metrics)
        errors.print("report: " + ", ".join(str(p) for p in paths))
    _check_floors(metrics, min_routing, min_success)


def _print_tables(
    metrics: dict[str, object], runs: list[Judged], cases: int, model: str, failing: bool
) -> None:
    table = Table(title=f"{cases} cases, {len(runs)} runs, model {model}", show_edge=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in metric_names(metrics):
        value = metrics[name]
        table.add_row(name, "n/a" if value is None else f"{value:g}")
    console.print(table)
    agents = Table(title="per agent", show_edge=False)
    for column in ("agent", "runs", "routing", "success"):
        agents.add_column(column, justify="left" if column == "agent" else "right")
    for name, row in per_agent(runs).items():
        agents.add_row(name, str(row["runs"]), f"{row['routing_accuracy']:.2f}",
                       f"{row['task_success']:.2f}")  # fmt: skip
    console.print(agents)
    failed = [r for r in runs if not r.success] if failing else []
    if failed:
        fails = Table(title=f"failing runs ({len(failed)})", show_edge=False)
        for column in ("case", "failed", "agents", "tools"):
            fails.add_column(column)
        for run in failed[:40]:
            fails.add_row(
                run.case_id,
                ", ".join(run.failures())[:60],
                ", ".join(run.observed.agents) or "none",
                ", ".join(c["tool"] for c in run.observed.tool_calls)[:60],
            )
        console.print(fails)


def _check_floors(
    metrics: Mapping[str, Any], min_routing: float | None, min_success: float | None
) -> None:
    below = [
        f"{name} {metrics[name]} is below the floor {floor}"
        for name, floor in (("routing_accuracy", min_routing), ("task_success", min_success))
        if floor is not None and float(metrics[name] or 0.0) < floor
    ]
    if below:
        fail("; ".join(below))


@eval_app.command("check")
def check(
    datasets: Annotated[list[Path], typer.Argument(help="Case files or folders.")],
) -> None:
    """Check cases without a model: known tools and roles, unique ids, and every gold list
    replayed twice on fresh copies of the demo (each call must succeed, both replays must
    give the same state)."""
    cases: list[Case] = []
    for dataset in datasets:
        cases += _load(dataset, None, None)
    ids = [c.id for c in cases]
    problems = [f"case id {i!r} is in two datasets" for i in sorted(set(ids)) if ids.count(i) > 1]
    for case in cases:
        problems += check_case(case)
    with _progress() as progress, tempfile.TemporaryDirectory() as data_dir:
        task = progress.add_task("seeding the demo", total=len(cases), status="")
        with SeededCopies.seeded() as copies, eval_environment(Path(data_dir)):
            progress.update(task, description="replaying gold")
            for case in cases:
                problem = check_gold(case, copies)
                if problem:
                    problems.append(problem)
                progress.update(task, advance=1, status=f"{len(problems)} problem(s)")
    for problem in problems:
        errors.print(f"[red]x[/] {problem}")
    if problems:
        fail(f"{len(problems)} problem(s) in {len(cases)} cases")
    writes = sum(bool(c.gold) for c in cases)
    console.print(f"{len(cases)} cases are sound ({writes} with gold calls replayed twice).")
