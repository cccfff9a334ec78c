"""Order tools: catalogue pricing, reservations, fraud gates, the status machine, cancellation
with stock release and refunds, expiry of unpaid orders, lists and analytics from real rows."""

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

import tools.orders  # noqa: F401  (registers the order tools)
from db.base import utc_now
from db.models import (
    Payment,
    PaymentMethod,
    PaymentMethodKind,
    PaymentStatus,
    StockReservation,
    SystemSetting,
)
from tools.base import Conflict, Forbidden, InvalidInput, NotFound

# -- helpers -----------------------------------------------------------------------------

CLEAN_CUSTOMER = """
    SELECT MIN(a.id) FROM addresses a JOIN customers c ON c.id = a.customer_id
    WHERE a.country {country}
      AND c.email NOT LIKE '%erased.invalid'
      AND NOT EXISTS (SELECT 1 FROM blocked_entities b WHERE b.unblocked_at IS NULL AND (
            (b.kind = 'customer' AND b.value = CAST(c.id AS VARCHAR(20)))
            OR (b.kind = 'email' AND b.value = c.email)))
      AND NOT EXISTS (SELECT 1 FROM payment_methods m JOIN blocked_entities b
            ON b.kind = 'card_fingerprint' AND b.value = m.fingerprint AND b.unblocked_at IS NULL
            WHERE m.customer_id = c.id)
      AND NOT EXISTS (SELECT 1 FROM orders o JOIN blocked_entities b
            ON b.kind = 'ip' AND b.value = o.ip_address WHERE o.customer_id = c.id)
"""
STOCKED_SKU = """
    SELECT v.sku FROM product_variants v JOIN products p ON p.id = v.product_id
    JOIN stock_levels s ON s.variant_id = v.id AND s.warehouse_id = 1
    WHERE v.is_active AND p.status = 'active' AND s.on_hand - s.reserved >= 3
      AND v.price_cents {price}
    ORDER BY v.price_cents, v.id LIMIT 1
"""


