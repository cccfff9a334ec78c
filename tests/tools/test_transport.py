"""Transport tools: carriers and rate cards, quotes and carrier choice from the rate cards and
measured on-time rates, shipments through the order status machine and the inventory, tracking
from the carrier sandbox, delivery, roles and the REST error shape."""

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import tools.transport  # noqa: F401  (registers the transport tools)
from db.base import as_utc, utc_now
from tools.base import (
    REGISTRY,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ProviderError,
    ToolError,
)
from tools.carrier_sandbox import Parcel, add_working_days, parcel_timeline, tracking_number

GLS = {
    "code": "gls",
    "name": "GLS France",
    "on_time_rate_bp": 9100,
    "max_weight_grams": 40000,
    "tracking_url_template": "https://gls-group.com/FR/fr/suivi-colis?match={tracking}",
}
FORMATS = {
    "colissimo": r"6A\d{11}",
    "chronopost": r"XY\d{10}FR",
    "dpd": r"250\d{11}",
    "colis_prive": r"CP\d{12}",
    "ups": r"1Z9L4W\d{12}",
    "fedex": r"7\d{11}",
}


def moment(value: Any) -> datetime:
    """A timestamp read with raw SQL: SQLite gives text, PostgreSQL a datetime."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def moment_date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def rows(engine: Engine, statement: str, **params: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text(statement), params).all())


def execute(engine: Engine, statement: str, **params: Any) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def order_to_ship(sql: Any, country: str = "FR", status: str = "processing") -> int:
    return sql(
        "SELECT o.id FROM orders o JOIN addresses a ON a.id = o.shipping_address_id"
        " WHERE o.status = :s AND a.country = :c ORDER BY o.id LIMIT 1",
        s=status,
        c=country,
    )


def parcel_weight(sql: Any, order_id: int) -> int:
    return 150 + sql(
        "SELECT SUM(l.quantity * v.weight_grams) FROM order_lines l"
        " JOIN product_variants v ON v.id = l.variant_id WHERE l.order_id = :o",
        o=order_id,
    )


def age_shipment(engine: Engine, shipment_id: int, days: float) -> None:
    """Move a shipment `days` into the past, as if it had left then."""
    moved = utc_now() - timedelta(days=days)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE shipments SET shipped_at = :t, created_at = :t WHERE id = :i"),
            {"t": moved, "i": shipment_id},
        )
        connection.execute(
            sa.text("UPDATE tracking_events SET occurred_at = :t WHERE shipment_id = :i"),
            {"t": moved, "i": shipment_id},
        )


def add_carrier(call: Any, code: str, on_time_bp: int, price_cents: int) -> int:
    """A carrier with one FR standard line up to 30 kg."""
    carrier = call(
        "manager", "create_carrier", **{**GLS, "code": code, "on_time_rate_bp": on_time_bp}
    )
    call(
        "manager",
        "add_rate",
        carrier_id=carrier.id,
        zone="FR",
        service="standard",
        max_weight_grams=30000,
        price_cents=price_cents,
        transit_days=2,
    )
    return carrier.id


# -- carriers ----------------------------------------------------------------------------


def test_list_and_get_carriers(api: Any, sql: Any) -> None:
    first = api("viewer", "GET", "/transport/carriers", params={"limit": 4})
    assert first.status_code == 200
    page = first.json()
    assert [c["code"] for c in page["items"]] == ["colissimo", "chronopost", "dpd", "colis_prive"]
    assert page["items"][0]["rate_lines"] == sql(
        "SELECT COUNT(*) FROM carrier_rates WHERE carrier_id = 1"
    )
    second = api(
        "viewer", "GET", "/transport/carriers", params={"limit": 4, "cursor": page["next_cursor"]}
    )
    assert [c["code"] for c in second.json()["items"]] == ["ups", "fedex"]
    assert second.json()["next_cursor"] is None
    assert api("viewer", "GET", "/transport/carriers/2").json()["name"] == "Chronopost"
    response = api("viewer", "GET", "/transport/carriers/999")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "carrier 999 does not exist",
            "field": "carrier_id",
        }
    }


def test_create_carrier_records_audit_and_event(api: Any, sql: Any) -> None:
    response = api("manager", "POST", "/transport/carriers", json=GLS)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["code"] == "gls" and created["is_active"] and created["rate_lines"] == 0
    assert sql("SELECT name FROM carriers WHERE id = :i", i=created["id"]) == "GLS France"
    assert sql("SELECT actor FROM audit_log WHERE action = 'create_carrier'") == (
        "thomas.bernard@maison-lumen.fr"
    )
    assert (
        sql(
            "SELECT type FROM domain_events WHERE entity_type = 'carrier' AND entity_id = :i",
            i=str(created["id"]),
        )
        == "carrier_created"
    )


def test_create_carrier_rejects_bad_input(api: Any, sql: Any) -> None:
    for change, field in (
        ({"code": "GLS"}, "code"),
        ({"on_time_rate_bp": 10001}, "on_time_rate_bp"),
        ({"max_weight_grams": 0}, "max_weight_grams"),
        ({"tracking_url_template": "https://gls.example/track"}, "tracking_url_template"),
        ({"tracking_url_template": "http://gls.example/{tracking}"}, "tracking_url_template"),
        ({"unexpected": 1}, "unexpected"),
    ):
        response = api("manager", "POST", "/transport/carriers", json={**GLS, **change})
        assert response.status_code == 422, change
        assert response.json()["error"]["field"] == field
    assert sql("SELECT COUNT(*) FROM carriers") == 6


def test_support_and_viewer_cannot_manage_carriers(api: Any, call: Any) -> None:
    response = api("support", "POST", "/transport/carriers", json=GLS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    with pytest.raises(Forbidden, match="viewer"):
        call("viewer", "update_carrier", carrier_id=1, name="Colissimo Pro")
    with pytest.raises(Forbidden):
        call("support", "delete_carrier", carrier_id=1)


def test_update_carrier(call: Any, sql: Any) -> None:
    updated = call("manager", "update_carrier", carrier_id=4, is_active=False, on_time_rate_bp=8500)
    assert not updated.is_active and updated.on_time_rate_bp == 8500
    assert sql("SELECT on_time_rate_bp FROM carriers WHERE id = 4") == 8500
    quote = call("viewer", "quote_rates", weight_grams=800, country="FR", service="standard")
    assert "colis_prive" not in {q.carrier_code for q in quote.quotes}
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "carrier_updated"
    with pytest.raises(Conflict, match="30000 g") as error:
        call("manager", "update_carrier", carrier_id=1, max_weight_grams=20000)
    assert error.value.field == "max_weight_grams"
    with pytest.raises(InvalidInput, match="at least one"):
        call("manager", "update_carrier", carrier_id=1)


def test_delete_carrier(call: Any, sql: Any) -> None:
    with pytest.raises(Conflict, match="out of service"):
        call("admin", "delete_carrier", carrier_id=1)
    assert sql("SELECT COUNT(*) FROM carrier_rates WHERE carrier_id = 1") > 0
    assert REGISTRY["delete_carrier"].approval
    carrier_id = add_carrier(call, "gls", 9100, 390)
    deleted = call("manager", "delete_carrier", carrier_id=carrier_id)
    assert deleted.code == "gls" and deleted.rate_lines == 1
    assert sql("SELECT COUNT(*) FROM carrier_rates WHERE carrier_id = :i", i=carrier_id) == 0
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "carrier_deleted"
    with pytest.raises(NotFound):
        call("viewer", "get_carrier", carrier_id=carrier_id)


# -- rate cards --------------------------------------------------------------------------


def test_list_rates_filters_by_carrier_zone_and_service(api: Any, sql: Any) -> None:
    response = api(
        "viewer", "GET", "/transport/rates", params={"zone": "EU", "service": "standard"}
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == sql(
        "SELECT COUNT(*) FROM carrier_rates WHERE zone = 'EU' AND service = 'standard'"
    )
    assert {i["zone"] for i in items} == {"EU"}
    colissimo = api("viewer", "GET", "/transport/rates", params={"carrier_id": 1}).json()
    assert [r["price_cents"] for r in colissimo["items"]][:2] == [525, 735]
    assert api("viewer", "GET", "/transport/rates", params={"carrier_id": 99}).status_code == 404


def test_add_rate_makes_a_new_carrier_quotable(api: Any, call: Any, sql: Any) -> None:
    carrier = call("manager", "create_carrier", **GLS)
    response = api(
        "manager",
        "POST",
        f"/transport/carriers/{carrier.id}/rates",
        json={
            "zone": "FR",
            "service": "standard",
            "max_weight_grams": 2000,
            "price_cents": 495,
            "transit_days": 2,
        },
    )
    assert response.status_code == 200, response.text
    assert sql("SELECT price_cents FROM carrier_rates WHERE carrier_id = :i", i=carrier.id) == 495
    quote = call("viewer", "quote_rates", weight_grams=1500, country="FR", service="standard")
    gls = next(q for q in quote.quotes if q.carrier_code == "gls")
    assert gls.price_cents == 495 and gls.bracket_max_weight_grams == 2000
    assert gls.estimated_delivery == add_working_days(utc_now().date(), 2)


def test_add_rate_enforces_the_rate_card_rules(call: Any, sql: Any) -> None:
    base = {"carrier_id": 1, "zone": "FR", "service": "standard", "transit_days": 2}
    with pytest.raises(Conflict, match="update_rate") as duplicate:
        call("manager", "add_rate", **base, max_weight_grams=500, price_cents=500)
    assert duplicate.value.field == "max_weight_grams"
    with pytest.raises(InvalidInput, match="30000 g") as heavy:
        call("manager", "add_rate", **base, max_weight_grams=40000, price_cents=9000)
    assert heavy.value.field == "max_weight_grams"
    # Between the 1 kg (7,35) and 2 kg (8,65) lines, a 1.5 kg line cannot cost 9 EUR.
    with pytest.raises(Conflict, match="rise with weight") as order:
        call("manager", "add_rate", **base, max_weight_grams=1500, price_cents=900)
    assert order.value.field == "price_cents"
    with pytest.raises(NotFound):
        call("manager", "add_rate", **{**base, "carrier_id": 99}, max_weight_grams=1, price_cents=1)
    with pytest.raises(Forbidden):
        call("support", "add_rate", **base, max_weight_grams=1500, price_cents=800)
    added = call("manager", "add_rate", **base, max_weight_grams=1500, price_cents=800)
    assert sql("SELECT price_cents FROM carrier_rates WHERE id = :i", i=added.id) == 800


def test_update_and_delete_a_rate(call: Any, sql: Any) -> None:
    rate_id = sql(
        "SELECT id FROM carrier_rates"
        " WHERE carrier_id = 1 AND zone = 'FR' AND max_weight_grams = 1000"
    )
    assert REGISTRY["update_rate"].approval and REGISTRY["delete_rate"].approval
    with pytest.raises(Conflict, match="rise with weight"):
        call("manager", "update_rate", rate_id=rate_id, price_cents=9000)
    updated = call("manager", "update_rate", rate_id=rate_id, price_cents=790, transit_days=3)
    assert updated.price == "7,90 EUR"
    assert sql("SELECT price_cents FROM carrier_rates WHERE id = :i", i=rate_id) == 790
    with pytest.raises(InvalidInput):
        call("manager", "update_rate", rate_id=rate_id)
    call("manager", "delete_rate", rate_id=rate_id)
    assert sql("SELECT COUNT(*) FROM carrier_rates WHERE id = :i", i=rate_id) == 0
    quote = call("viewer", "quote_rates", weight_grams=900, country="FR", service="standard")
    colissimo = next(q for q in quote.quotes if q.carrier_code == "colissimo")
    assert colissimo.bracket_max_weight_grams == 2000  # the next heavier line now applies


# -- quotes and carrier choice -----------------------------------------------------------


def test_quote_rates_for_a_weight_come_from_the_rate_cards(api: Any, seeded_engine: Engine) -> None:
    response = api(
        "viewer",
        "GET",
        "/transport/quotes",
        params={"weight_grams": 1200, "country": "BE", "service": "standard"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["zone"] == "EU"
    expected = rows(
        seeded_engine,
        "SELECT c.code, MIN(r.price_cents) FROM carrier_rates r JOIN carriers c"
        " ON c.id = r.carrier_id WHERE r.zone = 'EU' AND r.service = 'standard'"
        " AND r.max_weight_grams >= 1200 GROUP BY c.code",
    )
    assert {q["carrier_code"]: q["price_cents"] for q in body["quotes"]} == dict(expected)
    prices = [q["price_cents"] for q in body["quotes"]]
    assert prices == sorted(prices)
    assert any(u.startswith("Colis Privé") for u in body["unavailable"])


def test_quote_rates_for_an_order_use_its_weight_destination_and_service(
    call: Any, sql: Any
) -> None:
    order_id = order_to_ship(sql, country="BE")
    quote = call("support", "quote_rates", order_id=order_id)
    assert quote.weight_grams == parcel_weight(sql, order_id)
    assert quote.country == "BE" and quote.zone == "EU"
    service = sql("SELECT shipping_service FROM orders WHERE id = :o", o=order_id)
    assert quote.quotes and {q.service for q in quote.quotes} == {service}
    world = call("viewer", "quote_rates", weight_grams=2000, country="US")
    assert world.zone == "WORLD" and [q.carrier_code for q in world.quotes] == ["fedex"]
    assert world.quotes[0].price_cents == 7900


def test_quote_rates_rejects_bad_input(call: Any) -> None:
    cases: list[tuple[dict[str, Any], type[ToolError], str]] = [
        ({}, InvalidInput, "weight_grams"),
        ({"weight_grams": 500}, InvalidInput, "country"),
        ({"order_id": 1, "weight_grams": 500}, InvalidInput, "order_id"),
        ({"weight_grams": 500, "country": "Belgium"}, InvalidInput, "country"),
        ({"weight_grams": -5, "country": "BE"}, InvalidInput, "weight_grams"),
        ({"order_id": 999999}, NotFound, "order_id"),
    ]
    for args, error, field in cases:
        with pytest.raises(error) as raised:
            call("viewer", "quote_rates", **args)
        assert raised.value.field == field, args


def test_select_carrier_scores_price_and_on_time_rate(
    api: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = order_to_ship(sql)
    response = api("viewer", "GET", f"/transport/orders/{order_id}/carrier-choice")
    assert response.status_code == 200, response.text
    choice = response.json()
    ranking = choice["ranking"]
    assert len(ranking) >= 2 and choice["chosen"] == ranking[0]
    assert [r["score"] for r in ranking] == sorted((r["score"] for r in ranking), reverse=True)
    cheapest = min(r["price_cents"] for r in ranking)
    for entry in ranking:
        assert entry["price_cents"] == sql(
            "SELECT price_cents FROM carrier_rates WHERE id = :i", i=entry["rate_id"]
        )
        assert entry["price_score"] == pytest.approx(cheapest / entry["price_cents"], abs=1e-4)
        expected = 0.5 * entry["price_score"] + 0.5 * entry["on_time_rate"]
        assert entry["score"] == pytest.approx(expected, abs=2e-4)
    assert choice["margin"] == pytest.approx(ranking[0]["score"] - ranking[1]["score"], abs=1e-4)
    assert ranking[0]["carrier_name"] in choice["explanation"]
    assert ranking[1]["carrier_name"] in choice["explanation"]
    # On-time rates are measured from the last 90 days of deliveries in the zone.
    since = utc_now() - timedelta(days=90)
    deliveries = rows(
        seeded_engine,
        "SELECT s.carrier_id, s.delivered_at, s.estimated_delivery FROM shipments s"
        " JOIN orders o ON o.id = s.order_id JOIN addresses a ON a.id = o.shipping_address_id"
        " WHERE a.country IN ('FR', 'MC') AND s.delivered_at >= :since",
        since=since,
    )
    for entry in choice["ranking"]:
        mine = [r for r in deliveries if r[0] == entry["carrier_id"]]
        if len(mine) >= 20:
            on_time = sum(moment(d).date() <= moment_date(due) for _, d, due in mine)
            assert entry["on_time_rate"] == pytest.approx(on_time / len(mine), abs=1e-4)
            assert f"{on_time} of {len(mine)}" in entry["on_time_source"]
        else:
            declared = sql(
                "SELECT on_time_rate_bp FROM carriers WHERE id = :i", i=entry["carrier_id"]
            )
            assert entry["on_time_rate"] == declared / 10000


def test_select_carrier_prefers_a_reliable_carrier_over_a_slightly_cheaper_one(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    add_carrier(call, "cheapco", 8000, 300)
    add_carrier(call, "steadyco", 9800, 320)
    order_id = order_to_ship(sql)
    choice = call("viewer", "select_carrier", order_id=order_id)
    assert [s.carrier_code for s in choice.ranking[:2]] == ["steadyco", "cheapco"]
    assert "0,20 EUR dearer" in choice.explanation and "98.0% vs 80.0%" in choice.explanation
    # A merchant who only cares about price says so in the settings.
    execute(
        seeded_engine,
        "UPDATE system_settings SET value = '1.0', updated_at = :now"
        " WHERE key = 'transport.score_price_weight'",
        now=utc_now(),
    )
    assert call("viewer", "select_carrier", order_id=order_id).chosen.carrier_code == "cheapco"


def test_select_carrier_refuses_shipped_orders_and_parcels_nobody_takes(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    shipped = sql("SELECT id FROM orders WHERE status = 'shipped' LIMIT 1")
    with pytest.raises(Conflict, match="shipped") as error:
        call("viewer", "select_carrier", order_id=shipped)
    assert error.value.field == "order_id"
    execute(seeded_engine, "UPDATE carriers SET is_active = false")
    with pytest.raises(Conflict, match="no active carrier"):
        call("viewer", "select_carrier", order_id=order_to_ship(sql))


# -- the carrier sandbox -----------------------------------------------------------------


def test_sandbox_tracking_numbers_follow_each_carriers_format() -> None:
    for code, pattern in FORMATS.items():
        number = tracking_number(code, "order:42")
        assert re.fullmatch(pattern, number), number
        assert number == tracking_number(code, "order:42")
        assert number != tracking_number(code, "order:42", attempt=1)


def test_sandbox_timelines_are_realistic_and_deterministic() -> None:
    shipped = as_utc(utc_now().replace(hour=15, minute=0))
    outcomes: dict[str, int] = {}
    for n in range(400):
        parcel = Parcel(
            tracking_number=tracking_number("colissimo", f"order:{n}"),
            carrier_code="colissimo",
            service="standard",
            transit_days=2,
            shipped_at=shipped,
            origin_city="Saint-Priest",
            destination_city="Lille",
            destination_country="FR",
        )
        scans = parcel_timeline(parcel)
        assert scans == parcel_timeline(parcel)
        times = [s.occurred_at for s in scans]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert times[0] > shipped and scans[0].description == "Picked up: Plateforme Colissimo"
        last = scans[-1]
        assert last.status in ("delivered", "returned_to_sender")
        if last.status == "delivered":
            assert last.occurred_at.date() >= add_working_days(shipped.date(), 2)
            assert last.occurred_at.weekday() != 6  # no Sunday rounds
        outcomes[last.status] = outcomes.get(last.status, 0) + 1
        if any(s.status == "exception" for s in scans):
            outcomes["exception"] = outcomes.get("exception", 0) + 1
    assert 360 <= outcomes["delivered"] < 400
    assert 0 < outcomes.get("returned_to_sender", 0) <= 15
    assert 15 <= outcomes["exception"] <= 70


# -- shipments ---------------------------------------------------------------------------


def test_create_shipment_ships_a_processing_order(api: Any, sql: Any) -> None:
    order_id = order_to_ship(sql)
    reserved = sql(
        "SELECT SUM(quantity) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
        o=order_id,
    )
    response = api("support", "POST", "/transport/shipments", json={"order_id": order_id})
    assert response.status_code == 201, response.text
    shipment = response.json()
    assert shipment["order_status"] == "shipped" and shipment["sandbox"] is True
    assert re.fullmatch(FORMATS[shipment["carrier_code"]], shipment["tracking_number"])
    assert shipment["tracking_number"] in shipment["tracking_url"]
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "shipped"
    assert sql("SELECT cost_cents FROM shipments WHERE id = :i", i=shipment["id"]) == sql(
        "SELECT MIN(price_cents) FROM carrier_rates WHERE carrier_id = :c AND zone = 'FR'"
        " AND service = 'standard' AND max_weight_grams >= :w",
        c=shipment["carrier_id"],
        w=shipment["weight_grams"],
    )
    assert shipment["weight_grams"] == parcel_weight(sql, order_id)
    assert (
        sql(
            "SELECT COUNT(*) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
            o=order_id,
        )
        == 0
    )
    assert (
        -sql(
            "SELECT SUM(quantity) FROM stock_movements WHERE reference = :r", r=f"order:{order_id}"
        )
        >= reserved
    )
    assert (
        sql("SELECT description FROM tracking_events WHERE shipment_id = :i", i=shipment["id"])
        == "Label created, parcel waiting for pick-up"
    )
    assert (
        sql(
            "SELECT COUNT(*) FROM domain_events WHERE type = 'shipment_created' AND entity_id = :i",
            i=str(shipment["id"]),
        )
        == 1
    )


def test_create_shipment_moves_a_paid_order_through_processing(call: Any, sql: Any) -> None:
    order_id = sql("SELECT id FROM orders WHERE status = 'paid' ORDER BY id LIMIT 1")
    shipment = call("manager", "create_shipment", order_id=order_id)
    history = [
        sql(
            "SELECT to_status FROM order_status_history WHERE order_id = :o"
            " ORDER BY id DESC LIMIT 1 OFFSET :n",
            o=order_id,
            n=n,
        )
        for n in (1, 0)
    ]
    assert history == ["processing", "shipped"]
    assert shipment.warehouse_id == sql("SELECT warehouse_id FROM orders WHERE id = :o", o=order_id)


def test_create_shipment_reserves_stock_the_order_lost(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = order_to_ship(sql)
    reservations = rows(
        seeded_engine,
        "SELECT variant_id, warehouse_id, quantity FROM stock_reservations"
        " WHERE order_id = :o AND status = 'active'",
        o=order_id,
    )
    with seeded_engine.begin() as connection:
        for variant_id, warehouse_id, quantity in reservations:
            connection.execute(
                sa.text(
                    "UPDATE stock_levels SET reserved = reserved - :q, on_hand = reserved - :q"
                    " WHERE variant_id = :v AND warehouse_id = :w"
                ),
                {"q": quantity, "v": variant_id, "w": warehouse_id},
            )
        connection.execute(
            sa.text("UPDATE stock_reservations SET status = 'expired' WHERE order_id = :o"),
            {"o": order_id},
        )
    with pytest.raises(Conflict) as error:  # nothing left to take once the reservation expired
        call("support", "create_shipment", order_id=order_id)
    assert error.value.code == "insufficient_stock"
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "processing"
    execute(
        seeded_engine,
        "UPDATE stock_levels SET on_hand = on_hand + 5 WHERE (variant_id, warehouse_id) IN"
        " (SELECT variant_id, warehouse_id FROM stock_reservations WHERE order_id = :o)",
        o=order_id,
    )
    call("support", "create_shipment", order_id=order_id)
    assert sql(
        "SELECT SUM(quantity) FROM stock_reservations WHERE order_id = :o AND status = 'committed'",
        o=order_id,
    ) == sum(quantity for *_, quantity in reservations)
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "shipped"


def test_create_shipment_with_a_chosen_carrier(call: Any, sql: Any) -> None:
    order_id = order_to_ship(sql, country="BE")
    with pytest.raises(Conflict, match="Colis Privé has no rate") as error:
        call("support", "create_shipment", order_id=order_id, carrier_id=4)
    assert error.value.field == "carrier_id"
    call("manager", "update_carrier", carrier_id=5, is_active=False)
    with pytest.raises(Conflict, match="out of service"):
        call("support", "create_shipment", order_id=order_id, carrier_id=5)
    shipment = call("support", "create_shipment", order_id=order_id, carrier_id=1)
    assert shipment.carrier_code == "colissimo" and shipment.cost_cents == sql(
        "SELECT MIN(price_cents) FROM carrier_rates WHERE carrier_id = 1 AND zone = 'EU'"
        " AND max_weight_grams >= :w",
        w=shipment.weight_grams,
    )
    assert "chosen by lucas.petit@maison-lumen.fr" in shipment.carrier_choice


def test_create_shipment_refuses_orders_not_ready_to_ship(call: Any, sql: Any) -> None:
    shipments = sql("SELECT COUNT(*) FROM shipments")
    for status in ("pending", "shipped", "delivered", "cancelled"):
        order_id = sql("SELECT id FROM orders WHERE status = :s ORDER BY id LIMIT 1", s=status)
        with pytest.raises(Conflict, match=f"is {status}") as error:
            call("support", "create_shipment", order_id=order_id)
        assert error.value.field == "order_id"
        assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == status
    assert sql("SELECT COUNT(*) FROM shipments") == shipments
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_create_shipment_checks_the_weighed_parcel(call: Any, sql: Any) -> None:
    order_id = order_to_ship(sql)
    expected = parcel_weight(sql, order_id)
    with pytest.raises(Conflict, match="10%") as error:
        call("support", "create_shipment", order_id=order_id, weight_grams=expected * 2)
    assert error.value.field == "weight_grams"
    with pytest.raises(InvalidInput):
        call("support", "create_shipment", order_id=order_id, weight_grams=0)
    shipment = call("support", "create_shipment", order_id=order_id, weight_grams=expected + 20)
    assert sql("SELECT weight_grams FROM shipments WHERE id = :i", i=shipment.id) == expected + 20


def test_create_shipment_refuses_an_order_held_for_fraud_review(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = order_to_ship(sql)
    execute(
        seeded_engine,
        "INSERT INTO fraud_checks (order_id, score, decision, signals, checked_by, created_at)"
        " VALUES (:o, 62, 'review', '[]', 'test', :now)",
        o=order_id,
        now=utc_now(),
    )
    with pytest.raises(Conflict, match="held by fraud check"):
        call("support", "create_shipment", order_id=order_id)
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "processing"


def test_create_shipment_rejected_by_the_carrier_writes_nothing(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = order_to_ship(sql)
    execute(
        seeded_engine,
        "UPDATE addresses SET postcode = '6900' WHERE id ="
        " (SELECT shipping_address_id FROM orders WHERE id = :o)",
        o=order_id,
    )
    active = sql(
        "SELECT COUNT(*) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
        o=order_id,
    )
    with pytest.raises(ProviderError, match="not a valid FR postcode"):
        call("support", "create_shipment", order_id=order_id)
    assert sql("SELECT COUNT(*) FROM shipments WHERE order_id = :o", o=order_id) == 0
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "processing"
    assert (
        sql(
            "SELECT COUNT(*) FROM stock_reservations WHERE order_id = :o AND status = 'active'",
            o=order_id,
        )
        == active
    )
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_viewer_cannot_create_shipments(api: Any, call: Any, sql: Any) -> None:
    order_id = order_to_ship(sql)
    response = api("viewer", "POST", "/transport/shipments", json={"order_id": order_id})
    assert response.status_code == 403
    assert set(response.json()["error"]) == {"code", "message", "field"}
    with pytest.raises(Forbidden):
        call("viewer", "track_shipment", shipment_id=1)
    bad = api("support", "POST", "/transport/shipments", json={"order_id": "abc"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "order_id"


def test_list_and_get_shipments(api: Any, sql: Any) -> None:
    response = api("viewer", "GET", "/transport/shipments", params={"status": "in_transit"})
    items = response.json()["items"]
    assert len(items) == sql("SELECT COUNT(*) FROM shipments WHERE status = 'in_transit'")
    assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)
    page = api("viewer", "GET", "/transport/shipments", params={"limit": 2, "carrier_id": 2})
    assert {i["carrier_code"] for i in page.json()["items"]} == {"chronopost"}
    assert page.json()["next_cursor"] == page.json()["items"][-1]["id"]
    shipment_id = items[0]["id"]
    detail = api("viewer", "GET", f"/transport/shipments/{shipment_id}").json()
    assert len(detail["events"]) == sql(
        "SELECT COUNT(*) FROM tracking_events WHERE shipment_id = :i", i=shipment_id
    )
    missing = api("viewer", "GET", "/transport/shipments/999999")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "shipment_id"


def test_a_parcel_is_found_by_its_tracking_number_as_typed(api: Any, sql: Any) -> None:
    number = sql("SELECT tracking_number FROM shipments WHERE carrier_id = 2 ORDER BY id LIMIT 1")
    typed = f" {number[:6].lower()} {number[6:]}"  # lower case, a space in the middle
    found = api("viewer", "GET", "/transport/shipments", params={"tracking_number": typed})
    assert [i["tracking_number"] for i in found.json()["items"]] == [number]
    none = api(
        "viewer", "GET", "/transport/shipments", params={"tracking_number": "XY0000000000FR"}
    )
    assert none.json()["items"] == []
    short = api("viewer", "GET", "/transport/shipments", params={"tracking_number": "6A"})
    assert short.status_code == 422 and short.json()["error"]["field"] == "tracking_number"


# -- tracking and delivery ---------------------------------------------------------------


def test_track_shipment_follows_the_parcel_to_delivery(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = order_to_ship(sql)
    shipment = call("support", "create_shipment", order_id=order_id)
    fresh = call("support", "track_shipment", shipment_id=shipment.id)
    assert fresh.new_events == 0 and fresh.sandbox and fresh.status == "label_created"

    age_shipment(seeded_engine, shipment.id, 0.5)
    moving = call("support", "track_shipment", shipment_id=shipment.id)
    assert moving.new_events >= 1 and moving.status == "in_transit"
    assert moving.events[1].description.startswith("Picked up")
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "shipped"

    age_shipment(seeded_engine, shipment.id, 12)
    done = call("support", "track_shipment", shipment_id=shipment.id)
    assert done.status == "delivered" and done.order_status == "delivered"
    stored = sql("SELECT COUNT(*) FROM tracking_events WHERE shipment_id = :i", i=shipment.id)
    assert len(done.events) == stored
    assert sql("SELECT status FROM shipments WHERE id = :i", i=shipment.id) == "delivered"
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "delivered"
    delivered_at = as_utc(done.events[-1].occurred_at)
    assert done.delivered_at == delivered_at
    assert moment(sql("SELECT delivered_at FROM orders WHERE id = :o", o=order_id)).replace(
        microsecond=0
    ) == delivered_at.replace(microsecond=0)
    for event in ("shipment_tracking_updated", "shipment_delivered"):
        assert (
            sql(
                "SELECT COUNT(*) FROM domain_events WHERE type = :t AND entity_id = :i",
                t=event,
                i=str(shipment.id),
            )
            >= 1
        )
    again = call("support", "track_shipment", shipment_id=shipment.id)
    assert again.new_events == 0 and "closed" in again.message


def test_track_shipment_tells_the_sandbox_story_of_the_parcel(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = order_to_ship(sql, country="BE")
    shipment = call("support", "create_shipment", order_id=order_id)
    age_shipment(seeded_engine, shipment.id, 4)
    tracked = call("support", "track_shipment", shipment_id=shipment.id)
    shipped_at = moment(sql("SELECT shipped_at FROM shipments WHERE id = :i", i=shipment.id))
    expected = [
        scan
        for scan in parcel_timeline(
            Parcel(
                tracking_number=shipment.tracking_number,
                carrier_code=shipment.carrier_code,
                service="standard",
                transit_days=sql(
                    "SELECT transit_days FROM carrier_rates WHERE carrier_id = :c AND zone = 'EU'"
                    " AND service = 'standard' AND max_weight_grams >= :w"
                    " ORDER BY max_weight_grams LIMIT 1",
                    c=shipment.carrier_id,
                    w=shipment.weight_grams,
                ),
                shipped_at=shipped_at,
                origin_city="Saint-Priest",
                destination_city="Bruxelles",
                destination_country="BE",
            )
        )
        if scan.occurred_at <= utc_now()
    ]
    assert [e.description for e in tracked.events[1:]] == [s.description for s in expected]
    assert "Left France, in transit to BE" in [e.description for e in tracked.events]
    assert tracked.status == expected[-1].status


def test_mark_delivered_confirms_a_delivery_by_hand(
    api: Any, call: Any, sql: Any, seeded_engine: Engine
) -> None:
    order_id = order_to_ship(sql)
    shipment = call("support", "create_shipment", order_id=order_id)
    age_shipment(seeded_engine, shipment.id, 2)
    too_early = (utc_now() - timedelta(days=3)).isoformat()
    response = api(
        "support",
        "POST",
        f"/transport/shipments/{shipment.id}/delivered",
        json={"delivered_at": too_early},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "delivered_at"
    future = (utc_now() + timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput, match="future"):
        call("support", "mark_delivered", shipment_id=shipment.id, delivered_at=future)
    done = call("support", "mark_delivered", shipment_id=shipment.id, note="signed POD")
    assert done.status == "delivered"
    assert done.events[-1].description == (
        "Delivered (confirmed by lucas.petit@maison-lumen.fr: signed POD)"
    )
    assert sql("SELECT status FROM orders WHERE id = :o", o=order_id) == "delivered"
    assert (
        sql(
            "SELECT to_status FROM order_status_history WHERE order_id = :o"
            " ORDER BY id DESC LIMIT 1",
            o=order_id,
        )
        == "delivered"
    )
    with pytest.raises(Conflict, match="already delivered"):
        call("support", "mark_delivered", shipment_id=shipment.id)
    with pytest.raises(Forbidden):
        call("viewer", "mark_delivered", shipment_id=shipment.id)


def test_estimated_delivery_skips_sundays() -> None:
    saturday = date(2026, 11, 28)
    assert add_working_days(saturday, 1) == date(2026, 11, 30)
    assert add_working_days(date(2026, 11, 25), 3) == saturday
