"""Knowledge search speed: query latency at 1,000 and 10,000 articles, and indexing throughput.

    uv run python -m benchmarks.kb_speed [--sizes 1000,10000] [--cold-articles 12] [--json]

Articles: variants of the 61 demo articles (a new title, one section left out in turn), in a
temporary SQLite database and a temporary local Chroma folder; nothing touches data/.

Latency: the 79 labelled queries of evals/knowledge, each twice, with the query embedding
computed every time (the in-process query cache is cleared), including the index freshness
check each search does. Keyword-only search, measured in the same run, is the baseline.

Indexing: the real pipeline (chunk, embed with the local model, write to Chroma, BM25) on
the first demo articles with an empty embedding cache, then the same articles again from the
cache. The 1,000 and 10,000 article indexes reuse the demo passages' real vectors for their
variants (plus 1% noise, so no two are equal): embedding 60,000 passages with the local model
on this machine's CPU would take hours (see the embedding rate printed).
"""

import argparse
import json
import os
import statistics
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

console = Console()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--cold-articles", type=int, default=12)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="kb_speed_"))
    os.environ["COMPTOIR_DATA_DIR"] = str(folder / "data")
    os.environ.pop("CHROMA_URL", None)
    figures = run(folder, [int(s) for s in args.sizes.split(",")], args.cold_articles)
    if args.json:
        print(json.dumps(figures, indent=2))


