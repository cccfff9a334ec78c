"""Payments tools: sandbox outcomes by test card, amounts from the order, captures that pay the
order, refunds capped by what is left, idempotency keys, analytics from rows, roles."""

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.base import utc_now
from db.models import Address, Order, OrderLine, ProductVariant
from tests.tools.conftest import actor
from tools.base import Conflict, Forbidden, InvalidInput, NotFound, ProviderError, ToolContext
from tools.payments import refund_order

APPROVED = "4242 4242 4242 4242"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"


def make_order(
    engine: Engine,
    customer_id: int,
    total_cents: int = 45990,
    *,
    shipping_cents: int = 0,
    ip: str | None = None,
    placed_ago: timedelta = timedelta(minutes=5),
    billing_address_id: int | None = None,
    channel: str = "shop",
) -> int:
    """A pending order of one line, as the shop's checkout leaves it before payment."""
    with Session(engine) as session:
        address = session.exec(
            select(Address.id).where(Address.customer_id == customer_id).order_by(col(Address.id))
        ).first()
        variant = session.exec(select(ProductVariant).order_by(col(ProductVariant.id))).first()
        assert address is not None and variant is not None
        subtotal = total_cents - shipping_cents
        placed = utc_now() - placed_ago
        order = Order(
            customer_id=customer_id,
            channel=channel,  # type: ignore[arg-type]
            warehouse_id=1,
            shipping_address_id=address,
            billing_address_id=billing_address_id or address,
            subtotal_cents=subtotal,
            shipping_cents=shipping_cents,
            tax_cents=round(total_cents / 6),
            total_cents=total_cents,
            ip_address=ip,
            placed_at=placed,
            updated_at=placed,
        )
        session.add(order)
        session.flush()
        session.add(
            OrderLine(
                order_id=order.id or 0,
                variant_id=variant.id or 0,
                sku=variant.sku,
                name="Test line",
                quantity=1,
                unit_price_cents=subtotal,
                tax_cents=round(subtotal / 6),
                total_cents=subtotal,
            )
        )
        session.commit()
        return order.id or 0


