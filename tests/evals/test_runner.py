"""The eval runner and its metrics, on scripted models whose every move is known."""

import json
from pathlib import Path
from typing import Any

from evals.cases import Case
from evals.metrics import confusion, summarize
from evals.report import write_report
from evals.runner import Databases, Runner, check_gold, run_suite
from graph.models import Models
from tests.evals.conftest import Abstain, said, scripted

CANCEL = {"order_id": 3998, "reason": "the customer changed her mind"}


def _case(**fields: Any) -> Case:
    return Case.model_validate(fields)


# Five cases: two that succeed, three that must fail, each on a different check.
CASES = [
    _case(
        id="right",
        request="cancel 3998, the customer changed her mind",
        expect={
            "agents": ["orders"],
            "tools": ["cancel_order"],
            "args": {"cancel_order": {"order_id": 3998}},
            "approval": True,
            "answer_contains": ["3998"],
        },
        gold=[{"tool": "cancel_order", "args": {"order_id": 3998, "reason": "changed mind"}}],
    ),
    _case(
        id="wrong_agent",
        request="how was order 3998 paid?",
        expect={"agents": ["payments"], "tools": ["list_order_payments"], "approval": False},
    ),
    _case(
        id="wrong_args",
        request="cancel order 3997 please",
        expect={
            "agents": ["orders"],
            "tools": ["cancel_order"],
            "args": {"cancel_order": {"order_id": 3997}},
            "approval": True,
        },
        gold=[{"tool": "cancel_order", "args": {"order_id": 3997, "reason": "asked"}}],
    ),
    _case(
        id="small_talk",
        request="thanks, have a nice evening",
        expect={"agents": [], "answer_contains": ["orders"]},
        gold=[],
    ),
    _case(
        id="extra_write",
        request="cancel 3998",
        expect={
            "agents": ["orders"],
            "tools": ["cancel_order"],
            "args": {"cancel_order": {"order_id": 3998}},
        },
        gold=[{"tool": "cancel_order", "args": {"order_id": 3998, "reason": "asked"}}],
    ),
]


def _ask(agent: str) -> Any:
    return said(calls=[(f"ask_{agent}", {"task": "do it"})])


SCRIPTS = {
    "right": lambda: scripted(
        [_ask("orders")],
        [said(calls=[("cancel_order", CANCEL)]), said("Order 3998 is cancelled and refunded.")],
    ),
    "wrong_agent": lambda: scripted(
        [_ask("orders")],
        [said(calls=[("get_order", {"order_id": 3998})]), said("Order 3998 is processing.")],
    ),
    "wrong_args": lambda: scripted(
        [_ask("orders")],
        [said(calls=[("cancel_order", CANCEL)]), said("Order 3998 is cancelled.")],
    ),
    "small_talk": lambda: scripted(
        [said("You're welcome! I can help with orders, stock, shipping and more.")], []
    ),
    "extra_write": lambda: scripted(
        [_ask("orders")],
        [
            said(
                calls=[
                    ("cancel_order", CANCEL),
                    ("cancel_order", {"order_id": 3997, "reason": "while I was at it"}),
                ]
            ),
            said("Orders 3998 and 3997 are cancelled."),
        ],
    ),
}


def _models_for(case: Case) -> Models:
    return SCRIPTS[case.id]()


