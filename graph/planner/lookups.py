"""Look-ups: read-only tool calls that turn what a request names in words into ids (a
customer, an order, a product and its variant, a warehouse, a marketplace account, a staff
user, a setting), and reading their results back."""

import re
from collections.abc import Callable
from typing import Any

from graph.actions import actions, hits
from graph.planner.extract import ASKING, ID_NOUNS, STOP, VERBS, keywords, person_names, plain
from graph.planner.fields import country, weight_grams
from graph.planner.fill import Known, by_order, noun_words, record_words
from tools.base import ToolSpec

RECORD_NUMBER = re.compile(r"(?<![\w.,+-])(\d{3,9})\b(?![.,]\d)")
# An id a request implies through its order: "refund order 12" means order 12's payment.
BY_ORDER = {
    "payment_id": ("list_order_payments", "the order's payments"),
    "shipment_id": ("list_shipments", "the order's shipments"),
    "return_id": ("list_customer_returns", "the order's returns"),
    "document_id": ("list_documents", "the order's documents"),
    "survey_id": ("list_surveys", "the order's survey"),
}
# An id a request implies through its customer: "Chloé Perrin's return", "her survey".
BY_CUSTOMER = {"return_id": "list_customer_returns", "survey_id": "list_surveys"}
BY_ORDER_TOOLS = {tool: name for name, (tool, _) in BY_ORDER.items()}

WAREHOUSE_HINT = re.compile(
    r"\bwarehouse\b|\b(?:in|at|from|to)\s+(?!(?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december)\b)[A-Z][a-z]+"
)


