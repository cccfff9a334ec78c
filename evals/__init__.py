"""Comptoir evals: merchant requests scored by routing, tool calls, approvals and database end
state (evals.metrics defines every metric; evals.dbstate what is compared).

    uv run comptoir eval run evals/dev.jsonl --model offline [--k 3] [--json] [--report DIR]
    uv run comptoir eval check evals/dev.jsonl evals/test.jsonl   # replay every gold list

dev.jsonl is for tuning; test.jsonl is for reporting only. Both are grounded in the demo
(seed 42, scale small, as of 2026-11-25); the split is stratified by the agent a case was
written for (its first tag): 2 of every 5 cases of an agent go to dev.
"""
