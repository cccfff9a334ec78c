"""Customers tools: profiles, addresses, GDPR erasure, loyalty ledger, interactions, 360 view."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

import tools.customers  # noqa: F401  (registers the tools)
from db.base import utc_now
from db.models import Customer, Order
from tests.tools.conftest import actor
from tools.base import Conflict, Forbidden, InvalidInput, NotFound, ToolContext
from tools.customers import earn_points_for_order, revoke_points_for_refund
from tools.customers_core import tier_for

NEW = {"email": "Lea.Dumont@Example.fr", "first_name": "Léa", "last_name": "Dumont"}


@contextmanager
def tool_context(engine: Engine, role: str = "admin") -> Iterator[ToolContext]:
    """A context as run_tool gives one, for the functions other domains call."""
    with Session(engine, expire_on_commit=False) as session:
        yield ToolContext(session=session, actor=actor(role))
        session.commit()


def write(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def events(sql: Any, kind: str) -> int:
    return sql("SELECT COUNT(*) FROM domain_events WHERE type = :t", t=kind)


# -- profiles ------------------------------------------------------------------------------


def test_create_customer_records_event_without_personal_data(api: Any, sql: Any) -> None:
    response = api("support", "POST", "/customers", json={**NEW, "phone": "+33 6 11 22 33 44"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == "lea.dumont@example.fr"
    assert created["loyalty_tier"] == "bronze" and created["loyalty_points"] == 0
    assert sql("SELECT email FROM customers WHERE id = :id", id=created["id"]) == created["email"]
    payload = str(sql("SELECT payload FROM domain_events WHERE type = 'customer_created'"))
    assert str(created["id"]) in payload and "example.fr" not in payload
    assert sql("SELECT actor FROM audit_log WHERE action = 'create_customer'") == (
        "lucas.petit@maison-lumen.fr"
    )


def test_create_customer_rejects_a_used_email_and_writes_nothing(call: Any, sql: Any) -> None:
    taken = sql("SELECT email FROM customers ORDER BY id LIMIT 1")
    before = sql("SELECT COUNT(*) FROM customers")
    with pytest.raises(Conflict, match="already exists") as error:
        call("support", "create_customer", **{**NEW, "email": taken.upper()})
    assert error.value.field == "email"
    assert sql("SELECT COUNT(*) FROM customers") == before
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"locale": "french"}, "locale"),
        ({"first_name": ""}, "first_name"),
        ({"loyalty_points": 5000}, "loyalty_points"),
    ],
)
def test_create_customer_rejects_bad_input(call: Any, change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        call("support", "create_customer", **{**NEW, **change})
    assert error.value.field == field


def test_customers_rest_errors_have_the_json_shape(api: Any, call: Any, sql: Any) -> None:
    audit = sql("SELECT COUNT(*) FROM audit_log")
    response = api("viewer", "POST", "/customers", json=NEW)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden" and "viewer" in error["message"]
    response = api("support", "POST", "/customers", json={**NEW, "email": "nope"})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "email"
    response = api("viewer", "GET", "/customers/999999")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "customer 999999 does not exist",
        "field": "customer_id",
    }
    with pytest.raises(Forbidden):
        call("viewer", "update_customer", customer_id=1, first_name="X")
    assert sql("SELECT COUNT(*) FROM audit_log") == audit


def test_update_customer_changes_only_given_fields(call: Any, sql: Any) -> None:
    customer_id = sql("SELECT id FROM customers WHERE phone IS NOT NULL ORDER BY id LIMIT 1")
    last_name = sql("SELECT last_name FROM customers WHERE id = :id", id=customer_id)
    updated = call(
        "support", "update_customer", customer_id=customer_id, phone="", marketing_opt_in=False
    )
    assert updated.phone is None and updated.last_name == last_name
    assert sql("SELECT phone FROM customers WHERE id = :id", id=customer_id) is None
    assert "phone" in str(sql("SELECT after FROM audit_log WHERE action = 'update_customer'"))
    assert events(sql, "customer_updated") == 1
    with pytest.raises(InvalidInput, match="nothing to change"):
        call("support", "update_customer", customer_id=customer_id, phone="")


def test_update_customer_refuses_another_customers_email(call: Any, sql: Any) -> None:
    other = sql("SELECT email FROM customers WHERE id = 2")
    with pytest.raises(Conflict, match="already exists"):
        call("support", "update_customer", customer_id=1, email=other)
    assert sql("SELECT COUNT(*) FROM customers WHERE lower(email) = :e", e=other) == 1


def test_list_customers_finds_names_and_emails(call: Any, sql: Any) -> None:
    expected = sql(
        "SELECT COUNT(*) FROM customers WHERE lower(email) LIKE '%martin%'"
        " OR lower(first_name || ' ' || last_name) LIKE '%martin%'"
    )
    page = call("viewer", "list_customers", search="Martin", limit=200)
    assert len(page.items) == expected > 0
    assert [c.id for c in page.items] == sorted((c.id for c in page.items), reverse=True)
    first = call("viewer", "list_customers", limit=3)
    second = call("viewer", "list_customers", limit=3, cursor=first.next_cursor)
    assert first.items[-1].id > second.items[0].id
    gold = call("viewer", "list_customers", tier="gold", limit=200)
    assert len(gold.items) == sql("SELECT COUNT(*) FROM customers WHERE loyalty_tier = 'gold'")


def test_list_customers_ignores_accents_either_way(call: Any) -> None:
    created = call("support", "create_customer", **NEW)
    for search in ("lea dumont", "LÉA", "dumont lea", "Dumônt", "lea.dumont@example"):
        found = call("viewer", "list_customers", search=search, limit=200)
        assert created.id in [c.id for c in found.items], search
    call("support", "update_customer", customer_id=created.id, last_name="Dupré")
    assert [c.id for c in call("viewer", "list_customers", search="lea dupre").items] == [
        created.id
    ]
    assert call("viewer", "list_customers", search="lea dumont").items == []


def test_list_customers_tells_namesakes_apart_by_town(call: Any) -> None:
    first = call("support", "create_customer", **NEW)
    second = call("support", "create_customer", **{**NEW, "email": "lea.dumont@other.example"})
    address = {"kind": "shipping", "full_name": "Léa Dumont", "line1": "1 rue Haute"}
    call("support", "add_address", customer_id=first.id, postcode="44000", city="Nantes", **address)
    call(
        "support", "add_address", customer_id=second.id, postcode="69002", city="Lyon",
        is_default=True, **address,
    )  # fmt: skip
    call("support", "add_address", customer_id=second.id, postcode="59000", city="Lille", **address)
    towns = {c.id: c.city for c in call("viewer", "list_customers", search="lea dumont").items}
    assert towns == {first.id: "Nantes", second.id: "Lyon"}  # the default, not the newest


# -- GDPR erasure --------------------------------------------------------------------------

ERASABLE = """
SELECT c.id FROM customers c
WHERE c.loyalty_points > 0
  AND EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id
                  AND o.status IN ('pending', 'paid', 'processing', 'shipped'))
  AND NOT EXISTS (SELECT 1 FROM return_requests r WHERE r.customer_id = c.id
                  AND r.status IN ('requested', 'authorized', 'received', 'inspected'))
  AND NOT EXISTS (SELECT 1 FROM warranty_claims w WHERE w.customer_id = c.id
                  AND w.status IN ('submitted', 'approved'))