def lookup_for(
    missing: list[str], known: Known, spec: ToolSpec
) -> tuple[str, dict[str, Any]] | None:
    """A read-only look-up that can resolve an id named in words: a missing one, or an
    optional warehouse the request names ("in Lyon")."""
    text = known.text
    # a customer to block named in words ("block Alexandre Fabre's account") or as the buyer
    # of an order ("cancel 3928 and block that customer")
    blocks_customer = (
        spec.name in ("block_entity", "unblock_entity")
        and "value" in missing
        and not (known.found.emails or known.found.ips)
        and "customer_id" not in known.found.ids
    )
    names_customer = (
        blocks_customer
        or "customer_id" in missing
        or ("customer_id" in spec.args_model.model_fields and "customer_id" not in known.found.ids)
        or ("order_id" in missing and "customer_id" not in known.found.ids)  # "Jade's order"
        # "Margaux Petit's headphones keep cutting out": an item of one of her orders
        or ("order_line_id" in missing and not {"order_id", "customer_id"} & set(known.found.ids))
        # "Chloé's return", "record her survey answer", "where is Aïcha's parcel?"
        or (
            bool(set(BY_CUSTOMER) & set(missing) or _order_record_missing(missing, known))
            and "customer_id" not in known.found.ids
        )
    )
    # "reprint the label of parcel 6A00030173172": the shipment its tracking number names
    tracking = known.found.tracking_numbers
    wants_the_parcel = bool({"shipment_id", "order_id"} & set(missing))
    if tracking and wants_the_parcel and "list_shipments" not in known.resolved:
        return "list_shipments", {"tracking_number": tracking[0]}
    # "the buyer of BM0104229434": the order a marketplace's own number names
    about_an_order = {"order_id", "order_line_id", "lines", "customer_id", "marketplace_order_id"}
    wants_the_order = bool(about_an_order & set(missing)) or _order_record_missing(missing, known)
    marketplace_numbers = known.found.marketplace_numbers
    if marketplace_numbers and wants_the_order and "marketplace_order" not in known.resolved:
        return "get_marketplace_order", {"external_order_id": marketplace_numbers[0]}
    # "how many Lumen Club points has Raphaël Martin got?": a name that finds nobody is not a
    # customer's, the next one may be
    searched = known.resolved.get("customers_searched", [])
    names = [n for n in person_names(text) or _named_earlier(known) if n not in searched]
    found_nobody = (
        known.resolved.get("customer_lookup") == []
        and bool(names)
        and "customer_id" in spec.args_model.model_fields
    )
    unsearched = names or (known.found.emails and not searched)
    if names_customer and ("customer_lookup" not in known.resolved or found_nobody) and unsearched:
        # a name first: an e-mail in the request may be the new one to record
        return "list_customers", {"search": names[0] if names else known.found.emails[0]}
    # "which API keys does Thomas Bernard have?": the staff member a listing is about
    names_staff = "user_id" in spec.args_model.model_fields and bool(person_names(text))
    if ("user_id" in missing or names_staff) and "staff_lookup" not in known.resolved:
        return "list_staff_users", {}  # "Ines Morel", or "Mehdi" when one of the staff is
    if "key_id" in missing:  # "revoke Mehdi's api key": the key of the staff user named
        user_id = known.found.ids.get("user_id") or known.resolved.get("user_id")
        if user_id and "key_lookup" not in known.resolved:
            return "list_api_keys", {"user_id": user_id}
        if not user_id and "staff_lookup" not in known.resolved:
            return "list_staff_users", {}
    if "article_id" in missing and "article_lookup" not in known.resolved:
        about = re.search(r"\barticles? (?:about|on|for|titled|called|named) ([^,.;:!?]+)", text)
        # "the article about preventing chargebacks, add the tag 'dispute'": what it is about
        topic = about.group(1).strip(" '\"") if about else None
        topic = topic or keywords(text, drop=noun_words(spec) | ARTICLE_NOISE)
        if topic:  # "the chargeback article was spot on, mark it as helpful"
            return "search_articles", {"query": topic}
    if spec.name == "process_payment" and SAVED_CARD.search(plain(text)) and not known.found.cards:
        buyer = (known.resolved.get("order_lookup") or {}).get("customer_id")
        order_id = known.found.ids.get("order_id")
        if not buyer and order_id and "order_lookup" not in known.resolved:
            return "get_order", {"order_id": order_id}  # "charge 3928 on his saved card"
        if buyer and "card_lookup" not in known.resolved:
            return "list_payment_methods", {"customer_id": buyer}
    if spec.name == "redeem_points" and AS_MANY_AS_POSSIBLE.search(plain(text)):
        customer = known.found.ids.get("customer_id") or known.resolved.get("customer_id")
        if customer and "loyalty" not in known.resolved:
            return "get_loyalty", {"customer_id": customer}  # how many vouchers the points make
    if "key" in missing and "config" in spec.name and "config_lookup" not in known.resolved:
        return "list_config", {}
    if "rate_id" in missing and "rate_lookup" not in known.resolved:
        # "colissimo: France standard up to 1 kg is now 7,60€": the carrier, then its card
        if "carrier_lookup" not in known.resolved:
            return "list_carriers", {}
        if carrier_id := known.resolved.get("carrier_id"):
            return "list_rates", {"carrier_id": carrier_id}
    alerts = ALERT_LISTINGS.get(spec.name)
    if alerts and "alert_id" in missing and "alert_lookup" not in known.resolved:
        return alerts, {}  # "acknowledge the stock movements spike alert"
    fields = spec.args_model.model_fields
    names_marketplace = "connection_id" in fields and MARKETPLACE.search(plain(text))
    if ("connection_id" in missing or names_marketplace) and (
        "connection_id" not in known.found.ids and "connection_lookup" not in known.resolved
    ):
        return "list_connections", {}
    names_carrier = "carrier_id" in fields and "carrier_id" not in known.found.ids
    if names_carrier and "carrier_lookup" not in known.resolved and spec.name != "list_carriers":
        return "list_carriers", {}  # "create the shipment with Colissimo", "DPD's rates"
    order_id = known.found.ids.get("order_id") or known.resolved.get("order_id")
    wants_order_lines = "lines" in missing and spec.name == "request_return"
    if wants_order_lines and order_id and "order_lookup" not in known.resolved:
        return "get_order", {"order_id": order_id}
    # "her S23 from order 3752 won't charge", "reply to the amazon buyer of order 3976"
    wants_a_line = "order_line_id" in missing or "marketplace_order_id" in missing
    if wants_a_line and order_id and "order_lookup" not in known.resolved:
        return "get_order", {"order_id": order_id}
    if _refunds_a_line(spec, known) and order_id and "order_lookup" not in known.resolved:
        return "get_order", {"order_id": order_id}  # "refund the JBL speaker from order 3963"
    needs_buyer = "customer_id" in missing or blocks_customer
    if needs_buyer and order_id and "order_lookup" not in known.resolved:
        return "get_order", {"order_id": order_id}  # "check the customer of order 3992"
    customer_id = known.found.ids.get("customer_id") or known.resolved.get("customer_id")
    wants_their_order = (
        "order_id" in missing
        or _order_record_missing(missing, known)
        or ("order_line_id" in missing and not order_id)
    )
    if wants_their_order and customer_id and "orders_lookup" not in known.resolved:
        placed: dict[str, Any] = {"customer_id": customer_id}
        # "she got it yesterday": a day said of a parcel is not when the order was placed
        delivered = {"shipped", "delivered"} & set(ORDER_STATES.get(known.target, ()))
        if known.found.period and not delivered:
            placed["placed_from"] = known.found.period[0].isoformat()
            placed["placed_to"] = known.found.period[1].isoformat()
        return "list_orders", placed
    wanted = set(missing)
    if "lines" in wanted and spec.name == "create_order" and not known.found.skus:
        wanted |= {"sku"}  # the product named in words, to a SKU
    if "sku" in fields and spec.writes and not known.found.skus and product_phrase(text):
        wanted |= {"sku"}  # "check the 30 iPhone 14 128GB midnight that landed in Lyon"
    names_a_site = WAREHOUSE_HINT.search(text) or hits(plain(text).replace("-", " "), known.places)
    if ("warehouse_id" in fields or "stock_level_id" in missing) and names_a_site:
        wanted.add("warehouse_id")  # optional, but named: "in Lyon", "the Paris warehouse"
    if "stock_level_id" in missing and not known.found.skus:
        wanted.add("sku")  # "the reorder point of the Echo Dot charcoal in Lyon"
    if _reads_a_products_stock(spec, known):
        wanted.add("variant_id")  # "how many red JBL Flip 6 are left?"
    if "inspection_id" in missing and product_phrase(text) and not known.found.references:
        wanted.add("variant_id")  # "the spot check on the white Switch OLED grade A units"
    # "ship 3988 with DPD and give me the label": the order the other part of the request gives
    told = [int(n) for n in RECORD_NUMBER.findall(plain(known.context))]
    for name, (tool, _) in BY_ORDER.items():
        order_id = known.found.ids.get("order_id") or known.resolved.get("order_id")
        numbers = known.found.numbers or told
        if not order_id and len(numbers) == 1 and by_order(name, known):
            order_id = numbers[0]  # "her money back for 3962": order 3962
        if name in wanted and order_id and tool not in known.resolved:
            return tool, {"order_id": order_id}
    for name, tool in BY_CUSTOMER.items():
        if name in wanted and customer_id and tool not in known.resolved:
            return tool, {"customer_id": customer_id}  # "Chloé Perrin's return"
    if wanted & {"warehouse_id", "from_warehouse_id", "to_warehouse_id"} and (
        "warehouse_lookup" not in known.resolved
    ):
        return "list_warehouses", {}
    if (
        wanted & {"variant_id", "sku"}
        and "product_id" in known.resolved
        and "variant_lookup" not in known.resolved
    ):
        return "get_product", {"product_id": known.resolved["product_id"]}
    if wanted & {"product_id", "variant_id", "sku"} and "product_lookup" not in known.resolved:
        query = _product_query(wanted, known, spec)
        if query:
            return "search_products", {"query": query}
    if "stock_level_id" in missing and "stock_lookup" not in known.resolved:
        sku = known.found.skus[0] if known.found.skus else known.resolved.get("sku")
        if sku:  # "the reorder point for AMA-ECHODOT5-CHAR in Lyon"
            warehouse = known.resolved.get("warehouse_id")
            return "get_stock", {"sku": sku, **({"warehouse_id": warehouse} if warehouse else {})}
    names_category = "category_id" in fields and "category_id" not in known.found.ids
    if names_category and "category_lookup" not in known.resolved:
        return "list_categories", {}  # "list the tablets we sell"
    if "inspection_id" in missing and "inspection_lookup" not in known.resolved:
        return "list_inspections", _inspection_filters(spec.name, known)
    return None


