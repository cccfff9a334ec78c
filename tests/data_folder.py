"""One data folder for every test of a session, never the developer's own `data/`: vectors go
to its Chroma folder (one collection per test database) and passage embeddings to its cache,
so the demo articles are embedded once, not once per test. The embedding cache
(content-addressed, so never stale) is kept in pytest's cache folder between runs."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import get_settings
from knowledge.index import close_embedding_caches

CACHE_FILE = "embedding_cache.sqlite3"


@pytest.fixture(scope="session")
def knowledge_folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    folder = tmp_path_factory.getbasetemp() / "knowledge-data"
    cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider (CI)
    kept = cache.mkdir("knowledge-embeddings") if cache else None
    if not folder.exists():
        folder.mkdir()
        if kept and (kept / CACHE_FILE).exists():
            shutil.copyfile(kept / CACHE_FILE, folder / CACHE_FILE)
    yield folder
    close_embedding_caches()
    if kept and (folder / CACHE_FILE).exists():
        shutil.copyfile(folder / CACHE_FILE, kept / CACHE_FILE)


@pytest.fixture(autouse=True)
def knowledge_data_dir(knowledge_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(knowledge_folder))
    monkeypatch.delenv("CHROMA_URL", raising=False)
    get_settings.cache_clear()
    yield knowledge_folder
    get_settings.cache_clear()
