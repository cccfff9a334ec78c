"""Products tools: catalogue CRUD with variants, the ranked search (not shadowed by
/products/{id}), categories, audited price changes, delete-or-archive, analytics from rows."""

import json
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import tools.products  # noqa: F401  (registers the products tools for `call`)
from db.base import utc_now
from tools.base import Conflict, Forbidden, InvalidInput, NotFound

NEW: dict[str, Any] = {
    "name": "Nomad ANC Headphones",
    "brand": "Nomad",
    "category_id": 4,
    "description": "Over-ear headphones with active noise cancelling and 40 h battery.",
    "variants": [
        {
            "sku": "NOM-ANC-BLK",
            "ean": "3760000009997",
            "attributes": "Black",
            "price_cents": 19900,
            "cost_cents": 9000,
            "weight_grams": 310,
        },
        {
            "sku": "NOM-ANC-WHT",
            "attributes": "White",
            "price_cents": 19900,
            "cost_cents": 9000,
            "weight_grams": 310,
        },
    ],
}


def as_json(value: Any) -> Any:
    """A JSON column as read back: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def variant(**change: Any) -> dict[str, Any]:
    return {**NEW["variants"][0], **change}


def test_create_product_with_variants_records_audit_and_event(api: Any, sql: Any) -> None:
    response = api("manager", "POST", "/products", json=NEW)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["slug"] == "nomad-anc-headphones" and created["warranty_months"] == 24
    assert [v["sku"] for v in created["variants"]] == ["NOM-ANC-BLK", "NOM-ANC-WHT"]
    assert created["variants"][0]["name"] == "Nomad ANC Headphones Black"
    assert sql("SELECT COUNT(*) FROM product_variants WHERE product_id = :p", p=created["id"]) == 2
    assert sql(
        "SELECT actor FROM audit_log WHERE action = 'create_product' AND entity_id = :p",
        p=str(created["id"]),
    ) == ("thomas.bernard@maison-lumen.fr")
    assert sql("SELECT type FROM domain_events WHERE entity_type = 'product'") == "product_created"


def test_create_product_refurbished_needs_grades(call: Any, sql: Any) -> None:
    refurbished = {**NEW, "condition": "refurbished", "variants": [variant()]}
    with pytest.raises(InvalidInput, match="grade") as error:
        call("manager", "create_product", **refurbished)
    assert error.value.field == "variants.0.grade"
    graded = call("manager", "create_product", **{**refurbished, "variants": [variant(grade="B")]})
    assert graded.warranty_months == 12 and graded.variants[0].grade == "B"
    with pytest.raises(InvalidInput, match="no grade"):
        call(
            "manager", "create_product", **{**NEW, "slug": "x-y", "variants": [variant(grade="A")]}
        )


def test_create_product_rejects_used_sku_ean_and_slug(call: Any, sql: Any) -> None:
    used_sku = sql("SELECT sku FROM product_variants WHERE id = 1")
    used_ean = sql("SELECT ean FROM product_variants WHERE id = 2")
    with pytest.raises(Conflict, match=used_sku):
        call("manager", "create_product", **{**NEW, "variants": [variant(sku=used_sku)]})
    with pytest.raises(Conflict, match=f"EAN {used_ean}"):
        call("manager", "create_product", **{**NEW, "variants": [variant(ean=used_ean)]})
    with pytest.raises(Conflict, match="slug") as error:
        call("manager", "create_product", **{**NEW, "slug": "apple-iphone-15"})
    assert error.value.field == "slug"
    assert sql("SELECT COUNT(*) FROM products") == 51
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"variants": []}, "variants"),
    ({"variants": [variant(ean="3760000009998")]}, "variants.0.ean"),
    ({"variants": [variant(), variant(ean=None)]}, "variants.1.sku"),
    ({"variants": [variant(sku="nom anc")]}, "variants.0.sku"),
    ({"variants": [variant(price_cents=-5)]}, "variants.0.price_cents"),
    ({"variants": [variant(weight_grams=0)]}, "variants.0.weight_grams"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"status": "archived"}, "status"),
    ({"unexpected": 1}, "unexpected"),
]


def test_create_product_rejects_bad_input(call: Any, sql: Any) -> None:
    for change, field in BAD_INPUT:
        with pytest.raises(InvalidInput) as error:
            call("manager", "create_product", **{**NEW, **change})
        assert error.value.field == field, (change, error.value.message)
    assert sql("SELECT COUNT(*) FROM products") == 51


def test_create_product_bad_input_over_rest_is_a_422_with_the_field(api: Any) -> None:
    response = api("manager", "POST", "/products", json={**NEW, "variants": [variant(ean="123")]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == "variants.0.ean"
    assert error["message"]


def test_create_product_refuses_price_far_below_cost_and_unknown_category(call: Any) -> None:
    with pytest.raises(Conflict, match="more than 50% below its cost") as error:
        call("manager", "create_product", **{**NEW, "variants": [variant(price_cents=4499)]})
    assert error.value.code == "price_below_cost"
    with pytest.raises(NotFound, match="category 99 does not exist"):
        call("manager", "create_product", **{**NEW, "category_id": 99})


def test_support_and_viewer_cannot_write_products(api: Any, call: Any) -> None:
    response = api("support", "POST", "/products", json=NEW)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert api("viewer", "PATCH", "/products/1", json={"name": "Xy"}).status_code == 403
    assert api("support", "DELETE", "/products/1").status_code == 403
    with pytest.raises(Forbidden, match="viewer"):
        call("viewer", "update_variant_price", variant_id=1, price_cents=30000)
    with pytest.raises(Forbidden):
        call("viewer", "create_category", name="Drones")


def test_get_product_with_variants(api: Any, sql: Any) -> None:
    response = api("viewer", "GET", "/products/3")
    assert response.status_code == 200
    product = response.json()
    assert product["category"] == "Smartphones"
    assert len(product["variants"]) == sql(
        "SELECT COUNT(*) FROM product_variants WHERE product_id = 3"
    )
    assert product["variants"][0]["sku"] == sql(
        "SELECT sku FROM product_variants WHERE product_id = 3 ORDER BY id LIMIT 1"
    )
    missing = api("viewer", "GET", "/products/999")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "product 999 does not exist",
        "field": "product_id",
    }


def test_search_products_route_is_not_shadowed_and_ranks_exact_sku_first(
    api: Any, sql: Any
) -> None:
    sku = sql("SELECT sku FROM product_variants WHERE product_id = 2 ORDER BY id LIMIT 1")
    response = api("viewer", "GET", "/products/search", params={"query": sku.lower()})
    assert response.status_code == 200, response.text
    first = response.json()["items"][0]
    assert first["id"] == 2 and first["match"] == "exact_code" and first["matched_sku"] == sku
    ean = sql("SELECT ean FROM product_variants WHERE id = 100")
    by_ean = api("viewer", "GET", "/products/search", params={"query": ean}).json()["items"]
    assert [hit["id"] for hit in by_ean] == [
        sql("SELECT product_id FROM product_variants WHERE id = 100")
    ]


def test_search_products_by_name_and_description_words(call: Any, sql: Any) -> None:
    hits = call("viewer", "search_products", query="IPHONE 13").items
    assert hits[0].name == "Apple iPhone 13 (refurbished)" and hits[0].match == "name"
    expected = sql(
        "SELECT COUNT(*) FROM products WHERE LOWER(name) LIKE '%iphone 13%'"
        " OR LOWER(description) LIKE '%iphone 13%'"
    )
    assert len(hits) >= expected
    words = call("viewer", "search_products", query="crash detection").items
    assert words and all(hit.match == "description" for hit in words)
    assert 2 in {hit.id for hit in words}
    assert len(words) == sql(
        "SELECT COUNT(*) FROM products WHERE LOWER(description) LIKE '%crash%'"
        " AND LOWER(description) LIKE '%detection%'"
    )
    assert call("viewer", "search_products", query="zzqx").items == []
    with pytest.raises(InvalidInput):
        call("viewer", "search_products", query="a")


def test_search_products_pages_with_a_cursor(call: Any, sql: Any) -> None:
    total = sql("SELECT COUNT(*) FROM products WHERE LOWER(name) LIKE '%apple%'")
    first = call("viewer", "search_products", query="apple", limit=3)
    assert len(first.items) == 3 and first.next_cursor == 3
    rest = call("viewer", "search_products", query="apple", limit=200, cursor=3)
    ids = [hit.id for hit in first.items + rest.items]
    assert len(ids) == len(set(ids)) == total and rest.next_cursor is None


def test_list_products_filters_and_pages(call: Any, sql: Any) -> None:
    page = call("viewer", "list_products", brand="APPLE", limit=5)
    assert len(page.items) == 5 and all(p.brand == "Apple" for p in page.items)
    rest = call("viewer", "list_products", brand="apple", cursor=page.next_cursor)
    assert len(page.items) + len(rest.items) == sql(
        "SELECT COUNT(*) FROM products WHERE brand = 'Apple'"
    )
    refurbished = call(
        "viewer", "list_products", category_id=1, condition="refurbished", limit=200
    ).items
    assert len(refurbished) == sql(
        "SELECT COUNT(*) FROM products WHERE category_id = 1 AND condition = 'refurbished'"
    )
    assert refurbished[0].min_price_cents == sql(
        "SELECT MIN(price_cents) FROM product_variants WHERE product_id = :p",
        p=refurbished[0].id,
    )
    with pytest.raises(InvalidInput) as error:
        call("viewer", "list_products", status="sold")
    assert error.value.field == "status"


def test_update_product_changes_fields_and_records_event(call: Any, sql: Any) -> None:
    updated = call("manager", "update_product", product_id=5, name="Renamed phone", category_id=8)
    assert updated.name == "Renamed phone" and updated.category == "Accessories"
    assert sql("SELECT category_id FROM products WHERE id = 5") == 8
    assert sql("SELECT type FROM domain_events WHERE entity_id = '5'") == "product_updated"
    with pytest.raises(InvalidInput, match="nothing to change"):
        call("manager", "update_product", product_id=5, name="Renamed phone")
    with pytest.raises(NotFound, match="category 42"):
        call("manager", "update_product", product_id=5, category_id=42)


def test_update_product_refuses_to_sell_one_without_active_variants(
    call: Any, sql: Any, seeded_engine: Engine
) -> None:
    archived = call("manager", "update_product", product_id=6, status="archived")
    assert archived.status == "archived"
    with seeded_engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE product_variants SET is_active = :off WHERE product_id = 6"),
            {"off": False},
        )
    with pytest.raises(Conflict, match="no active variant") as error:
        call("manager", "update_product", product_id=6, status="active")
    assert error.value.field == "status"
    assert sql("SELECT status FROM products WHERE id = 6") == "archived"


def test_update_variant_price_records_old_and_new(call: Any, sql: Any) -> None:
    old = sql("SELECT price_cents FROM product_variants WHERE id = 7")
    change = call(
        "manager",
        "update_variant_price",
        variant_id=7,
        price_cents=old - 1000,
        reason="supplier price drop",
    )
    assert change.old_price_cents == old and change.new_price_cents == old - 1000
    assert change.changed
    assert sql("SELECT price_cents FROM product_variants WHERE id = 7") == old - 1000
    assert sql("SELECT type FROM domain_events WHERE entity_id = '7'") == "price_changed"
    before = as_json(sql("SELECT before FROM audit_log WHERE action = 'update_variant_price'"))
    after = as_json(sql("SELECT after FROM audit_log WHERE action = 'update_variant_price'"))
    assert before == {"price_cents": old}
    assert after == {"price_cents": old - 1000, "reason": "supplier price drop"}
    same = call("manager", "update_variant_price", variant_id=7, price_cents=old - 1000)
    assert same.changed is False
    assert sql("SELECT COUNT(*) FROM audit_log WHERE action = 'update_variant_price'") == 1


def test_update_variant_price_refuses_negative_or_far_below_cost(api: Any, sql: Any) -> None:
    cost = sql("SELECT cost_cents FROM product_variants WHERE id = 7")
    below = api(
        "manager", "PATCH", "/products/variants/7/price", json={"price_cents": cost // 2 - 1}
    )
    assert below.status_code == 409
    assert below.json()["error"]["code"] == "price_below_cost"
    assert below.json()["error"]["field"] == "price_cents"
    negative = api("admin", "PATCH", "/products/variants/7/price", json={"price_cents": -100})
    assert negative.status_code == 422 and "negative" in negative.json()["error"]["message"]
    assert (
        api("support", "PATCH", "/products/variants/7/price", json={"price_cents": 1}).status_code
        == 403
    )
    assert (
        api(
            "manager", "PATCH", "/products/variants/9999/price", json={"price_cents": 1}
        ).status_code
        == 404
    )
    assert sql("SELECT COUNT(*) FROM domain_events") == 0


def test_delete_product_archives_one_that_was_ordered(call: Any, sql: Any) -> None:
    assert sql(
        "SELECT COUNT(*) FROM order_lines l JOIN product_variants v ON v.id = l.variant_id"
        " WHERE v.product_id = 3"
    )
    result = call("admin", "delete_product", product_id=3)
    assert result.outcome == "archived" and "ordered" in result.message
    assert sql("SELECT status FROM products WHERE id = 3") == "archived"
    assert sql("SELECT type FROM domain_events WHERE entity_id = '3'") == "product_archived"
    with pytest.raises(Conflict, match="already archived"):
        call("admin", "delete_product", product_id=3)


def test_delete_product_deletes_one_never_used(call: Any, sql: Any) -> None:
    created = call("manager", "create_product", **NEW)
    result = call("manager", "delete_product", product_id=created.id)
    assert result.outcome == "deleted"
    assert sql("SELECT COUNT(*) FROM products WHERE id = :p", p=created.id) == 0
    assert sql("SELECT COUNT(*) FROM product_variants WHERE sku LIKE 'NOM-%'") == 0
    assert sql("SELECT type FROM domain_events ORDER BY id DESC LIMIT 1") == "product_deleted"
    with pytest.raises(NotFound):
        call("viewer", "get_product", product_id=created.id)


def test_list_categories_counts_products_and_create_category(call: Any, sql: Any) -> None:
    page = call("viewer", "list_categories")
    assert [c.slug for c in page.items][:2] == ["smartphones", "laptops"]
    assert page.items[0].products == sql("SELECT COUNT(*) FROM products WHERE category_id = 1")
    created = call("manager", "create_category", name="Drones", parent_id=7)
    assert created.slug == "drones" and created.products == 0 and created.parent_id == 7
    assert sql("SELECT type FROM domain_events") == "category_created"
    with pytest.raises(Conflict) as clash:
        call("manager", "create_category", name="smartphones")
    assert clash.value.field == "name"
    with pytest.raises(Conflict) as clash:
        call("manager", "create_category", name="Phones", slug="smartphones")
    assert clash.value.field == "slug"
    with pytest.raises(NotFound, match="category 99"):
        call("manager", "create_category", name="Kites", parent_id=99)
    assert sql("SELECT COUNT(*) FROM categories") == 9


def test_product_analytics_from_orders_and_returns(api: Any, sql: Any) -> None:
    response = api(
        "viewer", "GET", "/products/analytics", params={"start": "2026-10-01", "end": "2026-10-31"}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    sold = (
        " FROM order_lines l JOIN orders o ON o.id = l.order_id"
        " JOIN product_variants v ON v.id = l.variant_id"
        " WHERE o.placed_at >= '2026-10-01' AND o.placed_at < '2026-11-01'"
        " AND o.status NOT IN ('pending', 'cancelled')"
    )
    assert report["units_sold"] == sql("SELECT SUM(l.quantity)" + sold)
    assert report["revenue_cents"] == sql("SELECT SUM(l.total_cents)" + sold)
    top = report["best_sellers_by_units"][0]
    assert top["units_sold"] == sql(
        "SELECT MAX(units) FROM (SELECT SUM(l.quantity) AS units"
        + sold
        + " GROUP BY v.product_id) t"
    )
    assert top["margin_cents"] == top["net_revenue_cents"] - sql(
        "SELECT SUM(l.quantity * v.cost_cents)" + sold + " AND v.product_id = :p",
        p=top["product_id"],
    )
    returned = sql(
        "SELECT COALESCE(SUM(r.quantity), 0) FROM return_lines r"
        " JOIN return_requests q ON q.id = r.return_id JOIN order_lines l ON l.id = r.order_line_id"
        " JOIN orders o ON o.id = l.order_id JOIN product_variants v ON v.id = l.variant_id"
        " WHERE o.placed_at >= '2026-10-01' AND o.placed_at < '2026-11-01'"
        " AND o.status NOT IN ('pending', 'cancelled') AND q.status <> 'rejected'"
    )
    assert report["units_returned"] == returned > 0
    assert report["returns_rate"] == round(returned / report["units_sold"], 4)
    revenue = [p["revenue_cents"] for p in report["best_sellers_by_revenue"]]
    assert revenue == sorted(revenue, reverse=True)
    audio = api(
        "viewer",
        "GET",
        "/products/analytics",
        params={"start": "2026-10-01", "end": "2026-10-31", "category_id": 4},
    ).json()
    assert audio["units_sold"] == sql(
        "SELECT SUM(l.quantity)" + sold + " AND v.product_id IN"
        " (SELECT id FROM products WHERE category_id = 4)"
    )
    bad = api(
        "viewer", "GET", "/products/analytics", params={"start": "2026-10-31", "end": "2026-10-01"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "start"
    unknown = api("viewer", "GET", "/products/analytics", params={"category_id": 999})
    assert unknown.status_code == 404 and "category" in unknown.json()["error"]["message"]


def test_product_inventory_analytics_per_warehouse(call: Any, sql: Any) -> None:
    since = (utc_now() - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    report = call("viewer", "product_inventory_analytics", product_id=1).model_dump()
    assert report["on_hand"] == sql(
        "SELECT SUM(s.on_hand) FROM stock_levels s JOIN product_variants v ON v.id = s.variant_id"
        " WHERE v.product_id = 1"
    )
    lys = next(w for w in report["warehouses"] if w["code"] == "LYS")
    assert lys["on_hand"] == sql(
        "SELECT SUM(s.on_hand) FROM stock_levels s JOIN product_variants v ON v.id = s.variant_id"
        " WHERE v.product_id = 1 AND s.warehouse_id = 1"
    )
    sold = sql(
        "SELECT SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id"
        " JOIN product_variants v ON v.id = l.variant_id WHERE v.product_id = 1"
        " AND o.placed_at >= :since AND o.status NOT IN ('pending', 'cancelled')",
        since=since,
    )
    assert report["units_sold_30d"] == sold > 0
    assert report["days_of_cover"] == round(report["available"] / (sold / 30), 1)
    assert sum(v["on_hand"] for v in report["variants"]) == report["on_hand"]
    with pytest.raises(NotFound):
        call("viewer", "product_inventory_analytics", product_id=999)