# The state of the inspection a tool acts on, when it is named by what it inspects
INSPECTION_STATES = {"start_inspection": "scheduled", "complete_inspection": "in_progress"}


def _inspection_filters(tool: str, known: Known) -> dict[str, Any]:
    """The inspection a request describes: its state, SKU and warehouse, as far as known."""
    batch = next((r for r in known.found.references if r.startswith("PO-")), None)
    filters = {
        "status": INSPECTION_STATES.get(tool),
        "batch_reference": batch,  # "the batch from PO-20261125-007160"
        "variant_id": None if batch else known.resolved.get("variant_id"),
        "warehouse_id": known.found.ids.get("warehouse_id") or known.resolved.get("warehouse_id"),
    }
    return {name: value for name, value in filters.items() if value is not None}


# "convert as many of her points as she can": all the vouchers the balance makes
AS_MANY_AS_POSSIBLE = re.compile(
    r"\bas many (?:\w+ )*?as (?:she|he|they|possible|we|you) ?(?:can|could)?\b|"
    r"\ball (?:of )?(?:her|his|their|the) (?:\w+ )?points\b|"
    r"\bmax(?:imum)? (?:number of )?vouchers\b"
)


# The states of the order a tool acts on, when a customer's order is meant without a number
ORDER_STATES = {
    "track_shipment": ("shipped",),
    "mark_delivered": ("shipped",),
    "send_survey": ("delivered",),
    "request_return": ("delivered",),
    "refund_payment": ("paid", "processing", "shipped", "delivered"),  # one that took money
    "file_warranty_claim": ("delivered",),
    "select_carrier": ("paid", "processing"),
    "create_shipment": ("paid", "processing"),
    "quote_rates": ("paid", "processing"),
    "generate_packing_slip": ("paid", "processing"),  # printed while it is prepared
    "hold_order": ("pending", "paid", "processing"),
}

ARTICLE_NOISE = frozenset(
    {"help", "article", "mark", "helpful", "useful", "spot", "on", "archive", "delete", "it",
     "out", "date", "the", "about", "was", "is", "for", "case", "had", "today", "publish"}
)  # fmt: skip
# "the Mastercard the customer has on file", "his saved card", "the card we have for her"
CARD_BRAND = re.compile(r"\b(?:mastercard|visa|amex|cb)\b(?! \d)")
SAVED_CARD = re.compile(rf"\b(?:on file|saved|stored|registered)\b|{CARD_BRAND.pattern}")
MARKETPLACE_NAMES = r"(?:amazon|cdiscount|back ?market|refurbed|mirakl|fnac|darty|ebay)\b"
MARKETPLACE = re.compile(rf"\b{MARKETPLACE_NAMES}")
PRONOUN = re.compile(r"\b(?:he|she|him|her|his|hers|they|them|their|it|its)\b")


