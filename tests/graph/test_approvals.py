"""Consequential writes through chat: paused for approval, resumed (even from another
process), rejected or edited; roles apply as on REST."""

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from graph.assistant import Assistant
from graph.errors import ApprovalPending, BadDecision, NothingToApprove
from tests.tools.conftest import actor
from tools.base import InvalidInput, NotFound

Sql = Callable[..., Any]


@pytest.fixture
def paid_order(sql: Sql) -> int:
    return int(sql("SELECT max(id) FROM orders WHERE status = 'paid'"))


def cancellations(sql: Sql, order_id: int) -> int:
    return int(
        sql(
            "SELECT count(*) FROM audit_log WHERE action = 'order_cancelled' "
            "AND entity_id = :order",
            order=str(order_id),
        )
    )


def test_pause_a_cancellation_until_approved(
    assistant: Assistant, sql: Sql, paid_order: int
) -> None:
    result = assistant.ask(
        actor("support"), f"cancel order {paid_order}, the customer changed their mind"
    )

    assert result.pending_approval is not None
    assert result.pending_approval.tool == "cancel_order"
    assert result.pending_approval.args["order_id"] == paid_order
    assert "Approval needed" in result.answer
    assert sql("SELECT status FROM orders WHERE id = :id", id=paid_order) == "paid"
    assert cancellations(sql, paid_order) == 0


