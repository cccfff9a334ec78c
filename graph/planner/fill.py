"""Filling a tool's arguments from what a request states, against the tool's own schema."""

import re
import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic.fields import FieldInfo

from graph.actions import BOOKED_THEN_COUNTED, COUNTED, actions
from graph.planner.extract import ID_NOUNS, STOP, Found, keywords, person_names, plain, reason
from graph.planner.fields import (
    QUOTED_VALUE,
    country,
    decimal_euros,
    field_value,
    message_body,
    quantity,
    quoted_for,
)
from graph.router import WRITTEN
from graph.wording import NUMBER_WORDS
from tools.base import ToolSpec

FREE_TEXT = (
    "reason", "note", "resolution", "fault_description", "comment", "detail", "notes", "subject"
)  # fmt: skip
TEXT_FIELDS = frozenset({"title", "name", "body", "subject"})  # a thing's own text
ASIDES = ("note", "notes", "comment", "detail")  # extras a request gives in those words
SEARCH_TEXT = ("query", "search")
FILLED_BY_GRAPH = ("idempotency_key",)  # derived from the thread and the tool call
# What a customer said, reported: "said the delivery was a bit slow"
SAID = re.compile(r"\b(?:said|says|commented|wrote|added)(?: that)?:? ([^,;]{6,})", re.I)
FOR_DAYS = re.compile(r"\b(?:for|during)\s+(\d{1,3})\s+days?\b")


@dataclass
class Known:
    """What the planner knows for this request: extracted values, and ids it resolved
    through look-up tools (a customer named in words, a product, a warehouse by city)."""

    text: str
    found: Found
    resolved: dict[str, Any] = field(default_factory=dict)
    context: str = ""  # the whole request, when the text is one part of it
    places: tuple[str, ...] = ()  # the shop's sites as merchants name them ("saint priest")
    target: str = ""  # the tool the look-ups work towards
    catalogue: frozenset[str] = frozenset()  # the words of its brands and variants' names


@dataclass
class Filled:
    args: dict[str, Any]
    missing: list[str]


def fill(spec: ToolSpec, known: Known) -> Filled:
    args: dict[str, Any] = {}
    leftover = [n for n in known.found.numbers]
    fields = spec.args_model.model_fields
    required_ids = [n for n, f in fields.items() if f.is_required() and n.endswith("_id")]
    for name, info in fields.items():
        if name in ("cursor", "limit") or name in FILLED_BY_GRAPH:
            continue
        value = _value(name, info, known, spec)
        if isinstance(value, str):
            value = _within_length(value, info)
        if value is not None:
            args[name] = value
    for name in required_ids:
        # "show 1042": the one id the tool needs, from a number no other field took
        # ("pick list for Paris, 20 orders max": 20 is max_orders, not the warehouse)
        taken = [*args.values()] + [  # "drop it to 319": 319 is the price, not an id
            v // 100 for k, v in args.items() if k.endswith("_cents") and isinstance(v, int)
        ]
        unused = [n for n in leftover if n not in taken]
        if name not in args and len(required_ids) == 1 and unused and not by_order(name, known):
            args[name] = unused[0]
    optional = {n for n, info in fields.items() if not info.is_required()}
    if {"sku", "variant_id"} <= optional and "sku" in args:
        args.pop("variant_id", None)  # a SKU is named one way: by its code
    if {"sku", "product_id"} <= optional and {"sku", "product_id"} <= set(args):
        # a tool of a product or of one SKU: the SKU when the request gives it, else all of it
        args.pop("product_id" if known.found.skus else "sku")
    missing = [
        n for n, info in fields.items()
        if info.is_required() and n not in args and n not in FILLED_BY_GRAPH
    ]  # fmt: skip
    return Filled(_in_field_order(args, fields), missing)


def _within_length(text: str, info: Any) -> str:
    """Free text cut to the field's longest, at a word: a long request's why still fits the
    reason it gives."""
    longest = next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
    if longest is None or len(text) <= longest:
        return text
    return text[: longest + 1].rsplit(" ", 1)[0].rstrip(" ,;:.") if " " in text else text[:longest]


# The record an order has, by the words that name it: "money back for 3962" gives no payment
# number, so 3962 is the order (merchants know orders by number), and its payment is looked up.
ORDER_RECORDS = {
    "payment_id": r"payments?|transactions?",
    "shipment_id": r"shipments?|parcels?|packages?",
    "return_id": r"returns?|rmas?",
    "document_id": r"documents?|invoices?|credit notes?|labels?|packing slips?",
    "survey_id": r"surveys?|questionnaires?",
}


