"""Search the help articles: vector, keyword (BM25), or both fused (the default).

    from knowledge.search import search
    passages = search(engine_or_session, "what's our policy on opened items?", k=5)

Each arm scores passages (cosine similarity, BM25) and an article takes the score of its best
passage. Hybrid fuses the arms by relative score fusion: each arm's scores are scaled to 0..1
between its weakest and best candidate, then averaged (weights 0.5 / 0.5), so a passage one arm
is sure of keeps its lead where the other arm has nothing to say. (Reciprocal rank fusion,
measured on the same labelled queries, ranked the answering article first less often: MRR
0.868 against 0.899; see evals/knowledge.) The result is then nudged by staff feedback: an
article found helpful gains up to FEEDBACK_WEIGHT, one found unhelpful loses as much, smoothed
so that a handful of votes moves it only a little. One passage per article is returned: the
one with the best fused score.
"""

from collections.abc import Iterable
from typing import Literal

import httpx
import numpy as np
import sqlalchemy as sa
from chromadb.errors import ChromaError
from pydantic import BaseModel, Field
from sqlmodel import Session

from knowledge.embeddings import get_embedder
from knowledge.index import KnowledgeIndex, index_for
from knowledge.keyword import query_words, stem
from knowledge.store import VectorStoreUnavailable

Mode = Literal["hybrid", "vector", "keyword"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "keyword")

CANDIDATES = 60  # passages each arm hands to the fusion
VECTOR_WEIGHT = 0.5
KEYWORD_WEIGHT = 0.5
FEEDBACK_WEIGHT = 0.1
FEEDBACK_PRIOR = 5  # votes it takes to move half of FEEDBACK_WEIGHT


class Passage(BaseModel):
    article_id: int
    slug: str
    title: str
    category: str
    section: str = Field(description="The section heading of the passage; empty for the intro.")
    text: str = Field(description="The passage: title, section heading and section text.")
    score: float = Field(description="The rank score of the mode: fused, cosine or BM25.")
    vector_score: float | None = Field(description="Cosine similarity of the best passage.")
    keyword_score: float | None = Field(description="BM25 score of the best passage.")
    vector_rank: int | None
    keyword_rank: int | None
    helpful_count: int
    not_helpful_count: int
    matched: list[str] = Field(description="Query words found in the article.")


def _engine(source: sa.Engine | Session) -> sa.Engine:
    if isinstance(source, sa.Engine):
        return source
    bind = source.get_bind()
    return bind if isinstance(bind, sa.Engine) else bind.engine


def _article_ranking(
    index: KnowledgeIndex, chunk_scores: Iterable[tuple[str, float]]
) -> dict[int, tuple[int, str, float]]:
    """article id -> (rank from 1, best chunk id, its score), from chunks best first."""
    ranking: dict[int, tuple[int, str, float]] = {}
    for chunk_id, score in chunk_scores:
        article_id = index.chunks[chunk_id].article_id
        if article_id not in ranking:
            ranking[article_id] = (len(ranking) + 1, chunk_id, score)
    return ranking


def _keyword_chunks(
    index: KnowledgeIndex, query: str, category: str | None
) -> list[tuple[str, float]]:
    scores, _known = index.bm25.scores(query)
    positive = np.flatnonzero(scores > 0)
    if category:
        keep = [
            slot
            for slot in positive
            if index.articles[index.chunks[index.chunk_of_slot[int(slot)]].article_id].category
            == category
        ]
        positive = np.array(keep, dtype=np.int64)
    if len(positive) > CANDIDATES:
        top = positive[np.argpartition(-scores[positive], CANDIDATES)[:CANDIDATES]]
    else:
        top = positive
    ordered = sorted(top, key=lambda s: (-scores[s], s))
    return [(index.chunk_of_slot[int(s)], float(scores[s])) for s in ordered]


def _normalised(chunks: list[tuple[str, float]]) -> dict[str, float]:
    """An arm's scores scaled to 0..1 between its weakest and its best candidate passage."""
    if not chunks:
        return {}
    scores = dict(chunks)
    low, high = min(scores.values()), max(scores.values())
    if high <= low:
        return dict.fromkeys(scores, 1.0)
    return {a: (s - low) / (high - low) for a, s in scores.items()}


