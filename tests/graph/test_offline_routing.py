"""The offline planner routes requests in plain language to the right agents and tools."""

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from graph.assistant import Assistant
from graph.planner.choose import rank_agents
from graph.planner.planner import intents
from graph.results import TurnResult
from tests.tools.conftest import actor
from tools.base import REGISTRY, run_tool


def proposed(result: TurnResult, tool: str) -> dict[str, Any]:
    """The arguments of the call the turn asks approval for, after checking it is `tool`."""
    assert result.pending_approval is not None, result.answer
    assert result.pending_approval.tool == tool
    return result.pending_approval.args


ONE_PER_AGENT = [
    ("is comptoir healthy? any system alerts?", "monitoring"),
    ("show me order 12", "orders"),
    ("search the catalogue for iphone", "products"),
    ("any unread buyer messages on our marketplaces?", "marketplace"),
    ("loyalty points of Chloé Fontaine", "customers"),
    ("which SKUs will run out in Lyon this week?", "inventory"),
    ("track shipment 5", "transport"),
    ("list the payments of order 12", "payments"),
    ("how full is the Paris warehouse?", "warehouse"),
    ("generate the invoice for order 77", "documents"),
    ("fraud score of order 881", "fraud"),
    ("any anomalies in cancellations this week?", "risk"),
    ("what's our policy on opened items?", "knowledge"),
    ("show me the return requests of order 30", "after_sales"),
    ("sales report for last month", "backoffice"),
    ("list the quality inspections", "quality"),
]


@pytest.mark.parametrize(
    ("request_text", "agent"), ONE_PER_AGENT, ids=[a for _, a in ONE_PER_AGENT]
)
def test_route_a_request_to_its_agent(assistant: Assistant, request_text: str, agent: str) -> None:
    result = assistant.ask(actor("manager"), request_text)

    assert result.agents == [agent]
    assert result.tool_calls, result.answer
    assert result.tool_calls[-1].agent == agent
    assert result.tool_calls[-1].status == "ok"
    # routing (unless the fast router was sure) + one call per tool + the answer
    assert result.model_calls <= len(result.tool_calls) + 2


def test_route_a_two_intent_request_to_two_agents(assistant: Assistant) -> None:
    result = assistant.ask(
        actor("manager"), "track shipment 5 and generate the invoice for order 77"
    )

    assert set(result.agents) == {"transport", "documents"}
    assert {(c.agent, c.tool) for c in result.tool_calls} == {
        ("transport", "track_shipment"),
        ("documents", "generate_invoice"),
    }
    assert "**transport**" in result.answer and "**documents**" in result.answer


def test_answer_small_talk_without_any_agent(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "hello, how are you?")

    assert result.agents == []
    assert result.tool_calls == []
    assert "can't help" in result.answer


def test_a_thank_you_is_answered_in_kind(assistant: Assistant) -> None:
    result = assistant.ask(
        actor("support"), "that's all for today, thanks for the help with the returns! bye"
    )

    assert result.agents == [] and result.tool_calls == []
    assert result.answer.startswith("You're welcome")


def test_resolve_a_customer_named_in_words(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "loyalty points of Chloé Fontaine")

    assert [c.tool for c in result.tool_calls] == ["list_customers", "get_loyalty"]
    assert result.tool_calls[1].args == {"customer_id": 4}
    assert "balance" in result.answer


def test_a_name_typed_in_lower_case_is_still_a_name(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "how many points has chloe fontaine got? pls")

    assert [c.tool for c in result.tool_calls] == ["list_customers", "get_loyalty"]
    assert result.tool_calls[1].args == {"customer_id": 4}


def test_a_contact_detail_asked_is_read_from_the_profile(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "what's chloé fontaine's email?")

    assert [c.tool for c in result.tool_calls] == ["list_customers", "get_customer"]