def by_order(name: str, known: Known) -> bool:
    """Whether a bare number in the request stands for the order behind the `name` record."""
    words = ORDER_RECORDS.get(name)
    return bool(words) and not re.search(
        rf"\b(?:{words})\s*(?:#|n°|no\.?)?\s*\d", plain(known.text)
    )


def _in_field_order(args: dict[str, Any], fields: dict[str, FieldInfo]) -> dict[str, Any]:
    return {name: args[name] for name in fields if name in args}


# A group of settings: "the fraud thresholds", "our return settings"
SETTING_GROUP = re.compile(
    r"\b(fraud|returns?|loyalty|quality|risk|orders?|inventory|transport|documents?|monitoring|"
    r"marketplace|company|automations?) (?:\w+ )?(?:settings?|thresholds?|config\w*|parameters?|"
    r"rules?)\b"
)
# Why a return past its window is accepted: the sentence saying so
LATE_ACCEPTED = re.compile(
    r"[^.;!?]*\b(?:goodwill|exception|approved|agreed to|make an exception|accept it late|"
    r"as a gesture)\b[^.;!?]*",
    re.I,
)
# The settings groups whose keys are plural: "returns.window_days", "orders.…"
PLURAL_GROUPS = ("return", "order", "document", "automation")
# How many vouchers: "three 5 € vouchers", "2 vouchers"
VOUCHER_COUNT = re.compile(
    rf"\b(\d{{1,3}}|{'|'.join(NUMBER_WORDS)})\s+(?:\d+(?:[.,]\d+)?\s*(?:€|euros?|eur)\s+)?vouchers?\b"
)
# The words before a setting's value as it is now: "instead of 30", "from 30", "currently 30"
OLD_VALUE = re.compile(r"\b(?:instead of|from|than|currently|now|was|is|of)\s+$")