def _channel_named(lowered: str) -> str | None:
    """The sales channel a request names ("on Back Market", "his fnac order")."""
    named = MARKETPLACE.search(lowered)
    if not named:
        return None
    word = named.group(0).replace(" ", "")
    return {"fnac": "mirakl", "darty": "mirakl"}.get(word, word)


def _order_record_missing(missing: list[str], known: Known) -> bool:
    """Whether a record of an order is missing (its shipment, payment, documents…) and no
    order is given: "where is Aïcha Dubois's parcel?" is about one of her orders."""
    order_given = "order_id" in known.found.ids or "order_id" in known.resolved
    return not order_given and not known.found.numbers and bool(set(BY_ORDER) & set(missing))


def _named_earlier(known: Known) -> list[str]:
    """A person the whole request names, for a part of it that says "his" or "her"
    ("find Hugo Robin's email and list his orders")."""
    if not known.context or not PRONOUN.search(plain(known.text)):
        return []
    return person_names(known.context)


def _reads_a_products_stock(spec: ToolSpec, known: Known) -> bool:
    """A read of stock by SKU (or listings) that names the product in words, not by SKU."""
    fields = spec.args_model.model_fields
    return (
        not spec.writes
        and ("sku" in fields or "variant_id" in fields)
        and not known.found.skus
        and product_phrase(known.text) is not None
    )


def _product_query(wanted: set[str], known: Known, spec: ToolSpec) -> str | None:
    """What to search the catalogue for: the SKU when the request gives one but the tool
    needs the variant's id, else the product named in words."""
    if "variant_id" in wanted and known.found.skus:
        return known.found.skus[0]
    noise = noun_words(spec) | PRODUCT_NOISE
    # the part of the request this agent does, then the rest ("how many S23 128 cream have we
    # got left? and drop it to 319": the product is named in the other part)
    for text in (known.text, known.context):
        named = (
            product_phrase(text, places=known.places)
            or _catalogue_run(text, known.catalogue)  # "flash deal: fitbit charge 6 at 39€"
            or _longest_run(text, noise)  # "the Echo Dot charcoal"
            or product_phrase(text, people_too=True, places=known.places)
        )
        if named:
            return named
    return keywords(known.text, drop=noise)


def _catalogue_run(text: str, catalogue: frozenset[str]) -> str | None:
    """The longest run of the catalogue's own words (and a model's number after them), for a
    product typed in lowercase: "black friday deal: fitbit charge 6 at 39€" -> "fitbit charge
    6"."""

    def named(word: str) -> str | None:
        if word not in catalogue and word.removesuffix("s") in catalogue:
            word = word.removesuffix("s")  # "2 charcoal echo dots": the catalogue's "dot"
        return word if word in catalogue and word not in STOP | VERBS else None

    return _longest_naming_run(re.findall(r"[\w'-]+", plain(text)), named)


def _longest_run(text: str, drop: set[str] | frozenset[str]) -> str | None:
    """The longest run of naming words, between the request's small words and verbs: "2
    dualsense cosmic red got damaged at marseille" -> "dualsense cosmic red"."""
    ignored = STOP | VERBS | ASKING | drop | STATES
    words = re.findall(r"[\w'-]+", text)
    return _longest_naming_run(words, lambda word: None if plain(word) in ignored else word)


def _longest_naming_run(words: list[str], named: Callable[[str], str | None]) -> str | None:
    """The longest run of two or more words that `named` keeps (as it gives them back), a
    model's short number after one of them included ("the iphone 13")."""
    runs: list[list[str]] = [[]]
    for word in words:
        if word.isdigit() and runs[-1] and len(word) <= 4:
            runs[-1].append(word)
        elif not word.isdigit() and (kept := named(word)):
            runs[-1].append(kept)
        else:
            runs.append([])
    best = max(runs, key=len)
    return " ".join(best) if len(best) >= 2 else None


# Words that say what happened to a thing, not what it is
STATES = frozenset(
    """damaged broken missing lost stolen arrived received came back left warehouse aside""".split()  # noqa: SIM905
)


def _described_rate(lines: list[dict[str, Any]], lowered: str) -> Any:
    """The line of a carrier's rate card the request describes by its zone ("France"), its
    service ("express") and the weight it goes up to ("up to 2 kg", "<1kg"), when one fits."""
    said = {
        "zone": country(lowered),
        "service": next((s for s in ("standard", "express") if s in lowered), None),
        "max_weight_grams": weight_grams(lowered),
    }
    fitting = [
        line for line in lines
        if all(value is None or str(line.get(key)) == str(value) for key, value in said.items())
    ]  # fmt: skip
    return fitting[0]["id"] if len(fitting) == 1 else None


# The listing that finds an alert described in words, for the tools acting on one
ALERT_LISTINGS = {
    "acknowledge_risk_alert": "list_risk_alerts",
    "resolve_risk_alert": "list_risk_alerts",
    "resolve_system_alert": "list_system_alerts",
}
ALERT_NOISE = frozenset(
    """alert alerts the that this one for on from about it close resolve acknowledge ack
    nothing wrong looking into i'm im we our""".split()  # noqa: SIM905
)