ORDER BY c.id LIMIT 1
"""


def test_erase_customer_anonymises_and_keeps_orders(call: Any, sql: Any) -> None:
    customer_id = sql(ERASABLE)
    email = sql("SELECT email FROM customers WHERE id = :id", id=customer_id)
    points = sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id)
    orders = sql("SELECT COUNT(*) FROM orders WHERE customer_id = :id", id=customer_id)
    call("support", "update_customer", customer_id=customer_id, phone="+33 6 00 00 00 01")
    result = call("manager", "erase_customer", customer_id=customer_id)
    assert result.loyalty_points_deleted == points and result.orders_kept == orders
    assert sql("SELECT email FROM customers WHERE id = :id", id=customer_id) == (
        f"erased-{customer_id}@erased.invalid"
    )
    assert sql("SELECT COUNT(*) FROM customers WHERE email = :e", e=email) == 0
    searched = sql("SELECT search_text FROM customers WHERE id = :id", id=customer_id)
    assert email.split("@")[0] not in searched and "erased" in searched
    assert sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id) == 0
    assert (
        sql(
            "SELECT points FROM loyalty_transactions WHERE customer_id = :id AND kind = 'adjust'",
            id=customer_id,
        )
        == -points
    )
    assert (
        sql(
            "SELECT COUNT(*) FROM addresses WHERE customer_id = :id AND line1 <> '[erased]'",
            id=customer_id,
        )
        == 0
    )
    assert (
        sql(
            "SELECT COUNT(*) FROM payment_methods WHERE customer_id = :id AND last4 IS NOT NULL",
            id=customer_id,
        )
        == 0
    )
    assert sql("SELECT COUNT(*) FROM orders WHERE customer_id = :id", id=customer_id) == orders
    assert "00 00 00 01" not in str(
        sql("SELECT after FROM audit_log WHERE action = 'update_customer'")
    )
    assert email not in str(sql("SELECT payload FROM domain_events WHERE type = 'customer_erased'"))
    profile = call("viewer", "get_customer", customer_id=customer_id)
    assert profile.erased and profile.phone is None
    with pytest.raises(Conflict, match="erased"):
        call("manager", "erase_customer", customer_id=customer_id)
    with pytest.raises(Conflict, match="erased"):
        call("support", "redeem_points", customer_id=customer_id)


def test_erase_customer_refuses_open_orders_and_needs_a_manager(call: Any, sql: Any) -> None:
    busy = sql("SELECT customer_id FROM orders WHERE status IN ('processing', 'shipped') LIMIT 1")
    with pytest.raises(Forbidden):
        call("support", "erase_customer", customer_id=busy)
    with pytest.raises(Conflict, match="not yet delivered"):
        call("manager", "erase_customer", customer_id=busy)
    assert sql("SELECT COUNT(*) FROM customers WHERE email LIKE '%erased.invalid'") == 0


# -- addresses -----------------------------------------------------------------------------

ADDRESS = {
    "kind": "shipping",
    "full_name": "Léa Dumont",
    "line1": "12 rue de la République",
    "postcode": "69002",
    "city": "Lyon",
}


def test_add_address_becomes_the_default_of_its_kind(call: Any, sql: Any) -> None:
    customer_id = sql("SELECT customer_id FROM addresses WHERE kind = 'shipping' LIMIT 1")
    added = call("support", "add_address", customer_id=customer_id, **ADDRESS, is_default=True)
    defaults = sql(
        "SELECT COUNT(*) FROM addresses WHERE customer_id = :id AND kind = 'shipping'"
        " AND is_default",
        id=customer_id,
    )
    assert added.is_default and defaults == 1
    listed = call("viewer", "list_addresses", customer_id=customer_id, kind="shipping")
    assert [a.id for a in listed.items][-1] == added.id
    assert len(listed.items) == sql(
        "SELECT COUNT(*) FROM addresses WHERE customer_id = :id AND kind = 'shipping'",
        id=customer_id,
    )
    assert events(sql, "address_added") == 1


def test_add_address_rejects_a_bad_french_postcode(call: Any, sql: Any) -> None:
    with pytest.raises(InvalidInput) as error:
        call("support", "add_address", customer_id=1, **{**ADDRESS, "postcode": "6900"})
    assert error.value.field == "postcode"
    with pytest.raises(InvalidInput) as error:
        call("support", "add_address", customer_id=1, **{**ADDRESS, "country": "France"})
    assert error.value.field == "country"
    with pytest.raises(NotFound):
        call("support", "add_address", customer_id=999999, **ADDRESS)
    assert sql("SELECT COUNT(*) FROM addresses WHERE line1 = :l", l=ADDRESS["line1"]) == 0


# -- loyalty -------------------------------------------------------------------------------


def test_get_loyalty_follows_the_ledger(call: Any, sql: Any) -> None:
    customer_id = sql("SELECT customer_id FROM loyalty_transactions WHERE kind = 'redeem' LIMIT 1")
    loyalty = call("viewer", "get_loyalty", customer_id=customer_id, limit=200)
    balance = sql(
        "SELECT SUM(points) FROM loyalty_transactions WHERE customer_id = :id", id=customer_id
    )
    lifetime = sql(
        "SELECT SUM(points) FROM loyalty_transactions WHERE customer_id = :id"
        " AND kind IN ('earn', 'revoke')",
        id=customer_id,
    )
    assert loyalty.balance == balance and loyalty.lifetime_points == lifetime
    assert loyalty.tier == tier_for(lifetime)
    assert loyalty.vouchers_available == balance // 100
    assert sum(entry.points for entry in loyalty.ledger.items) == balance
    ids = [entry.id for entry in loyalty.ledger.items]
    assert ids == sorted(ids, reverse=True)


def test_redeem_points_converts_blocks_into_vouchers(call: Any, sql: Any) -> None:
    customer_id = sql("SELECT id FROM customers WHERE loyalty_points >= 250 ORDER BY id LIMIT 1")
    balance, tier = (
        sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id),
        sql("SELECT loyalty_tier FROM customers WHERE id = :id", id=customer_id),
    )
    result = call("support", "redeem_points", customer_id=customer_id, vouchers=2)
    assert result.points_redeemed == 200 and result.total_value_cents == 1000
    assert result.balance == balance - 200 and result.tier == tier
    assert sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id) == (
        balance - 200
    )
    assert sql("SELECT loyalty_tier FROM customers WHERE id = :id", id=customer_id) == tier
    assert events(sql, "loyalty_points_redeemed") == 1


def test_redeem_points_never_goes_below_zero(call: Any, sql: Any) -> None:
    customer_id = sql("SELECT id FROM customers WHERE loyalty_points BETWEEN 1 AND 99999 LIMIT 1")
    balance = sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id)
    with pytest.raises(Conflict, match=f"has {balance} points") as error:
        call("support", "redeem_points", customer_id=customer_id, vouchers=balance // 100 + 1)
    assert error.value.field == "vouchers"
    with pytest.raises(InvalidInput):
        call("support", "redeem_points", customer_id=customer_id, vouchers=0)
    with pytest.raises(Forbidden):
        call("viewer", "redeem_points", customer_id=customer_id)
    assert sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id) == balance


def test_earn_points_for_order_credits_a_shop_order_once(seeded_engine: Engine, sql: Any) -> None:
    order_id = sql(
        "SELECT l.order_id FROM loyalty_transactions l JOIN orders o ON o.id = l.order_id"
        " WHERE l.kind = 'earn' AND o.channel = 'shop' AND NOT EXISTS (SELECT 1 FROM"
        " loyalty_transactions r WHERE r.order_id = o.id AND r.kind = 'revoke')"
        " ORDER BY l.id DESC LIMIT 1"
    )
    earned = sql("SELECT points FROM loyalty_transactions WHERE order_id = :o", o=order_id)
    customer_id = sql("SELECT customer_id FROM orders WHERE id = :o", o=order_id)
    balance = sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id)
    # Undo the seeded credit, then credit the order again through the contract function.
    write(seeded_engine, "DELETE FROM loyalty_transactions WHERE order_id = :o", o=order_id)
    write(
        seeded_engine,
        "UPDATE customers SET loyalty_points = loyalty_points - :p WHERE id = :id",
        p=earned,
        id=customer_id,
    )
    with tool_context(seeded_engine) as ctx:
        order = ctx.session.get(Order, order_id)
        assert order is not None
        assert (
            earn_points_for_order(ctx, order)
            == (order.total_cents - order.shipping_cents) // 100
            == earned
        )
        assert earn_points_for_order(ctx, order) == 0
    assert sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id) == balance
    assert sql("SELECT COUNT(*) FROM loyalty_transactions WHERE order_id = :o", o=order_id) == 1
    assert events(sql, "loyalty_points_earned") == 1
    marketplace = sql("SELECT id FROM orders WHERE channel = 'amazon' LIMIT 1")
    with tool_context(seeded_engine) as ctx:
        order = ctx.session.get(Order, marketplace)
        assert order is not None and earn_points_for_order(ctx, order) == 0


def test_revoke_points_for_refund_is_capped(seeded_engine: Engine, sql: Any) -> None:
    order_id = sql(
        "SELECT l.order_id FROM loyalty_transactions l JOIN customers c ON c.id = l.customer_id"
        " WHERE l.kind = 'earn' AND l.points >= 200 AND c.loyalty_points >= l.points"
        " AND NOT EXISTS (SELECT 1 FROM loyalty_transactions r WHERE r.order_id = l.order_id"
        " AND r.kind = 'revoke') ORDER BY l.id LIMIT 1"
    )
    earned = sql("SELECT points FROM loyalty_transactions WHERE order_id = :o", o=order_id)
    customer_id = sql("SELECT customer_id FROM orders WHERE id = :o", o=order_id)
    balance = sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id)
    with tool_context(seeded_engine) as ctx:
        order = ctx.session.get(Order, order_id)
        assert order is not None
        assert revoke_points_for_refund(ctx, order, 10_099) == 100
        assert revoke_points_for_refund(ctx, order, 99_999_999) == earned - 100
        assert revoke_points_for_refund(ctx, order, 10_000) == 0
        customer = ctx.session.get(Customer, customer_id)
        assert customer is not None and customer.loyalty_points == balance - earned
    lifetime = sql(
        "SELECT SUM(points) FROM loyalty_transactions WHERE customer_id = :id"
        " AND kind IN ('earn', 'revoke')",
        id=customer_id,
    )
    assert sql("SELECT loyalty_tier FROM customers WHERE id = :id", id=customer_id) == (
        tier_for(lifetime).value
    )
    assert events(sql, "loyalty_points_revoked") == 2


def test_revoke_points_for_refund_never_goes_below_zero(seeded_engine: Engine, sql: Any) -> None:
    order_id = sql(
        "SELECT l.order_id FROM loyalty_transactions l WHERE l.kind = 'earn' AND l.points >= 50"
        " AND NOT EXISTS (SELECT 1 FROM loyalty_transactions r WHERE r.order_id = l.order_id"
        " AND r.kind = 'revoke') ORDER BY l.id LIMIT 1"
    )
    customer_id = sql("SELECT customer_id FROM orders WHERE id = :o", o=order_id)
    write(seeded_engine, "UPDATE customers SET loyalty_points = 7 WHERE id = :id", id=customer_id)
    with tool_context(seeded_engine) as ctx:
        order = ctx.session.get(Order, order_id)
        assert order is not None
        assert revoke_points_for_refund(ctx, order, 1_000_000) == 7
    assert sql("SELECT loyalty_points FROM customers WHERE id = :id", id=customer_id) == 0
    assert (
        sql(
            "SELECT points FROM loyalty_transactions WHERE order_id = :o AND kind = 'revoke'"
            " ORDER BY id DESC LIMIT 1",
            o=order_id,
        )
        == -7
    )


# -- interactions and 360 ------------------------------------------------------------------


def test_record_interaction_and_list_them(call: Any, sql: Any) -> None:
    order_id, customer_id = (
        sql("SELECT id FROM orders WHERE status = 'delivered' ORDER BY id LIMIT 1"),
        sql("SELECT customer_id FROM orders WHERE status = 'delivered' ORDER BY id LIMIT 1"),
    )
    recorded = call(
        "support",
        "record_interaction",
        customer_id=customer_id,
        channel="phone",
        kind="complaint",
        subject="Parcel left at the wrong door",
        order_id=order_id,
    )
    assert recorded.staff_user_id == sql(
        "SELECT id FROM staff_users WHERE email = 'lucas.petit@maison-lumen.fr'"
    )
    listed = call("viewer", "list_interactions", customer_id=customer_id, kind="complaint")
    assert listed.items[0].id == recorded.id
    assert len(listed.items) == sql(
        "SELECT COUNT(*) FROM interactions WHERE customer_id = :c AND kind = 'complaint'",
        c=customer_id,
    )
    other = sql("SELECT id FROM orders WHERE customer_id <> :c LIMIT 1", c=customer_id)
    with pytest.raises(InvalidInput) as error:
        call(
            "support",
            "record_interaction",
            customer_id=customer_id,
            channel="email",
            kind="question",
            subject="Where is it?",
            order_id=other,
        )
    assert error.value.field == "order_id"
    with pytest.raises(InvalidInput):
        call(
            "support",
            "record_interaction",
            customer_id=customer_id,
            channel="fax",
            kind="question",
            subject="Where is it?",
        )
    assert events(sql, "interaction_recorded") == 1


def test_customer_360_figures_come_from_the_rows(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    customer_id = sql(
        "SELECT customer_id FROM orders GROUP BY customer_id ORDER BY COUNT(*) DESC,"
        " customer_id LIMIT 1"
    )
    email = sql("SELECT email FROM customers WHERE id = :c", c=customer_id)
    now = utc_now()
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    for value, expires in ((email, None), (str(customer_id), yesterday)):
        write(
            seeded_engine,
            "INSERT INTO blocked_entities (kind, value, reason, blocked_by, created_at,"
            " expires_at) VALUES (:k, :v, 'chargeback abuse', 'test', :now, :exp)",
            k="email" if "@" in value else "customer",
            v=value,
            now=now.strftime("%Y-%m-%d %H:%M:%S"),
            exp=expires,
        )
    order_id = sql("SELECT MAX(id) FROM orders WHERE customer_id = :c", c=customer_id)
    for kind in ("complaint", "follow_up"):
        call(
            "support",
            "record_interaction",
            customer_id=customer_id,
            channel="email",
            kind=kind,
            subject=f"{kind} about the order",
            order_id=order_id,
        )
    view = call("viewer", "customer_360", customer_id=customer_id, recent=3)
    assert view.orders.count == sql(
        "SELECT COUNT(*) FROM orders WHERE customer_id = :c", c=customer_id
    )
    assert view.orders.lifetime_value_cents == sql(
        "SELECT SUM(p.captured_cents - p.refunded_cents) FROM payments p"
        " JOIN orders o ON o.id = p.order_id WHERE o.customer_id = :c",
        c=customer_id,
    )
    assert view.orders.last_orders[0].id == sql(
        "SELECT id FROM orders WHERE customer_id = :c ORDER BY placed_at DESC LIMIT 1",
        c=customer_id,
    )
    assert len(view.orders.last_orders) == 3
    assert view.returns.count == sql(
        "SELECT COUNT(*) FROM return_requests WHERE customer_id = :c", c=customer_id
    )
    assert view.fraud.checks == sql(
        "SELECT COUNT(*) FROM fraud_checks WHERE customer_id = :c OR order_id IN"
        " (SELECT id FROM orders WHERE customer_id = :c)",
        c=customer_id,
    )
    assert [(b.kind, b.value) for b in view.fraud.active_blocks] == [("email", email)]
    assert view.loyalty.balance == sql(
        "SELECT loyalty_points FROM customers WHERE id = :c", c=customer_id
    )
    assert all(i.order_id != order_id for i in view.open_interactions)
    with pytest.raises(NotFound):
        call("viewer", "customer_360", customer_id=999999)


def test_loyalty_tier_thresholds() -> None:
    assert [tier_for(p).value for p in (0, 499, 500, 1999, 2000, 4999, 5000)] == [
        "bronze", "bronze", "silver", "silver", "gold", "gold", "platinum",
    ]  # fmt: skip


def test_erased_customer_cannot_be_reached_over_rest(api: Any, sql: Any) -> None:
    customer_id = sql(ERASABLE)
    assert api("support", "POST", f"/customers/{customer_id}/erase").status_code == 403
    assert api("manager", "POST", f"/customers/{customer_id}/erase").status_code == 200
    response = api("support", "PATCH", f"/customers/{customer_id}", json={"first_name": "Bob"})
    assert response.status_code == 409
    assert response.json()["error"]["field"] == "customer_id"
    response = api("support", "POST", f"/customers/{customer_id}/loyalty/redeem", json={})
    assert response.status_code == 409