def _value(name: str, info: FieldInfo, known: Known, spec: ToolSpec) -> Any:
    found, text, lowered = known.found, known.text, plain(known.text)
    kind = _base_type(info.annotation)
    if name in known.resolved:
        return known.resolved[name]
    if name == "lines":
        return _lines(spec, known)
    if name == "entity_id" and spec.name == "list_events" and "order_id" in found.ids:
        return str(found.ids["order_id"])  # "the events of order 3990"
    if name == "entity_type" and spec.name == "list_events" and "order_id" in found.ids:
        return "order"
    if name == "parent_id" and "category_id" in found.ids:
        return found.ids["category_id"]  # "a sub-category under category 8"
    if name.endswith("_id") and kind is int:
        return found.ids.get(name)
    if name.endswith("_ids") and typing.get_origin(kind) is list and name[:-1] in found.ids:
        return [found.ids[name[:-1]]]  # "mark buyer message 156 as read"
    if name == "sku":
        return found.skus[0] if found.skus else None
    if name in ("reference", "batch_reference") and found.references:
        return found.references[0]  # "received 20 cables, PO-7781"
    if name == "skus":
        return found.skus or None
    if name.startswith(("min_", "max_")) and name.endswith("_cents") and found.money_cents:
        return _bound(name, lowered, found.money_cents)
    if name.endswith("_cents") and kind is int and (found.money_cents or decimal_euros(text)):
        return found.money_cents[0] if found.money_cents else decimal_euros(text)
    if name == "body" and spec.name == "send_message":
        return message_body(text)
    if name == "body" and "article" in spec.name and (written := WRITTEN.match(text)):
        return text[len(written.group(1)) :].lstrip(": ").strip()  # "…in shipping: <its text>"
    if name == "price_cents" and (whole := WHOLE_PRICE.search(lowered)):
        return int(whole.group(1)) * 100  # "drop it to 319": a price in whole euros
    if name == "quantity" and spec.name == "record_movement":
        if gap := COUNTED.search(lowered):  # "only 1 on the shelf, the system says 8"
            return int(gap.group(1)) - int(gap.group(2))
        if gap := BOOKED_THEN_COUNTED.search(lowered):  # "the system says 8, the shelf has 7"
            return int(gap.group(2)) - int(gap.group(1))
    if name == "quantity":
        count = found.quantities[0] if found.quantities else quantity(text)
        if count is None and "sku" in spec.args_model.model_fields:
            count = _leading_count(text)  # "move 3 teal JBL Flip 6 from Paris to Lyon"
        return _signed(count, spec, lowered)
    if name == "fault_description":  # what the customer reports, not what we are asked to do
        told = [c for c in re.split(r"(?<=[.;!?])\s+", text) if not actions(plain(c))]
        return " ".join(told).strip(" .") or text[:200]
    if name in FREE_TEXT and not _choices(info.annotation):
        quoted = [next(g for g in m.groups() if g) for m in QUOTED_VALUE.finditer(text)]
        if name == "detail" and spec.writes:  # "a degraded heartbeat: the API keeps timing out"
            if quoted:
                return quoted[0]
            aside = re.search(r"[:,]\s*([^,:]{8,})$", text)
            detail = aside.group(1).strip(" .!") if aside else ""
            return detail if detail and not actions(plain(detail)) else None
        fields = spec.args_model.model_fields
        # 'score 2, nps 3, "the box was crushed"': what they said, unless the quote is another
        # field's ("put 'Faure Design SARL' as her company")
        labelled = "company" in fields and quoted_for("company", text) is not None
        if name in ASIDES and quoted and not labelled and not TEXT_FIELDS & set(fields):
            return quoted[0]
        said = SAID.search(text)
        if name == "comment" and said:
            return said.group(1).strip(" .!")  # "4 out of 5, said the delivery was slow"
        if name in ASIDES and not info.is_required() and not re.search(rf"\b{name[:4]}", lowered):
            return None  # a note or a comment only when the request gives one
        # a write keeps its why for the audit trail, even where the tool does not insist
        keep_why = info.is_required() or (spec.writes and name == "reason")
        return reason(text) or (text[:200] if keep_why else None)
    if name == "value" and spec.name == "set_config":
        key = str(known.resolved.get("key") or "")
        if key.endswith("_cents") and (found.money_cents or decimal_euros(text)):
            return found.money_cents[0] if found.money_cents else decimal_euros(text)  # 60€
        setting = re.search(r"\bto\s+(-?\d+(?:\.\d+)?|true|false|on|off|'[^']*')", lowered)
        if setting:
            raw = setting.group(1).strip("'")
            flags = {"true": True, "on": True, "false": False, "off": False}
            return flags.get(raw, int(raw) if raw.lstrip("-").isdigit() else raw)
        # "45 days to return items instead of 30": the one number that is not the old value
        new = {
            number.group(1)
            for number in re.finditer(r"(?<![\w.])(-?\d+)(?![\w.])", lowered)
            if not OLD_VALUE.search(lowered[: number.start()])
        }
        return int(new.pop()) if len(new) == 1 else None
    if name == "vouchers" and (vouchers := VOUCHER_COUNT.search(lowered)):
        how_many = vouchers.group(1)
        return int(how_many if how_many.isdigit() else NUMBER_WORDS[how_many])  # "three 5 €"
    if name == "prefix" and spec.name == "list_config" and (group := SETTING_GROUP.search(lowered)):
        word, stem = group.group(1), group.group(1).removesuffix("s")
        return f"{stem}s" if stem in PLURAL_GROUPS else word  # "the return settings": returns
    if name == "tags" and spec.name == "update_article" and re.search(r"\badd\b", lowered):
        # "add the tag 'dispute', keep the ones it has": its tags and the new one
        added: list[str] = field_value(name, list[str], text) or []
        article: dict[str, Any] = next(
            (a for a in known.resolved.get("article_lookup", [])
             if a.get("id") == known.resolved.get("article_id")),
            {},
        )  # fmt: skip
        return list(dict.fromkeys([*article.get("tags", []), *added])) or None
    if name == "late_override_reason" and (why := LATE_ACCEPTED.search(text)):
        return why.group(0).strip(" .")  # "Thomas approved a goodwill exception because…"
    if name == "tracking_number" and found.tracking_numbers:
        return found.tracking_numbers[0]  # "parcel 6A00030173172"
    if name == "external_order_id" and found.marketplace_numbers:
        return found.marketplace_numbers[0]  # "BM0105918919"
    if name == "key" and spec.name.endswith("config"):
        dotted = re.search(r"(?<![@\w.])([a-z_]+\.[a-z_.]+)(?![\w@])", lowered)
        return dotted.group(1) if dotted else None
    if name in SEARCH_TEXT and (info.is_required() or spec.name.startswith(("search_", "list_"))):
        # an article is searched on the whole case: "a customer wants to send headphones back
        # 38 days after delivery. what does our policy say?"
        about = known.context if spec.name == "search_articles" and known.context else text
        return _search_text(about, found, spec)  # not "the search that led to" an article
    if name in ("start", "placed_from") and found.period:
        return found.period[0].isoformat()
    if name in ("end", "placed_to") and found.period:
        return found.period[1].isoformat()
    if name == "days" and (explicit := FOR_DAYS.search(lowered)):
        return int(explicit.group(1))  # "block that ip for 30 days", whatever "tonight" says
    if name == "days" and found.period and _days_of_a_window(spec):
        return (found.period[1] - found.period[0]).days + 1  # "between 27 Oct and 2 Nov"
    if name == "day" and found.day:
        return found.day.isoformat()
    if name == "is_default" and re.search(r"\b(?:by|as|the|her|his|their) default\b", lowered):
        return True  # "use it by default from now on"
    if name == "grade" and (graded := GRADE.search(text)):
        return graded.group(1).upper()  # "grade A", "grade b": one letter, too short for words
    if name == "email" and found.emails:
        return found.emails[0]
    if name == "card_number" and found.cards:
        return found.cards[0]
    if name == "top":
        match = re.search(r"\btop\s+(\d{1,3})\b", lowered)
        return int(match.group(1)) if match else None
    if name in DURATION_FIELDS:
        return _duration(lowered, DURATION_FIELDS[name])
    if spec.name in ("block_entity", "unblock_entity"):
        return _blocked_entity(name, known)
    if (
        name in ("first_name", "last_name")
        and spec.name.startswith("update_")
        and not (re.search(r"\b(?:name|renam\w*|called|spelt|spelled)\b", lowered))
    ):
        return None  # the name that finds the customer is not a new one to record
    if name == "name" and info.is_required() and "city" in spec.args_model.model_fields:
        if (value := field_value(name, kind, text, True)) is not None:
            return value
        return field_value("city", kind, text)  # a new site is known by its city
    if name == "marketing_opt_in":
        return _opt_in(lowered)
    if (value := field_value(name, kind, text, info.is_required())) is not None:
        return value
    if kind is bool:
        return _flag(name, lowered)
    choices = _choices(info.annotation)
    if choices:
        return _choice(name, choices, lowered)
    if typing.get_origin(kind) is list and (options := _choices(typing.get_args(kind)[0])):
        # "revenue, refunds, cancellations, stock": each names a value by its own word
        named = [c for c in options if _names_choice(c, lowered) or _names_its_word(c, lowered)]
        return named or None
    return None