def _described_alert(alerts: list[dict[str, Any]], known: Known) -> Any:
    """The alert, not yet resolved, whose title the request describes best: by its words
    ("the stock movements spike alert"), its SKU ("the low stock alert for JBL-FLIP6-TEAL")
    or its day ("the 7 november one"); the only one left when the request says no more."""
    said = plain(f"{known.context} {known.text}")
    words = {w.removesuffix("s") for w in re.findall(r"[a-z0-9]{3,}", said)} - ALERT_NOISE
    skus = {plain(s) for s in [*known.found.skus, known.resolved.get("sku") or ""] if s}
    day = known.found.day

    def fit(alert: dict[str, Any]) -> int:
        title = plain(str(alert.get("title", "")))
        title_words = {w.removesuffix("s") for w in re.findall(r"[a-z0-9]{3,}", title)}
        # a word, its first four letters inside a SKU ("white cable" in ...CABL-WHIT), or a
        # SKU's part it starts ("samsung 45w" in SAM-45WSUPERFASTCH)
        score = sum(
            1
            for w in words
            if w in title_words
            or (len(w) > 4 and w[:4] in title)
            or any(t.startswith(w) or w.startswith(t) for t in title_words if len(t) >= 3)
        )
        score += 3 * any(sku in title for sku in skus)
        if day and plain(f"{day.day:02d} {day:%B}") in title:
            score += 3
        return score

    scored = sorted(
        ((fit(alert), alert) for alert in alerts if alert.get("status") != "resolved"),
        key=lambda pair: pair[0],
        reverse=True,
    )
    if len(scored) == 1:
        return scored[0][1]["id"]
    if scored and scored[0][0] >= 2 and scored[1][0] < scored[0][0]:
        return scored[0][1]["id"]
    return None


def _living_in(customers: list[dict[str, Any]], lowered: str) -> list[dict[str, Any]]:
    """The customers delivered to the town the request names first."""
    towns = {plain(c.get("city") or ""): c for c in customers if c.get("city")}
    said = sorted(
        (match.start(), town)
        for town in towns
        if (match := re.search(rf"\b{re.escape(town)}\b", lowered.replace("-", " ")))
    )
    return [towns[said[0][1]]] if said else []


def _email_given(customer: dict[str, Any], lowered: str) -> bool:
    """Whether the request gives this customer's e-mail address, or its domain."""
    email = str(customer.get("email") or "").lower()
    domain = email.partition("@")[2]
    return bool(email) and (email in lowered or (bool(domain) and domain in lowered))


