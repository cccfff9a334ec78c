"""Fraud tools: scores built from database rows and explained signal by signal, thresholds from
the merchant's settings, the block list and its history, roles."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.base import utc_now
from db.models import Address, BlockedEntity, Customer, SystemSetting
from tests.tools.test_payments import DECLINED, in_session, make_order
from tools.base import Conflict, Forbidden, InvalidInput, NotFound
from tools.fraud import blocked_reason, score_order


def signals_of(check: Any) -> dict[str, int]:
    return {s.signal: s.weight for s in check.signals}


def new_customer(engine: Engine, email: str, shipping: str, billing: str) -> tuple[int, int]:
    """A customer who signed up ten minutes ago: (customer id, billing address id)."""
    with Session(engine) as session:
        customer = Customer(
            email=email,
            first_name="Test",
            last_name="Buyer",
            created_at=utc_now() - timedelta(minutes=10),
        )
        session.add(customer)
        session.flush()
        ids = []
        for kind, country, city in (("shipping", shipping, "Paris"), ("billing", billing, "Gent")):
            address = Address(
                customer_id=customer.id or 0,
                kind=kind,  # type: ignore[arg-type]
                full_name="Test Buyer",
                line1="1 rue de la Paix",
                postcode="75002",
                city=city,
                country=country,
                is_default=True,
            )
            session.add(address)
            session.flush()
            ids.append(address.id or 0)
        session.commit()
        return customer.id or 0, ids[1]


@pytest.fixture
def ring_order(sql: Any) -> int:
    """An order the seeded fraud check blocked: the customer, e-mail, IP and card are blocked."""
    return sql("SELECT MIN(order_id) FROM fraud_checks WHERE decision = 'block'")


def test_check_order_fraud_scores_a_blocked_ring_order(
    call: Any, sql: Any, ring_order: int
) -> None:
    check = call("support", "check_order_fraud", order_id=ring_order)
    signals = signals_of(check)
    assert signals["blocked_entity"] == 80
    assert check.score == min(100, sum(signals.values())) and check.decision == "block"
    blocked = next(s for s in check.signals if s.signal == "blocked_entity")
    customer = sql("SELECT customer_id FROM orders WHERE id = :o", o=ring_order)
    assert f"customer {customer}" in blocked.detail
    assert "block from 80, review from 50, flag from 30" in check.explanation
    assert sql("SELECT score FROM fraud_checks WHERE id = :c", c=check.id) == check.score
    assert sql("SELECT COUNT(*) FROM fraud_checks WHERE order_id = :o", o=ring_order) == 2
    assert (
        sql("SELECT type FROM domain_events WHERE entity_id = :c", c=str(check.id))
        == "fraud_check_completed"
    )
    with pytest.raises(NotFound):
        call("support", "check_order_fraud", order_id=999999)


def test_check_order_fraud_builds_every_signal_from_rows(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    customer, billing = new_customer(seeded_engine, "zz.test4411@yopmail.com", "FR", "BE")
    for card in ("4242424242424242", "5555555555554444"):
        call(
            "support",
            "add_payment_method",
            customer_id=customer,
            card_number=card,
            exp_month=6,
            exp_year=utc_now().year + 2,
        )
    shared = sql("SELECT ip_address FROM orders WHERE customer_id = 7 AND ip_address IS NOT NULL")
    order = make_order(
        seeded_engine,
        customer,
        150000,
        ip=shared,
        billing_address_id=billing,
        placed_ago=timedelta(minutes=2),
    )
    for n in range(2):
        call(
            "support",
            "process_payment",
            order_id=order,
            card_number=DECLINED,
            idempotency_key=f"try-{n}",
        )
    check = call("support", "check_order_fraud", order_id=order)
    assert signals_of(check) == {
        "large_first_order": 20,
        "address_mismatch": 20,
        "new_account": 20,
        "disposable_email": 15,
        "shared_ip": 25,
        "new_payment_methods": 20,
        "declined_payments": 15,
    }
    assert (check.score, check.decision) == (100, "block")
    details = {s.signal: s.detail for s in check.signals}
    assert details["address_mismatch"] == "billing in BE, shipping to FR"
    assert "1 500,00 EUR" in details["large_first_order"].replace("\u202f", " ")
    assert details["declined_payments"].startswith("2 declined")


def test_check_order_fraud_compares_with_the_customers_history(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    customer = 7
    history = sql("SELECT AVG(total_cents) FROM orders WHERE customer_id = :c", c=customer)
    for minutes in (300, 120):
        make_order(seeded_engine, customer, 2000, placed_ago=timedelta(minutes=minutes))
    big = max(int(history * 6), 40000)
    order = make_order(seeded_engine, customer, big)
    check = call("support", "check_order_fraud", order_id=order)
    signals = signals_of(check)
    assert signals["amount_vs_history"] == 25 and signals["velocity_24h"] == 25
    recent = sql(
        "SELECT COUNT(*) FROM orders WHERE customer_id = :c AND placed_at >= :since",
        c=customer,
        since=(utc_now() - timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S"),
    )
    assert f"{recent} orders from this account in 24 hours" in next(
        s.detail for s in check.signals if s.signal == "velocity_24h"
    )
    assert check.score == min(100, sum(signals.values()))
    expected = "block" if check.score >= 80 else "review" if check.score >= 50 else "flag"
    assert check.decision == expected


def test_check_order_fraud_follows_the_threshold_settings(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order = sql("SELECT MIN(order_id) FROM fraud_checks WHERE decision = 'flag'")
    first = call("support", "check_order_fraud", order_id=order)
    assert 0 < first.score < 80
    with Session(seeded_engine) as session:
        for key, value in (("fraud.review_threshold", first.score), ("fraud.block_threshold", 99)):
            setting = session.get(SystemSetting, key)
            assert setting is not None
            setting.value = value
            session.add(setting)
        session.commit()
    again = call("support", "check_order_fraud", order_id=order)
    assert (again.score, again.decision) == (first.score, "review")
    assert f"review from {first.score}" in again.explanation


def test_check_customer_fraud_of_a_blocked_customer(call: Any, sql: Any, ring_order: int) -> None:
    customer = sql("SELECT customer_id FROM orders WHERE id = :o", o=ring_order)
    check = call("support", "check_customer_fraud", customer_id=customer)
    signals = signals_of(check)
    assert signals["blocked_entity"] == 80 and signals["past_fraud_decisions"] == 15
    assert check.order_id is None and check.decision == "block"
    assert sql("SELECT order_id IS NULL FROM fraud_checks WHERE id = :c", c=check.id)
    loyal = call("support", "check_customer_fraud", customer_id=8)
    assert loyal.score == sum(signals_of(loyal).values()) < 80
    with pytest.raises(Forbidden):
        call("viewer", "check_customer_fraud", customer_id=8)


def test_block_entity_then_unblock_it(call: Any, sql: Any, seeded_engine: Engine) -> None:
    email = sql("SELECT email FROM customers WHERE id = 8")
    block = call(
        "manager",
        "block_entity",
        kind="email",
        value=f"  {email.upper()} ",
        reason="chargeback on order 12",
    )
    assert (block.value, block.active, block.expires_at) == (email, True, None)
    with Session(seeded_engine) as session:
        reason = blocked_reason(
            session, customer_id=None, email=email, ip=None, card_fingerprint=None
        )
        assert reason and email in reason and "chargeback on order 12" in reason
        assert (
            blocked_reason(session, customer_id=None, email=None, ip=None, card_fingerprint=None)
            is None
        )
    with pytest.raises(Conflict, match="already blocked"):
        call("admin", "block_entity", kind="email", value=email, reason="again please")
    listed = call("viewer", "list_blocked_entities", kind="email")
    assert listed.items[0].id == block.id
    lifted = call(
        "manager", "unblock_entity", kind="email", value=email, reason="chargeback withdrawn"
    )
    assert (lifted.active, lifted.unblocked_by) == (False, "thomas.bernard@maison-lumen.fr")
    with Session(seeded_engine) as session:
        assert (
            blocked_reason(session, customer_id=None, email=email, ip=None, card_fingerprint=None)
            is None
        )
    assert sql("SELECT unblocked_at IS NOT NULL FROM blocked_entities WHERE id = :b", b=block.id)
    assert "chargeback withdrawn" in str(
        sql("SELECT after FROM audit_log ORDER BY id DESC LIMIT 1")
    )
    events = sql(
        "SELECT COUNT(*) FROM domain_events WHERE type IN ('entity_blocked', 'entity_unblocked')"
    )
    assert events == 2
    with pytest.raises(NotFound, match="is not blocked"):
        call("manager", "unblock_entity", kind="email", value=email, reason="twice")


def test_block_entity_rejects_bad_values(call: Any, sql: Any) -> None:
    before = sql("SELECT COUNT(*) FROM blocked_entities")
    for kind, value, reason, error, field in [
        ("ip", "999.1.1.1", "card testing", InvalidInput, "value"),
        ("email", "not-an-email", "card testing", InvalidInput, "value"),
        ("card_fingerprint", "xyz", "card testing", InvalidInput, "value"),
        ("customer", "abc", "card testing", InvalidInput, "value"),
        ("customer", "999999", "card testing", NotFound, "value"),
        ("phone", "0600000000", "card testing", InvalidInput, "kind"),
        ("ip", "10.0.0.1", "x", InvalidInput, "reason"),
    ]:
        with pytest.raises(error) as raised:
            call("manager", "block_entity", kind=kind, value=value, reason=reason)
        assert raised.value.field == field, (kind, value)
    assert sql("SELECT COUNT(*) FROM blocked_entities") == before


def test_block_entity_ip_expires_after_seven_days(call: Any, seeded_engine: Engine) -> None:
    block = call("manager", "block_entity", kind="ip", value="203.0.113.7", reason="card testing")
    assert block.expires_at is not None
    assert timedelta(days=6, hours=23) < block.expires_at - block.created_at <= timedelta(days=7)
    with Session(seeded_engine) as session:
        row = session.get(BlockedEntity, block.id)
        assert row is not None
        row.expires_at = utc_now() - timedelta(minutes=1)
        session.add(row)
        session.commit()
        assert (
            blocked_reason(
                session, customer_id=None, email=None, ip="203.0.113.7", card_fingerprint=None
            )
            is None
        )
    assert block.id not in [b.id for b in call("viewer", "list_blocked_entities", kind="ip").items]
    renewed = call(
        "manager", "block_entity", kind="ip", value="203.0.113.7", reason="again", days=30
    )
    assert renewed.active and renewed.id != block.id
    history = call("viewer", "list_blocked_entities", kind="ip", active_only=False).items
    old = next(b for b in history if b.id == block.id)
    assert old.unblocked_by == "system:expiry"


def test_customer_fraud_history_lists_checks_and_blocks(
    call: Any, sql: Any, ring_order: int
) -> None:
    customer = sql("SELECT customer_id FROM orders WHERE id = :o", o=ring_order)
    history = call("viewer", "customer_fraud_history", customer_id=customer)
    assert {b.kind for b in history.blocks} == {"customer", "email", "ip", "card_fingerprint"}
    assert len(history.items) == sql(
        "SELECT COUNT(*) FROM fraud_checks WHERE customer_id = :c", c=customer
    )
    assert history.orders_cancelled_for_fraud == sql(
        "SELECT COUNT(*) FROM orders WHERE customer_id = :c AND cancel_reason LIKE '%fraud%'",
        c=customer,
    )
    assert history.items[0].signals and history.items[0].explanation
    call("support", "check_customer_fraud", customer_id=customer)
    paged = call("viewer", "customer_fraud_history", customer_id=customer, limit=1)
    assert len(paged.items) == 1 and paged.next_cursor is not None
    assert paged.items[0].order_id is None  # the newest check comes first


def test_score_order_writes_a_check_for_another_domain(sql: Any, seeded_engine: Engine) -> None:
    order = make_order(seeded_engine, 8, 5000)

    def score(ctx: Any, order_id: int) -> Any:
        from db.models import Order

        check = score_order(ctx, ctx.session.get(Order, order_id))
        return check.id, check.score, check.decision

    check_id, score_value, decision = in_session(seeded_engine, "support", score, order_id=order)
    assert sql("SELECT score FROM fraud_checks WHERE id = :c", c=check_id) == score_value
    assert sql("SELECT order_id FROM fraud_checks WHERE id = :c", c=check_id) == order
    assert decision in ("allow", "flag", "review", "block")


def test_fraud_tools_over_rest_check_roles_and_errors(api: Any, ring_order: int) -> None:
    body = {"kind": "ip", "value": "198.51.100.4", "reason": "card testing burst"}
    refused = api("support", "POST", "/fraud/blocks", json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert api("manager", "POST", "/fraud/blocks", json=body).status_code == 200
    listed = api("viewer", "GET", "/fraud/blocks", params={"kind": "ip", "limit": 2})
    assert listed.status_code == 200 and listed.json()["items"][0]["value"] == "198.51.100.4"
    assert api("viewer", "POST", f"/fraud/orders/{ring_order}/check").status_code == 403
    checked = api("support", "POST", f"/fraud/orders/{ring_order}/check")
    assert checked.status_code == 200 and checked.json()["decision"] == "block"
    missing = api(
        "manager",
        "POST",
        "/fraud/blocks/unblock",
        json={"kind": "ip", "value": "192.0.2.1", "reason": "no reason"},
    )
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "ip 192.0.2.1 is not blocked",
        "field": "value",
    }
    bad = api("manager", "POST", "/fraud/blocks", json={**body, "kind": "phone"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "kind"
