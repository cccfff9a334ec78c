"""`comptoir kb ...`: the help-article search index."""

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.console import console, counting_progress, fail
from core.settings import get_settings
from db.engine import create_db_engine, describe_url
from knowledge.index import index_for
from knowledge.search import MODES, search

kb_app = typer.Typer(help="The help-article search index.", no_args_is_help=True)


def _engine():  # type: ignore[no-untyped-def]
    return create_db_engine(get_settings().resolved_database_url)


@kb_app.command("reindex")
def reindex() -> None:
    """Rebuild the search index of the published articles from scratch."""
    engine = _engine()
    index = index_for(engine)
    console.print(
        f"Indexing the published articles of {describe_url(str(engine.url))} "
        f"into {index.location.describe()}."
    )
    with counting_progress("passages") as progress:
        task = progress.add_task("passages", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        report = index.rebuild(progress=advance)
    table = Table(show_edge=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("articles", f"{report.articles:,}")
    table.add_row("passages", f"{report.passages:,}")
    table.add_row("passages embedded", f"{report.embedded:,}")
    table.add_row("passages from the embedding cache", f"{report.passages - report.embedded:,}")
    table.add_row("seconds", f"{report.seconds:.1f}")
    if report.seconds:
        table.add_row("articles / s", f"{report.articles / report.seconds:.1f}")
    console.print(table)
    console.print(f"Collection [bold]{index.name}[/].")


@kb_app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="A question or keywords.")],
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=50, help="How many articles.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, vector or keyword.")] = "hybrid",
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON list of passages.")] = False,
) -> None:
    """Search the published help articles, best passage of each article first."""
    if mode not in MODES:
        raise typer.BadParameter(
            f"{mode!r} is not a mode; choose {', '.join(MODES)}", param_hint="--mode"
        )
    if not query.strip():
        fail("the query is empty")
    passages = search(_engine(), query, k=k, mode=mode, category=category)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps([p.model_dump() for p in passages], ensure_ascii=False, indent=2))
        return
    if not passages:
        console.print("No published article matches.")
        return
    table = Table(show_edge=False, show_lines=True)
    for column in ("#", "article", "section", "score", "vector", "keyword"):
        table.add_column(column, justify="right" if column in ("#", "score") else "left")
    for rank, passage in enumerate(passages, start=1):
        table.add_row(
            str(rank),
            f"[bold]{passage.title}[/]\n{passage.slug} (id {passage.article_id})",
            passage.section or "(introduction)",
            f"{passage.score:.4f}",
            f"{passage.vector_score:.3f} (#{passage.vector_rank})" if passage.vector_rank else "",
            f"{passage.keyword_score:.2f} (#{passage.keyword_rank})"
            if passage.keyword_rank
            else "",
        )
    console.print(table)
    best = passages[0]
    console.print(f"\n[bold]{best.title}[/] (article {best.article_id})\n{best.text}")


@kb_app.command("eval")
def eval_command(
    as_json: Annotated[bool, typer.Option("--json", help="The figures as JSON.")] = False,
    misses: Annotated[bool, typer.Option(help="List the queries not answered at 3.")] = False,
) -> None:
    """Recall@1/3/5 and MRR of each search mode on the labelled demo queries."""
    from evals.knowledge.runner import (
        as_json as results_json,
    )
    from evals.knowledge.runner import (
        demo_articles_engine,
        evaluate,
        load_queries,
        print_report,
    )

    results = evaluate(demo_articles_engine(), load_queries())
    if as_json:
        print(results_json(results))
    else:
        print_report(results, console, show_misses=misses)