GENERIC_PARTS = frozenset({"rate", "daily", "count", "total", "number"})


def _days_of_a_window(spec: ToolSpec) -> bool:
    """Whether a tool's days are a window ending somewhere, read from the period a request
    names ("between 27 Oct and 2 Nov"); a block's days are a duration said as one ("for 30
    days"), never a day the request names ("calls today")."""
    fields = spec.args_model.model_fields
    return "start" not in fields and ("end" in fields or not spec.writes)


def _names_its_word(choice: str, lowered: str) -> bool:
    """Whether the request says the word that tells this value apart ("refunds" for
    refund_rate, "stock" for stock_movements)."""
    parts = [p for p in choice.split("_") if p not in GENERIC_PARTS and len(p) >= 4]
    return any(re.search(rf"\b{re.escape(p[:5])}", lowered) for p in parts)


def _lines(spec: ToolSpec, known: Known) -> list[dict[str, Any]] | None:
    """The lines of a new order (the product named, how many) or of a return (the order's
    lines the request names, or all of them, in the condition it states)."""
    count = known.found.quantities[0] if known.found.quantities else None
    if spec.name == "create_order":
        sku = known.found.skus[0] if known.found.skus else known.resolved.get("sku")
        return [{"sku": sku, "quantity": count or _leading_count(known.text) or 1}] if sku else None
    order = known.resolved.get("order_lookup")
    if spec.name != "request_return" or not isinstance(order, dict):
        return None
    condition = _choice("condition", ["unopened", "opened", "damaged", "defective"],
                        plain(known.text))  # fmt: skip
    if condition is None:
        return None
    lines = [line for line in order.get("lines", []) if isinstance(line, dict)]
    wanted = set(re.findall(r"\w+", plain(known.text))) - STOP
    named = [line for line in lines if wanted & (record_words(line) - {"refurbished", "grade"})]
    return [
        {"order_line_id": line["id"], "quantity": count or line.get("quantity", 1),
         "condition": condition}
        for line in (named or lines)
    ] or None  # fmt: skip