def resolve(tool: str, result: Any, known: Known, args: dict[str, Any] | None = None) -> None:
    """Read a look-up's result (of the call with `args`) into known.resolved."""
    items = result.get("items", result) if isinstance(result, dict) else result
    items = items if isinstance(items, list) else []
    lowered = plain(known.text)
    if tool == "list_customers":
        known.resolved["customer_lookup"] = items
        known.resolved.setdefault("customers_searched", []).append((args or {}).get("search"))
        # the one customer found, or the one whose full name the request gives
        named = [c for c in items if _full_name(c) and _full_name(c) in lowered]
        chosen = items if len(items) == 1 else named
        if len(chosen) > 1:  # two of that name: "the outlook.fr one", "(moussa.morel@sfr.fr)"
            chosen = [c for c in chosen if _email_given(c, lowered)] or chosen
        if len(chosen) > 1:  # "the one from Nantes", "the one in Nice, not Annecy"
            chosen = _living_in(chosen, lowered) or chosen
        if len(chosen) == 1:
            known.resolved["customer_id"] = chosen[0]["id"]
    elif tool == "search_products":
        known.resolved["product_lookup"] = items
        if items:
            known.resolved["product_id"] = items[0].get("id")
    elif tool == "get_product" and isinstance(result, dict):
        variants = [v for v in result.get("variants", []) if isinstance(v, dict)]
        known.resolved["variant_lookup"] = variants
        if variants:
            # the variant the request gives the SKU of, or whose colour, capacity or grade
            # it names
            skus = {sku.lower() for sku in known.found.skus}
            wanted = set(re.findall(r"\w+", lowered))
            # the other part of the request when this one names none ("drop it to 319")
            told = set(re.findall(r"\w+", plain(known.context)))

            def fits(variant: dict[str, Any]) -> tuple[bool, int, int]:
                given = str(variant.get("sku", "")).lower() in skus
                words = record_words(variant)
                return given, len(wanted & words), len(told & words)

            best = max(variants, key=fits)
            known.resolved.setdefault("variant_id", best.get("id"))
            known.resolved.setdefault("sku", best.get("sku"))
    elif tool in BY_ORDER_TOOLS:
        known.resolved[tool] = items
        name = BY_ORDER_TOOLS[tool]
        if tool == "list_order_payments":  # the payment that still holds money, or a hold
            held = [p for p in items if p.get("captured_cents", 0) > p.get("refunded_cents", 0)]
            items = held or [p for p in items if p.get("status") == "authorized"]
        if tool == "list_surveys":  # the one sent and awaiting its answer
            items = [s for s in items if s.get("status") == "sent"] or items
        if items:
            known.resolved[name] = items[-1 if tool == "list_order_payments" else 0]["id"]
        if tool == "list_shipments" and len(items) == 1:  # a parcel found by its number
            known.resolved.setdefault("order_id", items[0].get("order_id"))
    elif tool == "get_loyalty" and isinstance(result, dict):
        known.resolved["loyalty"] = result
        if AS_MANY_AS_POSSIBLE.search(lowered) and result.get("vouchers_available"):
            known.resolved["vouchers"] = result["vouchers_available"]
    elif tool == "get_marketplace_order" and isinstance(result, dict):
        known.resolved["marketplace_order"] = result
        if result.get("order_id"):
            known.resolved.setdefault("order_id", result["order_id"])
        known.resolved.setdefault("connection_id", result.get("connection_id"))
        known.resolved.setdefault("marketplace_order_id", result.get("id"))
    elif tool == "get_order" and isinstance(result, dict):
        known.resolved["order_lookup"] = result
        lines = result.get("lines", [])
        line = _line_named(result, lowered) if len(lines) > 1 else None
        if line:  # the price paid for the item the request names, tax included
            known.resolved.setdefault("amount_cents", line["total_cents"])
        if line or len(lines) == 1:  # the item the request is about
            known.resolved.setdefault("order_line_id", (line or lines[0])["id"])
        if result.get("marketplace_order_id"):  # its buyer is written to on the marketplace
            known.resolved.setdefault("marketplace_order_id", result["marketplace_order_id"])
        buyer = result.get("customer_id")  # "check the customer of order 3992"
        if buyer and re.search(r"\b(?:customer|client|buyer)\b", lowered):
            known.resolved.setdefault("customer_id", buyer)
    elif tool == "list_orders":
        known.resolved["orders_lookup"] = items
        # not shipped yet: the one order a cancellation or a hold can be about
        open_ = [o for o in items if o.get("status") in ("pending", "paid", "processing")]
        # the order in the state the tool acts on: her parcel is on its way, his survey is due
        # after delivery; the newest such order (items come newest first)
        in_state = [o for o in items if o.get("status") in ORDER_STATES.get(known.target, ())]
        # "the MacBook he bought on Amazon": the order of the channel named
        channel = _channel_named(lowered)
        if channel and len(items) > 1:
            on_channel = [o for o in items if o.get("channel") == channel]
            in_state = [o for o in in_state if o.get("channel") == channel] or in_state
            if len(on_channel) == 1:
                items = on_channel
        holding = _order_holding(items, lowered)
        if holding is not None:  # "his Redmi Note 13", "the ThinkPad that came through Fnac"
            known.resolved["order_id"] = holding
        elif len(items) == 1 or (items and re.search(r"\b(last|latest|most recent)\b", lowered)):
            known.resolved["order_id"] = items[0]["id"]  # newest first
        elif in_state:
            known.resolved["order_id"] = in_state[0]["id"]
        elif len(open_) == 1 and re.search(
            r"\b(?:cancel|hold|park|stop|ship|dispatch|send|packed|capture|charge|pay|mark)",
            lowered,
        ):
            known.resolved["order_id"] = open_[0]["id"]
    elif tool == "list_rates":
        known.resolved["rate_lookup"] = items
        if (line := _described_rate(items, lowered)) is not None:
            known.resolved["rate_id"] = line
    elif tool in ("list_risk_alerts", "list_system_alerts"):
        known.resolved["alert_lookup"] = items
        alert_id = _described_alert(items, known)
        if alert_id is not None:
            known.resolved["alert_id"] = alert_id
    elif tool == "list_inspections":
        known.resolved["inspection_lookup"] = items
        if len(items) == 1:
            known.resolved["inspection_id"] = items[0]["id"]
    elif tool == "list_staff_users":
        known.resolved["staff_lookup"] = items
        named = [u for u in items if plain(str(u.get("full_name", ""))) in lowered]
        if not named:  # "Mehdi's key": a first name, when one user has it
            named = [u for u in items if _first_name(u) and _says(lowered, _first_name(u))]
        if len(named) == 1:
            known.resolved["user_id"] = named[0]["id"]
    elif tool == "search_articles" and isinstance(result, dict):
        hits = [h for h in result.get("hits", []) if isinstance(h, dict)]
        known.resolved["article_lookup"] = [h.get("article", h) for h in hits]
        # the best article, when it holds at least two of the request's words: a weak match
        # is no article to archive or delete
        if hits and len(hits[0].get("matched", [])) >= 2:
            known.resolved["article_id"] = hits[0].get("article", hits[0]).get("id")
    elif tool == "list_payment_methods":
        known.resolved["card_lookup"] = items
        # the card of the brand named ("his saved mastercard"), else the only or default one
        if brand := CARD_BRAND.search(lowered):
            choices = [[m for m in items if plain(str(m.get("brand"))) == brand.group(0)]]
        else:
            choices = [items, [m for m in items if m.get("is_default")]]
        chosen = next((c for c in choices if len(c) == 1), [])
        if chosen:
            known.resolved["payment_method_id"] = chosen[0]["id"]
    elif tool == "list_api_keys":
        known.resolved["key_lookup"] = items
        if len(items) == 1:
            known.resolved["key_id"] = items[0]["id"]
    elif tool == "list_config":
        known.resolved["config_lookup"] = items
        if items:

            def stems(text: str) -> set[str]:  # "returns" says "return", "days" "day"
                return {w.removesuffix("s") for w in re.findall(r"[a-z]{3,}", text)}

            wanted = stems(lowered)
            # "set the block threshold to 75, above the review threshold": the one set
            changed = re.search(r"((?:[\w.]+ ){1,4})to -?\d", lowered)
            near = stems(changed.group(1)) if changed else set()

            def fit(setting: dict[str, Any]) -> int:  # the key's own words count most
                key_words = stems(str(setting.get("key", "")).replace("_", " "))
                described = stems(plain(str(setting.get("description"))))
                return (
                    3 * len(wanted & key_words)
                    + len(wanted & described)
                    + 2 * len(near & key_words)
                )

            best = max(items, key=fit)
            if fit(best) >= 3:
                known.resolved["key"] = best["key"]
    elif tool in NAMED_BY_THE_REQUEST:
        found, field, names = NAMED_BY_THE_REQUEST[tool]
        known.resolved[found] = items
        named = [item for item in items if names(lowered, item)]
        if len(named) == 1:
            known.resolved[field] = named[0]["id"]
    elif tool == "get_stock":
        known.resolved["stock_lookup"] = items
        if len(items) == 1:
            known.resolved["stock_level_id"] = items[0]["id"]
    elif tool == "list_warehouses":
        known.resolved["warehouse_lookup"] = items
        named = [w for w in items if _mentions(lowered, w)]
        if len(named) == 1:
            known.resolved["warehouse_id"] = named[0]["id"]
        elif len(named) == 2 and "from_warehouse_id" not in known.resolved:
            # the site stock leaves from is the one said after "from" ("Lyon is almost out,
            # send 3 over from Paris"), else the first one named ("Paris to Lyon")
            first, second = sorted(
                named, key=lambda w: (not _said_after_from(lowered, w), _position(lowered, w))
            )
            known.resolved["from_warehouse_id"] = first["id"]
            known.resolved["to_warehouse_id"] = second["id"]


