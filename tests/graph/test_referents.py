"""What a turn worked on is kept with its answer, and a later message can point back at it."""

from graph.referents import calls_of, pointed_at, referents

ALERTS = {
    "items": [
        {
            "id": 11,
            "title": "Critical stock: SPI-ULTRAHYBRIDCAS-CLEA at PAR",
            "severity": "critical",
        },
        {
            "id": 13,
            "title": "Critical stock: SAM-45WSUPERFASTCH-BLAC at LYS",
            "severity": "critical",
        },
    ]
}
TRACE = [
    {"tool": "list_system_alerts", "args": {"status": "open"}, "status": "ok", "result": ALERTS},
    {"tool": "get_order", "args": {"order_id": 9}, "status": "error", "result": {"code": "x"}},
]


def test_records_keep_ids_and_short_texts_of_successful_calls_only() -> None:
    records = referents(TRACE)

    assert records[0] == {"tool": "list_system_alerts", "part": "args", "text": "open"}
    assert [r["id"] for r in records[1:]] == [11, 13]
    assert "SAM-45WSUPERFASTCH-BLAC" in records[2]["text"]
    assert all(r["tool"] != "get_order" for r in records)


def test_a_record_is_found_by_the_words_naming_it() -> None:
    records = referents(TRACE)

    assert pointed_at(records, "alert_id", "the samsung 45W charger one is fixed") == 13
    assert pointed_at(records, "alert_id", "the spigen case one is fixed") == 11


def test_it_points_at_the_first_record_only_when_no_words_tell_them_apart() -> None:
    records = referents(TRACE)

    assert pointed_at(records, "alert_id", "resolve it") == 11
    assert pointed_at(records, "alert_id", "resolve both") is None


def test_what_the_last_call_was_given_comes_before_what_it_found() -> None:
    graphite, pale = "LOG-MXMASTER3S-GRAP", "LOG-MXMASTER3S-PALE"
    variants = [{"id": 314, "sku": graphite}, {"id": 315, "sku": pale}]
    stock = [{"sku": pale, "warehouse_id": 3, "stock_level_id": 7}]
    trace = [
        {"tool": "get_product", "args": {"product_id": 50}, "status": "ok",
         "result": {"id": 50, "variants": variants}},
        {"tool": "get_stock", "args": {"sku": pale, "warehouse_id": 3}, "status": "ok",
         "result": {"items": stock}},
    ]  # fmt: skip
    records = referents(trace)

    assert pointed_at(records, "sku", "reserve 2 of them") == pale
    assert pointed_at(records, "warehouse_id", "reserve 2 of them") == 3
    assert pointed_at(records, "stock_level_id", "set its reorder point") == 7
    assert pointed_at(records, "variant_id", "the graphite one") == 314


def test_a_result_record_names_the_ids_it_holds() -> None:
    trace = [
        {"tool": "check_order_fraud", "args": {"order_id": 3993}, "status": "ok",
         "result": {"id": 1811, "order_id": 3993, "customer_id": 505, "decision": "allow"}},
    ]  # fmt: skip

    assert pointed_at(referents(trace), "customer_id", "and the customer behind it?") == 505
    assert pointed_at(referents(trace), "return_id", "refund it") is None


def test_calls_are_rebuilt_from_the_records() -> None:
    [(tool, args, found)] = calls_of(referents(TRACE))

    assert (tool, args) == ("list_system_alerts", {"text": "open"})
    assert [record["id"] for record in found] == [11, 13]


def test_a_setting_read_last_turn_is_the_one_changed_next() -> None:
    trace = [
        {"tool": "get_config", "args": {"key": "fraud.review_threshold"}, "status": "ok",
         "result": {"key": "fraud.review_threshold", "value": 50}},
    ]  # fmt: skip

    assert pointed_at(referents(trace), "key", "lower it to 45") == "fraud.review_threshold"


def test_an_order_just_created_is_pointed_at_by_its_own_id_not_its_lines() -> None:
    trace = [
        {"tool": "create_order", "args": {"customer_id": 13}, "status": "ok",
         "result": {"id": 4000, "customer_id": 13, "lines": [{"id": 5532, "sku": "ANK-NANO"}]}},
    ]  # fmt: skip

    assert pointed_at(referents(trace), "order_id", "she pays by card now") == 4000