def _feedback_factor(helpful: int, not_helpful: int) -> float:
    return 1.0 + FEEDBACK_WEIGHT * (helpful - not_helpful) / (
        helpful + not_helpful + FEEDBACK_PRIOR
    )


def search(
    source: sa.Engine | Session,
    query: str,
    k: int = 5,
    mode: Mode = "hybrid",
    category: str | None = None,
    index: KnowledgeIndex | None = None,
) -> list[Passage]:
    """The k best passages (one per article) of the published articles for the query.

    `source` is an engine or a session of the database; the index reads committed articles
    only and catches up with them before searching. `index` overrides the database's index
    in the configured store (benchmarks build their own).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    index = index or index_for(_engine(source))
    vector = get_embedder().embed_one(query) if mode != "keyword" else None
    with index.lock:
        try:
            index.ensure_fresh()
            vector_chunks = (
                index.nearest(vector, CANDIDATES, category) if vector is not None else []
            )
        except (httpx.HTTPError, ChromaError, OSError) as error:
            raise VectorStoreUnavailable(f"{index.location.describe()}: {error}") from error
        keyword_chunks = _keyword_chunks(index, query, category) if mode != "vector" else []
        by_vector = _article_ranking(index, vector_chunks)
        by_keyword = _article_ranking(index, keyword_chunks)
        vector_norm, keyword_norm = _normalised(vector_chunks), _normalised(keyword_chunks)
        fused = {
            chunk_id: VECTOR_WEIGHT * vector_norm.get(chunk_id, 0.0)
            + KEYWORD_WEIGHT * keyword_norm.get(chunk_id, 0.0)
            for chunk_id in vector_norm.keys() | keyword_norm.keys()
        }
        best: dict[int, str] = {}  # article -> its passage with the best fused score
        for chunk_id in sorted(fused, key=lambda c: (-fused[c], c)):
            best.setdefault(index.chunks[chunk_id].article_id, chunk_id)
        scored: list[tuple[float, int]] = []
        for article_id in best:
            entry = index.articles[article_id]
            if mode == "vector":
                score = by_vector[article_id][2]
            elif mode == "keyword":
                score = by_keyword[article_id][2]
            else:
                score = (
                    VECTOR_WEIGHT * vector_norm.get(by_vector[article_id][1], 0.0)
                    if article_id in by_vector
                    else 0.0
                ) + (
                    KEYWORD_WEIGHT * keyword_norm.get(by_keyword[article_id][1], 0.0)
                    if article_id in by_keyword
                    else 0.0
                )
                score *= _feedback_factor(entry.helpful, entry.not_helpful)
            scored.append((score, article_id))
        scored.sort(key=lambda item: (-item[0], item[1]))
        words = query_words(query)
        return [
            _passage(index, article_id, score, best[article_id], by_vector, by_keyword, words)
            for score, article_id in scored[:k]
        ]


def _passage(
    index: KnowledgeIndex,
    article_id: int,
    score: float,
    chunk_id: str,
    by_vector: dict[int, tuple[int, str, float]],
    by_keyword: dict[int, tuple[int, str, float]],
    words: list[str],
) -> Passage:
    entry = index.articles[article_id]
    chunk = index.chunks[chunk_id]
    slots = [index.slots[c] for c in entry.chunk_ids if c in index.slots]
    matched = [w for w in words if any(index.bm25.has_term(s, stem(w)) for s in slots)]
    vector_hit, keyword_hit = by_vector.get(article_id), by_keyword.get(article_id)
    return Passage(
        article_id=article_id,
        slug=entry.slug,
        title=entry.title,
        category=entry.category,
        section=chunk.section,
        text=chunk.text,
        score=round(score, 6),
        vector_score=round(vector_hit[2], 4) if vector_hit else None,
        keyword_score=round(keyword_hit[2], 4) if keyword_hit else None,
        vector_rank=vector_hit[0] if vector_hit else None,
        keyword_rank=keyword_hit[0] if keyword_hit else None,
        helpful_count=entry.helpful,
        not_helpful_count=entry.not_helpful,
        matched=matched,
    )
