"""Where the passage vectors live: a Chroma collection per database.

A local persistent folder (`<data_dir>/chroma`) by default, a Chroma server when CHROMA_URL is
set; anonymous telemetry off either way. Chroma's default embedding function downloads a model
at first use, so it never runs here: collections are opened with `LocalEmbeddingFunction` (our
local model, registered under its own name so a reopened collection rebuilds it, not the
default), vectors are always passed in (`embeddings=`, `query_embeddings=`), and the model id
is recorded in the collection metadata. A collection made with another model is rebuilt.
"""

import contextlib
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import chromadb
import numpy as np
import sqlalchemy as sa
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError
from chromadb.utils.embedding_functions import register_embedding_function

from core.settings import get_settings
from knowledge.embeddings import DIMENSIONS, MODEL_ID, get_embedder

EMBEDDING_FUNCTION_NAME = "comptoir_local_minilm"


@register_embedding_function
class LocalEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's view of our local embedder (knowledge.embeddings), nothing downloaded."""

    def __init__(self, model_id: str = MODEL_ID) -> None:
        if model_id != MODEL_ID:
            raise ValueError(f"this build embeds with {MODEL_ID}, not {model_id}")
        self.model_id = model_id

    def __call__(self, input: Documents) -> Embeddings:
        return list(get_embedder().embed(list(input)))

    @staticmethod
    def name() -> str:
        return EMBEDDING_FUNCTION_NAME

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "LocalEmbeddingFunction":
        return LocalEmbeddingFunction(config.get("model_id", MODEL_ID))

    def get_config(self) -> dict[str, Any]:
        return {"model_id": self.model_id}

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]


class VectorStoreUnavailable(Exception):
    """The Chroma server cannot be reached (or answers with an error)."""


@dataclass(frozen=True)
class StoreLocation:
    """A Chroma server URL, or a local folder."""

    url: str | None
    folder: Path | None

    def describe(self) -> str:
        return self.url or f"local folder {self.folder}"


def current_location() -> StoreLocation:
    settings = get_settings()
    if settings.chroma_url:
        return StoreLocation(url=settings.chroma_url.rstrip("/"), folder=None)
    return StoreLocation(url=None, folder=(Path(settings.data_dir) / "chroma").resolve())


_clients: dict[StoreLocation, ClientAPI] = {}
_clients_lock = threading.Lock()


def client_for(location: StoreLocation) -> ClientAPI:
    with _clients_lock:
        client = _clients.get(location)
        if client is None:
            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            if location.url:
                parts = urlsplit(location.url)
                try:
                    client = chromadb.HttpClient(
                        host=parts.hostname or "localhost",
                        port=parts.port or (443 if parts.scheme == "https" else 8000),
                        ssl=parts.scheme == "https",
                        settings=chroma_settings,
                    )
                except ValueError as error:  # chromadb's "Could not connect to a Chroma server"
                    raise VectorStoreUnavailable(f"{location.url}: {error}") from error
            else:
                assert location.folder is not None
                location.folder.mkdir(parents=True, exist_ok=True)
                client = chromadb.PersistentClient(path=location.folder, settings=chroma_settings)
            _clients[location] = client
        return client


def database_key(engine: sa.Engine) -> str:
    """What identifies a database: its URL without password (a SQLite file by absolute path)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        url = url.set(database=str(Path(url.database or "").resolve()))
    return url.render_as_string(hide_password=True)


def collection_name(engine: sa.Engine) -> str:
    """One collection per database, so test databases and the demo never share an index."""
    return "articles_" + hashlib.sha256(database_key(engine).encode()).hexdigest()[:20]


def open_collection(client: ClientAPI, name: str, database: str) -> Collection:
    """The collection, made if missing; rebuilt empty if another model or function made it."""
    function: Any = LocalEmbeddingFunction()
    try:
        collection = client.get_collection(name, embedding_function=function)
        if (collection.metadata or {}).get("embedding_model") == MODEL_ID:
            return collection
    except NotFoundError:
        pass
    except ValueError:  # persisted with another embedding function (e.g. Chroma's default)
        pass
    else:
        client.delete_collection(name)
    return create_collection(client, name, database)


def create_collection(client: ClientAPI, name: str, database: str) -> Collection:
    with contextlib.suppress(NotFoundError, ValueError):
        client.delete_collection(name)
    return client.get_or_create_collection(
        name,
        embedding_function=cast(Any, LocalEmbeddingFunction()),
        configuration={"hnsw": {"space": "cosine"}},
        metadata={
            "embedding_model": MODEL_ID,
            "dimensions": DIMENSIONS,
            "database": database,
            "content": "published help articles, one record per passage",
        },
    )


def as_lists(vectors: np.ndarray) -> list[list[float]]:
    return [row.tolist() for row in vectors]