def test_run_suite_scores_each_check(copies: Databases) -> None:
    runs = run_suite(Runner(copies, _models_for, router=Abstain()), CASES)
    by_id = {run.case_id: run for run in runs}

    right = by_id["right"]
    assert right.success, right.failures()
    assert right.observed.approvals_asked == 1
    assert right.observed.state_equal is True
    assert [c["tool"] for c in right.observed.tool_calls] == ["cancel_order"]

    assert by_id["wrong_agent"].failures() == ["routing", "tools"]
    assert by_id["wrong_agent"].observed.agents == ["orders"]
    assert by_id["wrong_args"].failures() == ["args", "state"]
    assert "orders" in by_id["wrong_args"].observed.state_diff
    assert by_id["small_talk"].success, by_id["small_talk"].failures()
    assert by_id["small_talk"].observed.agents == []
    extra = by_id["extra_write"]
    assert extra.failures() == ["state"]
    assert extra.observed.approvals_asked == 2
    assert "3997" in extra.observed.state_diff

    metrics = summarize(runs)
    assert metrics["routing_accuracy"] == 0.8  # 4 of 5
    assert metrics["tool_accuracy"] == 0.75  # 3 of the 4 cases naming tools
    assert metrics["arg_accuracy"] == 0.6667  # 2 of the 3 cases naming args
    assert metrics["approval_accuracy"] == 1.0  # asked exactly where expected (3 cases)
    assert metrics["task_success"] == 0.4
    assert metrics["pass_k"] == 0.4
    assert metrics["model_calls_mean"] == 2.6  # (3 + 3 + 3 + 1 + 3) / 5
    assert metrics["tokens_mean"] == 26.0  # 10 tokens a call
    assert 0 < metrics["latency_p50_ms"] <= metrics["latency_p95_ms"]

    assert confusion(runs)["payments"] == {"orders": 1}
    assert confusion(runs)["none"] == {"none": 1}


def test_run_suite_pass_k_needs_every_repeat(copies: Databases) -> None:
    case = CASES[0]
    attempts = iter([SCRIPTS["right"], SCRIPTS["wrong_agent"]])  # right, then wrong
    runner = Runner(copies, lambda _case: next(attempts)(), router=Abstain())
    runs = run_suite(runner, [case], k=2)
    assert [run.success for run in runs] == [True, False]
    metrics = summarize(runs)
    assert metrics["task_success"] == 0.5
    assert metrics["pass_k"] == 0.0


def test_run_case_reports_a_crash_as_failure(copies: Databases) -> None:
    # The scripted agent has no reply left: the graph raises, the case fails, the suite goes on.
    runner = Runner(copies, lambda _case: scripted([_ask("orders")], []), router=Abstain())
    (run,) = run_suite(runner, [CASES[1]])
    assert not run.success
    assert run.observed.error is not None
    assert run.failures()[0].startswith("error: RuntimeError")


def test_check_gold_names_a_failing_call(copies: Databases) -> None:
    shipped = _case(
        id="bad_gold",
        request="cancel 1",
        expect={"agents": ["orders"]},
        gold=[{"tool": "cancel_order", "args": {"order_id": 1, "reason": "asked"}}],
    )
    problem = check_gold(shipped, copies)
    assert problem is not None
    assert "bad_gold: gold call 1 (cancel_order) failed: conflict" in problem
    assert check_gold(CASES[0], copies) is None


def test_write_report_is_self_contained(copies: Databases, tmp_path: Path) -> None:
    runs = run_suite(Runner(copies, _models_for, router=Abstain()), CASES[:3])
    paths = write_report(tmp_path / "report", "eval", CASES, runs, summarize(runs))
    markdown, html = (p.read_text(encoding="utf-8") for p in paths)
    assert "| routing_accuracy | 0.667 |" in markdown
    assert "### wrong_args (repeat 0): args, state" in markdown
    assert "<svg" in html and "wrong_agent" in html
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert (tmp_path / "report" / "per_agent.svg").exists()
    per_case = json.loads(json.dumps([r.json() for r in runs], default=str))
    assert per_case[1]["failed"] == ["routing", "tools"]


def test_each_case_starts_from_fresh_sandbox_accounts(copies: Databases) -> None:
    # Syncing pulls the sandbox Amazon account's new orders and spends its call quota; a
    # replay that inherited the last one's account would find other orders, or none.
    sync = _case(
        id="sync_amazon",
        request="pull the new amazon orders",
        expect={"agents": ["marketplace"]},
        gold=[{"tool": "sync_orders", "args": {"connection_id": 1}}],
    )
    assert check_gold(sync, copies) is None
    assert check_gold(sync, copies) is None