def in_session(engine: Engine, role: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call an exported (non-tool) function the way another domain's tool does."""
    with Session(engine, expire_on_commit=False) as session:
        result = fn(ToolContext(session=session, actor=actor(role)), **kwargs)
        session.commit()
    return result


@pytest.fixture
def buyer(sql: Any) -> tuple[int, int]:
    """(customer id, stored card id): a regular customer whose card is valid."""
    row = sql(
        "SELECT MIN(pm.id) FROM payment_methods pm WHERE pm.kind = 'card' AND pm.exp_year >= 2028"
        " AND pm.customer_id NOT IN (SELECT CAST(value AS INTEGER) FROM blocked_entities"
        " WHERE kind = 'customer')"
    )
    return sql("SELECT customer_id FROM payment_methods WHERE id = :id", id=row), row


# -- gateways and payment methods -------------------------------------------------------------


def test_list_gateways_and_payment_methods(call: Any, sql: Any, buyer: Any) -> None:
    items = call("viewer", "list_gateways").items
    assert [g.code for g in items] == [
        "sandbox_card",
        "sandbox_paypal",
        "sandbox_sepa",
        "marketplace",
    ]
    assert all(g.sandbox and g.mode == "test" for g in items)
    assert items[0].fee_bp == sql("SELECT fee_bp FROM payment_gateways WHERE code = 'sandbox_card'")
    assert len(call("viewer", "list_gateways", limit=2).items) == 2
    items = call("viewer", "list_payment_methods", customer_id=buyer[0]).items
    assert len(items) == sql(
        "SELECT COUNT(*) FROM payment_methods WHERE customer_id = :c", c=buyer[0]
    )
    assert items[0].id == buyer[1] and items[0].last4
    with pytest.raises(NotFound):
        call("viewer", "list_payment_methods", customer_id=999999)


def test_stored_payment_methods_come_back_with_their_time_zone(api: Any, buyer: Any) -> None:
    # Found by tests/test_api_fuzz.py: read back from SQLite, created_at had no offset.
    items = api("viewer", "GET", f"/payments/customers/{buyer[0]}/methods").json()["items"]
    assert items
    assert all(datetime.fromisoformat(m["created_at"]).utcoffset() is not None for m in items)


# -- authorize, capture, process ------------------------------------------------------------


def test_add_payment_method_keeps_no_card_number(call: Any, sql: Any, buyer: Any) -> None:
    customer_id, old_method = buyer
    method = call(
        "support",
        "add_payment_method",
        customer_id=customer_id,
        card_number=APPROVED,
        exp_month=12,
        exp_year=utc_now().year + 2,
        make_default=True,
    )
    assert (method.brand, method.last4, method.is_default) == ("visa", "4242", True)
    assert method.fingerprint == hashlib.sha256(b"4242424242424242").hexdigest()
    assert (
        sql("SELECT COUNT(*) FROM payment_methods WHERE last4 = '4242' AND id = :id", id=method.id)
        == 1
    )
    assert sql("SELECT is_default FROM payment_methods WHERE id = :id", id=old_method) in (0, False)
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "payment_method_added"
    assert "4242424242424242" not in str(
        sql("SELECT after FROM audit_log ORDER BY id DESC LIMIT 1")
    )
    with pytest.raises(Conflict, match="already stored"):
        call(
            "support",
            "add_payment_method",
            customer_id=customer_id,
            card_number=APPROVED,
            exp_month=1,
            exp_year=utc_now().year + 3,
        )


def test_add_payment_method_rejects_bad_cards(call: Any, sql: Any, buyer: Any) -> None:
    before = sql("SELECT COUNT(*) FROM payment_methods")
    for card, month, year, error, field in [
        ("4242424242424241", 12, 2030, InvalidInput, "card_number"),  # Luhn
        ("6011111111111117", 12, 2030, InvalidInput, "card_number"),  # Discover
        ("4242 4242", 12, 2030, InvalidInput, "card_number"),  # too short
        ("4242424242424242", 12, 2020, InvalidInput, "exp_year"),  # expired
        ("4242424242424242", 13, 2030, InvalidInput, "exp_month"),
        ("4111111111111111", 12, 2030, ProviderError, "card_number"),  # a real card, test mode
    ]:
        with pytest.raises(error) as raised:
            call(
                "support",
                "add_payment_method",
                customer_id=buyer[0],
                card_number=card,
                exp_month=month,
                exp_year=year,
            )
        assert raised.value.field == field and raised.value.message, card
    assert sql("SELECT COUNT(*) FROM payment_methods") == before


def test_add_payment_method_over_rest_reports_the_provider_refusal(api: Any, buyer: Any) -> None:
    body = {"customer_id": buyer[0], "exp_month": 12, "exp_year": 2030}
    refused = api(
        "support", "POST", "/payments/methods", json={**body, "card_number": "4111111111111111"}
    )
    assert refused.status_code == 502
    assert refused.json()["error"]["code"] == "test_mode_live_card"
    assert refused.json()["error"]["field"] == "card_number"
    bad = api(
        "support", "POST", "/payments/methods", json={**body, "card_number": "42424242424242421"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "card_number"
    added = api("support", "POST", "/payments/methods", json={**body, "card_number": APPROVED})
    assert added.status_code == 200 and added.json()["last4"] == "4242"
    assert (
        api(
            "viewer", "POST", "/payments/methods", json={**body, "card_number": APPROVED}
        ).status_code
        == 403
    )


def test_add_payment_method_refuses_a_blocked_card(call: Any, buyer: Any) -> None:
    fingerprint = hashlib.sha256(b"5555555555554444").hexdigest()
    call("manager", "block_entity", kind="card_fingerprint", value=fingerprint, reason="chargeback")
    with pytest.raises(Conflict, match="blocked") as error:
        call(
            "support",
            "add_payment_method",
            customer_id=buyer[0],
            card_number="5555 5555 5555 4444",
            exp_month=3,
            exp_year=utc_now().year + 1,
        )
    assert error.value.code == "blocked"


def test_process_payment_pays_the_order_and_earns_points(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0], 45990, shipping_cents=490)
    paid = call(
        "support",
        "process_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="pay-1",
    )
    assert paid.status == "captured" and paid.order_status == "paid" and paid.sandbox
    assert paid.provider_reference.startswith("sbx_") and "SANDBOX" in paid.message
    assert paid.amount_cents == paid.captured_cents == 45990
    assert paid.fee_cents == round(45990 * 140 / 10000) + 25
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "paid"
    assert sql("SELECT paid_at IS NOT NULL FROM orders WHERE id = :o", o=order_id)
    assert (
        sql(
            "SELECT points FROM loyalty_transactions WHERE order_id = :o AND kind = 'earn'",
            o=order_id,
        )
        == (45990 - 490) // 100
    )
    events = sql(
        "SELECT COUNT(*) FROM domain_events WHERE entity_id = :p AND type IN "
        "('payment_authorized', 'payment_captured')",
        p=str(paid.id),
    )
    assert events == 2


def test_process_payment_records_declines(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0])
    for card, code in [(DECLINED, "card_declined"), (NO_FUNDS, "insufficient_funds")]:
        result = call(
            "support",
            "process_payment",
            order_id=order_id,
            card_number=card,
            idempotency_key=f"pay-{code}",
        )
        assert (result.status, result.failure_code, result.order_status) == (
            "failed",
            code,
            "pending",
        )
        assert sql("SELECT failure_code FROM payments WHERE id = :p", p=result.id) == code
        assert (
            sql("SELECT type FROM domain_events WHERE entity_id = :p", p=str(result.id))
            == "payment_failed"
        )
    retry = call(
        "support",
        "process_payment",
        order_id=order_id,
        payment_method_id=buyer[1],
        idempotency_key="pay-again",
    )
    assert retry.status == "captured" and retry.order_status == "paid"


def test_authorize_payment_holds_the_order_total_not_a_callers_amount(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0], 12345)
    body = {"order_id": order_id, "payment_method_id": buyer[1], "idempotency_key": "a-1"}
    with pytest.raises(InvalidInput) as refused:
        call("support", "authorize_payment", **body, amount_cents=1)
    assert refused.value.field == "amount_cents"
    held = call("support", "authorize_payment", **body)
    assert held.status == "authorized" and held.amount_cents == 12345
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "pending"
    with pytest.raises(Conflict, match=f"capture payment {held.id}"):
        call(
            "support",
            "authorize_payment",
            order_id=order_id,
            card_number=APPROVED,
            idempotency_key="a-2",
        )