def _said_after_from(lowered: str, warehouse: dict[str, Any]) -> bool:
    before = lowered[: max(_position(lowered, warehouse), 0)].rstrip()
    return before.endswith(("from", "out of", "from the", "depuis"))


def _refunds_a_line(spec: ToolSpec, known: Known) -> bool:
    """A refund of one item of an order, named in words and with no amount given."""
    return (
        spec.name == "refund_payment"
        and not known.found.money_cents
        and bool(known.found.skus or product_phrase(known.text))
    )


def _order_holding(orders: list[dict[str, Any]], lowered: str) -> int | None:
    """The one order among several whose products the request names best."""
    if len(orders) < 2:
        return None

    def named(order: dict[str, Any]) -> int:
        return len(_words_in_common(lowered, " ".join(order.get("products", [])), shortest=2))

    scores = sorted((named(order), order["id"]) for order in orders)
    (runner_up, _), (best, order_id) = scores[-2], scores[-1]
    return order_id if best > runner_up else None


def _line_named(order: dict[str, Any], lowered: str) -> dict[str, Any] | None:
    """The one order line whose SKU or name the request gives."""
    named = [
        line for line in order["lines"]
        if _words_in_common(lowered, f"{line.get('name')} {line.get('sku')}", shortest=3)
    ]  # fmt: skip
    return named[0] if len(named) == 1 else None


def _words_in_common(lowered: str, text: str, shortest: int) -> set[str]:
    """The words (of `shortest` letters or digits or more) the request shares with a record's
    text, its small words and verbs left out."""

    def words(said: str) -> set[str]:
        return set(re.findall(rf"[a-z0-9]{{{shortest},}}", plain(said)))

    return (words(lowered) - STOP - VERBS) & words(text)


def _first_name(user: dict[str, Any]) -> str:
    return plain(str(user.get("full_name", ""))).split(" ")[0]