def test_approve_from_another_process_writes_once(
    assistant: Assistant, seeded_url: str, sql: Sql, paid_order: int
) -> None:
    paused = assistant.ask(actor("support"), f"cancel order {paid_order}, duplicate order")
    assistant.close()
    script = f"""
import json
from db.base import set_clock
from db.engine import create_db_engine
from graph.assistant import Assistant
from tests.conftest import DEMO_NOW
from tests.tools.conftest import actor
set_clock(DEMO_NOW)
bot = Assistant(create_db_engine({seeded_url!r}))
result = bot.decide(actor("support"), {paused.thread_id!r}, {{"decision": "approve"}})
print(json.dumps(result.model_dump(mode="json")))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={"COMPTOIR_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["pending_approval"] is None
    assert [(c["tool"], c["status"], c["approved"]) for c in result["tool_calls"]] == [
        ("cancel_order", "ok", True)
    ]
    assert sql("SELECT status FROM orders WHERE id = :id", id=paid_order) == "cancelled"
    assert cancellations(sql, paid_order) == 1
    assert sql("SELECT channel FROM audit_log WHERE action = 'order_cancelled'") == "chat"
    with pytest.raises(NothingToApprove):
        Assistant(assistant.engine).decide(
            actor("support"), paused.thread_id, {"decision": "approve"}
        )


def test_two_approvals_at_once_run_the_action_once(
    assistant: Assistant, sql: Sql, paid_order: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    paused = assistant.ask(actor("support"), f"cancel order {paid_order}, duplicate order")
    # Each decision, once it has read the pending action, waits (up to a second) for the
    # other to have read it too: without one turn at a time, both would resume the action.
    both_read = threading.Barrier(2, timeout=1)
    read_pending = Assistant._pending

    def pending_then_wait(self: Assistant, thread_id: str) -> Any:
        pending = read_pending(self, thread_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return pending

    monkeypatch.setattr(Assistant, "_pending", pending_then_wait)

    def approve() -> Any:
        try:
            return assistant.decide(actor("support"), paused.thread_id, {"decision": "approve"})
        except NothingToApprove as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: approve(), range(2)))

    refused = [o for o in outcomes if isinstance(o, NothingToApprove)]
    done = [o for o in outcomes if not isinstance(o, NothingToApprove)]
    assert len(refused) == len(done) == 1
    assert [(c.tool, c.status) for c in done[0].tool_calls] == [("cancel_order", "ok")]
    assert cancellations(sql, paid_order) == 1


def test_reject_leaves_the_database_unchanged(
    assistant: Assistant, sql: Sql, paid_order: int
) -> None:
    audit_before = sql("SELECT count(*) FROM audit_log")
    paused = assistant.ask(actor("support"), f"cancel order {paid_order}, customer asked")

    result = assistant.decide(actor("support"), paused.thread_id, {"decision": "reject"})

    assert result.pending_approval is None
    assert [(c.tool, c.status, c.approved) for c in result.tool_calls] == [
        ("cancel_order", "rejected", False)
    ]
    assert sql("SELECT status FROM orders WHERE id = :id", id=paid_order) == "paid"
    # only the conversation's own record was added
    assert sql("SELECT count(*) FROM audit_log") == audit_before + 1


def test_edit_runs_the_edited_arguments(assistant: Assistant, sql: Sql, paid_order: int) -> None:
    paused = assistant.ask(actor("manager"), f"cancel order {paid_order}, customer asked")
    assert paused.pending_approval is not None
    edited = {**paused.pending_approval.args, "reason": "out of stock at the supplier"}

    result = assistant.decide(
        actor("manager"), paused.thread_id, {"decision": "edit", "args": edited}
    )

    assert result.tool_calls[-1].args["reason"] == "out of stock at the supplier"
    assert result.tool_calls[-1].status == "ok"
    reason = sql(
        "SELECT reason FROM order_status_history WHERE order_id = :id AND to_status = 'cancelled'",
        id=paid_order,
    )
    assert reason == "out of stock at the supplier"


def test_edit_with_bad_arguments_is_refused_before_resuming(
    assistant: Assistant, sql: Sql, paid_order: int
) -> None:
    paused = assistant.ask(actor("manager"), f"cancel order {paid_order}, customer asked")

    with pytest.raises(InvalidInput) as error:
        assistant.decide(
            actor("manager"),
            paused.thread_id,
            {"decision": "edit", "args": {"order_id": "twelve", "reason": "x"}},
        )

    assert error.value.field == "order_id"
    assert assistant.history(actor("manager"), paused.thread_id).pending_approval is not None
    with pytest.raises(BadDecision):
        assistant.decide(actor("manager"), paused.thread_id, {"decision": "maybe"})


def test_new_message_while_an_approval_waits_is_refused(
    assistant: Assistant, paid_order: int
) -> None:
    paused = assistant.ask(actor("support"), f"cancel order {paid_order}, customer asked")

    with pytest.raises(ApprovalPending):
        assistant.ask(actor("support"), "show me order 12", paused.thread_id)


def test_viewer_cannot_write_through_chat(assistant: Assistant, sql: Sql, paid_order: int) -> None:
    result = assistant.ask(actor("viewer"), f"cancel order {paid_order}, customer asked")

    assert result.pending_approval is None
    assert [(c.tool, c.status) for c in result.tool_calls] == [("cancel_order", "forbidden")]
    assert "viewer" in result.tool_calls[0].result["message"]
    assert sql("SELECT status FROM orders WHERE id = :id", id=paid_order) == "paid"


def test_another_users_conversation_is_not_found(assistant: Assistant, paid_order: int) -> None:
    paused = assistant.ask(actor("support"), f"cancel order {paid_order}, customer asked")

    with pytest.raises(NotFound):
        assistant.decide(actor("manager"), paused.thread_id, {"decision": "approve"})
    with pytest.raises(NotFound):
        assistant.history(actor("manager"), paused.thread_id)
    assert [t.thread_id for t in assistant.threads(actor("support"))] == [paused.thread_id]
    assert assistant.threads(actor("manager")) == []


def test_conversation_survives_a_new_assistant(assistant: Assistant, seeded_engine: Engine) -> None:
    first = assistant.ask(actor("support"), "show me order 12")
    assistant.close()

    again = Assistant(seeded_engine, assistant.models)
    follow_up = again.ask(actor("support"), "track its shipment", first.thread_id)
    history = again.history(actor("support"), first.thread_id)
    again.close()

    assert [m.role for m in history.messages] == ["user", "assistant", "user", "assistant"]
    # "its" is order 12, from the earlier turn
    [tracked] = [call for call in follow_up.tool_calls if call.tool == "track_shipment"]
    assert tracked.status == "ok" and tracked.result["order_id"] == 12


def test_nobody_is_asked_to_approve_what_the_rules_refuse(assistant: Assistant, sql: Sql) -> None:
    shipped = int(sql("SELECT max(id) FROM orders WHERE status = 'shipped'"))

    result = assistant.ask(
        actor("manager"), f"cancel order {shipped}, the customer changed her mind"
    )

    assert result.pending_approval is None
    assert "only orders that have not shipped can be cancelled" in result.answer
    assert [(c.tool, c.status) for c in result.tool_calls] == [("cancel_order", "error")]
    assert cancellations(sql, shipped) == 0


def test_a_refund_above_what_is_left_is_refused_without_asking(
    assistant: Assistant, sql: Sql
) -> None:
    payment = int(sql("SELECT min(id) FROM payments WHERE status = 'captured'"))
    left = int(sql("SELECT captured_cents - refunded_cents FROM payments WHERE id = :p", p=payment))

    result = assistant.ask(
        actor("manager"), f"refund {(left + 10_000) / 100:.2f} euros on payment {payment}"
    )

    assert result.pending_approval is None
    assert "is more than the" in result.answer
    assert int(sql("SELECT count(*) FROM refunds WHERE payment_id = :p", p=payment)) == 0