def test_capture_payment_in_part_then_the_balance(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0], 30000)
    hold = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="h-1",
    )
    with pytest.raises(Conflict, match="cannot be captured") as error:
        call(
            "support",
            "capture_payment",
            payment_id=hold.id,
            amount_cents=30001,
            idempotency_key="c-0",
        )
    assert error.value.field == "amount_cents"
    part = call(
        "support", "capture_payment", payment_id=hold.id, amount_cents=10000, idempotency_key="c-1"
    )
    assert (part.status, part.captured_cents, part.order_status) == ("captured", 10000, "pending")
    with pytest.raises(Conflict, match="already captured"):
        call("support", "capture_payment", payment_id=hold.id, idempotency_key="c-2")
    rest = call(
        "support",
        "process_payment",
        order_id=order_id,
        card_number="5555555555554444",
        idempotency_key="p-1",
    )
    assert (rest.amount_cents, rest.order_status) == (20000, "paid")
    assert sql("SELECT SUM(captured_cents) FROM payments WHERE order_id = :o", o=order_id) == 30000


def test_capture_payment_after_the_authorization_expired(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0])
    hold = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="old",
    )
    with Session(seeded_engine) as session:
        from db.models import Payment

        payment = session.get(Payment, hold.id)
        assert payment is not None
        payment.authorized_at = utc_now() - timedelta(days=8)
        session.add(payment)
        session.commit()
    result = call("support", "capture_payment", payment_id=hold.id, idempotency_key="late")
    assert (result.status, result.failure_code) == ("voided", "authorization_expired")
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "pending"


def test_authorize_payment_refuses_orders_it_cannot_charge(call: Any, sql: Any, buyer: Any) -> None:
    delivered = sql("SELECT MIN(id) FROM orders WHERE status = 'delivered' AND channel = 'shop'")
    with pytest.raises(Conflict, match="is delivered"):
        call(
            "support",
            "authorize_payment",
            order_id=delivered,
            card_number=APPROVED,
            idempotency_key="x-1",
        )
    marketplace = sql("SELECT MIN(id) FROM orders WHERE channel <> 'shop'")
    with pytest.raises(Conflict, match="marketplace collected"):
        call(
            "support",
            "authorize_payment",
            order_id=marketplace,
            card_number=APPROVED,
            idempotency_key="x-2",
        )
    with pytest.raises(NotFound, match="order 999999"):
        call(
            "support",
            "authorize_payment",
            order_id=999999,
            card_number=APPROVED,
            idempotency_key="x-3",
        )
    assert sql("SELECT COUNT(*) FROM idempotency_records") == 0