def test_a_long_why_is_cut_to_what_the_reason_holds(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    processing = run_tool(seeded_engine, actor("admin"), "list_orders", {"status": "processing"})
    why = "she found out her company is giving her a phone " * 6

    result = assistant.ask(
        actor("admin"), f"cancel order {processing.items[0].id} please, because {why}"
    )

    reason = proposed(result, "cancel_order")["reason"]
    assert 100 < len(reason) <= 200 and why.startswith(reason)


def test_capitalise_only_the_names_of_people_the_shop_knows() -> None:
    from graph.planner.extract import capitalise_people

    firsts, lasts = frozenset({"jules", "rose", "lea"}), frozenset({"guillot", "petit"})
    assert capitalise_people("cancel jules guillot's order", firsts, lasts) == (
        "cancel Jules Guillot's order"
    )
    assert capitalise_people("a rose petit case for léa petit", firsts, lasts) == (
        "a Rose Petit case for Léa Petit"
    )  # both words must be known names: the shop's customers decide
    assert capitalise_people("jules the guillot, rose red", firsts, lasts) == (
        "jules the guillot, rose red"
    )


def test_ask_for_what_is_missing(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "cancel the order please")

    assert result.agents == ["orders"]
    assert result.tool_calls == []
    assert result.pending_approval is None
    assert "order" in result.answer and "?" in result.answer


def test_fast_router_skips_the_supervisor_call(assistant: Assistant) -> None:
    result = assistant.ask(actor("support"), "track shipment 5")

    assert result.routing is not None and result.routing.method == "router"
    assert result.model_calls == 2  # decide the tool, phrase the answer


def test_a_question_left_open_takes_its_answer(assistant: Assistant) -> None:
    first = assistant.ask(actor("manager"), "I need to cancel an order")
    assert first.tool_calls == [] and "?" in first.answer

    second = assistant.ask(actor("manager"), "it's 3988, found it cheaper", first.thread_id)

    assert second.routing is not None and second.routing.method == "followup"
    assert second.pending_approval is not None
    assert second.pending_approval.args["order_id"] == 3988


def test_a_new_request_after_an_open_question_is_routed_on_its_own(
    assistant: Assistant,
) -> None:
    first = assistant.ask(actor("manager"), "move some stock between warehouses")
    assert first.pending_approval is None and first.answer.rstrip().endswith("?")

    second = assistant.ask(
        actor("manager"), "cancel order 3999, the customer changed their mind", first.thread_id
    )

    assert second.routing is not None and second.routing.method != "followup"
    assert second.agents == ["orders"]
    assert second.pending_approval is not None
    assert second.pending_approval.tool == "cancel_order"


def test_a_message_about_what_the_last_turn_showed_acts_on_it(assistant: Assistant) -> None:
    listed = assistant.ask(actor("manager"), "list the open critical alerts")
    [listing] = [call for call in listed.tool_calls if call.tool == "list_system_alerts"]
    alerts = {item["id"]: item["title"] for item in listing.result["items"]}
    assert len(alerts) > 1
    [chosen] = [i for i, title in alerts.items() if "SAM-45WSUPERFASTCH" in title]

    resolved = assistant.ask(
        actor("manager"), "the samsung 45W charger one is fixed, resolve it", listed.thread_id
    )

    assert resolved.agents == ["monitoring"]
    # the alert was found from the merchant's own words, so no approval is asked
    assert resolved.pending_approval is None
    assert [(c.tool, c.args) for c in resolved.tool_calls] == [
        ("resolve_system_alert", {"alert_id": chosen})
    ]
    assert resolved.tool_calls[0].status == "ok"


def test_a_warehouse_opened_during_the_session_is_a_place_at_once(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    asked = "how did Herblain perform last month?"
    assert assistant.ask(actor("manager"), asked).agents == []  # no site of ours yet
    run_tool(seeded_engine, actor("admin"), "create_warehouse", {
        "code": "NTE", "name": "Nantes Herblain", "address_line": "10 quai de la Fosse",
        "postcode": "44000", "city": "Nantes", "capacity_locations": 2000,
    })  # fmt: skip

    assert assistant.ask(actor("manager"), asked).agents == ["warehouse"]


def test_each_tool_a_request_names_is_done_in_turn(assistant: Assistant) -> None:
    result = assistant.ask(actor("manager"), "print the invoice and the packing slip for order 77")

    assert result.agents == ["documents"]
    assert [(c.tool, c.args, c.status) for c in result.tool_calls] == [
        ("generate_invoice", {"order_id": 77}, "ok"),
        ("generate_packing_slip", {"order_id": 77}, "ok"),
    ]
    assert "generate invoice" in result.answer and "generate packing slip" in result.answer


def test_a_question_naming_no_action_of_the_agent_reads(assistant: Assistant) -> None:
    result = assistant.ask(actor("admin"), "what does the fraud score article say?")

    assert result.agents == ["knowledge"]
    assert result.pending_approval is None
    assert [c.tool for c in result.tool_calls] == ["search_articles"]


def test_a_staff_member_named_by_first_name_has_their_key_found(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    staff = run_tool(seeded_engine, actor("admin"), "list_staff_users", {})
    [mehdi] = [user for user in staff.items if user.full_name.startswith("Mehdi ")]
    [key] = run_tool(seeded_engine, actor("admin"), "list_api_keys", {"user_id": mehdi.id}).items

    result = assistant.ask(actor("admin"), "revoke Mehdi's api key, his laptop was stolen")

    assert proposed(result, "revoke_api_key")["key_id"] == key.id


def test_a_bare_number_without_a_payment_named_is_the_order_to_refund(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    delivered = run_tool(seeded_engine, actor("admin"), "list_orders", {"status": "delivered"})
    order_id = delivered.items[0].id
    payments = run_tool(
        seeded_engine, actor("admin"), "list_order_payments", {"order_id": order_id}
    )
    [paid] = [p for p in payments.items if p.captured_cents > p.refunded_cents]
    assert paid.id != order_id

    result = assistant.ask(actor("admin"), f"the customer wants her money back for {order_id}")

    assert proposed(result, "refund_payment")["payment_id"] == paid.id


def test_a_delivery_received_is_booked_in_with_its_purchase_order(assistant: Assistant) -> None:
    result = assistant.ask(
        actor("manager"), "we just received 20 white Belkin USB-C cables at Lyon, PO-7781"
    )

    args = proposed(result, "record_movement")
    assert (args["kind"], args["quantity"], args["reference"]) == ("inbound", 20, "PO-7781")
    assert args["sku"].startswith("BEL-")  # the cables named in words, not the PO as a SKU


def test_refunding_one_item_of_an_order_refunds_what_that_line_cost(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    admin = actor("admin")
    delivered = run_tool(seeded_engine, admin, "list_orders", {"status": "delivered", "limit": 50})
    orders = [
        run_tool(seeded_engine, admin, "get_order", {"order_id": o.id}) for o in delivered.items
    ]

    def model(line: Any) -> str:  # "JBL Flip 6": a product as merchants name it
        return " ".join(line.name.split()[:3])

    order, line = next(
        (o, line)
        for o in orders
        if len({other.name.split()[0] for other in o.lines}) > 1
        for line in o.lines
        if any(c.isdigit() for c in model(line))
    )

    result = assistant.ask(
        admin, f"refund the {model(line)} from order {order.id}, it arrived broken"
    )

    assert proposed(result, "refund_payment")["amount_cents"] == line.total_cents


def test_an_action_the_merchant_rules_out_is_never_taken(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    processing = run_tool(seeded_engine, actor("admin"), "list_orders", {"status": "processing"})
    order_id = processing.items[0].id

    result = assistant.ask(
        actor("manager"),
        f"Order {order_id} looks off to me. Park it so nobody ships it while I look into it. "
        "Don't cancel it.",
    )

    assert result.agents == ["orders"]
    assert [c.tool for c in result.tool_calls] == ["hold_order"]
    assert result.tool_calls[0].args["order_id"] == order_id


def test_what_a_request_only_states_is_the_context_of_what_it_asks() -> None:
    assert intents(
        "Zoé Nguyen changed her mind about the Redmi she just received, it's still sealed. "
        "Open a return for it."
    ) == [
        "Zoé Nguyen changed her mind about the Redmi she just received, it's still sealed. "
        "Open a return for it"
    ]
    # two orders stay two tasks, and a request made only of statements is left as it is
    assert intents("refund the full amount of order 12, and blacklist customer 148") == [
        "refund the full amount of order 12",
        "blacklist customer 148",
    ]
    assert len(intents("The Lyon team is short-staffed today. Order 12 is late.")) == 2
    # "he wants order 12 cancelled" orders a cancellation: the call is its context
    assert intents("Théo called: his number changed. He wants order 12 cancelled.") == [
        "Théo called: his number changed. He wants order 12 cancelled"
    ]


def test_a_models_name_is_not_a_word_of_its_domain() -> None:
    # "Charge" in the Fitbit Charge 6 charges nobody; "Refund 20 €" still refunds
    assert rank_agents("Take the Fitbit Charge 6 off the shop: put it back to draft")[0][0] == (
        "products"
    )
    assert rank_agents("Refund 20 € on order 3980, the customer complained")[0][0] == "payments"


def test_a_question_outside_the_shop_is_not_made_one_by_its_context(
    assistant: Assistant,
) -> None:
    result = assistant.ask(
        actor("manager"), "Is it going to rain in Lyon tomorrow? I have to drive to the warehouse."
    )

    assert result.agents == []
    assert result.tool_calls == []


def test_a_question_never_writes(assistant: Assistant, seeded_engine: Engine) -> None:
    delivered = run_tool(seeded_engine, actor("admin"), "list_orders", {"status": "delivered"})
    order_id = delivered.items[0].id

    result = assistant.ask(actor("admin"), f"what invoice number did order {order_id} get?")

    assert result.pending_approval is None
    assert [c.tool for c in result.tool_calls] == ["list_documents"]
    documents = run_tool(seeded_engine, actor("admin"), "list_documents", {"order_id": order_id})
    assert documents.items == []  # nothing was generated to answer it


def test_a_rate_line_is_found_by_its_zone_service_and_weight(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    carriers = run_tool(seeded_engine, actor("admin"), "list_carriers", {}).items
    colissimo = next(c for c in carriers if c.code == "colissimo")
    lines = run_tool(seeded_engine, actor("admin"), "list_rates", {"carrier_id": colissimo.id})
    [line] = [
        r for r in lines.items
        if (r.zone, r.service, r.max_weight_grams) == ("FR", "standard", 2000)
    ]  # fmt: skip

    result = assistant.ask(
        actor("admin"), "new colissimo tariff: France standard up to 2 kg is now 9,10€ HT"
    )

    assert proposed(result, "update_rate") == {"rate_id": line.id, "price_cents": 910}


def test_an_alert_is_found_by_what_its_title_says(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    alerts = run_tool(seeded_engine, actor("admin"), "list_system_alerts", {"status": "open"})
    low = next(a for a in alerts.items if a.title.startswith("Low stock: JBL-FLIP6-TEAL"))

    result = assistant.ask(actor("admin"), "close the low stock alert for JBL-FLIP6-TEAL")

    assert result.agents == ["monitoring"]
    assert result.tool_calls[-1].tool == "resolve_system_alert"
    assert result.tool_calls[-1].args == {"alert_id": low.id}


def test_a_models_number_or_a_phone_number_is_no_record_id(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    customers = run_tool(seeded_engine, actor("admin"), "list_customers", {"limit": 1}).items
    customer = customers[0]

    result = assistant.ask(
        actor("admin"), f"new phone number for customer {customer.id}: +33 6 11 22 33 44"
    )
    assert result.tool_calls[-1].args == {"customer_id": customer.id, "phone": "+33 6 11 22 33 44"}

    reply = assistant.ask(actor("admin"), "how many iphone 14 do we have left?")
    assert all(call.args.get("order_id") != 14 for call in reply.tool_calls)


def test_a_reply_to_a_buyer_is_written_to_them(assistant: Assistant, seeded_engine: Engine) -> None:
    amazon = run_tool(seeded_engine, actor("admin"), "list_orders", {"channel": "amazon"})
    order_id = amazon.items[0].id

    result = assistant.ask(
        actor("admin"),
        f"reply to the buyer of order {order_id}: tell him he can download his invoice from "
        "his Amazon account",
    )

    call = result.tool_calls[-1]
    assert call.tool == "send_message" and call.status == "ok"
    assert call.args["body"] == (
        "Hello, you can download your invoice from your Amazon account. Kind regards"
    )


def test_a_length_of_time_is_read_in_any_unit() -> None:
    from graph.planner.fill import _duration

    assert _duration("keep 2 aside for 48h", 1) == 2880
    assert _duration("block it for 2 weeks", 1440) == 14
    assert _duration("over the last 24 hours", 60) == 24
    assert _duration("for 90 minutes", 60) is None  # not a whole number of hours


def _only_one_named(engine: Engine, first: str, last: str) -> bool:
    found = run_tool(engine, actor("admin"), "list_customers", {"search": f"{first} {last}"})
    return len(found.items) == 1


def test_a_customers_parcel_is_found_through_their_orders(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    def newest_shipped(order: Any) -> bool:
        theirs = run_tool(
            seeded_engine, actor("admin"), "list_orders", {"customer_id": order.customer_id}
        ).items
        return next(o for o in theirs if o.status == "shipped").id == order.id

    shipped = run_tool(seeded_engine, actor("admin"), "list_orders", {"status": "shipped"}).items
    order = next(
        o for o in shipped
        if newest_shipped(o) and _only_one_named(seeded_engine, *o.customer_name.split(" ", 1))
    )  # fmt: skip
    [shipment] = run_tool(
        seeded_engine, actor("admin"), "list_shipments", {"order_id": order.id}
    ).items

    result = assistant.ask(actor("admin"), f"{order.customer_name} is asking where her parcel is")

    assert [c.tool for c in result.tool_calls] == [
        "list_customers", "list_orders", "list_shipments", "track_shipment"
    ]  # fmt: skip
    assert result.tool_calls[-1].args == {"shipment_id": shipment.id}


def test_a_question_of_what_could_be_done_never_writes(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    processing = run_tool(seeded_engine, actor("admin"), "list_orders", {"status": "processing"})
    order_id = processing.items[0].id

    for question in (
        f"don't touch it yet, but if the customer of {order_id} asks tomorrow, could we still "
        "cancel it?",
        f"someone put order {order_id} on hold today, I want to see what happened",
        f"can we still issue a credit note on order {order_id} or is something missing?",
        f"could we cancel order {order_id}, or has it started picking?",
        f"wasn't order {order_id} on hold at the start of the week? how did we release it?",
        f"if we cancelled order {order_id}, would its stock go back on sale at once?",
        f"the buyer of order {order_id} got a chargeback. Should I just refund her so it goes "
        "away? What's our procedure?",
        f"can I cancel order {order_id} already? the buyer keeps emailing",
        f"do orders {order_id} and {order_id - 1} have an invoice yet? Don't generate anything",
        f"has any document been generated yet for order {order_id}? invoice, packing slip?",
    ):
        result = assistant.ask(actor("admin"), question)
        assert result.pending_approval is None, question
        writes = [c.tool for c in result.tool_calls if REGISTRY[c.tool].writes]
        assert writes == [], question
    with seeded_engine.connect() as connection:
        status, held_at = connection.execute(
            sa.text("SELECT status, held_at FROM orders WHERE id = :id"), {"id": order_id}
        ).one()
    assert (status, held_at) == ("processing", None)


def test_a_survey_answer_given_by_phone_is_recorded_on_their_survey(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    def the_one_to_answer(survey: Any) -> bool:
        theirs = run_tool(
            seeded_engine, actor("admin"), "list_surveys", {"customer_id": survey.customer_id}
        ).items
        return [s.id for s in theirs if s.status == "sent"] == [survey.id]

    sent = run_tool(seeded_engine, actor("admin"), "list_surveys", {"status": "sent"}).items
    customers = {
        s.id: run_tool(
            seeded_engine, actor("admin"), "get_customer", {"customer_id": s.customer_id}
        )
        for s in sent[:20]
    }
    survey = next(
        s for s in sent[:20]
        if the_one_to_answer(s)
        and _only_one_named(seeded_engine, customers[s.id].first_name, customers[s.id].last_name)
    )  # fmt: skip
    customer = customers[survey.id]

    result = assistant.ask(
        actor("admin"),
        f"{customer.first_name} {customer.last_name} answered her satisfaction survey by phone: "
        "4 out of 5, would recommend us 9/10",
    )

    assert result.tool_calls[-1].tool == "record_survey_response"
    assert result.tool_calls[-1].args == {"survey_id": survey.id, "score": 4, "nps": 9}


def test_a_barcode_is_looked_up_in_the_catalogue(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    hit = run_tool(seeded_engine, actor("admin"), "search_products", {"query": "JBL Flip 6"})
    product = hit.items[0]
    variant = run_tool(seeded_engine, actor("admin"), "get_product", {"product_id": product.id})
    ean = variant.variants[0].ean

    result = assistant.ask(actor("admin"), f"a customer sent me the barcode {ean}, what is it?")

    assert [(c.tool, c.args) for c in result.tool_calls] == [("search_products", {"query": ean})]
    assert product.name in result.answer


def test_a_date_is_read_as_merchants_write_it() -> None:
    from datetime import date

    from graph.planner.extract import extract
    from graph.wording import normalize

    today = date(2026, 11, 25)
    for said, period in (
        ("units in vs out since november 11th?", (date(2026, 11, 11), today)),
        ("orders since nov 11", (date(2026, 11, 11), today)),
        ("what came in on 3 nov", (date(2026, 11, 3), date(2026, 11, 3))),
        ("best sellers since october", (date(2026, 10, 1), today)),
        ("revenue in november 2025", (date(2025, 11, 1), date(2025, 11, 30))),
        ("cancellations since the 1st", (date(2026, 11, 1), today)),
        ("top 5 products last week (16-22 Nov)", (date(2026, 11, 16), date(2026, 11, 22))),
        ("sales, Monday 16 to Sunday 22 November", (date(2026, 11, 16), date(2026, 11, 22))),
        ("refunds from 28 to 3 november", (date(2026, 10, 28), date(2026, 11, 3))),
        ("the 30 full days up to yesterday", (date(2026, 10, 26), date(2026, 11, 24))),
        (
            "Le fournisseur veut les défauts depuis le début du mois de novembre",
            (date(2026, 11, 1), today),
        ),
    ):
        assert extract(normalize(said), today).period == period, said


def _two_orders(engine: Engine, name: tuple[str, str], town: str) -> tuple[int, list[Any]]:
    """A new customer in `town` with two orders of two different products."""
    customer = run_tool(
        engine, actor("admin"), "create_customer",
        {"email": f"{name[0]}.{town}@example.fr".lower(), "first_name": name[0],
         "last_name": name[1], "marketing_opt_in": True},
    )  # fmt: skip
    run_tool(
        engine, actor("admin"), "add_address",
        {"customer_id": customer.id, "kind": "shipping", "full_name": " ".join(name),
         "line1": "3 rue Neuve", "postcode": "44000", "city": town, "is_default": True},
    )  # fmt: skip
    stocked = sa.text(
        "SELECT MIN(v.sku) FROM product_variants v JOIN products p ON p.id = v.product_id"
        " JOIN stock_levels s ON s.variant_id = v.id WHERE s.on_hand - s.reserved > 5"
        " AND (p.name LIKE 'JBL Flip%' OR p.name LIKE 'Apple iPad Air%')"
        " GROUP BY p.name ORDER BY p.name"
    )
    with engine.connect() as connection:
        skus = connection.execute(stocked).scalars().all()
    orders = [
        run_tool(engine, actor("admin"), "create_order", {"customer_id": customer.id, "lines": [
            {"sku": sku, "quantity": 1}
        ]})
        for sku in skus
    ]  # fmt: skip
    return customer.id, orders


def test_an_order_is_found_by_what_it_holds(assistant: Assistant, seeded_engine: Engine) -> None:
    _, orders = _two_orders(seeded_engine, ("Anouk", "Vasseur"), "Nantes")
    older = orders[0]  # the newest comes first in a customer's orders: not this one
    product = " ".join(older.lines[0].name.split()[:2])  # "JBL Charge", "Apple iPad"

    result = assistant.ask(
        actor("admin"), f"cancel Anouk Vasseur's {product} order, she changed her mind"
    )

    assert proposed(result, "cancel_order")["order_id"] == older.id


def test_namesakes_are_told_apart_by_their_town(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    nantes, _ = _two_orders(seeded_engine, ("Anouk", "Vasseur"), "Nantes")
    lille, _ = _two_orders(seeded_engine, ("Anouk", "Vasseur"), "Lille")

    first = assistant.ask(actor("admin"), "please take Anouk Vasseur off our marketing emails")
    assert "(Nantes)" in first.answer and "(Lille)" in first.answer
    assert first.answer.rstrip().endswith("?")
    second = assistant.ask(actor("admin"), "the one from Lille", first.thread_id)

    assert second.routing is not None and second.routing.method == "followup"
    with seeded_engine.connect() as connection:
        opted_in: dict[int, bool] = dict(
            connection.execute(
                sa.text("SELECT id, marketing_opt_in FROM customers WHERE id IN (:a, :b)"),
                {"a": nantes, "b": lille},
            ).all()
        )
    assert opted_in == {nantes: True, lille: False}


def test_things_listed_to_be_shown_are_not_actions(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    customer, _ = _two_orders(seeded_engine, ("Anouk", "Vasseur"), "Nantes")

    result = assistant.ask(
        actor("admin"),
        "before I call Anouk Vasseur back, give me the whole picture on her: orders, refunds, "
        "anything still open",
    )

    assert result.pending_approval is None
    assert [c.tool for c in result.tool_calls] == ["list_customers", "customer_360"]
    assert result.tool_calls[-1].args == {"customer_id": customer}


def test_a_models_number_typed_in_lower_case_names_the_product() -> None:
    from graph.planner.lookups import product_phrase

    assert product_phrase("defect rate of the refurbished iphone 14s lately?") == "iphone 14"
    assert product_phrase("iphone 14 128 purple at Paris: reorder point 3") == "iphone 14 128"
    assert product_phrase("move 3 teal JBL Flip 6 from paris to lyon") == "JBL Flip 6"
    assert product_phrase("what's in order 12, and is customer 4 blocked?") is None


def test_a_setting_asked_about_before_changing_it_is_only_shown(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    result = assistant.ask(
        actor("admin"),
        "Would it be possible to lower the fraud review threshold to 40? What is it set to now, "
        "and the other fraud thresholds? Don't change anything yet.",
    )

    assert result.pending_approval is None
    assert [(c.tool, c.args) for c in result.tool_calls] == [("list_config", {"prefix": "fraud"})]
    assert "| fraud.review_threshold | 50 |" in result.answer  # the value is a column
    with seeded_engine.connect() as connection:
        threshold = connection.execute(
            sa.text("SELECT value FROM system_settings WHERE key = 'fraud.review_threshold'")
        ).scalar()
    assert str(threshold) == "50"


def test_a_setting_set_beside_another_named_sets_the_one_given_a_value(
    assistant: Assistant,
) -> None:
    result = assistant.ask(
        actor("admin"),
        "set the fraud block threshold to 75, as long as it stays above the review threshold",
    )

    [write] = [c for c in result.tool_calls if c.tool == "set_config"]
    assert write.args == {"key": "fraud.block_threshold", "value": 75}


def test_a_new_value_is_told_from_the_old_one(assistant: Assistant) -> None:
    result = assistant.ask(
        actor("admin"),
        "for the holidays customers get 45 days to return items instead of 30, change the "
        "return window setting",
    )

    [write] = [c for c in result.tool_calls if c.tool == "set_config"]
    assert write.args == {"key": "returns.window_days", "value": 45}


def test_an_order_is_found_by_the_marketplaces_own_number(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    with seeded_engine.connect() as connection:
        number, order_id = connection.execute(
            sa.text(
                "SELECT m.external_order_id, m.order_id FROM marketplace_orders m "
                "JOIN orders o ON o.id = m.order_id WHERE m.connection_id = 3 "
                "AND o.status = 'delivered' ORDER BY m.id DESC LIMIT 1"
            )
        ).one()
        failed = connection.execute(
            sa.text("SELECT external_order_id FROM marketplace_orders WHERE sync_status = 'failed'")
        ).scalar()

    result = assistant.ask(
        actor("admin"),
        f"back market buyer of {number} says the screen has a dead pixel line. open a return "
        "for defective",
    )
    why = assistant.ask(actor("admin"), f"BM order {failed} never came into comptoir. why??")

    assert [c.tool for c in result.tool_calls][:2] == ["get_marketplace_order", "get_order"]
    [opened] = [c for c in result.tool_calls if c.tool == "request_return"]
    assert opened.args["order_id"] == order_id and opened.args["reason"] == "defective"
    assert why.agents == ["marketplace"]
    assert why.tool_calls[-1].tool == "get_marketplace_order"
    assert "is not in the catalogue" in why.answer


def test_a_parcel_is_found_by_its_tracking_number(
    assistant: Assistant, seeded_engine: Engine
) -> None:
    with seeded_engine.connect() as connection:
        shipment_id, number = connection.execute(
            sa.text("SELECT id, tracking_number FROM shipments WHERE carrier_id = 1 LIMIT 1")
        ).one()

    result = assistant.ask(
        actor("admin"),
        f"Paris needs a reprint of the label for Colissimo parcel {number}, in ZPL for their Zebra",
    )

    assert result.agents == ["documents"]
    assert result.tool_calls[-1].tool == "generate_shipping_label"
    assert result.tool_calls[-1].args == {"shipment_id": shipment_id, "format": "zpl"}


def test_a_price_dropped_from_one_figure_to_another_is_a_new_price(
    assistant: Assistant,
) -> None:
    result = assistant.ask(
        actor("admin"),
        "JBL Flip 6 Teal (JBL-FLIP6-TEAL) isn't moving: 9 units across Lyon and Paris. Drop it "
        "from 128.99 to 119 EUR.",
    )

    assert proposed(result, "update_variant_price")["price_cents"] == 11900


def test_what_is_ordered_comes_before_what_a_customer_wants(assistant: Assistant) -> None:
    result = assistant.ask(
        actor("admin"),
        "the buyer of order 3993 wants to change his delivery address. put the order on hold so "
        "the warehouse doesn't ship it till I sort it out",
    )

    assert [c.tool for c in result.tool_calls] == ["hold_order"]
    assert result.tool_calls[0].args["order_id"] == 3993


def test_a_plain_hello_is_greeted(assistant: Assistant) -> None:
    result = assistant.ask(actor("viewer"), "Bonjour !")

    assert result.agents == [] and result.answer.startswith("Hello!")


def test_a_carriers_french_name_is_not_translated(assistant: Assistant) -> None:
    result = assistant.ask(
        actor("admin"),
        "Colis Privé nous a perdu trois colis. Mets-les hors service (sans les supprimer).",
    )

    [write] = [c for c in result.tool_calls if REGISTRY[c.tool].writes]
    assert (write.tool, write.args) == ("update_carrier", {"carrier_id": 4, "is_active": False})
