"""Passage embeddings kept on disk by content, so an unchanged passage is never embedded twice.

On a laptop CPU the local model embeds a few dozen passages a second; rebuilding an index
(a new database, a reindex, another collection) would otherwise pay that again for text it
has already seen. Keyed by the model id and the SHA-256 of the text, in a SQLite file beside
the vector index. Safe to share between processes (WAL, INSERT OR IGNORE).
"""

import hashlib
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from knowledge.embeddings import DIMENSIONS, LocalEmbedder, get_embedder


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class EmbeddingCache:
    def __init__(self, path: Path, model_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.model_id = model_id
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings ("
            " model TEXT NOT NULL, key TEXT NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (model, key))"
        )
        self._db.commit()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                batch = keys[start : start + 500]
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    f"SELECT key, vector FROM embeddings WHERE model = ? AND key IN ({marks})",
                    [self.model_id, *batch],
                ).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO embeddings (model, key, vector) VALUES (?, ?, ?)",
                [(self.model_id, k, v.astype(np.float32).tobytes()) for k, v in items.items()],
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


def embed_passages(
    texts: list[str],
    cache: EmbeddingCache | None,
    embedder: LocalEmbedder | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Embeddings of the texts, from the cache where it has them; returns them and how many
    had to be computed. `progress` is told how many texts are done, batch by batch."""
    embedder = embedder or get_embedder()
    keys = [text_key(t) for t in texts]
    known = cache.get_many(list(dict.fromkeys(keys))) if cache else {}
    counts = Counter(keys)
    if progress and known:
        progress(sum(counts[k] for k in known))
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    text_of = dict(zip(keys, texts, strict=True))
    step = 32
    for start in range(0, len(missing), step):
        batch = missing[start : start + step]
        vectors = embedder.embed([text_of[k] for k in batch])
        fresh = dict(zip(batch, vectors, strict=True))
        if cache:
            cache.put_many(fresh)
        known.update(fresh)
        if progress:
            progress(sum(counts[k] for k in batch))
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32), 0
    return np.stack([known[k] for k in keys]), len(missing)