def test_authorize_payment_checks_the_payment_source(
    call: Any, seeded_engine: Engine, buyer: Any, sql: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0])
    args = {"order_id": order_id, "idempotency_key": "s-1"}
    with pytest.raises(InvalidInput, match="either") as error:
        call("support", "authorize_payment", **args)
    assert error.value.field == "payment_method_id"
    with pytest.raises(InvalidInput, match="either"):
        call(
            "support", "authorize_payment", **args, payment_method_id=buyer[1], card_number=APPROVED
        )
    other = sql("SELECT MIN(id) FROM payment_methods WHERE customer_id <> :c", c=buyer[0])
    with pytest.raises(InvalidInput, match="belongs to customer"):
        call("support", "authorize_payment", **args, payment_method_id=other)
    with pytest.raises(InvalidInput, match="Luhn"):
        call("support", "authorize_payment", **args, card_number="4242424242424241")
    real = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number="4111111111111111",
        idempotency_key="s-2",
    )
    assert real.status == "failed" and "test mode" in real.failure_message
    method = sql(
        "SELECT MIN(id) FROM payment_methods WHERE kind = 'card' AND exp_year < 2025"
        " AND customer_id > 0"
    )
    customer = sql("SELECT customer_id FROM payment_methods WHERE id = :m", m=method)
    expired_order = make_order(seeded_engine, customer)
    result = call(
        "support",
        "authorize_payment",
        order_id=expired_order,
        payment_method_id=method,
        idempotency_key="exp",
    )
    assert (result.status, result.failure_code) == ("failed", "expired_card")
    assert result.card and result.card.endswith(
        sql("SELECT last4 FROM payment_methods WHERE id = :m", m=method)
    )
    tiny = make_order(seeded_engine, buyer[0], 30)  # below the provider's 0,50 EUR minimum
    with pytest.raises(ProviderError, match="amounts go from 50"):
        call(
            "support",
            "process_payment",
            order_id=tiny,
            card_number=APPROVED,
            idempotency_key="tiny",
        )
    assert sql("SELECT COUNT(*) FROM payments WHERE order_id = :o", o=tiny) == 0
    assert sql("SELECT COUNT(*) FROM idempotency_records WHERE key = 'tiny'") == 0


def test_authorize_payment_refuses_a_blocked_customer(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0])
    call("manager", "block_entity", kind="customer", value=str(buyer[0]), reason="chargeback fraud")
    result = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        payment_method_id=buyer[1],
        idempotency_key="b-1",
    )
    assert (result.status, result.failure_code, result.provider_reference) == (
        "failed",
        "blocked",
        None,
    )
    assert "customer" in sql("SELECT failure_message FROM payments WHERE id = :p", p=result.id)


def test_authorize_payment_same_key_replays_and_other_request_conflicts(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0])
    first = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="k-1",
    )
    again = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="k-1",
    )
    assert again.id == first.id and again.replayed and not first.replayed
    assert sql("SELECT COUNT(*) FROM payments WHERE order_id = :o", o=order_id) == 1
    with pytest.raises(Conflict, match="different authorize_payment") as error:
        call(
            "support",
            "authorize_payment",
            order_id=order_id,
            card_number=DECLINED,
            idempotency_key="k-1",
        )
    assert (error.value.code, error.value.field) == ("idempotency_key_reused", "idempotency_key")


def test_void_payment_releases_a_hold(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0])
    hold = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="v-1",
    )
    voided = call("support", "void_payment", payment_id=hold.id, reason="customer changed card")
    assert voided.status == "voided"
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "payment_voided"
    with pytest.raises(Conflict, match="only an authorized payment"):
        call("support", "void_payment", payment_id=hold.id, reason="again")


# -- refunds ------------------------------------------------------------------------------------