RECORD_NOUNS = frozenset(noun for nouns in ID_NOUNS.values() for noun in nouns if " " not in noun)
# Stock that leaves without a sale: "3 got damaged, write them off", "2 missing"
STOCK_LOST = re.compile(
    r"\b(?:write (?:them |it )?off|written off|damaged|missing|lost|broken|stolen|crushed|"
    r"(?:take|took|taken) (?:them |it )?out of (?:the )?stock)\b"
)


def _signed(count: int | None, spec: ToolSpec, lowered: str) -> int | None:
    """A stock adjustment removes what was lost: its quantity is negative."""
    if count is None or count < 0 or spec.name != "record_movement":
        return count
    if _choice("kind", ["inbound", "outbound", "adjustment"], lowered) == "adjustment" and (
        STOCK_LOST.search(lowered)
    ):
        return -count
    return count


def _leading_count(text: str) -> int | None:
    """A count before what it counts ("move 3 teal JBL Flip 6"); not a model's number after
    its capitalised name ("the JBL Flip 6 on Amazon")."""
    for match in re.finditer(r"(?<![\w.])(\d{1,3})\s+(?!euros?\b|eur\b)(?:x\s+)?[A-Za-z]", text):
        before = text[: match.start()].split()
        if before and plain(before[-1]) in RECORD_NOUNS:
            continue  # "on connection 5 at 124,99": a record's number, not a count
        if before and plain(before[-1]) in ("at", "to", "down", "only"):
            continue  # "lyon is at 0 on the charger, move 3": a level, not a count
        opens = len(before) <= 1 or before[-2][-1:] in ".!?:;"  # "Move 4 black…": a verb
        ends_a_clause = bool(before) and before[-1][-1:] in ".!?:;,"  # "at Lyon: 20 JBL…"
        named = bool(before) and any(c.isupper() for c in before[-1])  # "JBL", "iPhone"
        after_a_name = named and not (opens or ends_a_clause)
        if not after_a_name:
            return int(match.group(1))
    return None


def _search_text(text: str, found: Found, spec: ToolSpec) -> str | None:
    """What to search for: a person's name or e-mail when the request names one, else the
    words that name the thing."""
    if spec.name == "search_products" and found.eans:
        return found.eans[0]  # "the barcode 3760000002707"
    if spec.name == "list_customers":
        names = person_names(text)
        if found.emails or names:
            return found.emails[0] if found.emails else names[0]
    return keywords(text, drop=noun_words(spec)) or None


def _blocked_entity(name: str, known: Known) -> Any:
    found = known.found
    if found.emails:
        kind, value = "email", found.emails[0]
    elif found.ips:
        kind, value = "ip", found.ips[0]
    elif fingerprint := FINGERPRINT.search(known.text):
        kind, value = "card_fingerprint", fingerprint.group(0).lower()
    elif "customer_id" in found.ids or "customer_id" in known.resolved:
        kind = "customer"
        value = str(found.ids.get("customer_id") or known.resolved["customer_id"])
    else:
        return reason(known.text) if name == "reason" else None
    if name == "kind":
        return kind
    if name == "value":
        return value
    return reason(known.text) or known.text[:200] if name == "reason" else None


GRADE = re.compile(r"\bgrade\s+([abc])\b", re.I)
FINGERPRINT = re.compile(r"\b[0-9a-fA-F]{32}\b")  # a card's fingerprint, as the gateway gives it
OPT_OUT = re.compile(
    r"\b(?:opt(?:s|ed)? out|unsubscribe\w*|stop (?:sending|emailing)|no (?:more|longer) "
    r"(?:wants? )?(?:newsletters?|marketing|promo)|(?:does not|doesn't|do not|don't) want "
    r"(?:any )?(?:newsletters?|marketing|promo)|off (?:our |the )?(?:marketing|mailing|"
    r"newsletter))"
)
OPT_IN = re.compile(
    r"\b(?:opt(?:s|ed)? in|subscribe[sd]?|wants? (?:the |our )?(?:newsletters?|promo))"
)


