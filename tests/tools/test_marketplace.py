"""Marketplace tools: connections, order sync into paid orders, stock pushes, offers and
buyer messages, against the sandbox marketplaces (their files in a temporary data dir)."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.settings import get_settings
from db.base import utc_now
from db.invariants import check_invariants
from db.models import Marketplace
from tools.base import REGISTRY, Conflict, Forbidden, InvalidInput, NotFound, ProviderError
from tools.marketplace_common import load_connection, sandbox_for
from tools.marketplace_sandbox import SandboxMarketplace

AMAZON, CDISCOUNT, BACKMARKET, REFURBED, MIRAKL, EBAY = 1, 2, 3, 4, 5, 6
NEW = {"marketplace": "ebay", "name": "eBay.de", "seller_id": "maison-lumen-de"}


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Sandbox accounts live in a temporary data dir, never in the repository's."""
    monkeypatch.setenv("COMPTOIR_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def quiet(call: Any, connection_id: int) -> None:
    """No simulated buyers on this connection: only what the test places happens."""
    call("manager", "update_connection", connection_id=connection_id, simulate_buyers=False)


def sandbox(engine: Engine, connection_id: int) -> SandboxMarketplace:
    """The connection's sandbox account, opened (so its file exists) as the tools open it."""
    with Session(engine) as session:
        account = sandbox_for(session, load_connection(session, connection_id))
        account.snapshot()
    return account


def execute(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def exhaust(account: SandboxMarketplace) -> ProviderError:
    """Hammer the marketplace: it answers 429, and the calls made while limited lengthen
    the back-off to tens of seconds, so the test's next call is refused too."""
    errors = []
    for _ in range(3 * account.profile.burst):
        try:
            account.fetch_messages(utc_now())
        except ProviderError as error:
            errors.append(error)
    assert errors, "the sandbox never rate-limited"
    return errors[-1]


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# -- connections -------------------------------------------------------------------------


def test_create_connection_records_audit_and_event(api: Any, sql: Any) -> None:
    response = api("manager", "POST", "/marketplace/connections", json={**NEW, "stock_buffer": 2})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["mode"] == "sandbox" and created["sandbox"] and created["stock_buffer"] == 2
    assert sql("SELECT seller_id FROM marketplace_connections WHERE id = :i", i=created["id"]) == (
        "maison-lumen-de"
    )
    assert sql("SELECT type FROM domain_events WHERE entity_id = :i", i=str(created["id"])) == (
        "marketplace_connection_created"
    )
    assert sql("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1") == "create_connection"


def test_create_connection_refusals_write_nothing(api: Any, call: Any, sql: Any) -> None:
    response = api("admin", "POST", "/marketplace/connections", json={**NEW, "mode": "live"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "live_not_configured" and error["field"] == "mode"
    assert "no live credentials are configured for eBay" in error["message"]
    with pytest.raises(Conflict, match=r"already connected as Amazon\.fr") as taken:
        call(
            "manager",
            "create_connection",
            **{**NEW, "marketplace": "amazon", "seller_id": "A2LUMEN7FR"},
        )
    assert taken.value.field == "seller_id"
    for change, field in (
        ({"marketplace": "etsy"}, "marketplace"),
        ({"seller_id": "has spaces"}, "seller_id"),
        ({"stock_buffer": -1}, "stock_buffer"),
        ({"warehouses": ["XYZ"]}, "warehouses"),
    ):
        response = api("manager", "POST", "/marketplace/connections", json={**NEW, **change})
        assert response.status_code == 422
        assert response.json()["error"]["field"] == field
    assert sql("SELECT COUNT(*) FROM marketplace_connections") == 6
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_support_and_viewer_cannot_manage_connections(api: Any, call: Any) -> None:
    assert api("support", "POST", "/marketplace/connections", json=NEW).status_code == 403
    with pytest.raises(Forbidden, match="viewer"):
        call("viewer", "update_connection", connection_id=AMAZON, name="Amazon 2")
    assert REGISTRY["delete_connection"].approval


def test_list_connections_filters_and_pages(api: Any) -> None:
    first = api("viewer", "GET", "/marketplace/connections", params={"limit": 4}).json()
    assert [c["marketplace"] for c in first["items"]] == [
        "amazon",
        "cdiscount",
        "backmarket",
        "refurbed",
    ]
    rest = api("viewer", "GET", "/marketplace/connections", params={"cursor": first["next_cursor"]})
    assert [c["id"] for c in rest.json()["items"]] == [5, 6]
    only = api("viewer", "GET", "/marketplace/connections", params={"marketplace": "mirakl"})
    assert [c["name"] for c in only.json()["items"]] == ["Fnac Darty (Mirakl)"]


def test_get_connection_counts_come_from_rows(api: Any, call: Any, sql: Any) -> None:
    detail = call("viewer", "get_connection", connection_id=BACKMARKET)
    assert detail.orders_by_sync_status["synced"] == sql(
        "SELECT COUNT(*) FROM marketplace_orders WHERE connection_id = 3 AND sync_status = 'synced'"
    )
    assert detail.orders_by_sync_status["failed"] == 1
    assert detail.comptoir_orders == sql(
        "SELECT COUNT(*) FROM orders WHERE marketplace_connection_id = 3"
    )
    assert detail.offers_by_status["active"] == sql(
        "SELECT COUNT(*) FROM marketplace_offers WHERE connection_id = 3 AND status = 'active'"
    )
    assert call("viewer", "get_connection", connection_id=AMAZON).unread_messages == 1
    response = api("viewer", "GET", "/marketplace/connections/99")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "marketplace connection 99 does not exist; "
            "list_connections shows the existing ones",
            "field": "connection_id",
        }
    }


def test_update_connection_pauses_it_and_stops_its_calls(call: Any, sql: Any) -> None:
    paused = call("manager", "update_connection", connection_id=EBAY, status="paused")
    assert paused.status == "paused"
    assert sql("SELECT status FROM marketplace_connections WHERE id = 6") == "paused"
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == (
        "marketplace_connection_updated"
    )
    for name in ("sync_orders", "push_stock"):
        with pytest.raises(Conflict, match="is paused"):
            call("support", name, connection_id=EBAY)


def test_update_connection_changes_buffer_and_warehouses(call: Any, sql: Any) -> None:
    updated = call(
        "manager", "update_connection", connection_id=AMAZON, stock_buffer=4, warehouses=["par"]
    )
    assert (updated.stock_buffer, updated.warehouses) == (4, ["PAR"])
    stored = as_json(sql("SELECT settings FROM marketplace_connections WHERE id = 1"))
    assert (stored["stock_buffer"], stored["warehouses"]) == (4, ["PAR"])
    after = as_json(sql("SELECT after FROM audit_log WHERE action = 'update_connection'"))
    assert after["stock_buffer"] == 4
    reset = call("manager", "update_connection", connection_id=AMAZON, warehouses=[])
    assert reset.warehouses is None and reset.stock_buffer == 4


def test_update_connection_refuses_live_mode_and_empty_changes(call: Any) -> None:
    with pytest.raises(Conflict, match="no live credentials") as error:
        call("manager", "update_connection", connection_id=AMAZON, mode="live")
    assert error.value.code == "live_not_configured"
    with pytest.raises(InvalidInput, match="at least one field"):
        call("manager", "update_connection", connection_id=AMAZON)
    with pytest.raises(InvalidInput, match="by hand"):
        call("manager", "update_connection", connection_id=AMAZON, status="error")


def test_delete_connection_refuses_one_with_unsynced_orders(api: Any, sql: Any) -> None:
    response = api("manager", "DELETE", f"/marketplace/connections/{BACKMARKET}")
    assert response.status_code == 409
    assert "unsynced marketplace orders" in response.json()["error"]["message"]
    assert sql("SELECT COUNT(*) FROM marketplace_connections WHERE id = 3") == 1


def test_delete_connection_refuses_one_that_brought_orders(
    call: Any, seeded_engine: Engine
) -> None:
    execute(
        seeded_engine,
        "UPDATE marketplace_orders SET sync_status = 'ignored' "
        "WHERE connection_id = 6 AND sync_status = 'pending'",
    )
    with pytest.raises(Conflict, match="pause it"):
        call("manager", "delete_connection", connection_id=EBAY)


def test_delete_a_new_connection_and_its_sandbox(
    call: Any, sql: Any, seeded_engine: Engine, data_dir: Path
) -> None:
    created = call("manager", "create_connection", **NEW, simulate_buyers=False)
    sku = sql("SELECT sku FROM product_variants ORDER BY id LIMIT 1")
    call("manager", "create_offer", connection_id=created.id, sku=sku, price_cents=50000)
    assert (data_dir / "sandbox" / f"{created.id}.json").exists()
    with pytest.raises(Forbidden):
        call("support", "delete_connection", connection_id=created.id)
    call("manager", "delete_connection", connection_id=created.id)
    assert (
        sql("SELECT COUNT(*) FROM marketplace_offers WHERE connection_id = :i", i=created.id) == 0
    )
    assert not (data_dir / "sandbox" / f"{created.id}.json").exists()
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == (
        "marketplace_connection_deleted"
    )


def test_live_connection_is_refused_when_used(call: Any, seeded_engine: Engine) -> None:
    execute(seeded_engine, "UPDATE marketplace_connections SET mode = 'live' WHERE id = 2")
    with pytest.raises(Conflict, match="no live credentials are configured for Cdiscount"):
        call("support", "sync_orders", connection_id=CDISCOUNT)


# -- order sync --------------------------------------------------------------------------


def test_sync_orders_turns_pending_orders_into_paid_orders(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    quiet(call, AMAZON)
    paid_on_amazon = "SELECT COALESCE(SUM(orders), 0) FROM daily_orders WHERE channel = 'amazon'"
    paid_before = sql(f"{paid_on_amazon} AND status = 'paid'")
    pending = sql(
        "SELECT COUNT(*) FROM marketplace_orders WHERE connection_id = 1 "
        "AND sync_status = 'pending'"
    )
    assert pending == 3
    result = call("support", "sync_orders", connection_id=AMAZON)
    assert len(result.synced) == pending and result.not_synced == [] and result.sandbox
    for synced in result.synced:
        row = {"o": synced.order_id, "m": synced.marketplace_order_id}
        assert sql("SELECT status FROM orders WHERE id = :o", **row) == "paid"
        assert sql("SELECT channel FROM orders WHERE id = :o", **row) == "amazon"
        assert sql("SELECT total_cents FROM orders WHERE id = :o", **row) == sql(
            "SELECT total_cents FROM marketplace_orders WHERE id = :m", **row
        )
        assert (
            sql("SELECT order_id FROM marketplace_orders WHERE id = :m", **row) == synced.order_id
        )
        assert sql(
            "SELECT p.captured_cents FROM payments p JOIN payment_gateways g ON g.id = p.gateway_id"
            " WHERE p.order_id = :o AND g.code = 'marketplace' AND p.status = 'captured'",
            **row,
        ) == sql("SELECT total_cents FROM orders WHERE id = :o", **row)
        assert sql(
            "SELECT SUM(quantity) FROM stock_reservations WHERE order_id = :o"
            " AND status = 'active'",
            **row,
        ) == sql("SELECT SUM(quantity) FROM order_lines WHERE order_id = :o", **row)
        assert synced.new_customer
        payload = as_json(sql("SELECT payload FROM marketplace_orders WHERE id = :m", **row))
        customer = {"c": synced.customer_id}
        assert (
            sql("SELECT email FROM customers WHERE id = :c", **customer) == (payload["buyer_email"])
        )
        assert sql("SELECT COUNT(*) FROM addresses WHERE customer_id = :c", **customer) == 1
        assert sql("SELECT shipping_address_id FROM orders WHERE id = :o", **row) == sql(
            "SELECT id FROM addresses WHERE customer_id = :c", **customer
        )
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'marketplace_order_synced'") == 3
    assert (
        sql(
            "SELECT COUNT(*) FROM marketplace_orders WHERE connection_id = 1 "
            "AND sync_status = 'pending'"
        )
        == 0
    )
    assert sql("SELECT last_synced_at FROM marketplace_connections WHERE id = 1") is not None
    # Counted in the daily tables as paid orders on Amazon, lines sold included.
    assert sql(f"{paid_on_amazon} AND status = 'paid'") == paid_before + 3
    assert [c.name for c in check_invariants(seeded_engine) if not c.ok] == []


def test_sync_orders_twice_creates_nothing_twice(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    quiet(call, CDISCOUNT)
    call("support", "sync_orders", connection_id=CDISCOUNT)
    orders = sql("SELECT COUNT(*) FROM orders WHERE marketplace_connection_id = 2")
    sku = sql(OFFER_SKU + "o.connection_id = 2 AND o.status = 'active' AND o.quantity > 3")
    placed = sandbox(seeded_engine, CDISCOUNT).simulate_order(sku)
    assert placed.external_order_id.endswith("CD") and placed.sandbox
    first = call("support", "sync_orders", connection_id=CDISCOUNT)
    second = call("support", "sync_orders", connection_id=CDISCOUNT)
    assert [s.external_order_id for s in first.synced] == [placed.external_order_id]
    assert second.synced == [] and second.new == 0
    assert sql("SELECT COUNT(*) FROM orders WHERE marketplace_connection_id = 2") == orders + 1
    assert (
        sql(
            "SELECT COUNT(*) FROM marketplace_orders WHERE external_order_id = :e",
            e=placed.external_order_id,
        )
        == 1
    )


def test_sync_orders_leaves_unknown_skus_failed(call: Any, sql: Any, seeded_engine: Engine) -> None:
    quiet(call, REFURBED)
    placed = sandbox(seeded_engine, REFURBED).simulate_order(
        "OLD-LISTING-42", unit_price_cents=9900
    )
    result = call("support", "sync_orders", connection_id=REFURBED)
    [failed] = [n for n in result.not_synced if n.external_order_id == placed.external_order_id]
    assert failed.sync_status == "failed"
    assert failed.reason == "SKU OLD-LISTING-42 is not in the catalogue"
    row = {"e": placed.external_order_id}
    assert sql(
        "SELECT sync_status FROM marketplace_orders WHERE external_order_id = :e", **row
    ) == ("failed")
    assert (
        sql("SELECT order_id FROM marketplace_orders WHERE external_order_id = :e", **row) is None
    )
    assert sql("SELECT COUNT(*) FROM domain_events WHERE type = 'marketplace_sync_failed'") == 1
    again = call("support", "sync_orders", connection_id=REFURBED, retry_failed=True)
    assert [n.reason for n in again.not_synced] == [failed.reason]


def test_sync_orders_matches_customers_and_keeps_marketplace_prices(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    quiet(call, MIRAKL)
    customer, email = 7, sql("SELECT email FROM customers WHERE id = 7")
    customers = sql("SELECT COUNT(*) FROM customers")
    variant = sql(
        "SELECT variant_id FROM stock_levels WHERE on_hand - reserved >= 5 "
        "ORDER BY variant_id LIMIT 1"
    )
    sku = sql("SELECT sku FROM product_variants WHERE id = :v", v=variant)
    catalogue = sql("SELECT price_cents FROM product_variants WHERE id = :v", v=variant)
    placed = sandbox(seeded_engine, MIRAKL).simulate_order(
        sku,
        quantity=2,
        unit_price_cents=catalogue - 1000,
        buyer_email=email.upper(),
        shipping_cents=490,
    )
    result = call("support", "sync_orders", connection_id=MIRAKL)
    [synced] = [s for s in result.synced if s.external_order_id == placed.external_order_id]
    assert synced.customer_id == customer and not synced.new_customer
    assert sql("SELECT COUNT(*) FROM customers") == customers + 1  # the demo's pending one
    line = {"o": synced.order_id}
    assert sql("SELECT unit_price_cents FROM order_lines WHERE order_id = :o", **line) == (
        catalogue - 1000
    )
    assert (
        sql("SELECT total_cents FROM orders WHERE id = :o", **line) == 2 * (catalogue - 1000) + 490
    )
    assert sql("SELECT marketplace_status FROM marketplace_orders WHERE order_id = :o", **line) == (
        "SHIPPING"
    )


def test_sync_orders_refuses_orders_it_cannot_fulfil(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    quiet(call, BACKMARKET)
    account = sandbox(seeded_engine, BACKMARKET)
    sku = sql("SELECT sku FROM product_variants WHERE id = 1")
    too_many = account.simulate_order(sku, quantity=5000, unit_price_cents=100)
    blocked = account.simulate_order(sku, unit_price_cents=100, buyer_email="Fraudster@example.com")
    cancelled = account.simulate_order(sku, unit_price_cents=100, cancelled=True)
    call(
        "manager", "block_entity", kind="email", value="fraudster@example.com", reason="chargebacks"
    )
    result = call("support", "sync_orders", connection_id=BACKMARKET)
    reasons = {n.external_order_id: (n.sync_status, n.reason) for n in result.not_synced}
    assert reasons[too_many.external_order_id][1].startswith("no warehouse has enough")
    assert reasons[blocked.external_order_id][1].startswith("the buyer is blocked")
    assert cancelled.external_order_id not in reasons  # never pending: stored as ignored
    assert (
        sql(
            "SELECT sync_status FROM marketplace_orders WHERE external_order_id = :e",
            e=cancelled.external_order_id,
        )
        == "ignored"
    )
    assert (
        sql("SELECT COUNT(*) FROM orders WHERE note LIKE :n", n=f"%{blocked.external_order_id}")
        == 0
    )


def test_sync_orders_rate_limited_changes_nothing(
    api: Any, sql: Any, call: Any, seeded_engine: Engine
) -> None:
    quiet(call, CDISCOUNT)
    error = exhaust(sandbox(seeded_engine, CDISCOUNT))
    assert error.code == "rate_limited" and "retry after" in error.message
    events = sql("SELECT COUNT(*) FROM domain_events")
    response = api("support", "POST", f"/marketplace/connections/{CDISCOUNT}/sync", json={})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "rate_limited"
    assert "Cdiscount sandbox answered 429" in response.json()["error"]["message"]
    assert sql("SELECT COUNT(*) FROM domain_events") == events
    assert (
        sql(
            "SELECT COUNT(*) FROM marketplace_orders WHERE connection_id = 2 "
            "AND sync_status = 'pending'"
        )
        == 1
    )


def test_list_marketplace_orders_by_sync_status(api: Any, sql: Any) -> None:
    failed = api(
        "viewer", "GET", "/marketplace/connections/3/orders", params={"sync_status": "failed"}
    ).json()
    assert [o["external_order_id"] for o in failed["items"]] == [
        sql("SELECT external_order_id FROM marketplace_orders WHERE sync_status = 'failed'")
    ]
    assert failed["items"][0]["error"].endswith("is not in the catalogue")
    page = api("viewer", "GET", "/marketplace/connections/3/orders", params={"limit": 5}).json()
    assert len(page["items"]) == 5 and page["next_cursor"] == page["items"][-1]["id"]
    assert page["items"][0]["id"] == sql(
        "SELECT MAX(id) FROM marketplace_orders WHERE connection_id = 3"
    )
    bad = api("viewer", "GET", "/marketplace/connections/3/orders", params={"sync_status": "lost"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "sync_status"
    refused = api("viewer", "POST", f"/marketplace/connections/{AMAZON}/sync", json={})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"


def test_get_marketplace_order_by_the_marketplaces_number(api: Any, sql: Any) -> None:
    failed = sql("SELECT external_order_id FROM marketplace_orders WHERE sync_status = 'failed'")
    found = api("viewer", "GET", f"/marketplace/orders/{failed.lower()}").json()
    assert found["external_order_id"] == failed and found["connection_id"] == BACKMARKET
    assert found["order_id"] is None and found["error"].endswith("is not in the catalogue")
    first_synced = "WHERE connection_id = 1 AND order_id IS NOT NULL ORDER BY id LIMIT 1"
    number = sql(f"SELECT external_order_id FROM marketplace_orders {first_synced}")
    amazon = api("viewer", "GET", f"/marketplace/orders/{number}").json()
    assert amazon["order_id"] == sql(f"SELECT order_id FROM marketplace_orders {first_synced}")
    assert amazon["connection_id"] == AMAZON
    unknown = api("viewer", "GET", "/marketplace/orders/BM0000000000")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "external_order_id"


# -- stock and offers --------------------------------------------------------------------

OFFER_SKU = (
    "SELECT v.sku FROM marketplace_offers o JOIN product_variants v ON v.id = o.variant_id WHERE "
)
AVAILABLE = (
    "SELECT COALESCE(SUM(s.on_hand - s.reserved), 0) FROM stock_levels s"
    " JOIN warehouses w ON w.id = s.warehouse_id JOIN product_variants v ON v.id = s.variant_id"
    " WHERE v.sku = :sku AND w.is_active"
)


def test_push_stock_sends_available_minus_buffer(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    quiet(call, CDISCOUNT)
    result = call("support", "push_stock", connection_id=CDISCOUNT)
    active = sql(
        "SELECT COUNT(*) FROM marketplace_offers WHERE connection_id = 2 AND status = 'active'"
    )
    assert result.updated + result.unchanged == active and result.sandbox
    assert result.skipped == sql(
        "SELECT COUNT(*) FROM marketplace_offers WHERE connection_id = 2 AND status <> 'active'"
    )
    listings = sandbox(seeded_engine, CDISCOUNT).snapshot()["listings"]
    for line in [x for x in result.lines if x.outcome in ("updated", "unchanged")][:20]:
        assert line.available == sql(AVAILABLE, sku=line.sku)
        assert line.quantity_sent == max(0, line.available - 1)
        assert sql("SELECT quantity FROM marketplace_offers WHERE id = :i", i=line.offer_id) == (
            line.quantity_sent
        )
        assert listings[line.sku]["quantity"] == line.quantity_sent
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "stock_pushed"


def test_push_stock_uses_the_buffer_and_feeding_warehouses(call: Any, sql: Any) -> None:
    call(
        "manager",
        "update_connection",
        connection_id=AMAZON,
        stock_buffer=3,
        warehouses=["LYS"],
        simulate_buyers=False,
    )
    sku = sql(OFFER_SKU + "o.connection_id = 1 AND o.status = 'active' ORDER BY o.id")
    [line] = call("support", "push_stock", connection_id=AMAZON, skus=[sku]).lines
    lys = sql(AVAILABLE + " AND w.code = 'LYS'", sku=sku)
    assert (line.available, line.quantity_sent) == (lys, max(0, lys - 3))


def test_push_stock_reports_skipped_and_unknown_skus(call: Any, sql: Any) -> None:
    quiet(call, EBAY)
    rejected = sql(OFFER_SKU + "o.connection_id = 6 AND o.status = 'rejected'")
    events = sql("SELECT COUNT(*) FROM domain_events")
    result = call("support", "push_stock", connection_id=EBAY, skus=[rejected, "NO-SUCH-SKU"])
    assert {line.sku: line.outcome for line in result.lines} == {
        rejected: "skipped",
        "NO-SUCH-SKU": "no_offer",
    }
    assert sql("SELECT COUNT(*) FROM domain_events") == events  # nothing was sent
    with pytest.raises(Forbidden):
        call("viewer", "push_stock", connection_id=EBAY)


UNLISTED = (
    "SELECT v.sku FROM product_variants v JOIN products p ON p.id = v.product_id"
    " JOIN categories c ON c.id = p.category_id WHERE v.id NOT IN"
    " (SELECT variant_id FROM marketplace_offers WHERE connection_id = :c) AND {} ORDER BY v.id"
)


def test_create_offer_lists_the_sku(call: Any, sql: Any, seeded_engine: Engine) -> None:
    quiet(call, EBAY)
    sku = sql(UNLISTED.format("1 = 1"), c=EBAY)
    offer = call("manager", "create_offer", connection_id=EBAY, sku=sku, price_cents=12900)
    assert offer.status == "active" and offer.external_offer_id.startswith("EB-OF-")
    assert offer.marketplace_status == "PUBLISHED" and offer.sandbox
    assert offer.quantity == max(0, sql(AVAILABLE, sku=sku) - 1)
    assert sql("SELECT price_cents FROM marketplace_offers WHERE id = :i", i=offer.id) == 12900
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "offer_created"
    listing = sandbox(seeded_engine, EBAY).snapshot()["listings"][sku]
    assert listing["offer_id"] == offer.external_offer_id and listing["price_cents"] == 12900


REJECTIONS = [
    (BACKMARKET, "v.grade = 'C'", 1.0, "grade C not accepted for this model"),
    (BACKMARKET, "p.condition = 'new'", 1.0, "Back Market lists refurbished devices only"),
    (REFURBED, "p.condition = 'refurbished'", 0.5, "price below refurbed's floor"),
    (MIRAKL, "c.slug = 'gaming'", 1.0, "category not allowed for this shop"),
    (AMAZON, "1 = 1", 1.5, "price above the marketplace's fair-price ceiling"),
    (CDISCOUNT, "1 = 1", 1.0, "missing EAN for this category"),
]


def test_create_offer_rejected_by_the_marketplace(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    for connection_id, where, price, reason in REJECTIONS:
        quiet(call, connection_id)
        sku = sql(UNLISTED.format(where), c=connection_id)
        if reason.startswith("missing EAN"):
            execute(seeded_engine, "UPDATE product_variants SET ean = NULL WHERE sku = :s", s=sku)
        catalogue = sql("SELECT price_cents FROM product_variants WHERE sku = :s", s=sku)
        offer = call(
            "manager",
            "create_offer",
            connection_id=connection_id,
            sku=sku,
            price_cents=int(catalogue * price),
        )
        assert offer.status == "rejected" and offer.rejection_reason.startswith(reason), reason
        assert offer.external_offer_id is None
        assert sql("SELECT rejection_reason FROM marketplace_offers WHERE id = :i", i=offer.id) == (
            offer.rejection_reason
        )
        assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "offer_rejected"


def test_create_offer_resubmits_a_rejected_offer(call: Any, sql: Any) -> None:
    quiet(call, EBAY)
    offer_id = sql(
        "SELECT o.id FROM marketplace_offers o WHERE o.connection_id = 6 "
        "AND o.status = 'rejected' ORDER BY o.id LIMIT 1"
    )
    sku = sql(OFFER_SKU + "o.id = :i", i=offer_id)
    offer = call("manager", "create_offer", connection_id=EBAY, sku=sku, price_cents=9900)
    assert (offer.id, offer.status, offer.rejection_reason) == (offer_id, "active", None)
    assert sql("SELECT status FROM marketplace_offers WHERE id = :i", i=offer_id) == "active"


def test_create_offer_refusals(api: Any, call: Any, sql: Any) -> None:
    listed = sql(OFFER_SKU + "o.connection_id = 1 AND o.status = 'active'")
    with pytest.raises(Conflict, match=r"already listed on Amazon\.fr") as error:
        call("manager", "create_offer", connection_id=AMAZON, sku=listed, price_cents=1000)
    assert error.value.field == "sku"
    missing = api(
        "manager",
        "POST",
        "/marketplace/connections/1/offers",
        json={"sku": "NOPE", "price_cents": 1000},
    )
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "sku"
    zero = api(
        "manager",
        "POST",
        "/marketplace/connections/1/offers",
        json={"sku": listed, "price_cents": 0},
    )
    assert zero.status_code == 422 and zero.json()["error"]["field"] == "price_cents"
    support = api(
        "support",
        "POST",
        "/marketplace/connections/1/offers",
        json={"sku": listed, "price_cents": 1000},
    )
    assert support.status_code == 403


def test_list_offers_filters_by_connection_and_status(api: Any, sql: Any) -> None:
    query = {"connection_id": 6, "status": "rejected", "limit": 200}
    rejected = api("viewer", "GET", "/marketplace/offers", params=query).json()
    assert len(rejected["items"]) == sql(
        "SELECT COUNT(*) FROM marketplace_offers WHERE connection_id = 6 AND status = 'rejected'"
    )
    assert all(o["rejection_reason"] == "listing title too long" for o in rejected["items"])
    sku = rejected["items"][0]["sku"]
    by_sku = api("viewer", "GET", "/marketplace/offers", params={"sku": sku}).json()["items"]
    assert len(by_sku) == sql(
        "SELECT COUNT(*) FROM marketplace_offers o JOIN product_variants v ON v.id = o.variant_id"
        " WHERE v.sku = :s",
        s=sku,
    )


# -- buyer messages ----------------------------------------------------------------------


def test_list_unread_messages_fetches_and_stores_new_ones(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    quiet(call, BACKMARKET)
    external = sql("SELECT external_order_id FROM marketplace_orders WHERE id = 2189")
    sandbox(seeded_engine, BACKMARKET).simulate_buyer_message(
        external, "Battery", "What is the battery health?"
    )
    first = call("support", "list_unread_messages", connection_id=BACKMARKET)
    assert [f.new_messages for f in first.fetched] == [1]
    [message] = first.items
    assert message.body == "What is the battery health?"
    assert message.marketplace_order_id == 2189 and message.external_order_id == external
    hours = sql("SELECT value FROM system_settings WHERE key = 'marketplace.reply_sla_hours'")
    assert (message.reply_due_at - message.sent_at).total_seconds() == int(hours) * 3600
    second = call("support", "list_unread_messages", connection_id=BACKMARKET)
    assert [f.new_messages for f in second.fetched] == [0] and len(second.items) == 1
    assert (
        sql("SELECT COUNT(*) FROM marketplace_messages WHERE connection_id = 3 AND NOT is_read")
        == 1
    )
    assert (
        sql("SELECT COUNT(*) FROM domain_events WHERE type = 'marketplace_messages_received'") == 1
    )


def test_list_unread_messages_reports_a_rate_limited_marketplace(
    api: Any, call: Any, sql: Any, seeded_engine: Engine
) -> None:
    quiet(call, AMAZON)
    exhaust(sandbox(seeded_engine, AMAZON))
    response = api("support", "GET", "/marketplace/messages/unread", params={"connection_id": 1})
    assert response.status_code == 200, response.text
    result = response.json()
    assert "429" in (result["fetched"][0]["error"] or "")
    assert [m["id"] for m in result["items"]] == [
        sql("SELECT id FROM marketplace_messages WHERE connection_id = 1 AND NOT is_read")
    ]
    with pytest.raises(Forbidden):
        call("viewer", "list_unread_messages")


def test_send_message_reaches_the_buyer_and_marks_the_thread_read(
    api: Any, sql: Any, call: Any, seeded_engine: Engine
) -> None:
    quiet(call, AMAZON)
    unread = sql("SELECT marketplace_order_id FROM marketplace_messages WHERE NOT is_read")
    response = api(
        "support",
        "POST",
        f"/marketplace/orders/{unread}/messages",
        json={"body": "Hello, the invoice is attached to your order page."},
    )
    assert response.status_code == 200, response.text
    sent = response.json()
    assert sent["marked_read"] == 1 and sent["sandbox"]
    assert (
        sent["message"]["subject"] == "Re: Invoice" and sent["message"]["direction"] == "outbound"
    )
    assert sql("SELECT COUNT(*) FROM marketplace_messages WHERE NOT is_read") == 0
    assert sql(
        "SELECT author FROM marketplace_messages WHERE id = :i", i=sent["message"]["id"]
    ) == ("lucas.petit@maison-lumen.fr")
    messages = sandbox(seeded_engine, AMAZON).snapshot()["messages"]
    assert [m["id"] for m in messages if m["direction"] == "outbound"] == [
        sql("SELECT external_id FROM marketplace_messages WHERE id = :i", i=sent["message"]["id"])
    ]
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == (
        "marketplace_message_sent"
    )


def test_send_message_refused_by_the_marketplace(api: Any, sql: Any, call: Any) -> None:
    quiet(call, AMAZON)
    order = sql("SELECT id FROM marketplace_orders WHERE connection_id = 1 LIMIT 1")
    messages = sql("SELECT COUNT(*) FROM marketplace_messages")
    response = api(
        "support",
        "POST",
        f"/marketplace/orders/{order}/messages",
        json={"body": "Write to me at help@maison-lumen.fr"},
    )
    assert response.status_code == 502
    assert response.json()["error"] == {
        "code": "message_rejected",
        "message": "Amazon sandbox refused the message: e-mail addresses and links are not "
        "allowed in buyer messages (found 'help@maison-lumen.fr')",
        "field": "body",
    }
    assert sql("SELECT COUNT(*) FROM marketplace_messages") == messages
    with pytest.raises(NotFound, match="marketplace order 999999"):
        call("support", "send_message", marketplace_order_id=999999, body="Hello there")
    with pytest.raises(Forbidden):
        call("viewer", "send_message", marketplace_order_id=order, body="Hello there")


def test_mark_messages_read(call: Any, sql: Any) -> None:
    unread = sql("SELECT id FROM marketplace_messages WHERE NOT is_read")
    read = sql("SELECT id FROM marketplace_messages WHERE is_read LIMIT 1")
    result = call("support", "mark_messages_read", message_ids=[unread, read])
    assert (result.marked, result.already_read) == ([unread], [read])
    assert sql("SELECT is_read FROM marketplace_messages WHERE id = :i", i=unread) in (1, True)
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == (
        "marketplace_message_read"
    )
    with pytest.raises(NotFound) as error:
        call("support", "mark_messages_read", message_ids=[unread, 999999])
    assert error.value.field == "message_ids"
    with pytest.raises(InvalidInput):
        call("support", "mark_messages_read", message_ids=[])


# -- the sandbox itself ------------------------------------------------------------------


def test_sandbox_buyers_are_derived_from_the_account_and_the_hour(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    listings = {
        f"SKU-{n}": {
            "offer_id": f"AM-OF-{n}",
            "price_cents": 1000 + n,
            "quantity": 50,
            "status": "active",
            "updated_at": None,
        }
        for n in range(10)
    }

    def account(folder: str) -> SandboxMarketplace:
        return SandboxMarketplace(
            connection_id=1,
            marketplace=Marketplace.AMAZON,
            seller_id="A2LUMEN7FR",
            data_dir=tmp_path / folder,
            initial_listings=lambda: dict(listings),
            clock=lambda: moment,
        )

    first, second = account("a").fetch_orders(None), account("b").fetch_orders(None)
    assert first and first == second
    assert all(
        o.sandbox and o.status == ("Canceled" if o.cancelled else "Unshipped") for o in first
    )
    assert all(o.buyer_email.endswith("@buyers.amazon.sandbox") for o in first)
    stored = (tmp_path / "a" / "sandbox" / "1.json").read_text()
    assert '"sandbox": true' in stored and first[0].external_order_id in stored


def test_sandbox_cancels_orders_not_accepted_in_time(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 20, 9, 0, tzinfo=UTC)]
    account = SandboxMarketplace(
        connection_id=5,
        marketplace=Marketplace.MIRAKL,
        seller_id="MKL-FD-3317",
        data_dir=tmp_path,
        simulate_buyers=False,
        clock=lambda: now[0],
    )
    late = account.simulate_order("SKU-1", unit_price_cents=5000)
    on_time = account.simulate_order("SKU-1", unit_price_cents=5000)
    assert late.status == "WAITING_ACCEPTANCE" and late.external_order_id.startswith("FD-")
    assert account.acknowledge_order(on_time.external_order_id).status == "SHIPPING"
    now[0] = now[0].replace(hour=9 + 1, day=21)  # 25 hours later
    [fetched] = [
        o for o in account.fetch_orders(None) if o.external_order_id == late.external_order_id
    ]
    assert fetched.cancelled and fetched.cancel_reason == (
        "cancelled by Fnac Darty (Mirakl): not accepted within 24 h"
    )
    with pytest.raises(ProviderError, match="not accepted within 24 h") as error:
        account.acknowledge_order(late.external_order_id)
    assert error.value.code == "order_cancelled"
    with pytest.raises(ProviderError) as unknown:
        account.acknowledge_order("123-not-mirakl")
    assert unknown.value.code == "unknown_order"


def test_stored_times_come_back_with_their_time_zone(api: Any) -> None:
    # Found by tests/test_api_fuzz.py: SQLite hands stored times back naive, and connections,
    # offers and marketplace orders were sent without an offset (not RFC 3339 date-times).
    pages = [
        api("manager", "GET", "/marketplace/connections").json()["items"],
        api("manager", "GET", "/marketplace/offers", params={"limit": 5}).json()["items"],
        api("manager", "GET", "/marketplace/connections/1/orders").json()["items"],
    ]
    times = [
        value
        for items in pages
        for item in items
        for name, value in item.items()
        if name.endswith("_at") and value is not None
    ]
    assert all(len(items) for items in pages) and times
    assert all(datetime.fromisoformat(value).utcoffset() is not None for value in times)