def test_refund_payment_never_exceeds_what_is_left(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0], 40000)
    paid = call(
        "support",
        "process_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="r-pay",
    )
    earned = sql("SELECT loyalty_points FROM customers WHERE id = :c", c=buyer[0])
    refund = call(
        "support",
        "refund_payment",
        payment_id=paid.id,
        amount_cents=15000,
        reason="damaged box",
        idempotency_key="r-1",
    )
    assert refund.amount_cents == 15000 and refund.provider_reference.startswith("sbx_re_")
    assert sql("SELECT loyalty_points FROM customers WHERE id = :c", c=buyer[0]) == earned - 150
    with pytest.raises(Conflict, match="left on payment") as error:
        call(
            "support",
            "refund_payment",
            payment_id=paid.id,
            amount_cents=25001,
            reason="too much",
            idempotency_key="r-2",
        )
    assert error.value.field == "amount_cents"
    rest = call(
        "support", "refund_payment", payment_id=paid.id, reason="rest", idempotency_key="r-3"
    )
    assert rest.amount_cents == 25000
    assert sql("SELECT status FROM payments WHERE id = :p", p=paid.id) == "refunded"
    assert sql("SELECT SUM(amount_cents) FROM refunds WHERE payment_id = :p", p=paid.id) == 40000
    with pytest.raises(Conflict, match="is refunded"):
        call("support", "refund_payment", payment_id=paid.id, reason="again", idempotency_key="r-4")
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'refund_created'") == 2


def test_refund_payment_same_key_refunds_once(call: Any, sql: Any) -> None:
    payment = sql(
        "SELECT MIN(id) FROM payments WHERE status = 'captured' AND captured_cents > 5000"
    )
    first = call(
        "manager",
        "refund_payment",
        payment_id=payment,
        amount_cents=5000,
        reason="goodwill",
        idempotency_key="once",
    )
    second = call(
        "manager",
        "refund_payment",
        payment_id=payment,
        amount_cents=5000,
        reason="goodwill",
        idempotency_key="once",
    )
    assert second.id == first.id and second.replayed
    assert sql("SELECT refunded_cents FROM payments WHERE id = :p", p=payment) == 5000
    assert sql("SELECT COUNT(*) FROM refunds WHERE payment_id = :p", p=payment) == 1
    failed = sql("SELECT MIN(id) FROM payments WHERE status = 'failed'")
    with pytest.raises(Conflict, match="only captured payments"):
        call("manager", "refund_payment", payment_id=failed, reason="x-x", idempotency_key="f")


def test_refund_order_spreads_over_payments_and_replays(
    call: Any, sql: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0], 30000)
    hold = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="o-h",
    )
    call(
        "support", "capture_payment", payment_id=hold.id, amount_cents=10000, idempotency_key="o-c"
    )
    call(
        "support", "process_payment", order_id=order_id, card_number=APPROVED, idempotency_key="o-p"
    )
    args = {"order_id": order_id, "reason": "return", "idempotency_key": "rma-1"}
    refunds = in_session(seeded_engine, "support", refund_order, amount_cents=15000, **args)
    assert [r.amount_cents for r in refunds] == [10000, 5000]
    again = in_session(seeded_engine, "support", refund_order, amount_cents=15000, **args)
    assert [r.id for r in again] == [r.id for r in refunds] and all(r.replayed for r in again)
    with pytest.raises(Conflict, match="more than the 150,00 EUR left"):
        in_session(
            seeded_engine,
            "support",
            refund_order,
            amount_cents=15001,
            order_id=order_id,
            reason="r",
            idempotency_key="rma-2",
        )
    rest = in_session(
        seeded_engine,
        "support",
        refund_order,
        amount_cents=None,
        order_id=order_id,
        reason="cancel",
        idempotency_key="cancel-x",
    )
    assert sum(r.amount_cents for r in rest) == 15000
    assert sql("SELECT SUM(refunded_cents) FROM payments WHERE order_id = :o", o=order_id) == 30000
    nothing = in_session(
        seeded_engine,
        "support",
        refund_order,
        amount_cents=None,
        order_id=order_id,
        reason="cancel",
        idempotency_key="cancel-y",
    )
    assert nothing == []