def _opt_in(lowered: str) -> bool | None:
    """Marketing consent from how people say it: "stop sending her newsletters"."""
    if OPT_OUT.search(lowered):
        return False
    return True if OPT_IN.search(lowered) else None


def _flag(name: str, lowered: str) -> bool | None:
    if name == "helpful":
        if re.search(r"\b(not helpful|unhelpful|useless|did not help|didn't help)\b", lowered):
            return False
        return True if "helpful" in lowered or "useful" in lowered else None
    if name.startswith("include_") and re.search(r"\b(?:too|as well|including)\b", lowered):
        return True  # "all the api keys, revoked ones too"
    if name == "unpublished_only" and re.search(r"(?:\bnot|n't) (?:been |yet )?published", lowered):
        return True  # "events that haven't been published to kafka yet"
    words = name.removesuffix("_only").split("_")
    return True if all(word in lowered for word in words) else None


def _choice(name: str, choices: list[str], lowered: str) -> str | None:
    """The enum value the request names, in full or by its stem ("adjust" -> adjustment,
    "pause" -> paused)."""
    hits = [choice for choice in choices if _names_choice(choice, lowered)]
    if "phone" in hits and name == "channel":
        return "phone"  # "a call about his Back Market parcel": by phone, about a marketplace
    if "all" in choices and INCLUSIVE.search(lowered):
        return "all"  # "every alert we ever had, resolved ones included"
    if name == "zone" and (code := country(lowered)) in choices:
        return code  # "France standard" -> FR
    return max(hits, key=len) if hits else None


# An amount as a bound: "above 1000€", "under 50 €", "between 100 and 500€"
AT_LEAST = re.compile(r"\b(?:above|over|more than|at least|bigger than|greater than)\s*€?\s*\d")
AT_MOST = re.compile(r"\b(?:under|below|less than|at most|up to)\s*€?\s*\d")
AMOUNT_BOUND = re.compile(rf"{AT_LEAST.pattern}|{AT_MOST.pattern}|\bbetween\s*€?\s*\d")


def _bound(name: str, lowered: str, amounts: list[int]) -> int | None:
    """A lower or upper bound on an amount: "above 1000€" is a minimum, "under 50€" a
    maximum, "between 100 and 500€" both."""
    if len(amounts) >= 2:
        return min(amounts) if name.startswith("min_") else max(amounts)
    said = AT_LEAST if name.startswith("min_") else AT_MOST
    return amounts[0] if said.search(lowered) else None


INCLUSIVE = re.compile(r"\b(?:included|including|every|ever|whatever (?:the )?status|any status)\b")


# A new price in whole euros with no currency said: "drop it to 319", "put it at 459"
WHOLE_PRICE = re.compile(
    r"\b(?:to|at)\s+(\d{1,5})\b(?![.,]\d|\s*(?:%|days?|units?|pcs|kgs?|g\b|locations?))"
)
# Arguments that are a length of time, and their unit in minutes
DURATION_FIELDS = {"days": 1440, "hours": 60, "expires_in_days": 1440, "expires_in_minutes": 1}
DURATION = re.compile(
    r"\b(\d{1,4})\s*(min(?:ute)?s?|h|hrs?|hours?|heures?|d|days?|j|jours?|weeks?|semaines?)\b"
)
MINUTES_IN = {"m": 1, "h": 60, "d": 1440, "j": 1440, "w": 10080, "s": 10080}


def _duration(lowered: str, unit_minutes: int) -> int | None:
    """A length of time said in any unit ("for 48h", "the last 2 weeks"), in the argument's
    unit, when it is a whole number of them."""
    match = DURATION.search(lowered)
    if not match:
        return None
    minutes = int(match.group(1)) * MINUTES_IN[match.group(2)[0]]
    return minutes // unit_minutes if minutes % unit_minutes == 0 else None