def execute(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def set_setting(engine: Engine, key: str, value: Any) -> None:
    with Session(engine) as session:
        row = session.get(SystemSetting, key)
        assert row is not None
        row.value = value
        session.add(row)
        session.commit()


def customer_at(sql: Any, country: str = "= 'FR'") -> tuple[int, int]:
    """(customer id, address id) of a customer nothing blocks, with an address in `country`."""
    address = sql(CLEAN_CUSTOMER.format(country=country))
    return sql("SELECT customer_id FROM addresses WHERE id = :a", a=address), address


def sku(sql: Any, price: str = ">= 5000") -> str:
    return sql(STOCKED_SKU.format(price=price))


@pytest.fixture
def quiet_fraud(seeded_engine: Engine) -> None:
    """Fraud thresholds out of reach, so new orders stay pending whatever their score."""
    for key in ("fraud.block_threshold", "fraud.review_threshold", "fraud.flag_threshold"):
        set_setting(seeded_engine, key, 101)


@pytest.fixture
def new_order(call: Any, sql: Any, quiet_fraud: None) -> Any:
    customer, address = customer_at(sql)
    return call(
        "support",
        "create_order",
        customer_id=customer,
        shipping_address_id=address,
        lines=[{"sku": sku(sql), "quantity": 2}],
    )


def counts(sql: Any) -> tuple[int, int, int]:
    return (
        sql("SELECT COUNT(*) FROM orders"),
        sql("SELECT COUNT(*) FROM stock_reservations"),
        sql("SELECT COUNT(*) FROM domain_events"),
    )


# -- create_order ------------------------------------------------------------------------


def test_create_order_prices_from_the_catalogue_and_reserves_stock(
    call: Any, sql: Any, quiet_fraud: None
) -> None:
    customer, address = customer_at(sql)
    code = sku(sql)
    price, vat = (
        sql("SELECT price_cents FROM product_variants WHERE sku = :s", s=code),
        sql(
            "SELECT p.vat_rate_bp FROM products p JOIN product_variants v ON v.product_id = p.id"
            " WHERE v.sku = :s",
            s=code,
        ),
    )
    reserved_before = sql(
        "SELECT s.reserved FROM stock_levels s JOIN product_variants v ON v.id = s.variant_id"
        " WHERE v.sku = :s AND s.warehouse_id = 1",
        s=code,
    )
    order = call(
        "support",
        "create_order",
        customer_id=customer,
        shipping_address_id=address,
        lines=[{"sku": code.lower(), "quantity": 1}, {"sku": code, "quantity": 1}],
        note="phone order",
    )
    assert order.status == "pending" and order.channel == "shop"
    assert [(line.sku, line.quantity) for line in order.lines] == [(code, 2)]
    assert order.subtotal_cents == order.lines[0].total_cents == 2 * price
    assert order.shipping_cents == 0  # above the free-shipping threshold of 50 EUR
    assert order.total_cents == 2 * price
    assert order.tax_cents == round(2 * price * vat / (10000 + vat))
    assert order.warehouse_code == "LYS"
    assert sql("SELECT total_cents FROM orders WHERE id = :id", id=order.id) == 2 * price
    assert sql(
        "SELECT s.reserved FROM stock_levels s JOIN product_variants v ON v.id = s.variant_id"
        " WHERE v.sku = :s AND s.warehouse_id = 1",
        s=code,
    ) == (reserved_before + 2)
    [reservation] = order.reservations
    assert reservation.status == "active" and reservation.quantity == 2
    ttl = reservation.expires_at - order.placed_at
    assert timedelta(minutes=29) < ttl <= timedelta(minutes=30, seconds=1)
    assert (
        sql(
            "SELECT COUNT(*) FROM domain_events WHERE type = 'order_created' AND entity_id = :id",
            id=str(order.id),
        )
        == 1
    )
    assert sql(
        "SELECT actor FROM audit_log WHERE action = 'create_order' AND entity_id = :id",
        id=str(order.id),
    ) == ("lucas.petit@maison-lumen.fr")
    assert order.history[0].to_status == "pending" and len(order.fraud_checks) == 1


def test_create_order_charges_shipping_below_the_threshold(
    call: Any, sql: Any, quiet_fraud: None
) -> None:
    for country, service, expected in (
        ("= 'FR'", "standard", 490),
        ("<> 'FR'", "standard", 1290),
        ("= 'FR'", "express", 1290),
    ):
        customer, address = customer_at(sql, country)
        order = call(
            "manager",
            "create_order",
            customer_id=customer,
            shipping_address_id=address,
            shipping_service=service,
            lines=[{"sku": sku(sql, "< 2500"), "quantity": 1}],
        )
        assert order.shipping_cents == expected, (country, service)
        assert order.total_cents == order.subtotal_cents + expected
        assert order.tax_cents == order.lines[0].tax_cents + round(expected / 6)


def test_create_order_free_shipping_threshold_comes_from_settings(
    call: Any, sql: Any, quiet_fraud: None, seeded_engine: Engine
) -> None:
    customer, address = customer_at(sql)
    code = sku(sql, "< 2500")
    set_setting(seeded_engine, "orders.free_shipping_threshold_cents", 1000)
    order = call(
        "support",
        "create_order",
        customer_id=customer,
        shipping_address_id=address,
        lines=[{"sku": code, "quantity": 1}],
    )
    assert order.shipping_cents == 0


def test_create_order_refuses_an_inactive_sku_and_writes_nothing(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    customer, _ = customer_at(sql)
    code = sku(sql)
    execute(seeded_engine, "UPDATE product_variants SET is_active = false WHERE sku = :s", s=code)
    before = counts(sql)
    with pytest.raises(Conflict, match="inactive") as error:
        call("support", "create_order", customer_id=customer, lines=[{"sku": code, "quantity": 1}])
    assert error.value.field == "lines.0.sku"
    assert counts(sql) == before


def test_create_order_refuses_a_product_not_on_sale(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    customer, _ = customer_at(sql)
    code = sku(sql)
    execute(
        seeded_engine,
        "UPDATE products SET status = 'archived' WHERE id ="
        " (SELECT product_id FROM product_variants WHERE sku = :s)",
        s=code,
    )
    with pytest.raises(Conflict, match="archived"):
        call("support", "create_order", customer_id=customer, lines=[{"sku": code, "quantity": 1}])


def test_create_order_refuses_a_blocked_customer_with_409_and_writes_nothing(
    api: Any, sql: Any
) -> None:
    blocked = sql(
        "SELECT MIN(CAST(value AS INTEGER)) FROM blocked_entities"
        " WHERE kind = 'customer' AND unblocked_at IS NULL"
    )
    before = counts(sql)
    response = api(
        "support",
        "POST",
        "/orders",
        json={"customer_id": blocked, "lines": [{"sku": sku(sql), "quantity": 1}]},
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "blocked" and error["field"] == "customer_id"
    assert f"customer {blocked} cannot order" in error["message"]
    assert counts(sql) == before


def test_create_order_refuses_an_erased_customer(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    customer, _ = customer_at(sql)
    execute(
        seeded_engine,
        "UPDATE customers SET email = :e WHERE id = :c",
        e=f"erased-{customer}@erased.invalid",
        c=customer,
    )
    with pytest.raises(Conflict, match="erased") as error:
        call(
            "support",
            "create_order",
            customer_id=customer,
            lines=[{"sku": sku(sql), "quantity": 1}],
        )
    assert error.value.field == "customer_id"


def test_create_order_refuses_a_blocked_ip(call: Any, sql: Any) -> None:
    customer, _ = customer_at(sql)
    ip = sql("SELECT MIN(value) FROM blocked_entities WHERE kind = 'ip' AND unblocked_at IS NULL")
    before = counts(sql)
    with pytest.raises(Conflict) as error:
        call(
            "support",
            "create_order",
            customer_id=customer,
            ip_address=ip,
            lines=[{"sku": sku(sql), "quantity": 1}],
        )
    assert error.value.code == "blocked" and error.value.field == "ip_address"
    assert counts(sql) == before


def test_create_order_refuses_a_customer_with_a_blocked_card(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    customer, _ = customer_at(sql)
    fingerprint = sql(
        "SELECT MIN(value) FROM blocked_entities WHERE kind = 'card_fingerprint'"
        " AND unblocked_at IS NULL"
    )
    gateway = sql("SELECT MIN(id) FROM payment_gateways")
    with Session(seeded_engine) as session:
        session.add(
            PaymentMethod(
                customer_id=customer,
                gateway_id=gateway,
                kind=PaymentMethodKind.CARD,
                brand="visa",
                last4="0002",
                exp_month=1,
                exp_year=2030,
                fingerprint=fingerprint,
            )
        )
        session.commit()
    with pytest.raises(Conflict) as error:
        call(
            "support",
            "create_order",
            customer_id=customer,
            lines=[{"sku": sku(sql), "quantity": 1}],
        )
    assert error.value.code == "blocked"


def test_create_order_refuses_more_than_the_stock(call: Any, sql: Any) -> None:
    customer, _ = customer_at(sql)
    code = sku(sql)
    everywhere = sql(
        "SELECT SUM(s.on_hand - s.reserved) FROM stock_levels s"
        " JOIN product_variants v ON v.id = s.variant_id WHERE v.sku = :s",
        s=code,
    )
    wanted = everywhere + 1
    lines = [{"sku": code, "quantity": min(50, wanted - 50 * i)} for i in range(0, wanted, 50)]
    before = counts(sql)
    with pytest.raises(Conflict, match=f"{wanted} wanted, {everywhere} available") as error:
        call("support", "create_order", customer_id=customer, lines=lines)
    assert error.value.code == "insufficient_stock"
    assert counts(sql) == before


def test_create_order_refuses_another_customers_address(call: Any, sql: Any) -> None:
    customer, _ = customer_at(sql)
    other = sql("SELECT MIN(id) FROM addresses WHERE customer_id <> :c", c=customer)
    with pytest.raises(InvalidInput, match="another customer") as error:
        call(
            "support",
            "create_order",
            customer_id=customer,
            shipping_address_id=other,
            lines=[{"sku": sku(sql), "quantity": 1}],
        )
    assert error.value.field == "shipping_address_id"


BAD_ORDERS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"lines": []}, InvalidInput, "lines"),
    ({"lines": [{"quantity": 1}]}, InvalidInput, "lines.0"),
    ({"lines": [{"sku": "X-1", "variant_id": 1, "quantity": 1}]}, InvalidInput, "lines.0"),
    ({"lines": [{"variant_id": 1, "quantity": 0}]}, InvalidInput, "lines.0.quantity"),
    ({"lines": [{"sku": "NOPE-404", "quantity": 1}]}, NotFound, "lines.0.sku"),
    ({"lines": [{"variant_id": 99999, "quantity": 1}]}, NotFound, "lines.0.variant_id"),
    ({"shipping_service": "drone"}, InvalidInput, "shipping_service"),
    ({"ip_address": "999.1.1.1"}, InvalidInput, "ip_address"),
    ({"customer_id": 999999}, NotFound, "customer_id"),
    ({"shipping_address_id": 999999}, NotFound, "shipping_address_id"),
    ({"unit_price_cents": 1}, InvalidInput, "unit_price_cents"),
]


def test_create_order_rejects_bad_input(call: Any, sql: Any) -> None:
    customer, _ = customer_at(sql)
    before = counts(sql)
    for change, error, field in BAD_ORDERS:
        body = {"customer_id": customer, "lines": [{"variant_id": 1, "quantity": 1}], **change}
        with pytest.raises(error) as raised:
            call("support", "create_order", **body)
        assert getattr(raised.value, "field", None) == field, change
    assert counts(sql) == before


def test_create_order_blocked_by_the_fraud_check_is_cancelled_at_once(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    set_setting(seeded_engine, "fraud.block_threshold", 0)
    customer, address = customer_at(sql)
    order = call(
        "support",
        "create_order",
        customer_id=customer,
        shipping_address_id=address,
        lines=[{"sku": sku(sql), "quantity": 1}],
    )
    score = order.fraud_checks[0].score
    assert order.status == "cancelled"
    assert order.cancel_reason == f"blocked by fraud check, score {score}"
    assert [r.status for r in order.reservations] == ["released"]
    assert sql(
        "SELECT type FROM domain_events WHERE entity_type = 'order' AND entity_id = :id"
        " ORDER BY id DESC LIMIT 1",
        id=str(order.id),
    ) == ("order_cancelled")


def test_create_order_held_for_review_stays_pending_with_a_note(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    set_setting(seeded_engine, "fraud.block_threshold", 101)
    set_setting(seeded_engine, "fraud.review_threshold", 0)
    customer, address = customer_at(sql)
    order = call(
        "support",
        "create_order",
        customer_id=customer,
        shipping_address_id=address,
        note="gift",
        lines=[{"sku": sku(sql), "quantity": 1}],
    )
    assert order.status == "pending"
    assert order.note.startswith("gift\nHeld for fraud review")
    assert sql("SELECT note FROM orders WHERE id = :id", id=order.id) == order.note


# -- list_orders, get_order ----------------------------------------------------------------


def test_list_orders_pages_newest_first(call: Any, sql: Any) -> None:
    page = call("viewer", "list_orders", limit=5)
    top = sql("SELECT MAX(id) FROM orders")
    assert [o.id for o in page.items] == list(range(top, top - 5, -1))
    assert page.next_cursor == top - 4
    second = call("viewer", "list_orders", limit=5, cursor=page.next_cursor)
    assert second.items[0].id == top - 5


def test_list_orders_filters(call: Any, sql: Any) -> None:
    shop = call("viewer", "list_orders", status="delivered", channel="shop", limit=200)
    assert all(o.status == "delivered" and o.channel == "shop" for o in shop.items)
    assert len(shop.items) == 200 and shop.next_cursor is not None

    ranged = call(
        "viewer",
        "list_orders",
        placed_from="2026-10-01",
        placed_to="2026-10-07",
        min_total_cents=10000,
        max_total_cents=50000,
        limit=200,
    )
    assert len(ranged.items) == sql(
        "SELECT COUNT(*) FROM orders WHERE placed_at >= '2026-10-01' AND placed_at < '2026-10-08'"
        " AND total_cents BETWEEN 10000 AND 50000"
    )
    assert ranged.items and all(10000 <= o.total_cents <= 50000 for o in ranged.items)

    customer = sql(
        "SELECT customer_id FROM orders GROUP BY customer_id ORDER BY COUNT(*) DESC LIMIT 1"
    )
    mine = call("viewer", "list_orders", customer_id=customer)
    assert len(mine.items) == sql("SELECT COUNT(*) FROM orders WHERE customer_id = :c", c=customer)
    assert mine.items[0].items == sql(
        "SELECT SUM(quantity) FROM order_lines WHERE order_id = :o", o=mine.items[0].id
    )
    for order in mine.items:  # what each order holds, so a merchant can tell them apart
        lines = sql("SELECT COUNT(*) FROM order_lines WHERE order_id = :o", o=order.id)
        first = sql("SELECT name FROM order_lines WHERE order_id = :o ORDER BY id", o=order.id)
        assert len(order.products) == lines and order.products[0] == first


def test_list_orders_rejects_bad_filters(call: Any) -> None:
    for params, field in (
        ({"placed_from": "2026-10-08", "placed_to": "2026-10-01"}, "placed_from"),
        ({"min_total_cents": 500, "max_total_cents": 100}, "min_total_cents"),
        ({"status": "lost"}, "status"),
        ({"limit": 0}, "limit"),
    ):
        with pytest.raises(InvalidInput) as error:
            call("viewer", "list_orders", **params)
        assert error.value.field == field


def test_get_order_has_lines_history_payments_and_shipments(call: Any, sql: Any) -> None:
    order_id = sql(
        "SELECT MIN(r.order_id) FROM refunds r JOIN shipments s ON s.order_id = r.order_id"
    )
    order = call("viewer", "get_order", order_id=order_id)
    assert sum(line.total_cents for line in order.lines) == (
        order.subtotal_cents - order.discount_cents
    )
    assert order.total_cents == sql("SELECT total_cents FROM orders WHERE id = :o", o=order_id)
    assert [h.to_status for h in order.history][:2] == ["pending", "paid"]
    assert len(order.history) == sql(
        "SELECT COUNT(*) FROM order_status_history WHERE order_id = :o", o=order_id
    )
    assert order.refunded_cents == sql(
        "SELECT SUM(amount_cents) FROM refunds WHERE order_id = :o", o=order_id
    )
    assert sum(len(p.refunds) for p in order.payments) >= 1
    assert order.shipments[0].tracking_number == sql(
        "SELECT tracking_number FROM shipments WHERE order_id = :o", o=order_id
    )
    assert order.shipping_address.country and order.customer_email


# -- order_analytics ---------------------------------------------------------------------


def test_order_analytics_comes_from_the_orders(call: Any, sql: Any) -> None:
    result = call("viewer", "order_analytics", start="2026-10-01", end="2026-10-31").model_dump(
        mode="json"
    )
    window = "placed_at >= '2026-10-01' AND placed_at < '2026-11-01'"
    assert result["orders"] == sql(f"SELECT COUNT(*) FROM orders WHERE {window}")
    assert result["cancelled"] == sql(
        f"SELECT COUNT(*) FROM orders WHERE {window} AND status = 'cancelled'"
    )
    revenue = sql(
        f"SELECT SUM(total_cents) FROM orders WHERE {window} AND status NOT IN"
        " ('cancelled', 'pending')"
    )
    sold = sql(
        f"SELECT COUNT(*) FROM orders WHERE {window} AND status NOT IN ('cancelled', 'pending')"
    )
    assert result["revenue_cents"] == revenue and result["sold_orders"] == sold
    assert result["average_order_value_cents"] == round(revenue / sold)
    assert result["cancellation_rate"] == round(result["cancelled"] / result["orders"], 4)
    assert result["refunded_cents"] == sql(
        "SELECT SUM(amount_cents) FROM refunds WHERE status = 'succeeded'"
        " AND created_at >= '2026-10-01' AND created_at < '2026-11-01'"
    )
    assert len(result["by_day"]) == 31
    assert sum(d["orders"] for d in result["by_day"]) == result["orders"]
    assert sum(c["revenue_cents"] for c in result["by_channel"]) == revenue
    shop = next(c for c in result["by_channel"] if c["channel"] == "shop")
    assert shop["orders"] == sql(f"SELECT COUNT(*) FROM orders WHERE {window} AND channel = 'shop'")


def test_order_analytics_for_one_channel(call: Any, sql: Any) -> None:
    result = call(
        "viewer", "order_analytics", start="2026-11-01", end="2026-11-25", channel="amazon"
    )
    assert [c.channel for c in result.by_channel] == ["amazon"]
    assert result.orders == sql(
        "SELECT COUNT(*) FROM orders WHERE channel = 'amazon' AND placed_at >= '2026-11-01'"
    )
    with pytest.raises(InvalidInput, match="starts"):
        call("viewer", "order_analytics", start="2026-11-25", end="2026-11-01")


# -- update_order_status -----------------------------------------------------------------


def test_update_order_status_paid_to_processing(call: Any, sql: Any) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'paid'")
    result = call(
        "support", "update_order_status", order_id=order_id, status="processing", reason="picking"
    )
    assert result.from_status == "paid" and result.to_status == "processing"
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "processing"
    assert sql(
        "SELECT changed_by FROM order_status_history WHERE order_id = :o AND to_status ="
        " 'processing'",
        o=order_id,
    ) == ("lucas.petit@maison-lumen.fr")
    assert sql("SELECT type FROM domain_events WHERE entity_id = :o", o=str(order_id)) == (
        "order_status_updated"
    )


def test_update_order_status_to_shipped_takes_the_stock_out(call: Any, sql: Any) -> None:
    order_id = sql(
        "SELECT MIN(o.id) FROM orders o WHERE o.status = 'processing' AND EXISTS (SELECT 1"
        " FROM stock_reservations r WHERE r.order_id = o.id AND r.status = 'active')"
    )
    on_hand = "SELECT SUM(s.on_hand) FROM stock_levels s JOIN order_lines l ON l.variant_id ="
    on_hand += " s.variant_id JOIN orders o ON o.id = l.order_id AND o.warehouse_id ="
    on_hand += " s.warehouse_id WHERE o.id = :o"
    before = sql(on_hand, o=order_id)
    units = sql("SELECT SUM(quantity) FROM order_lines WHERE order_id = :o", o=order_id)
    result = call("manager", "update_order_status", order_id=order_id, status="shipped")
    assert result.to_status == "shipped" and any("left the warehouse" in n for n in result.notes)
    assert sql(on_hand, o=order_id) == before - units
    assert (
        sql(
            "SELECT COUNT(*) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
            o=order_id,
        )
        == 0
    )
    assert (
        sql("SELECT SUM(quantity) FROM stock_movements WHERE reference = :r", r=f"order:{order_id}")
        == -units
    )
    delivered = call("manager", "update_order_status", order_id=order_id, status="delivered")
    assert delivered.from_status == "shipped"
    assert sql("SELECT delivered_at FROM orders WHERE id = :o", o=order_id) is not None


def test_update_order_status_never_goes_backwards(call: Any, sql: Any) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'delivered'")
    with pytest.raises(Conflict, match="cannot become processing") as error:
        call("manager", "update_order_status", order_id=order_id, status="processing")
    assert error.value.field == "status"
    with pytest.raises(Conflict, match="already delivered"):
        call("manager", "update_order_status", order_id=order_id, status="delivered")
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_update_order_status_sends_cancel_and_return_elsewhere(call: Any, sql: Any) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'paid'")
    for status, hint in (("cancelled", "cancel_order"), ("returned", "return")):
        with pytest.raises(InvalidInput, match=hint):
            call("support", "update_order_status", order_id=order_id, status=status)
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "paid"


def test_update_order_status_refuses_paid_without_a_capture(call: Any, sql: Any) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'pending'")
    with pytest.raises(Conflict, match="captured"):
        call("support", "update_order_status", order_id=order_id, status="paid")


def test_update_order_status_paid_keeps_the_stock_and_credits_points(
    call: Any, sql: Any, seeded_engine: Engine, new_order: Any
) -> None:
    with Session(seeded_engine) as session:
        session.add(
            Payment(
                order_id=new_order.id,
                gateway_id=sql("SELECT MIN(id) FROM payment_gateways"),
                status=PaymentStatus.CAPTURED,
                amount_cents=new_order.total_cents,
                captured_cents=new_order.total_cents,
                captured_at=utc_now(),
            )
        )
        session.commit()
    points = sql("SELECT loyalty_points FROM customers WHERE id = :c", c=new_order.customer_id)
    result = call("support", "update_order_status", order_id=new_order.id, status="paid")
    assert result.to_status == "paid"
    assert (
        sql(
            "SELECT COUNT(*) FROM stock_reservations WHERE order_id = :o AND status = 'active'"
            " AND expires_at IS NULL",
            o=new_order.id,
        )
        == 1
    )
    earned = new_order.total_cents // 100
    assert (
        sql("SELECT loyalty_points FROM customers WHERE id = :c", c=new_order.customer_id)
        == points + earned
    )


# -- cancel_order ------------------------------------------------------------------------


def test_cancel_order_releases_the_stock_and_refunds_the_capture(api: Any, sql: Any) -> None:
    order_id = sql(
        "SELECT MIN(o.id) FROM orders o JOIN payments p ON p.order_id = o.id"
        " WHERE o.status = 'processing' AND o.channel = 'shop' AND p.captured_cents > 0"
        " AND EXISTS (SELECT 1 FROM stock_reservations r WHERE r.order_id = o.id"
        " AND r.status = 'active')"
    )
    captured = sql("SELECT SUM(captured_cents) FROM payments WHERE order_id = :o", o=order_id)
    units = sql(
        "SELECT SUM(quantity) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
        o=order_id,
    )
    reserved = "SELECT SUM(s.reserved) FROM stock_levels s JOIN stock_reservations r"
    reserved += " ON r.variant_id = s.variant_id AND r.warehouse_id = s.warehouse_id"
    reserved += " WHERE r.order_id = :o"
    before = sql(reserved, o=order_id)
    response = api(
        "support", "POST", f"/orders/{order_id}/cancel", json={"reason": "customer request"}
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["previous_status"] == "processing" and result["status"] == "cancelled"
    assert result["units_released"] == units == sum(r["quantity"] for r in result["released"])
    assert result["refunded_cents"] == captured
    assert sql("SELECT SUM(amount_cents) FROM refunds WHERE order_id = :o", o=order_id) == captured
    assert sql("SELECT SUM(refunded_cents) FROM payments WHERE order_id = :o", o=order_id) == (
        captured
    )
    assert sql(reserved, o=order_id) == before - units
    assert sql("SELECT cancel_reason FROM orders WHERE id = :o", o=order_id) == "customer request"
    assert (
        sql(
            "SELECT COUNT(*) FROM domain_events WHERE type = 'order_cancelled' AND entity_id = :o",
            o=str(order_id),
        )
        == 1
    )
    assert "released" in result["summary"] and "refunded" in result["summary"]


def test_cancel_order_twice_refunds_once(call: Any, sql: Any) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'paid'")
    call("manager", "cancel_order", order_id=order_id, reason="duplicate order")
    refunds = sql("SELECT COUNT(*) FROM refunds WHERE order_id = :o", o=order_id)
    with pytest.raises(Conflict, match="already cancelled"):
        call("manager", "cancel_order", order_id=order_id, reason="duplicate order")
    assert sql("SELECT COUNT(*) FROM refunds WHERE order_id = :o", o=order_id) == refunds == 1


def test_cancel_order_pending_has_nothing_to_refund(call: Any, new_order: Any, sql: Any) -> None:
    result = call("support", "cancel_order", order_id=new_order.id, reason="customer reordered")
    assert result.refunds == [] and result.refunded_cents == 0
    assert result.units_released == 2
    assert "nothing to refund" in result.summary
    assert (
        sql("SELECT status FROM stock_reservations WHERE order_id = :o", o=new_order.id)
        == "released"
    )


def test_cancel_order_refuses_a_shipped_order(call: Any, sql: Any) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'shipped'")
    with pytest.raises(Conflict, match="returns"):
        call("manager", "cancel_order", order_id=order_id, reason="late")
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "shipped"
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_cancel_order_needs_a_reason(call: Any, sql: Any) -> None:
    order_id = sql("SELECT MIN(id) FROM orders WHERE status = 'paid'")
    with pytest.raises(InvalidInput) as error:
        call("support", "cancel_order", order_id=order_id)
    assert error.value.field == "reason"
    with pytest.raises(NotFound):
        call("support", "cancel_order", order_id=999999, reason="nothing")
    with pytest.raises(Forbidden, match="viewer"):
        call("viewer", "cancel_order", order_id=order_id, reason="not wanted")


# -- expire_unpaid_orders ----------------------------------------------------------------


def test_expire_unpaid_orders_cancels_lapsed_orders_only(
    call: Any, sql: Any, seeded_engine: Engine, new_order: Any
) -> None:
    lapsed = sql(
        "SELECT MIN(o.id) FROM orders o JOIN stock_reservations r ON r.order_id = o.id"
        " WHERE o.status = 'pending' AND r.status = 'active' AND r.expires_at < :now",
        now=utc_now(),
    )
    result = call("manager", "expire_unpaid_orders")
    assert [o.order_id for o in result.cancelled] == [lapsed]
    payment = sql("SELECT id FROM payments WHERE order_id = :o AND status = 'pending'", o=lapsed)
    assert f"payment {payment} is still pending" in result.cancelled[0].notes[0]
    assert sql("SELECT status FROM orders WHERE id = :o", o=lapsed) == "cancelled"
    assert sql("SELECT status FROM orders WHERE id = :o", o=new_order.id) == "pending"

    with seeded_engine.begin() as connection:
        connection.execute(
            sa.update(StockReservation)
            .where(StockReservation.order_id == new_order.id)  # type: ignore[arg-type]
            .values(expires_at=utc_now() - timedelta(minutes=1))
        )
    again = call("manager", "expire_unpaid_orders")
    assert [(o.order_id, o.units_released) for o in again.cancelled] == [(new_order.id, 2)]
    assert sql("SELECT cancel_reason FROM orders WHERE id = :o", o=new_order.id) == (
        "reservation expired without payment"
    )
    assert call("manager", "expire_unpaid_orders").cancelled == []


# -- over REST -------------------------------------------------------------------------------


def test_order_routes_check_roles_and_answer_json_errors(api: Any, sql: Any) -> None:
    paid = sql("SELECT MIN(id) FROM orders WHERE status = 'paid'")
    customer, _ = customer_at(sql)
    refused = [
        api(
            "viewer",
            "POST",
            "/orders",
            json={"customer_id": customer, "lines": [{"sku": sku(sql), "quantity": 1}]},
        ),
        api("viewer", "PATCH", f"/orders/{paid}/status", json={"status": "processing"}),
        api("viewer", "POST", f"/orders/{paid}/cancel", json={"reason": "not wanted"}),
        api("support", "POST", "/orders/expire-unpaid", json={}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert all(r.json()["error"]["code"] == "forbidden" for r in refused)
    assert sql("SELECT COUNT(*) FROM domain_events") == 0

    missing = api("viewer", "GET", "/orders/999999")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "order 999999 does not exist",
        "field": "order_id",
    }
    bad = api("support", "POST", f"/orders/{paid}/cancel", json={})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "reason"
    inverted = api(
        "viewer", "GET", "/orders", params={"min_total_cents": 500, "max_total_cents": 100}
    )
    assert inverted.status_code == 422
    assert inverted.json()["error"]["field"] == "min_total_cents"
    listed = api("viewer", "GET", "/orders", params={"limit": 2, "status": "delivered"})
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2
    analytics = api("viewer", "GET", "/orders/analytics", params={"start": "2026-11-01"})
    assert analytics.status_code == 200, analytics.text
    assert analytics.json()["start"] == "2026-11-01"
    shipped = sql("SELECT MIN(id) FROM orders WHERE status = 'shipped'")
    late = api("manager", "POST", f"/orders/{shipped}/cancel", json={"reason": "late"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"