def test_refund_order_without_capture_releases_holds(
    sql: Any, call: Any, seeded_engine: Engine, buyer: Any
) -> None:
    order_id = make_order(seeded_engine, buyer[0])
    args = {"order_id": order_id, "reason": "cancel", "amount_cents": None}
    assert in_session(seeded_engine, "support", refund_order, idempotency_key="c-0", **args) == []
    hold = call(
        "support",
        "authorize_payment",
        order_id=order_id,
        card_number=APPROVED,
        idempotency_key="c-h",
    )
    assert in_session(seeded_engine, "support", refund_order, idempotency_key="c-1", **args) == []
    assert sql("SELECT status FROM payments WHERE id = :p", p=hold.id) == "voided"
    with pytest.raises(InvalidInput):
        in_session(
            seeded_engine,
            "support",
            refund_order,
            order_id=order_id,
            amount_cents=0,
            reason="r",
            idempotency_key="c-2",
        )


# -- reading ------------------------------------------------------------------------------------


def test_get_transaction_lists_its_refunds(api: Any, call: Any, sql: Any) -> None:
    payment = sql("SELECT MIN(id) FROM payments WHERE status = 'partially_refunded'")
    response = api("viewer", "GET", f"/payments/transactions/{payment}")
    assert response.status_code == 200
    body = response.json()
    assert sum(r["amount_cents"] for r in body["refunds"]) == body["refunded_cents"]
    assert body["refundable_cents"] == body["captured_cents"] - body["refunded_cents"] > 0
    missing = api("viewer", "GET", "/payments/transactions/99999999")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "payment 99999999 does not exist",
        "field": "payment_id",
    }
    order_id = sql("SELECT order_id FROM payments GROUP BY order_id ORDER BY COUNT(*) DESC LIMIT 1")
    page = call("viewer", "list_order_payments", order_id=order_id)
    assert len(page.items) == sql("SELECT COUNT(*) FROM payments WHERE order_id = :o", o=order_id)


def test_payment_analytics_matches_the_rows(call: Any, sql: Any) -> None:
    result = call("viewer", "payment_analytics", start="2026-10-01", end="2026-10-31")
    assert len(result.days) == 31
    assert result.captured_cents == sql(
        "SELECT SUM(captured_cents) FROM payments WHERE captured_at >= '2026-10-01'"
        " AND captured_at < '2026-11-01'"
    )
    assert result.refunded_cents == sql(
        "SELECT SUM(amount_cents) FROM refunds WHERE created_at >= '2026-10-01'"
        " AND created_at < '2026-11-01'"
    )
    assert result.failed == sql(
        "SELECT COUNT(*) FROM payments WHERE status = 'failed' AND created_at >= '2026-10-01'"
        " AND created_at < '2026-11-01'"
    )
    assert result.net_cents == result.captured_cents - result.refunded_cents
    assert result.fees_cents == sum(d.fees_cents for d in result.days) > 0
    october_2 = result.days[1]
    assert october_2.captured_cents == sql(
        "SELECT COALESCE(SUM(captured_cents), 0) FROM payments WHERE captured_at >= '2026-10-02'"
        " AND captured_at < '2026-10-03'"
    )
    cards = call(
        "viewer", "payment_analytics", start="2026-10-01", end="2026-10-31", gateway="sandbox_card"
    )
    assert 0 < cards.captured_cents < result.captured_cents
    with pytest.raises(NotFound):
        call("viewer", "payment_analytics", gateway="stripe")
    with pytest.raises(InvalidInput, match="366"):
        call("viewer", "payment_analytics", start="2024-01-01", end="2026-01-01")


def test_payments_writes_need_staff_and_refunds_are_gated(api: Any, call: Any, sql: Any) -> None:
    payment = sql("SELECT MIN(id) FROM payments WHERE status = 'captured'")
    response = api(
        "viewer",
        "POST",
        f"/payments/transactions/{payment}/refund",
        json={"reason": "nope", "idempotency_key": "v-1"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    with pytest.raises(Forbidden):
        call("viewer", "process_payment", order_id=1, card_number=APPROVED, idempotency_key="v-2")
    from tools.base import REGISTRY

    assert REGISTRY["refund_payment"].approval and REGISTRY["void_payment"].approval
    assert not REGISTRY["capture_payment"].approval
    assert sql("SELECT refunded_cents FROM payments WHERE id = :p", p=payment) == 0