# Enum values said in other words: "phoned asking when..." is a question, "write them off"
# an adjustment, "we received 10 from the supplier" stock coming in.
CHOICE_WORDS: dict[str, tuple[str, ...]] = {
    "question": ("asking", "asked", "wants to know", "wanted to know"),
    "complaint": ("complained", "complaining", "unhappy", "angry"),
    "adjustment": ("write off", "written off", "damaged", "missing", "stock count", "counted",
                   "system says", "system shows", "recount", "crushed", "got broken",
                   "out of stock", "out of the stock", "stolen", "lost"),
    "unopened": ("sealed", "never opened", "not opened", "still in its box", "unused",
                 "hasn't even opened", "hasn't opened", "has not opened", "didn't open",
                 "not even opened", "never took it out of the box"),
    "inbound": ("received", "delivery from", "supplier", "arrived", "came in", "got in",
                "book them in", "book it in", "goods in"),
    "in_transit": ("on the road", "on its way", "on their way", "en route"),
    "phone": ("called", "phoned", "rang", "a call", "call from", "phone call", "on the phone"),
    "damaged_in_transit": ("arrived damaged", "arrived broken", "damaged in delivery",
                           "broken on arrival", "damaged in the post"),
    "defective": ("faulty", "does not work", "doesn't work", "stopped working"),
    "changed_mind": ("changed his mind", "changed her mind", "changed their mind",
                     "change of mind", "fell through", "no longer needs", "no longer wants",
                     "doesn't need", "doesn't want", "cheaper elsewhere", "found it cheaper",
                     "does not suit", "doesn't suit", "never took it out of the box"),
    "wrong_item": ("wrong item", "wrong product", "wrong colour", "wrong color", "wrong size"),
    "pending": ("waiting for payment", "awaiting payment", "not paid", "unpaid", "nobody paid",
                "to be paid", "never paid", "never got paid"),
    "cancellations": ("cancelation", "cancelations", "cancelling", "canceling"),
    "passed": ("are fine", "is fine", "all fine", "all good", "no defect", "no issue"),
    "archived": ("off sale", "stop selling", "discontinue", "phase out",
                 "phasing out"),
    "shipping": ("delivery address", "deliver to", "ship to", "shipping address"),
    "billing": ("billing address", "invoice address", "invoicing address"),
    "marketplace": ("amazon", "cdiscount", "back market", "backmarket", "refurbed", "mirakl",
                    "fnac", "ebay"),
}  # fmt: skip


# States said only in their own form: "can we still cancel it?" filters on no cancelled order
STATE_ONLY = {"cancelled": re.compile(r"\bcancel(?:l?ed|lations?)\b")}


def _names_choice(choice: str, lowered: str) -> bool:
    if choice in STATE_ONLY:
        return STATE_ONLY[choice].search(lowered) is not None
    words = choice.replace("_", " ")
    if len(words) >= 2:
        words = words.lower()  # "FR standard": the zone FR (a grade "A" stays a letter)
    if re.search(rf"\b{re.escape(words)}(?:s|d|ed|ing)?\b", lowered):
        return True  # "emailed us" -> email, "blocked IPs" -> ip
    if any(re.search(rf"\b{re.escape(said)}\b", lowered) for said in CHOICE_WORDS.get(choice, ())):
        return True
    if words.endswith("s") and re.search(rf"\b{re.escape(words[:-1])}\b", lowered):
        return True  # "refund risk" -> refunds
    parts = words.split()
    if len(parts) > 1 and all(re.search(rf"\b{re.escape(p)}", lowered) for p in parts):
        return True  # "changed his mind" -> changed_mind
    if len(words) >= 8:
        stem = words[: max(5, len(words) - 4)]
    elif words.endswith("ed") and len(words) >= 6:
        stem = words[:-1]  # paused -> pause, archived -> archive
    else:
        return False
    return bool(re.search(rf"\b{re.escape(stem)}\w*", lowered))


def _choices(annotation: Any) -> list[str]:
    base = _base_type(annotation)
    if isinstance(base, type) and issubclass(base, Enum):
        return [str(member.value) for member in base]
    if typing.get_origin(base) is typing.Literal:
        return [str(value) for value in typing.get_args(base)]
    return []


def _base_type(annotation: Any) -> Any:
    """int for `int | None`, the Enum for `Status | None`, and so on."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(options[0]) if len(options) == 1 else annotation
    return annotation


def noun_words(spec: ToolSpec) -> set[str]:
    return set(spec.name.split("_")) | {"articles", "products", "customers", "policy"}


def record_words(record: dict[str, Any]) -> set[str]:
    """The words of a record's text and number fields, for matching it to a request."""
    text = " ".join(str(v) for v in record.values() if isinstance(v, str | int))
    return set(re.findall(r"\w+", plain(text)))
