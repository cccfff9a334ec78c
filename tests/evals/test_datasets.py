"""The dev and test datasets: well formed, covering every agent, split ~40/60 by agent.
(Their gold calls are replayed by `comptoir eval check evals/dev.jsonl evals/test.jsonl`.)"""

from collections import Counter
from pathlib import Path

import pytest
import typer

from cli.eval import _check_floors
from evals.cases import Case, CaseFileError, load_cases
from evals.metrics import same_value
from evals.runner import check_case
from tools.base import AGENTS

EVALS = Path(__file__).resolve().parents[2] / "evals"


def test_load_datasets_cover_every_agent() -> None:
    dev, test = load_cases(EVALS / "dev.jsonl"), load_cases(EVALS / "test.jsonl")
    assert len(dev) + len(test) >= 300
    assert not {c.id for c in dev} & {c.id for c in test}
    per_agent = Counter(c.stratum for c in [*dev, *test])
    assert all(per_agent[agent] >= 12 for agent in AGENTS), per_agent
    assert per_agent["none"] >= 10  # small talk and out-of-scope requests
    dev_share = Counter(c.stratum for c in dev)
    for stratum, total in per_agent.items():
        assert 0.3 <= dev_share[stratum] / total <= 0.5, stratum
    problems = [p for case in [*dev, *test] for p in check_case(case)]
    assert problems == []


def test_dev_fresh_is_sound_and_shares_no_id() -> None:
    """evals/dev_fresh.jsonl: requests written the way merchants write, over every agent."""
    fresh = load_cases(EVALS / "dev_fresh.jsonl")
    others = {
        case.id
        for split in ("dev", "dev_paraphrase", "test", "injection")
        for case in load_cases(EVALS / f"{split}.jsonl")
    }
    assert not {case.id for case in fresh} & others
    assert {case.stratum for case in fresh} >= {*AGENTS, "none"}
    assert [p for case in fresh for p in check_case(case)] == []


def test_load_cases_refuses_a_case_with_request_and_turns(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "x", "request": "hi", "turns": ["hi"], "expect": {"agents": []}}\n',
        encoding="utf-8",
    )
    with pytest.raises(CaseFileError, match=r"bad\.jsonl:1"):
        load_cases(path)


def test_load_cases_refuses_an_unknown_agent() -> None:
    with pytest.raises(ValueError, match="unknown agents"):
        Case.model_validate({"id": "x", "request": "hi", "expect": {"agents": ["sales"]}})


def test_same_value_matches_partially() -> None:
    assert same_value({"order_id": 3998}, {"order_id": 3998.0, "reason": "any"})
    assert same_value("Amazon", " amazon")
    assert same_value([{"sku": "A"}], [{"sku": "a", "quantity": 1}])
    assert not same_value({"order_id": 3998}, {"order_id": 3997})
    assert not same_value(True, 1)
    assert not same_value([1], [1, 2])


def test_check_floors_exits_below_the_floor() -> None:
    metrics = {"routing_accuracy": 0.91, "task_success": 0.79}
    _check_floors(metrics, min_routing=0.9, min_success=None)
    with pytest.raises(typer.Exit) as stopped:
        _check_floors(metrics, min_routing=0.9, min_success=0.8)
    assert stopped.value.exit_code == 1