def _says(lowered: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", lowered) is not None


def _full_name(customer: dict[str, Any]) -> str:
    return plain(f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip())


def _names_connection(lowered: str, connection: dict[str, Any]) -> bool:
    marketplace = plain(str(connection.get("marketplace", ""))).replace("_", " ")
    name = plain(str(connection.get("name", "")))
    squashed = lowered.replace(" ", "")
    # "Fnac Darty (Mirakl)" is named by "fnac" too; "marketplace" names none of them
    own_words = set(re.findall(r"[a-z]{4,}", name)) - {"marketplace", "market", "back"}
    return bool(marketplace) and (
        marketplace.replace(" ", "") in squashed
        or name.split(" (")[0].replace(" ", "") in squashed
        or any(re.search(rf"\b{word}\b", lowered) for word in own_words)
    )


def _names_carrier(lowered: str, carrier: dict[str, Any]) -> bool:
    """A carrier named by its name, its first word ("DPD") or its code."""
    name = plain(str(carrier.get("name", "")))
    words = {name, name.split()[0] if name else "", plain(str(carrier.get("code", "")))}
    return any(len(w) >= 3 and re.search(rf"\b{re.escape(w)}\b", lowered) for w in words)


def _names_category(lowered: str, category: dict[str, Any]) -> bool:
    """A category named in the request, singular or plural ("tablets", "a laptop")."""
    words = re.findall(r"[a-z]{5,}", plain(str(category.get("name", ""))))
    return any(re.search(rf"\b{re.escape(w.removesuffix('s'))}s?\b", lowered) for w in words)


# Look-ups whose list holds the one entity the request names: the key its list is kept
# under, the argument it fills, and whether the (plain) request names an item.
NAMED_BY_THE_REQUEST: dict[str, tuple[str, str, Callable[[str, dict[str, Any]], bool]]] = {
    "list_carriers": ("carrier_lookup", "carrier_id", _names_carrier),
    "list_categories": ("category_lookup", "category_id", _names_category),
    "list_connections": ("connection_lookup", "connection_id", _names_connection),
}


PRODUCT_NOISE = frozenset((
    "product", "products", "sku", "variant", "stock", "price", "defect", "defects", "rate",
    "refurb", "refurbished", "sales", "quality", "metrics", "units", "unit",
))  # fmt: skip
# Words a small number follows that are no model's: "reorder point 3", "order 12", "grade 2"
NOT_MODELS = (
    STOP | VERBS | PRODUCT_NOISE | {n for nouns in ID_NOUNS.values() for n in nouns}
    | {"point", "points", "bin", "grade", "day", "days", "week", "weeks", "level", "max", "min"}
)  # fmt: skip
# "in Lyon", "on Amazon", "at Paris": a place or a marketplace, not a product
PLACE_BEFORE = re.compile(r"(?:\b(?:in|at|from|to|on|via)|(?<!\w)à)\s+$", re.I)
# capitalised or mixed-case words ("iPhone") and words with digits ("S23", "13")
PRODUCT_PHRASE = re.compile(
    r"\b(?:[a-z]*[A-Z][\w'+-]*|\w*\d\w*)(?:\s+(?:[a-z]*[A-Z][\w'+-]*|\w*\d\w*))*\b"
)


def product_phrase(text: str, people_too: bool = False, places: tuple[str, ...] = ()) -> str | None:
    """The product a request names the way people write it: 'the JBL Flip 6 black', 'the
    Galaxy S23 refurb' -> 'JBL Flip 6', 'Galaxy S23'; not one of the shop's `places`."""
    runs = [
        # "2 MX Master 3S", "30x iPhone 14"; a plural "s" after a model's number ("A54s") goes
        re.sub(r"(?<=\d)s\b", "", re.sub(r"^\d{1,3}\s*x? (?=\D)", "", run))
        for m in PRODUCT_PHRASE.finditer(text)
        # "The Marshall Emberton II", "Put the": a sentence's capitalised first words go
        if (run := _with_model_word(text, m.start(), _without_small_words_before(m.group(0))))
        and not run.isdigit()
        and not PLACE_BEFORE.search(text[: m.start()])
        and not re.fullmatch(r"[A-Z0-9-]{6,}", run)
    ]
    # a run that is only a person's name is not a product ("Nintendo Switch OLED" is)
    runs = [
        r for r in runs
        if len(r) > 2 and not MEASURE.fullmatch(r) and (people_too or r not in person_names(r))
        and plain(r) not in places
    ]  # fmt: skip
    return max(runs, key=len) if runs else None


def _with_model_word(text: str, start: int, run: str) -> str:
    """A model's number typed in lower case with the word before it: "the refurbished
    iphone 14s" -> "iphone 14" (its plural "s" dropped), "iphone 14 128" -> "iphone 14 128"."""
    if not re.fullmatch(r"\d{1,2}s?(?: \d{1,4})*", run):
        return run
    before = re.search(r"([a-z]{3,})\s+$", text[:start])
    word = before.group(1) if before else ""
    if not word or word in NOT_MODELS or word.endswith("ed") or actions(word):
        return run  # "move 3 teal JBL Flip 6", "delivered 10": a count; "reorder point 3"
    number = re.sub(r"(?<=\d)s$", "", run)
    return f"{word} {number}"


def _without_small_words_before(run: str) -> str:
    words = run.split()
    while words and plain(words[0]) in STOP | VERBS:
        words.pop(0)
    return " ".join(words)


# A duration, weight or size ("48h", "500g", "30min") or a kind of client ("a B2B client")
# names no product
MEASURE = re.compile(r"\d+(?:[.,]\d+)?\s*(?:h|hrs?|min|mins|d|j|kgs?|g|cm|mm|ml|%)|b2[bc]", re.I)


def _mentions(lowered: str, warehouse: dict[str, Any]) -> bool:
    return _position(lowered, warehouse) >= 0


def _position(lowered: str, warehouse: dict[str, Any]) -> int:
    names = [warehouse.get("city", ""), warehouse.get("code", ""), warehouse.get("name", "")]
    words = {plain(w) for n in names for w in re.split(r"[\s()-]+", n or "") if len(w) > 3}
    positions = [m.start() for w in words for m in re.finditer(rf"\b{re.escape(w)}\b", lowered)]
    return min(positions) if positions else -1
