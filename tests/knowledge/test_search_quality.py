"""Hybrid retrieval on the labelled demo queries, and feedback as a gentle signal."""

from typing import Any

from sqlalchemy.engine import Engine

from evals.knowledge.runner import evaluate, load_queries
from knowledge.search import FEEDBACK_WEIGHT, _feedback_factor, search


def test_hybrid_matches_or_beats_each_arm(seeded_engine: Engine) -> None:
    results = {r.mode: r for r in evaluate(seeded_engine, load_queries())}
    hybrid = results["hybrid"]
    for arm in ("vector", "keyword"):
        assert hybrid.recall[3] >= results[arm].recall[3], arm
        assert hybrid.mrr >= results[arm].mrr, arm
    assert hybrid.recall[3] >= 0.9


def test_feedback_moves_an_article_gently(call: Any, seeded_engine: Engine) -> None:
    query = "customer wants their money back for a return"
    before = {p.article_id: p.score for p in search(seeded_engine, query, k=10)}
    third = list(before)[2]
    for _ in range(4):
        call("support", "mark_article_helpful", article_id=third, helpful=True)
    after = {p.article_id: p.score for p in search(seeded_engine, query, k=10)}
    assert before[third] < after[third] <= before[third] * (1 + FEEDBACK_WEIGHT)
    assert all(after[a] == before[a] for a in before if a != third and a in after)
    call("manager", "mark_article_helpful", article_id=third, helpful=False)
    assert search(seeded_engine, query, k=10)[0].helpful_count >= 0
    assert _feedback_factor(0, 0) == 1.0
    assert 1.0 < _feedback_factor(1000, 0) <= 1 + FEEDBACK_WEIGHT
    assert 1 - FEEDBACK_WEIGHT <= _feedback_factor(0, 1000) < 1.0


def test_search_filters_by_category_and_mode(seeded_engine: Engine) -> None:
    passages = search(seeded_engine, "refund", k=10, category="payments")
    assert passages and {p.category for p in passages} == {"payments"}
    keyword = search(seeded_engine, "RENTREE15", k=3, mode="keyword")
    assert [p.slug for p in keyword] == ["partial-returns-and-prorated-refunds"]
    assert keyword[0].vector_score is None and keyword[0].keyword_rank == 1
    vector = search(
        seeded_engine, "a buyer disputes the charge with their bank", k=3, mode="vector"
    )
    assert vector[0].keyword_score is None and vector[0].vector_rank == 1
    assert "handling-a-chargeback" in [p.slug for p in vector]
    assert search(seeded_engine, "zeppelin quasar", k=5, mode="keyword") == []
