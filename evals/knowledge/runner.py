"""Recall@1/3/5 and MRR of the knowledge search, per mode, on the labelled queries.

A query is answered at k when one of the articles labelled for it (any of them answers it) is
among the first k results; MRR is the mean of 1 / rank of the first answering article within
the first 10 (0 when none). The search runs on a database holding exactly the demo articles
(`<data_dir>/evals/knowledge.db`, rebuilt each run; its index is reused while the articles are
unchanged), or on the database given.
"""

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from core.settings import get_settings
from db import migrate
from db.demo.articles import load_articles
from db.engine import create_db_engine
from db.models import Article, ArticleStatus
from knowledge.embeddings import _cached_query
from knowledge.index import index_for
from knowledge.search import MODES, Mode, search

QUERIES = Path(__file__).parent / "queries.jsonl"
CUTOFFS = (1, 3, 5)
MRR_DEPTH = 10
DEMO_ARTICLES_CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class LabelledQuery:
    query: str
    relevant: tuple[str, ...]


@dataclass
class ModeResult:
    mode: str
    queries: int
    recall: dict[int, float]
    mrr: float
    mean_ms: float
    misses: list[dict[str, object]] = field(default_factory=list)


def load_queries(path: Path = QUERIES) -> list[LabelledQuery]:
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(LabelledQuery(row["query"], tuple(row["relevant"])))
    return queries


def demo_articles_engine(folder: Path | None = None) -> sa.Engine:
    """A fresh SQLite database holding the 61 demo articles, always with the same ids and
    times, so its search index is reused from one run to the next."""
    folder = folder or Path(get_settings().data_dir) / "evals"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "knowledge.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path.resolve()}"
    migrate.upgrade(url)
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Article),
            [
                {
                    "id": number,
                    "slug": article.slug,
                    "title": article.title,
                    "category": article.category,
                    "tags": article.tags,
                    "body": article.body,
                    "status": ArticleStatus.PUBLISHED,
                    "helpful_count": 0,
                    "not_helpful_count": 0,
                    "created_at": DEMO_ARTICLES_CREATED,
                }
                for number, article in enumerate(load_articles(), start=1)
            ],
        )
    return engine


def evaluate(
    engine: sa.Engine, queries: list[LabelledQuery], modes: tuple[Mode, ...] = MODES
) -> list[ModeResult]:
    index_for(engine).ensure_fresh()
    results = []
    for mode in modes:
        hits = dict.fromkeys(CUTOFFS, 0)
        reciprocal = 0.0
        misses: list[dict[str, object]] = []
        _cached_query.cache_clear()  # every mode pays for its query embeddings
        started = time.perf_counter()
        for labelled in queries:
            ranked = [p.slug for p in search(engine, labelled.query, k=MRR_DEPTH, mode=mode)]
            rank = next((i for i, s in enumerate(ranked, 1) if s in labelled.relevant), None)
            for cutoff in CUTOFFS:
                hits[cutoff] += rank is not None and rank <= cutoff
            reciprocal += 1 / rank if rank else 0.0
            if rank is None or rank > 3:
                misses.append(
                    {
                        "query": labelled.query,
                        "relevant": labelled.relevant,
                        "rank": rank,
                        "got": ranked[:3],
                    }
                )
        elapsed = time.perf_counter() - started
        total = len(queries)
        results.append(
            ModeResult(
                mode=mode,
                queries=total,
                recall={c: hits[c] / total for c in CUTOFFS},
                mrr=reciprocal / total,
                mean_ms=elapsed / total * 1000,
                misses=misses,
            )
        )
    return results


def print_report(results: list[ModeResult], console: Console, show_misses: bool = False) -> None:
    table = Table(title=f"Knowledge search on {results[0].queries} labelled queries")
    table.add_column("mode")
    for cutoff in CUTOFFS:
        table.add_column(f"recall@{cutoff}", justify="right")
    table.add_column(f"MRR@{MRR_DEPTH}", justify="right")
    table.add_column("ms/query", justify="right")
    for result in results:
        table.add_row(
            result.mode,
            *(f"{result.recall[c]:.3f}" for c in CUTOFFS),
            f"{result.mrr:.3f}",
            f"{result.mean_ms:.1f}",
        )
    console.print(table)
    if show_misses:
        for result in results:
            for miss in result.misses:
                console.print(f"[dim]{result.mode}[/] rank {miss['rank']}: {miss['query']}")
                console.print(f"    want {', '.join(miss['relevant'])}")  # type: ignore[arg-type]
                console.print(f"    got  {', '.join(miss['got'])}")  # type: ignore[arg-type]


def as_json(results: list[ModeResult]) -> str:
    return json.dumps([asdict(r) for r in results], indent=2)
