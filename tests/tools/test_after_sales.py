"""After-sales tools: returns (eligibility, refund due, status machine, inspection, refund),
satisfaction surveys and warranty claims."""

import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import tools.after_sales  # noqa: F401  (registers the tools)
from db.base import utc_now
from db.models import Order, OrderLine
from tools.after_sales_core import paid_per_line, refund_for_units
from tools.after_sales_warranty import add_months
from tools.base import Conflict, Forbidden, InvalidInput, NotFound


def ago(days: float) -> str:
    return (utc_now() - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")


def write(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def rows(engine: Engine, statement: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(statement), params).all())


def delivered_order(
    sql: Any, newest: float, oldest: float, extra: str = "", order: str = "o.id"
) -> int:
    """A delivered order with no return yet, delivered between `oldest` and `newest` days ago."""
    found = sql(
        "SELECT o.id FROM orders o WHERE o.status = 'delivered' AND o.delivered_at <= :newest"
        " AND o.delivered_at >= :oldest AND NOT EXISTS (SELECT 1 FROM return_requests r"
        f" WHERE r.order_id = o.id) {extra} ORDER BY {order} LIMIT 1",
        newest=ago(newest),
        oldest=ago(oldest),
    )
    assert found is not None, f"no delivered order matches {extra!r}"
    return int(found)


def all_lines(engine: Engine, order_id: int, condition: str = "opened") -> list[dict]:
    return [
        {"order_line_id": line_id, "quantity": quantity, "condition": condition}
        for line_id, quantity in rows(
            engine,
            "SELECT id, quantity FROM order_lines WHERE order_id = :o ORDER BY id",
            o=order_id,
        )
    ]


MULTI_LINE = "AND (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id) >= 2"
WITH_SHIPPING = "AND o.shipping_cents > 0"


# -- requesting a return -------------------------------------------------------------------


def test_request_return_refunds_what_was_paid_for_the_units(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = delivered_order(sql, 0, 25, MULTI_LINE)
    line_id, quantity, total = rows(
        seeded_engine,
        "SELECT id, quantity, total_cents FROM order_lines WHERE order_id = :o ORDER BY id",
        o=order_id,
    )[0]
    rma = call(
        "support",
        "request_return",
        order_id=order_id,
        lines=[{"order_line_id": line_id, "quantity": 1, "condition": "unopened"}],
        reason="changed_mind",
        comment="ordered the wrong colour",
    )
    assert re.fullmatch(rf"RMA-{utc_now().year}-{rma.id:06d}", rma.rma_number)
    assert rma.status == "requested" and rma.created_by == "lucas.petit@maison-lumen.fr"
    assert rma.refund_cents == total // quantity and rma.shipping_refund_cents == 0
    assert sql("SELECT refund_cents FROM return_requests WHERE id = :r", r=rma.id) == (
        total // quantity
    )
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "rma_requested"


def test_request_return_of_the_whole_order_within_withdrawal_refunds_shipping(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = delivered_order(sql, 0, 12, WITH_SHIPPING)
    rma = call(
        "support",
        "request_return",
        order_id=order_id,
        lines=all_lines(seeded_engine, order_id),
        reason="changed_mind",
    )
    shipping = sql("SELECT shipping_cents FROM orders WHERE id = :o", o=order_id)
    assert rma.shipping_refund_cents == shipping > 0
    assert rma.refund_cents == sql("SELECT total_cents FROM orders WHERE id = :o", o=order_id)


def test_request_return_after_withdrawal_keeps_shipping_unless_our_fault(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    late = delivered_order(sql, 16, 28, WITH_SHIPPING)
    rma = call(
        "support",
        "request_return",
        order_id=late,
        lines=all_lines(seeded_engine, late),
        reason="changed_mind",
    )
    assert rma.shipping_refund_cents == 0
    assert rma.refund_cents == sql(
        "SELECT SUM(total_cents) FROM order_lines WHERE order_id = :o", o=late
    )
    defective = delivered_order(sql, 0, 25, f"{MULTI_LINE} {WITH_SHIPPING}")
    first = all_lines(seeded_engine, defective, "defective")[:1]
    rma = call("support", "request_return", order_id=defective, lines=first, reason="defective")
    assert rma.shipping_refund_cents == sql(
        "SELECT shipping_cents FROM orders WHERE id = :o", o=defective
    )


def test_request_return_refuses_an_order_past_its_window(call: Any, sql: Any) -> None:
    late = delivered_order(sql, 33, 42)
    line = sql("SELECT MIN(id) FROM order_lines WHERE order_id = :o", o=late)
    args = {
        "order_id": late,
        "lines": [{"order_line_id": line, "quantity": 1, "condition": "unopened"}],
        "reason": "changed_mind",
    }
    with pytest.raises(Conflict, match="window closed") as error:
        call("support", "request_return", **args)
    assert error.value.field == "order_id"
    with pytest.raises(Forbidden, match="manager"):
        call("support", "request_return", **args, late_override_reason="loyal gold customer")
    rma = call("manager", "request_return", **args, late_override_reason="loyal gold customer")
    assert "loyal gold customer" in str(
        sql("SELECT payload FROM domain_events WHERE entity_id = :r", r=str(rma.id))
    )
    too_late = delivered_order(sql, 50, 90)
    line = sql("SELECT MIN(id) FROM order_lines WHERE order_id = :o", o=too_late)
    args["order_id"] = too_late
    args["lines"] = [{"order_line_id": line, "quantity": 1, "condition": "unopened"}]
    with pytest.raises(Conflict, match="no longer possible"):
        call("manager", "request_return", **args, late_override_reason="loyal gold customer")


def test_request_return_refuses_units_already_returned(call: Any, sql: Any) -> None:
    order_id = delivered_order(
        sql,
        0,
        25,
        "AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.quantity >= 2)",
    )
    line_id, quantity = (
        sql("SELECT id FROM order_lines WHERE order_id = :o AND quantity >= 2", o=order_id),
        sql("SELECT quantity FROM order_lines WHERE order_id = :o AND quantity >= 2", o=order_id),
    )
    total = sql("SELECT total_cents FROM order_lines WHERE id = :l", l=line_id)

    def ask(units: int) -> Any:
        return call(
            "support",
            "request_return",
            order_id=order_id,
            lines=[{"order_line_id": line_id, "quantity": units, "condition": "opened"}],
            reason="not_as_described",
        )

    first = ask(1)
    with pytest.raises(Conflict, match=f"at most {quantity - 1} can come back"):
        ask(quantity)
    second = ask(quantity - 1)
    assert first.refund_cents + second.refund_cents == total  # to the cent, across RMAs
    call("manager", "reject_return", return_id=first.id, reason="customer cancelled the request")
    assert ask(1).refund_cents == refund_for_units(total, quantity, quantity - 1, 1)


def test_request_return_rejects_bad_requests(call: Any, sql: Any, seeded_engine: Engine) -> None:
    order_id = delivered_order(sql, 0, 25)
    lines = all_lines(seeded_engine, order_id)
    foreign = sql("SELECT MIN(id) FROM order_lines WHERE order_id <> :o", o=order_id)
    shipped = sql("SELECT id FROM orders WHERE status = 'shipped' LIMIT 1")
    cases: list[tuple[type[Exception], dict]] = [
        (InvalidInput, {"lines": [{**lines[0], "order_line_id": foreign}]}),
        (InvalidInput, {"lines": [lines[0], lines[0]]}),
        (InvalidInput, {"lines": [{**lines[0], "quantity": 0}]}),
        (InvalidInput, {"lines": []}),
        (InvalidInput, {"reason": "defective"}),  # declared opened, not defective
        (InvalidInput, {"lines": [{**lines[0], "condition": "defective"}]}),
        (InvalidInput, {"reason": "bored"}),
        (Conflict, {"order_id": shipped}),
        (NotFound, {"order_id": 999999}),
    ]
    for error, change in cases:
        with pytest.raises(error):
            call(
                "support",
                "request_return",
                **{"order_id": order_id, "lines": lines, "reason": "changed_mind", **change},
            )
    with pytest.raises(Forbidden):
        call("viewer", "request_return", order_id=order_id, lines=lines, reason="changed_mind")
    assert sql("SELECT COUNT(*) FROM return_requests WHERE order_id = :o", o=order_id) == 0


def test_paid_per_line_prorates_an_order_discount() -> None:
    order = Order(customer_id=1, shipping_address_id=1, billing_address_id=1, discount_cents=15855)
    lines = [
        OrderLine(id=1, order_id=1, variant_id=1, sku="A", name="Laptop", quantity=1,
                  unit_price_cents=74900, total_cents=74900),
        OrderLine(id=2, order_id=1, variant_id=2, sku="B", name="Headphones", quantity=1,
                  unit_price_cents=24900, total_cents=24900),
        OrderLine(id=3, order_id=1, variant_id=3, sku="C", name="Hub", quantity=1,
                  unit_price_cents=5900, total_cents=5900),
    ]  # fmt: skip
    paid = paid_per_line(order, lines)
    assert paid == {1: 63665, 2: 21165, 3: 5015}  # the worked example of the help centre
    assert sum(paid.values()) == 74900 + 24900 + 5900 - 15855


# -- the status machine --------------------------------------------------------------------


def test_return_flow_refunds_restocks_and_marks_the_order_returned(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = delivered_order(sql, 0, 12, "AND o.channel = 'shop'")
    lines = all_lines(seeded_engine, order_id)
    warehouse = sql("SELECT warehouse_id FROM orders WHERE id = :o", o=order_id)
    customer = sql("SELECT customer_id FROM orders WHERE id = :o", o=order_id)
    points = sql("SELECT loyalty_points FROM customers WHERE id = :c", c=customer)
    variant = sql("SELECT variant_id FROM order_lines WHERE id = :l", l=lines[0]["order_line_id"])
    on_hand = sql(
        "SELECT on_hand FROM stock_levels WHERE variant_id = :v AND warehouse_id = :w",
        v=variant,
        w=warehouse,
    )
    rma = call("support", "request_return", order_id=order_id, lines=lines, reason="changed_mind")
    with pytest.raises(Conflict, match="only a inspected"):
        call("manager", "refund_return", return_id=rma.id)
    assert call("support", "authorize_return", return_id=rma.id).status == "authorized"
    with pytest.raises(Conflict, match="is authorized"):
        call("support", "authorize_return", return_id=rma.id)
    with pytest.raises(Conflict, match="is authorized"):
        call("manager", "reject_return", return_id=rma.id, reason="not eligible")
    assert call("support", "receive_return", return_id=rma.id).status == "received"
    assert sql(
        "SELECT COUNT(*) FROM quality_inspections WHERE return_id = :r AND kind = 'return'"
        " AND status = 'scheduled'",
        r=rma.id,
    ) == len(lines)
    inspected = call(
        "support",
        "inspect_return",
        return_id=rma.id,
        lines=[
            {"order_line_id": line["order_line_id"], "condition": "opened", "resellable": True}
            for line in lines
        ],
    )
    assert inspected.rma.status == "inspected"
    assert inspected.rma.refund_cents == rma.refund_cents
    assert (
        sql(
            "SELECT on_hand FROM stock_levels WHERE variant_id = :v AND warehouse_id = :w",
            v=variant,
            w=warehouse,
        )
        == on_hand + lines[0]["quantity"]
    )
    assert sql(
        "SELECT COUNT(*) FROM stock_movements WHERE kind = 'return' AND reference = :r",
        r=f"return:{rma.id}",
    ) == len(lines)
    with pytest.raises(Forbidden):
        call("viewer", "refund_return", return_id=rma.id)
    refunded = call("support", "refund_return", return_id=rma.id)
    assert refunded.rma.status == "refunded" and refunded.order_status == "returned"
    assert (
        refunded.refunded_cents
        == rma.refund_cents
        == sql("SELECT SUM(amount_cents) FROM refunds WHERE return_id = :r", r=rma.id)
    )
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "returned"
    assert (
        sql(
            "SELECT to_status FROM order_status_history WHERE order_id = :o"
            " ORDER BY id DESC LIMIT 1",
            o=order_id,
        )
        == "returned"
    )
    revoked = -sql(
        "SELECT COALESCE(SUM(points), 0) FROM loyalty_transactions WHERE order_id = :o"
        " AND kind = 'revoke'",
        o=order_id,
    )
    assert refunded.loyalty_points_revoked == revoked
    assert sql("SELECT loyalty_points FROM customers WHERE id = :c", c=customer) == (
        points - revoked
    )
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'rma_refunded'") == 1
    with pytest.raises(Conflict, match="is refunded"):
        call("support", "refund_return", return_id=rma.id)


def test_inspect_return_deductions_need_customer_damage_and_a_manager_above_30_percent(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = delivered_order(sql, 0, 25, MULTI_LINE)
    lines = all_lines(seeded_engine, order_id, "damaged")
    rma = call("support", "request_return", order_id=order_id, lines=lines, reason="other")
    call("support", "authorize_return", return_id=rma.id)
    call("support", "receive_return", return_id=rma.id)
    due = {line.order_line_id: line.refund_cents for line in rma.lines}
    first, second = lines[0]["order_line_id"], lines[1]["order_line_id"]
    rest = [
        {"order_line_id": line["order_line_id"], "condition": "opened", "resellable": True}
        for line in lines[2:]
    ]
    heavy = due[first] * 40 // 100
    results = [
        {"order_line_id": first, "condition": "damaged", "resellable": False,
         "deduction_cents": heavy, "defect_type": "cosmetic", "notes": "cracked back glass"},
        {"order_line_id": second, "condition": "opened", "resellable": True, "grade": "A"},
        *rest,
    ]  # fmt: skip
    with pytest.raises(Forbidden, match="30%"):
        call("support", "inspect_return", return_id=rma.id, lines=results)
    opened_deduction = [results[0], {**results[1], "deduction_cents": 100}, *rest]
    with pytest.raises(InvalidInput, match="damaged by the customer"):
        call("manager", "inspect_return", return_id=rma.id, lines=opened_deduction)
    with pytest.raises(InvalidInput, match="missing order line"):
        call("manager", "inspect_return", return_id=rma.id, lines=results[:1])
    inspected = call("manager", "inspect_return", return_id=rma.id, lines=results)
    assert inspected.rma.refund_cents == rma.refund_cents - heavy
    assert sql("SELECT refund_cents FROM return_lines WHERE return_id = :r AND order_line_id = :l",
               r=rma.id, l=first) == due[first] - heavy  # fmt: skip
    assert (
        sql(
            "SELECT COUNT(*) FROM quality_defects d JOIN quality_inspections i"
            " ON i.id = d.inspection_id WHERE i.return_id = :r AND d.defect_type = 'cosmetic'",
            r=rma.id,
        )
        == 1
    )
    assert (
        sql(
            "SELECT COUNT(*) FROM quality_inspections WHERE return_id = :r AND result = 'failed'",
            r=rma.id,
        )
        == 1
    )
    with pytest.raises(Conflict, match="restocked"):
        call("manager", "reject_return", return_id=rma.id, reason="customer damage")
    refunded = call("manager", "refund_return", return_id=rma.id)
    assert refunded.refunded_cents == rma.refund_cents - heavy
    assert refunded.order_status == "returned"  # every unit came back, one with a deduction


def test_reject_return_from_requested_or_received(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = delivered_order(sql, 0, 25, order="o.total_cents DESC")
    lines = all_lines(seeded_engine, order_id)
    rma = call("support", "request_return", order_id=order_id, lines=lines, reason="other")
    assert rma.refund_cents > 30_000
    with pytest.raises(Forbidden, match="300 EUR"):
        call("support", "reject_return", return_id=rma.id, reason="outside policy")
    with pytest.raises(InvalidInput):
        call("manager", "reject_return", return_id=rma.id, reason="no")
    call("support", "authorize_return", return_id=rma.id)
    call("support", "receive_return", return_id=rma.id)
    rejected = call("manager", "reject_return", return_id=rma.id, reason="iCloud lock not removed")
    assert rejected.status == "rejected" and rejected.refund_cents == 0
    assert rejected.rejection_reason == "iCloud lock not removed"
    assert sql(
        "SELECT COUNT(*) FROM quality_inspections WHERE return_id = :r AND status = 'cancelled'",
        r=rma.id,
    ) == len(lines)
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "rma_rejected"
    with pytest.raises(Conflict, match="is rejected"):
        call("support", "authorize_return", return_id=rma.id)
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "delivered"


def test_refund_return_is_capped_at_what_is_left_on_the_order(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = delivered_order(sql, 0, 25, "AND o.channel = 'shop' AND o.total_cents > 2000")
    payment = sql("SELECT id FROM payments WHERE order_id = :o AND status = 'captured'", o=order_id)
    rma = call(
        "support",
        "request_return",
        order_id=order_id,
        lines=all_lines(seeded_engine, order_id),
        reason="changed_mind",
    )
    for step in ("authorize_return", "receive_return"):
        call("support", step, return_id=rma.id)
    call(
        "support",
        "inspect_return",
        return_id=rma.id,
        lines=[
            {"order_line_id": line.order_line_id, "condition": "opened", "resellable": True}
            for line in rma.lines
        ],
    )
    # A goodwill refund paid earlier leaves 5 EUR to refund on the order.
    write(
        seeded_engine,
        "UPDATE payments SET refunded_cents = captured_cents - 500, status = 'partially_refunded'"
        " WHERE id = :p",
        p=payment,
    )
    refunded = call("manager", "refund_return", return_id=rma.id)
    assert refunded.refunded_cents == 500 < rma.refund_cents
    assert sql("SELECT refunded_cents - captured_cents FROM payments WHERE id = :p", p=payment) == 0


def test_get_and_list_returns(call: Any, sql: Any) -> None:
    rma_id = sql("SELECT id FROM return_requests WHERE status = 'refunded' ORDER BY id LIMIT 1")
    rma = call("viewer", "get_return", return_id=rma_id)
    assert rma.refund_cents == sql(
        "SELECT refund_cents FROM return_requests WHERE id = :r", r=rma_id
    )
    assert sum(r.amount_cents for r in rma.refunds) == sql(
        "SELECT SUM(amount_cents) FROM refunds WHERE return_id = :r", r=rma_id
    )
    assert len(rma.lines) == sql("SELECT COUNT(*) FROM return_lines WHERE return_id = :r", r=rma_id)
    found = call("viewer", "list_customer_returns", rma_number=rma.rma_number)
    assert [r.id for r in found.items] == [rma_id]
    mine = call("viewer", "list_customer_returns", customer_id=rma.customer_id)
    assert len(mine.items) == sql(
        "SELECT COUNT(*) FROM return_requests WHERE customer_id = :c", c=rma.customer_id
    )
    page = call("viewer", "list_customer_returns", status="refunded", limit=5)
    more = call(
        "viewer", "list_customer_returns", status="refunded", limit=5, cursor=page.next_cursor
    )
    assert page.items[-1].id > more.items[0].id and all(r.status == "refunded" for r in more.items)
    with pytest.raises(InvalidInput):
        call("viewer", "list_customer_returns", rma_number="RMA-26-1")
    with pytest.raises(NotFound, match="return 999999 does not exist"):
        call("viewer", "get_return", return_id=999999)


def test_returns_rest_errors_have_the_json_shape(api: Any, sql: Any) -> None:
    rma_id = sql("SELECT id FROM return_requests WHERE status = 'authorized' LIMIT 1")
    response = api("viewer", "POST", f"/returns/{rma_id}/receive", json={})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    response = api("support", "POST", f"/returns/{rma_id}/authorize")
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": response.json()["error"]["message"],
        "field": "return_id",
    }
    assert "is authorized" in response.json()["error"]["message"]
    response = api("support", "POST", "/returns", json={"order_id": 1, "lines": []})
    assert response.status_code == 422 and response.json()["error"]["field"] == "lines"
    response = api("viewer", "GET", "/returns/999999")
    assert response.status_code == 404
    assert response.json()["error"]["field"] == "return_id"
    assert api("viewer", "GET", f"/returns/{rma_id}").json()["status"] == "authorized"


# -- surveys -------------------------------------------------------------------------------


def test_send_survey_marks_the_due_one_sent_once(call: Any, sql: Any) -> None:
    order_id = sql("SELECT order_id FROM satisfaction_surveys WHERE status = 'due' LIMIT 1")
    sent = call("support", "send_survey", order_id=order_id)
    assert sent.status == "sent" and sent.sent_at is not None
    assert sql("SELECT status FROM satisfaction_surveys WHERE order_id = :o", o=order_id) == "sent"
    with pytest.raises(Conflict, match="already sent"):
        call("support", "send_survey", order_id=order_id)
    fresh = sql(
        "SELECT o.id FROM orders o WHERE o.status = 'delivered' AND NOT EXISTS"
        " (SELECT 1 FROM satisfaction_surveys s WHERE s.order_id = o.id) LIMIT 1"
    )
    created = call("support", "send_survey", order_id=fresh)
    assert created.status == "sent" and created.customer_id == sql(
        "SELECT customer_id FROM orders WHERE id = :o", o=fresh
    )
    processing = sql("SELECT id FROM orders WHERE status = 'processing' LIMIT 1")
    with pytest.raises(Conflict, match="after delivery"):
        call("support", "send_survey", order_id=processing)
    with pytest.raises(Forbidden):
        call("viewer", "send_survey", order_id=fresh)
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'survey_sent'") == 2


def test_record_survey_response_once_for_a_sent_survey(call: Any, sql: Any) -> None:
    survey_id = sql("SELECT id FROM satisfaction_surveys WHERE status = 'sent' LIMIT 1")
    with pytest.raises(InvalidInput) as error:
        call("support", "record_survey_response", survey_id=survey_id, score=6, nps=9)
    assert error.value.field == "score"
    answered = call(
        "support", "record_survey_response", survey_id=survey_id, score=4, nps=9, comment="Fast"
    )
    assert answered.status == "answered" and answered.nps == 9
    assert sql("SELECT score FROM satisfaction_surveys WHERE id = :s", s=survey_id) == 4
    with pytest.raises(Conflict, match="is answered"):
        call("support", "record_survey_response", survey_id=survey_id, score=5, nps=10)
    due = sql("SELECT id FROM satisfaction_surveys WHERE status = 'due' LIMIT 1")
    with pytest.raises(Conflict, match="is due"):
        call("support", "record_survey_response", survey_id=due, score=5, nps=10)


def test_list_surveys_finds_a_customers_or_an_orders_survey(call: Any, sql: Any) -> None:
    customer_id = sql(
        "SELECT customer_id FROM satisfaction_surveys GROUP BY customer_id"
        " HAVING COUNT(*) > 1 LIMIT 1"
    )
    theirs = call("viewer", "list_surveys", customer_id=customer_id).items
    assert len(theirs) == sql(
        "SELECT COUNT(*) FROM satisfaction_surveys WHERE customer_id = :c", c=customer_id
    )
    assert {s.customer_id for s in theirs} == {customer_id}
    assert [s.id for s in theirs] == sorted((s.id for s in theirs), reverse=True)
    order_id = theirs[0].order_id
    assert [s.id for s in call("viewer", "list_surveys", order_id=order_id).items] == [theirs[0].id]
    sent = call("viewer", "list_surveys", status="sent", limit=200).items
    assert sent and all(s.status == "sent" for s in sent)
    with pytest.raises(NotFound):
        call("viewer", "list_surveys", customer_id=999_999)


def test_survey_stats_come_from_the_surveys_sent_in_the_period(call: Any, sql: Any) -> None:
    window = "sent_at >= '2026-10-01' AND sent_at < '2026-11-01'"
    stats = call("viewer", "survey_stats", start="2026-10-01", end="2026-10-31")
    sent = sql(f"SELECT COUNT(*) FROM satisfaction_surveys WHERE {window}")
    answered = sql(
        f"SELECT COUNT(*) FROM satisfaction_surveys WHERE {window} AND status = 'answered'"
    )
    promoters = sql(f"SELECT COUNT(*) FROM satisfaction_surveys WHERE {window} AND nps >= 9")
    detractors = sql(f"SELECT COUNT(*) FROM satisfaction_surveys WHERE {window} AND nps <= 6")
    average = sql(f"SELECT AVG(score) FROM satisfaction_surveys WHERE {window}")
    assert (stats.sent, stats.answered) == (sent, answered) and answered > 0
    assert stats.response_rate == round(answered / sent, 4)
    assert stats.average_score == round(float(average), 2)
    assert stats.nps == round(100 * (promoters - detractors) / answered, 1)
    assert sum(stats.score_distribution.values()) == answered
    shop = call("viewer", "survey_stats", start="2026-10-01", end="2026-10-31", channel="shop")
    assert 0 < shop.sent < sent
    with pytest.raises(InvalidInput, match="starts"):
        call("viewer", "survey_stats", start="2026-10-31", end="2026-10-01")


# -- warranty claims -----------------------------------------------------------------------

CLAIMABLE = """
SELECT l.id FROM order_lines l JOIN orders o ON o.id = l.order_id
WHERE o.status = 'delivered' AND o.delivered_at <= :before AND o.channel = 'shop'
  AND NOT EXISTS (SELECT 1 FROM return_requests r WHERE r.order_id = o.id)
  AND NOT EXISTS (SELECT 1 FROM warranty_claims w WHERE w.order_line_id = l.id)
ORDER BY l.id DESC LIMIT 1
"""
FAULT = "Screen goes black after 5-10 minutes, factory reset done, IMEI 356938035643809"


def test_file_warranty_claim_within_the_products_warranty(call: Any, sql: Any) -> None:
    line_id = sql(CLAIMABLE, before=ago(60))
    claim = call("support", "file_warranty_claim", order_line_id=line_id, fault_description=FAULT)
    delivered = sql(
        "SELECT o.delivered_at FROM orders o JOIN order_lines l ON l.order_id = o.id"
        " WHERE l.id = :l",
        l=line_id,
    )
    months = sql(
        "SELECT p.warranty_months FROM products p JOIN product_variants v ON v.product_id = p.id"
        " JOIN order_lines l ON l.variant_id = v.id WHERE l.id = :l",
        l=line_id,
    )
    delivered_on = delivered if isinstance(delivered, date) else date.fromisoformat(delivered[:10])
    if hasattr(delivered_on, "date"):
        delivered_on = delivered_on.date()
    assert claim.warranty_ends_on == add_months(delivered_on, months)
    assert re.fullmatch(rf"WAR-{utc_now().year}-{claim.id:06d}", claim.claim_number)
    assert claim.status == "submitted" and claim.created_by == "lucas.petit@maison-lumen.fr"
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "warranty_claim_filed"
    with pytest.raises(Conflict, match="already has the open claim"):
        call("support", "file_warranty_claim", order_line_id=line_id, fault_description=FAULT)
    with pytest.raises(InvalidInput):
        call("support", "file_warranty_claim", order_line_id=line_id, fault_description="broken")
    with pytest.raises(Forbidden):
        call("viewer", "file_warranty_claim", order_line_id=line_id, fault_description=FAULT)


def test_file_warranty_claim_refuses_ended_warranties_and_returned_lines(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    line_id = sql(CLAIMABLE, before=ago(70))
    write(
        seeded_engine,
        "UPDATE products SET warranty_months = 1 WHERE id = (SELECT v.product_id FROM"
        " product_variants v JOIN order_lines l ON l.variant_id = v.id WHERE l.id = :l)",
        l=line_id,
    )
    with pytest.raises(Conflict, match="ended on"):
        call("support", "file_warranty_claim", order_line_id=line_id, fault_description=FAULT)
    returned = sql(
        "SELECT rl.order_line_id FROM return_lines rl JOIN return_requests r ON r.id = rl.return_id"
        " JOIN order_lines l ON l.id = rl.order_line_id WHERE r.status = 'refunded'"
        " AND rl.quantity = l.quantity LIMIT 1"
    )
    with pytest.raises(Conflict, match="came back"):
        call("support", "file_warranty_claim", order_line_id=returned, fault_description=FAULT)
    shipped = sql(
        "SELECT l.id FROM order_lines l JOIN orders o ON o.id = l.order_id"
        " WHERE o.status = 'shipped' LIMIT 1"
    )
    with pytest.raises(Conflict, match="starts at delivery"):
        call("support", "file_warranty_claim", order_line_id=shipped, fault_description=FAULT)
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'warranty_claim_filed'") == 0


def test_decide_warranty_claim_follows_its_status_machine(call: Any, sql: Any) -> None:
    line_id = sql(CLAIMABLE, before=ago(40))
    claim = call("support", "file_warranty_claim", order_line_id=line_id, fault_description=FAULT)
    with pytest.raises(Forbidden):
        call("support", "decide_warranty_claim", claim_id=claim.id, decision="approve",
             resolution="covered")  # fmt: skip
    approved = call("manager", "decide_warranty_claim", claim_id=claim.id, decision="approve",
                    resolution="fault confirmed by the workshop")  # fmt: skip
    assert approved.claim.status == "approved" and approved.refunded_cents == 0
    with pytest.raises(Conflict, match="is approved"):
        call("manager", "decide_warranty_claim", claim_id=claim.id, decision="approve",
             resolution="covered again")  # fmt: skip
    repaired = call("manager", "decide_warranty_claim", claim_id=claim.id, decision="repaired",
                    resolution="screen replaced, returned to the customer")  # fmt: skip
    assert repaired.claim.decided_by == "thomas.bernard@maison-lumen.fr"
    assert sql("SELECT status FROM warranty_claims WHERE id = :c", c=claim.id) == "repaired"
    with pytest.raises(Conflict, match="closed"):
        call("manager", "decide_warranty_claim", claim_id=claim.id, decision="reject",
             resolution="not covered")  # fmt: skip
    with pytest.raises(InvalidInput):
        call("manager", "decide_warranty_claim", claim_id=claim.id, decision="lost",
             resolution="not covered")  # fmt: skip


def test_decide_warranty_claim_refund_pays_back_the_line(call: Any, sql: Any) -> None:
    line_id = sql(CLAIMABLE, before=ago(40))
    order_id = sql("SELECT order_id FROM order_lines WHERE id = :l", l=line_id)
    refunded_before = sql(
        "SELECT SUM(refunded_cents) FROM payments WHERE order_id = :o", o=order_id
    )
    claim = call("support", "file_warranty_claim", order_line_id=line_id, fault_description=FAULT)
    decided = call("admin", "decide_warranty_claim", claim_id=claim.id, decision="refunded",
                   resolution="no replacement in stock, refunded")  # fmt: skip
    line_total = sql("SELECT total_cents FROM order_lines WHERE id = :l", l=line_id)
    assert decided.refunded_cents == line_total
    assert (
        sql(
            "SELECT SUM(amount_cents) FROM refunds WHERE order_id = :o AND reason = :r",
            o=order_id,
            r=f"warranty {claim.claim_number}",
        )
        == line_total
    )
    assert sql("SELECT SUM(refunded_cents) FROM payments WHERE order_id = :o", o=order_id) == (
        refunded_before + line_total
    )


def test_list_warranty_claims_filters(call: Any, sql: Any) -> None:
    open_claims = call("viewer", "list_warranty_claims", open_only=True, limit=200)
    assert len(open_claims.items) == sql(
        "SELECT COUNT(*) FROM warranty_claims WHERE status IN ('submitted', 'approved')"
    )
    customer = sql("SELECT customer_id FROM warranty_claims ORDER BY id LIMIT 1")
    theirs = call("viewer", "list_warranty_claims", customer_id=customer)
    assert {c.customer_id for c in theirs.items} == {customer}
    assert len(theirs.items) == sql(
        "SELECT COUNT(*) FROM warranty_claims WHERE customer_id = :c", c=customer
    )
    order_id = theirs.items[0].order_id
    assert {
        c.order_id for c in call("viewer", "list_warranty_claims", order_id=order_id).items
    } == {order_id}
