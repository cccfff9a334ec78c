"""The search index follows the articles table: create, update, delete, status changes,
rollbacks, and one index per database."""

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.base import utc_now
from db.models import Article
from knowledge.index import index_for
from knowledge.search import search

LOCKER: dict[str, Any] = {
    "title": "Parcel lockers for oversized televisions",
    "category": "shipping",
    "body": "Televisions over 55 inches never go to a parcel locker: the Mondial Relay lockers "
    "refuse anything above 30 kg or 150 cm. Book a two-person home delivery instead.",
    "tags": ["locker", "television"],
}
QUESTION = "can a big TV be sent to a pickup locker?"


def slugs(engine: Engine, query: str, mode: str = "hybrid", k: int = 5) -> list[str]:
    return [p.slug for p in search(engine, query, k=k, mode=mode)]  # type: ignore[arg-type]


def stored_article_ids(engine: Engine) -> set[int]:
    collection = index_for(engine).collection
    assert collection is not None
    metadatas = collection.get(include=["metadatas"])["metadatas"] or []
    return {int(m["article_id"]) for m in metadatas}  # type: ignore[arg-type]


def test_search_finds_a_created_article_at_once(call: Any, seeded_engine: Engine) -> None:
    assert "parcel-lockers-for-oversized-televisions" not in slugs(seeded_engine, QUESTION)
    created = call("support", "create_article", **LOCKER)
    for mode in ("hybrid", "vector", "keyword"):
        assert slugs(seeded_engine, QUESTION, mode)[0] == created.slug, mode
    assert created.id in stored_article_ids(seeded_engine)


def test_update_article_reindexes_its_passages(call: Any, seeded_engine: Engine) -> None:
    created = call("support", "create_article", **LOCKER)
    slugs(seeded_engine, QUESTION)
    call(
        "support",
        "update_article",
        article_id=created.id,
        title="Gift wrapping for Christmas orders",
        body="Gift wrapping costs 4.90 EUR and is offered from 1 to 24 December. The packer adds "
        "a ribbon and a card with the customer's message.",
    )
    top = search(seeded_engine, "do we wrap presents in December?", k=1)[0]
    assert top.article_id == created.id and top.title == "Gift wrapping for Christmas orders"
    assert "ribbon" in top.text
    keyword = search(seeded_engine, "Mondial Relay", k=20, mode="keyword")
    assert created.id not in [p.article_id for p in keyword]
    passages = [c for c in index_for(seeded_engine).chunks.values() if c.article_id == created.id]
    assert passages and all("locker" not in c.text.lower() for c in passages)


def test_delete_article_removes_it_from_the_index(call: Any, seeded_engine: Engine) -> None:
    top = search(seeded_engine, "customer bank reversed the payment, dispute", k=1)[0]
    assert top.slug == "handling-a-chargeback"
    assert top.article_id in stored_article_ids(seeded_engine)
    call("manager", "delete_article", article_id=top.article_id)
    assert "handling-a-chargeback" not in slugs(seeded_engine, "chargeback dispute", k=20)
    assert top.article_id not in stored_article_ids(seeded_engine)
    assert all(c.article_id != top.article_id for c in index_for(seeded_engine).chunks.values())


def test_archived_and_draft_articles_leave_the_index(call: Any, seeded_engine: Engine) -> None:
    created = call("support", "create_article", **{**LOCKER, "status": "draft"})
    assert created.slug not in slugs(seeded_engine, QUESTION)
    call("support", "update_article", article_id=created.id, status="published")
    assert slugs(seeded_engine, QUESTION)[0] == created.slug
    call("support", "update_article", article_id=created.id, status="archived")
    assert created.slug not in slugs(seeded_engine, QUESTION, k=20)
    assert created.id not in stored_article_ids(seeded_engine)


def test_rolled_back_write_leaves_the_index_unchanged(seeded_engine: Engine) -> None:
    slugs(seeded_engine, QUESTION)
    index = index_for(seeded_engine)
    assert index.collection is not None
    before = (index.collection.count(), len(index.chunks), set(index.articles))
    with Session(seeded_engine) as session:
        article = Article(slug="rolled-back-lockers", created_at=utc_now(), **LOCKER)
        session.add(article)
        session.flush()
        # Searching through the writing session itself must not index the uncommitted row.
        inside = [p.slug for p in search(session, QUESTION, k=20)]
        session.rollback()
    assert "rolled-back-lockers" not in inside
    assert "rolled-back-lockers" not in slugs(seeded_engine, QUESTION, k=20)
    assert (index.collection.count(), len(index.chunks), set(index.articles)) == before


def test_failed_tool_call_leaves_the_index_unchanged(
    call: Any, seeded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    slugs(seeded_engine, QUESTION)
    count = index_for(seeded_engine).collection.count()  # type: ignore[union-attr]

    def broken_record(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("tools.base.ToolContext.record", broken_record)
    with pytest.raises(RuntimeError, match="audit store"):
        call("support", "create_article", **LOCKER)
    monkeypatch.undo()
    assert "parcel-lockers-for-oversized-televisions" not in slugs(seeded_engine, QUESTION, k=20)
    assert index_for(seeded_engine).collection.count() == count  # type: ignore[union-attr]


def test_index_is_per_database(
    call: Any, seeded_engine: Engine, seeded_templates: dict[str, str], tmp_path: Any
) -> None:
    import shutil

    from db.engine import create_db_engine

    shutil.copyfile(seeded_templates["sqlite"], tmp_path / "other.db")
    other = create_db_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert index_for(other).name != index_for(seeded_engine).name
        created = call("support", "create_article", **LOCKER)
        assert slugs(seeded_engine, QUESTION)[0] == created.slug
        assert created.slug not in slugs(other, QUESTION, k=20)
        assert len(index_for(other).articles) == 61
    finally:
        other.dispose()
