"""The search index of one database's published articles, kept in step with the articles table.

Sync happens on search, not on write: each search first reads a one-row fingerprint of the
articles (count, highest id, latest article event) and, when it moved, diffs article versions
(status and updated_at) and re-indexes only what changed. Why not an after-commit
hook: the fingerprint reads committed rows only, so a rolled-back transaction can never reach
the index; writes from another process (a second server worker, the CLI, the seeder) are seen
too; and a failed vector write is simply retried by the next search instead of leaving the
index behind for good. The price is one small aggregate query per search.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from chromadb.api.models.Collection import Collection
from sqlmodel import col

from core.settings import get_settings
from db.base import as_utc
from db.locks import DatabaseLock
from db.models import Article, ArticleStatus, DomainEvent
from knowledge.chunking import Chunk, chunk_article
from knowledge.embedding_cache import EmbeddingCache, embed_passages
from knowledge.embeddings import MODEL_ID, LocalEmbedder
from knowledge.keyword import BM25
from knowledge.store import (
    StoreLocation,
    as_lists,
    client_for,
    collection_name,
    create_collection,
    current_location,
    database_key,
    open_collection,
)

Progress = Callable[[int, int], None]  # (passages done, passages in all)
ADD_BATCH = 1000
FULL_CHECK_SECONDS = 30.0


@dataclass
class ArticleEntry:
    id: int
    slug: str
    title: str
    category: str
    tags: list[str]
    version: str
    helpful: int
    not_helpful: int
    chunk_ids: list[str] = field(default_factory=list)


@dataclass
class SyncReport:
    articles: int = 0  # published articles in the index after the sync
    passages: int = 0
    added: int = 0  # articles (re)indexed
    removed: int = 0
    embedded: int = 0  # passages whose vectors were computed (the rest came from the cache)
    seconds: float = 0.0


def _version(created: Any, updated: Any) -> str:
    moment = as_utc(updated) or as_utc(created)
    return moment.isoformat() if moment else ""


class KnowledgeIndex:
    """Passages of one database's published articles: vectors in Chroma, BM25 in memory."""

    def __init__(
        self,
        engine: sa.Engine,
        location: StoreLocation,
        embedder: LocalEmbedder | None = None,
        cache: EmbeddingCache | None = None,
    ) -> None:
        self.engine = engine
        self.location = location
        self.name = collection_name(engine)
        self.embedder = embedder
        self.cache = cache
        self.lock = threading.RLock()
        self.sync_lock = DatabaseLock(engine, f"knowledge.{self.name}")
        self.collection: Collection | None = None
        self.articles: dict[int, ArticleEntry] = {}
        self.chunks: dict[str, Chunk] = {}
        self.slots: dict[str, int] = {}
        self.chunk_of_slot: dict[int, str] = {}
        self.bm25 = BM25()
        self._fingerprint: tuple[Any, ...] | None = None
        self._checked_at = 0.0

    # -- reading the database -------------------------------------------------------------

    def fingerprint(self, connection: sa.Connection) -> tuple[Any, ...]:
        """Moves with every article write: tools record an article event in the same
        transaction (create, update, status change, delete, feedback), and the count and
        the highest id catch rows written around the tools (seeding, imports). Served by
        indexes alone; articles rows are wide, and scanning them costs milliseconds."""
        last_event = (
            sa.select(sa.func.max(DomainEvent.id))
            .where(col(DomainEvent.entity_type) == "article")
            .scalar_subquery()
        )
        statement = sa.select(sa.func.count(), sa.func.max(Article.id), last_event).select_from(
            Article
        )
        return tuple(connection.execute(statement).one())

    def _published(self, connection: sa.Connection) -> dict[int, ArticleEntry]:
        rows = connection.execute(
            sa.select(
                col(Article.id),
                col(Article.slug),
                col(Article.title),
                col(Article.category),
                col(Article.tags),
                col(Article.created_at),
                col(Article.updated_at),
                col(Article.helpful_count),
                col(Article.not_helpful_count),
            ).where(col(Article.status) == ArticleStatus.PUBLISHED)
        ).all()
        return {
            row.id: ArticleEntry(
                id=row.id,
                slug=row.slug,
                title=row.title,
                category=row.category,
                tags=[str(t) for t in row.tags or []],
                version=_version(row.created_at, row.updated_at),
                helpful=row.helpful_count,
                not_helpful=row.not_helpful_count,
            )
            for row in rows
        }

    def _bodies(self, connection: sa.Connection, ids: list[int]) -> dict[int, str]:
        bodies: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            statement = sa.select(col(Article.id), col(Article.body)).where(
                col(Article.id).in_(batch)
            )
            bodies.update({row.id: row.body for row in connection.execute(statement)})
        return bodies

    # -- keeping in step ------------------------------------------------------------------

    def ensure_fresh(self, progress: Progress | None = None) -> SyncReport | None:
        """Bring the index in step with the committed articles; None when nothing moved.

        Besides the fingerprint, article versions are compared in full every
        FULL_CHECK_SECONDS, for edits made outside the tools (raw SQL) that move neither."""
        with self.lock:
            with self.engine.connect() as connection:
                fingerprint = self.fingerprint(connection)
            due = time.monotonic() - self._checked_at > FULL_CHECK_SECONDS
            if fingerprint == self._fingerprint and not due:
                return None
            return self._sync_alone(progress, rebuild=False)

    def rebuild(self, progress: Progress | None = None) -> SyncReport:
        """Drop the collection and index every published article again."""
        with self.lock:
            return self._sync_alone(progress, rebuild=True)

    def _sync_alone(self, progress: Progress | None, *, rebuild: bool) -> SyncReport:
        # Server workers and `kb reindex` share the collection: one process writes it at a
        # time, so two never embed every article at once nor drop it under another's writes;
        # the next one in reuses the vectors it finds (first sync in a process).
        # Taken before the read transaction, so none stays open while it waits.
        with self.sync_lock.acquired(), self.engine.connect() as connection:
            fingerprint = self.fingerprint(connection)
            report = self._sync_or_forget(connection, progress, rebuild=rebuild)
            self._fingerprint, self._checked_at = fingerprint, time.monotonic()
            return report

    def _sync_or_forget(
        self, connection: sa.Connection, progress: Progress | None, *, rebuild: bool
    ) -> SyncReport:
        try:
            return self._sync(connection, progress, rebuild=rebuild)
        except BaseException:
            # Start the next sync from what Chroma really holds, not from a half-done state.
            self._fingerprint, self.collection = None, None
            self._reset_memory()
            raise

    def _sync(
        self, connection: sa.Connection, progress: Progress | None, *, rebuild: bool
    ) -> SyncReport:
        started = time.perf_counter()
        current = self._published(connection)
        client = client_for(self.location)
        if rebuild:
            self.collection = create_collection(client, self.name, database_key(self.engine))
            self._reset_memory()
        elif self.collection is None:
            self.collection = open_collection(client, self.name, database_key(self.engine))
        if self._fingerprint is None and not rebuild:
            # First sync in this process: the keyword index is built from the database, the
            # vectors are reused from Chroma where their article version still matches.
            stored = self._stored_versions()
            self._reset_memory()
            stale_vectors = {i for i, v in stored.items() if current.get(i, None) is None}
            stale_vectors |= {i for i, e in current.items() if stored.get(i) != e.version}
            to_index = sorted(current)
        else:
            known = self.articles
            stale_vectors = {i for i in known if i not in current}
            stale_vectors |= {i for i, e in current.items() if known.get(i, e).version != e.version}
            stale_vectors |= {i for i in current if i not in known}
            to_index = sorted(i for i in stale_vectors if i in current)
        report = SyncReport(removed=sum(1 for i in stale_vectors if i not in current))
        for article_id in list(self.articles):
            if article_id in stale_vectors:
                self._forget(article_id)
        if stale_vectors and not rebuild:
            self._delete_vectors(sorted(stale_vectors))
        bodies = self._bodies(connection, to_index)
        new_chunks: list[Chunk] = []
        for article_id in to_index:
            entry = current[article_id]
            chunks = chunk_article(article_id, entry.title, bodies.get(article_id, ""))
            entry.chunk_ids = [c.id for c in chunks]
            self.articles[article_id] = entry
            for chunk in chunks:
                self._remember(chunk, entry)
                if article_id in stale_vectors or rebuild:
                    new_chunks.append(chunk)
        for article_id, entry in current.items():  # feedback counters and names move freely
            known_entry = self.articles.get(article_id)
            if known_entry is not None:
                self.articles[article_id] = replace(entry, chunk_ids=known_entry.chunk_ids)
        report.embedded = self._add_vectors(new_chunks, progress)
        report.added = len({c.article_id for c in new_chunks})
        report.articles = len(self.articles)
        report.passages = len(self.chunks)
        report.seconds = time.perf_counter() - started
        return report

    def _reset_memory(self) -> None:
        self.articles, self.chunks, self.slots, self.chunk_of_slot = {}, {}, {}, {}
        self.bm25 = BM25()

    def _remember(self, chunk: Chunk, entry: ArticleEntry) -> None:
        self.chunks[chunk.id] = chunk
        slot = self.bm25.add(f"{chunk.text}\n{' '.join(entry.tags)}")
        self.slots[chunk.id] = slot
        self.chunk_of_slot[slot] = chunk.id

    def _forget(self, article_id: int) -> None:
        entry = self.articles.pop(article_id)
        for chunk_id in entry.chunk_ids:
            self.chunks.pop(chunk_id, None)
            slot = self.slots.pop(chunk_id, None)
            if slot is not None:
                self.bm25.remove(slot)
                del self.chunk_of_slot[slot]

    def _stored_versions(self) -> dict[int, str]:
        assert self.collection is not None
        versions: dict[int, str] = {}
        expected: dict[int, int] = {}
        found: dict[int, int] = {}
        total = self.collection.count()
        for offset in range(0, total, 5000):
            page = self.collection.get(include=["metadatas"], limit=5000, offset=offset)
            for metadata in page["metadatas"] or []:
                article_id = int(metadata["article_id"])  # type: ignore[arg-type]
                version = str(metadata["version"])
                if versions.setdefault(article_id, version) != version:
                    versions[article_id] = ""  # mixed versions: re-embed
                expected[article_id] = int(metadata.get("chunks", 0))  # type: ignore[arg-type]
                found[article_id] = found.get(article_id, 0) + 1
        # An article with passages missing (an interrupted write) is embedded again.
        return {i: v if found[i] == expected[i] else "" for i, v in versions.items()}

    def _delete_vectors(self, article_ids: list[int]) -> None:
        assert self.collection is not None
        for start in range(0, len(article_ids), 500):
            batch = article_ids[start : start + 500]
            where: Any = {"article_id": {"$in": batch}}
            self.collection.delete(where=where)

    def _add_vectors(self, chunks: list[Chunk], progress: Progress | None) -> int:
        assert self.collection is not None
        if not chunks:
            if progress:
                progress(0, 0)
            return 0
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress:
                progress(done, len(chunks))

        vectors, computed = embed_passages(
            [c.text for c in chunks], self.cache, self.embedder, advance
        )
        for start in range(0, len(chunks), ADD_BATCH):
            batch = chunks[start : start + ADD_BATCH]
            self.collection.add(
                ids=[c.id for c in batch],
                embeddings=as_lists(vectors[start : start + ADD_BATCH]),  # type: ignore[arg-type]
                documents=[c.text for c in batch],
                metadatas=[self._metadata(c) for c in batch],
            )
        return computed

    def _metadata(self, chunk: Chunk) -> dict[str, str | int]:
        entry = self.articles[chunk.article_id]
        return {
            "article_id": chunk.article_id,
            "position": chunk.position,
            "slug": entry.slug,
            "title": entry.title,
            "category": entry.category,
            "section": chunk.section,
            "version": entry.version,
            "chunks": len(entry.chunk_ids),
        }

    # -- querying -------------------------------------------------------------------------

    def nearest(
        self, vector: np.ndarray, count: int, category: str | None = None
    ) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the passages nearest to the vector."""
        if self.collection is None or not self.chunks:
            return []
        result = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(count, len(self.chunks)),
            where={"category": category} if category else None,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [
            (i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True) if i in self.chunks
        ]


# -- one index per database and store, shared in the process -------------------------------

_indexes: "OrderedDict[tuple[StoreLocation, str], KnowledgeIndex]" = OrderedDict()
_indexes_lock = threading.Lock()
_caches: dict[Path, EmbeddingCache] = {}
MAX_OPEN_INDEXES = 16


def embedding_cache() -> EmbeddingCache:
    path = (Path(get_settings().data_dir) / "embedding_cache.sqlite3").resolve()
    with _indexes_lock:
        cache = _caches.get(path)
        if cache is None:
            cache = _caches[path] = EmbeddingCache(path, MODEL_ID)
        return cache


def index_for(engine: sa.Engine) -> KnowledgeIndex:
    """The index of this database in the configured store (CHROMA_URL or the data folder)."""
    location = current_location()
    cache = embedding_cache()
    key = (location, database_key(engine))
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None or index.engine is not engine:
            index = KnowledgeIndex(engine, location, cache=cache)
            _indexes[key] = index
        _indexes.move_to_end(key)
        while len(_indexes) > MAX_OPEN_INDEXES:
            _indexes.popitem(last=False)
        return index


def close_embedding_caches() -> None:
    """Close the cache files (their WAL folds back into the file)."""
    with _indexes_lock:
        for cache in _caches.values():
            cache.close()
        _caches.clear()
        _indexes.clear()
