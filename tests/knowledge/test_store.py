"""The Chroma collection: our embeddings only, never Chroma's downloading default, and a
collection made with another model is rebuilt."""

from typing import Any

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings
from sqlalchemy.engine import Engine

from knowledge.embeddings import MODEL_ID, get_embedder
from knowledge.index import index_for
from knowledge.search import search
from knowledge.store import EMBEDDING_FUNCTION_NAME, LocalEmbeddingFunction, current_location


@pytest.fixture
def no_default_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chroma's default embedding function downloads a model: make any use of it fail."""
    from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("Chroma's default embedding function was called")

    monkeypatch.setattr(onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "__call__", refuse)
    monkeypatch.setattr(
        onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "_download_model_if_not_exists", refuse
    )


def test_reopened_collection_uses_our_embeddings(
    seeded_engine: Engine, no_default_embedding: None
) -> None:
    assert search(seeded_engine, "opened box returns", k=1)[0].slug == (
        "handling-a-return-of-an-opened-item"
    )
    name = index_for(seeded_engine).name
    folder = current_location().folder
    assert folder is not None
    reopened = chromadb.PersistentClient(
        path=folder, settings=ChromaSettings(anonymized_telemetry=False)
    ).get_collection(name)
    assert reopened.metadata["embedding_model"] == MODEL_ID
    assert reopened.configuration_json["embedding_function"]["name"] == EMBEDDING_FUNCTION_NAME
    assert isinstance(reopened.configuration["embedding_function"], LocalEmbeddingFunction)
    # Chroma embeds a text query with the function it rebuilt: ours, the same vectors.
    by_text = reopened.query(query_texts=["opened box returns"], n_results=1, include=["distances"])
    ours = get_embedder().embed(["opened box returns"])[0]
    by_vector = reopened.query(query_embeddings=[ours.tolist()], n_results=1, include=["distances"])
    assert by_text["ids"] == by_vector["ids"]
    assert by_text["distances"] and by_vector["distances"]
    assert np.isclose(by_text["distances"][0][0], by_vector["distances"][0][0], atol=1e-4)


def test_collection_of_another_model_is_rebuilt(
    seeded_engine: Engine, no_default_embedding: None
) -> None:
    index = index_for(seeded_engine)
    folder = current_location().folder
    assert folder is not None
    client = chromadb.PersistentClient(
        path=folder, settings=ChromaSettings(anonymized_telemetry=False)
    )
    foreign = client.create_collection(
        index.name, embedding_function=None, metadata={"embedding_model": "some-other-model"}
    )
    vector: Any = [[0.5] * 8]
    foreign.add(ids=["x"], embeddings=vector, metadatas=[{"article_id": 1, "version": "v"}])
    top = search(seeded_engine, "card payment keeps getting refused", k=1)[0]
    assert top.slug == "failed-payments-and-decline-reasons"
    ours: Any = LocalEmbeddingFunction()
    rebuilt = client.get_collection(index.name, embedding_function=ours)
    assert rebuilt.metadata["embedding_model"] == MODEL_ID
    assert rebuilt.count() == len(index.chunks) > 61
    assert rebuilt.get(ids=["x"])["ids"] == []


def test_local_embedding_function_refuses_another_model() -> None:
    with pytest.raises(ValueError, match="embeds with"):
        LocalEmbeddingFunction.build_from_config({"model_id": "text-embedding-3-large"})