def run(folder: Path, sizes: list[int], cold_articles: int) -> dict[str, Any]:
    from db import migrate
    from db.demo.articles import ArticleFile, load_articles
    from db.engine import create_db_engine
    from db.models import Article, ArticleStatus
    from evals.knowledge.runner import DEMO_ARTICLES_CREATED, load_queries
    from knowledge.chunking import chunk_article
    from knowledge.embedding_cache import EmbeddingCache, embed_passages
    from knowledge.embeddings import MODEL_ID, LocalEmbedder, _cached_query, get_embedder
    from knowledge.index import KnowledgeIndex
    from knowledge.search import search
    from knowledge.store import StoreLocation

    demo = load_articles()

    def database(name: str, articles: list[ArticleFile]) -> sa.Engine:
        url = f"sqlite:///{folder / name}.db"
        migrate.upgrade(url)
        engine = create_db_engine(url)
        with engine.begin() as connection:
            for start in range(0, len(articles), 2000):
                connection.execute(
                    sa.insert(Article),
                    [
                        {
                            "id": start + n,
                            "slug": a.slug,
                            "title": a.title,
                            "category": a.category,
                            "tags": a.tags,
                            "body": a.body,
                            "status": ArticleStatus.PUBLISHED,
                            "helpful_count": 0,
                            "not_helpful_count": 0,
                            "created_at": DEMO_ARTICLES_CREATED,
                        }
                        for n, a in enumerate(articles[start : start + 2000], start=1)
                    ],
                )
        return engine

    location = StoreLocation(url=None, folder=folder / "chroma")
    figures: dict[str, Any] = {"indexing": {}, "latency": {}}

    # -- indexing, real embeddings -----------------------------------------------------------
    cold = demo[:cold_articles]
    engine = database("cold", cold)
    cache = EmbeddingCache(folder / "cache.sqlite3", MODEL_ID)
    get_embedder().embed(["warm up the model"])
    table = Table(title="Indexing (chunk, embed, Chroma, BM25)")
    for column in (
        "run",
        "articles",
        "passages",
        "embedded",
        "seconds",
        "passages/s",
        "articles/s",
    ):
        table.add_column(column, justify="right" if column != "run" else "left")
    for label in ("empty embedding cache", "embedding cache filled"):
        index = KnowledgeIndex(engine, location, cache=cache)
        report = index.rebuild()
        row = {
            "articles": report.articles,
            "passages": report.passages,
            "embedded": report.embedded,
            "seconds": round(report.seconds, 2),
            "passages_per_s": round(report.passages / report.seconds, 1),
            "articles_per_s": round(report.articles / report.seconds, 2),
        }
        figures["indexing"][label] = row
        table.add_row(label, *(str(v) for v in row.values()))
    console.print(table)
    embed_rate = figures["indexing"]["empty embedding cache"]["passages_per_s"]

    # -- latency at scale, vectors reused ---------------------------------------------------
    base_vectors: dict[str, np.ndarray] = {}
    article_vectors: dict[str, np.ndarray] = {}
    for number, article in enumerate(demo, start=1):
        chunks = chunk_article(number, article.title, article.body)
        texts = [c.text for c in chunks]
        vectors, _ = embed_passages(texts, cache)
        for chunk, vector in zip(chunks, vectors, strict=True):
            base_vectors[chunk.text.split("\n", 1)[1]] = vector
        article_vectors[article.slug] = vectors.mean(axis=0)

    class ReusedVectors(LocalEmbedder):
        """The demo passages' real vectors for their variants, plus 1% deterministic noise."""

        def embed(self, texts: list[str]) -> np.ndarray:
            rows = []
            for text in texts:
                title, _, rest = text.partition("\n")
                slug = variant_of[title]
                vector = base_vectors.get(rest, article_vectors[slug])
                noise = np.random.default_rng(zlib.crc32(text.encode())).normal(0, 0.01, 384)
                mixed = vector + noise.astype(np.float32)
                rows.append(mixed / np.linalg.norm(mixed))
            return np.asarray(rows, dtype=np.float32)

    variant_of: dict[str, str] = {}

    def variants(count: int) -> list[ArticleFile]:
        made = []
        for number in range(count):
            article = demo[number % len(demo)]
            edition = number // len(demo)
            sections = article.body.split("\n## ")
            if edition and len(sections) > 2:
                del sections[1 + edition % (len(sections) - 1)]
            title = article.title if not edition else f"{article.title} (site note {edition})"
            variant_of[title] = article.slug
            made.append(
                ArticleFile(
                    slug=f"{article.slug}-{edition}" if edition else article.slug,
                    title=title,
                    category=article.category,
                    tags=article.tags,
                    body="\n## ".join(sections),
                )
            )
        return made

    queries = [q.query for q in load_queries()]
    latency = Table(title="Search latency (query embedding included), ms")
    for column in (
        "articles",
        "passages",
        "build s",
        "passages/s",
        "mode",
        "p50",
        "p95",
        "p95 / keyword p95",
    ):
        latency.add_column(column, justify="right" if column != "mode" else "left")
    for size in sizes:
        engine = database(f"size{size}", variants(size))
        index = KnowledgeIndex(engine, location, embedder=ReusedVectors(), cache=None)
        started = time.perf_counter()
        report = index.rebuild()
        build = time.perf_counter() - started
        per_mode: dict[str, dict[str, float]] = {}
        for mode in ("keyword", "vector", "hybrid"):
            samples = []
            for query in queries * 2:
                _cached_query.cache_clear()
                began = time.perf_counter()
                search(engine, query, k=5, mode=mode, index=index)  # type: ignore[arg-type]
                samples.append((time.perf_counter() - began) * 1000)
            per_mode[mode] = {
                "p50_ms": round(statistics.median(samples), 2),
                "p95_ms": round(percentile(samples, 0.95), 2),
            }
        figures["latency"][str(size)] = {
            "articles": report.articles,
            "passages": report.passages,
            "build_seconds": round(build, 1),
            "build_passages_per_s": round(report.passages / build, 1),
            "modes": per_mode,
        }
        for mode, values in per_mode.items():
            latency.add_row(
                f"{size:,}",
                f"{report.passages:,}",
                f"{build:.1f}",
                f"{report.passages / build:,.0f}",
                mode,
                f"{values['p50_ms']:.1f}",
                f"{values['p95_ms']:.1f}",
                f"{values['p95_ms'] / per_mode['keyword']['p95_ms']:.2f}",
            )
        engine.dispose()
    console.print(latency)
    biggest = max(figures["latency"].values(), key=lambda f: f["passages"])
    console.print(
        f"Embedding rate on this machine: {embed_rate} passages/s, so the real vectors of "
        f"{biggest['passages']:,} passages would take about "
        f"{biggest['passages'] / embed_rate / 60:.0f} min; the scaled indexes reuse the demo's."
    )
    return figures


if __name__ == "__main__":
    main()
