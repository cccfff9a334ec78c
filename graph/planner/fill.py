"""Filling a tool's arguments from what a request states, against the tool's own schema."""

import re
import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic.fields import FieldInfo

from graph.planner.extract import STOP, VERBS, Found, keywords, person_names, plain, reason
from graph.planner.fields import decimal_euros, field_value, quantity
from tools.base import ToolSpec

FREE_TEXT = ("reason", "note", "resolution", "fault_description", "comment", "detail", "notes")
SEARCH_TEXT = ("query", "search")
FILLED_BY_GRAPH = ("idempotency_key",)  # derived from the thread and the tool call


@dataclass
class Known:
    """What the planner knows for this request: extracted values, and ids it resolved
    through look-up tools (a customer named in words, a product, a warehouse by city)."""

    text: str
    found: Found
    resolved: dict[str, Any] = field(default_factory=dict)


@dataclass
class Filled:
    args: dict[str, Any]
    missing: list[str]


def fill(spec: ToolSpec, known: Known) -> Filled:
    args: dict[str, Any] = {}
    missing: list[str] = []
    leftover = [n for n in known.found.numbers]
    fields = spec.args_model.model_fields
    required_ids = [n for n, f in fields.items() if f.is_required() and n.endswith("_id")]
    for name, info in fields.items():
        if name in ("cursor", "limit") or name in FILLED_BY_GRAPH:
            continue
        value = _value(name, info, known, spec)
        if value is None and name in required_ids and len(required_ids) == 1 and leftover:
            value = leftover.pop(0)  # "show 1042": the one id the tool needs
        if value is not None:
            args[name] = value
        elif info.is_required():
            missing.append(name)
    return Filled(args, missing)


def _value(name: str, info: FieldInfo, known: Known, spec: ToolSpec) -> Any:
    found, text, lowered = known.found, known.text, plain(known.text)
    kind = _base_type(info.annotation)
    if name in known.resolved:
        return known.resolved[name]
    if name.endswith("_id") and kind is int:
        return found.ids.get(name)
    if name == "sku":
        return found.skus[0] if found.skus else None
    if name == "skus":
        return found.skus or None
    if name.endswith("_cents") and kind is int and (found.money_cents or decimal_euros(text)):
        return found.money_cents[0] if found.money_cents else decimal_euros(text)
    if name == "quantity":
        return found.quantities[0] if found.quantities else quantity(text)
    if name in FREE_TEXT:
        # a write keeps its why for the audit trail, even where the tool does not insist
        keep_why = info.is_required() or (spec.writes and name == "reason")
        return reason(text) or (text[:200] if keep_why else None)
    if name == "value" and spec.name == "set_config":
        setting = re.search(r"\bto\s+(-?\d+(?:\.\d+)?|true|false|on|off|'[^']*')", lowered)
        if setting:
            raw = setting.group(1).strip("'")
            flags = {"true": True, "on": True, "false": False, "off": False}
            return flags.get(raw, int(raw) if raw.lstrip("-").isdigit() else raw)
        return None
    if name == "key" and spec.name.endswith("config"):
        dotted = re.search(r"(?<![@\w.])([a-z_]+\.[a-z_.]+)(?![\w@])", lowered)
        return dotted.group(1) if dotted else None
    if name in SEARCH_TEXT:
        return _search_text(text, found, spec)
    if name in ("start", "placed_from") and found.period:
        return found.period[0].isoformat()
    if name in ("end", "placed_to") and found.period:
        return found.period[1].isoformat()
    if name == "days" and found.period and "start" not in spec.args_model.model_fields:
        return (found.period[1] - found.period[0]).days + 1  # "between 27 Oct and 2 Nov"
    if name == "day" and found.day:
        return found.day.isoformat()
    if name == "email" and found.emails:
        return found.emails[0]
    if name == "card_number" and found.cards:
        return found.cards[0]
    if name in ("days", "hours", "top"):
        unit = {"days": "days?", "hours": "hours?", "top": ""}[name]
        pattern = r"\btop\s+(\d{1,3})\b" if name == "top" else rf"\b(\d{{1,3}})\s+{unit}\b"
        match = re.search(pattern, lowered)
        return int(match.group(1)) if match else None
    if spec.name in ("block_entity", "unblock_entity"):
        return _blocked_entity(name, known)
    if (value := field_value(name, kind, text, info.is_required())) is not None:
        return value
    if kind is bool:
        return _flag(name, lowered)
    choices = _choices(info.annotation)
    if choices:
        return _choice(name, choices, lowered)
    if typing.get_origin(kind) is list and (options := _choices(typing.get_args(kind)[0])):
        named = [c for c in options if _names_choice(c, lowered)]
        return named or None
    return None


def _search_text(text: str, found: Found, spec: ToolSpec) -> str | None:
    """What to search for: a person's name or e-mail when the request names one, else the
    words that name the thing."""
    if spec.name == "list_customers":
        names = person_names(text)
        if found.emails or names:
            return found.emails[0] if found.emails else names[0]
    return keywords(text, drop=_noun_words(spec)) or None


def _blocked_entity(name: str, known: Known) -> Any:
    found = known.found
    if found.emails:
        kind, value = "email", found.emails[0]
    elif found.ips:
        kind, value = "ip", found.ips[0]
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


def _flag(name: str, lowered: str) -> bool | None:
    if name == "helpful":
        if re.search(r"\b(not helpful|unhelpful|useless|did not help|didn't help)\b", lowered):
            return False
        return True if "helpful" in lowered or "useful" in lowered else None
    words = name.removesuffix("_only").split("_")
    return True if all(word in lowered for word in words) else None


def _choice(name: str, choices: list[str], lowered: str) -> str | None:
    """The enum value the request names, in full or by its stem ("adjust" -> adjustment,
    "pause" -> paused)."""
    hits = [choice for choice in choices if _names_choice(choice, lowered)]
    return max(hits, key=len) if hits else None


def _names_choice(choice: str, lowered: str) -> bool:
    words = choice.replace("_", " ")
    if re.search(rf"\b{re.escape(words)}\b", lowered):
        return True
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


def _noun_words(spec: ToolSpec) -> set[str]:
    return set(spec.name.split("_")) | {"articles", "products", "customers", "policy"}


# An id a request implies through its order: "refund order 12" means order 12's payment.
BY_ORDER = {
    "payment_id": ("list_order_payments", "the order's payments"),
    "shipment_id": ("list_shipments", "the order's shipments"),
    "return_id": ("list_customer_returns", "the order's returns"),
    "document_id": ("list_documents", "the order's documents"),
}
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
    names_customer = "customer_id" in missing or (
        "customer_id" in spec.args_model.model_fields and "customer_id" not in known.found.ids
    )
    if names_customer and "customer_lookup" not in known.resolved:
        names = person_names(text)
        if names or known.found.emails:
            # a name first: an e-mail in the request may be the new one to record
            return "list_customers", {"search": names[0] if names else known.found.emails[0]}
    if "user_id" in missing and "staff_lookup" not in known.resolved and person_names(text):
        return "list_staff_users", {}
    if "key" in missing and spec.name.endswith("config") and "config_lookup" not in known.resolved:
        return "list_config", {}
    if "connection_id" in missing and "connection_lookup" not in known.resolved:
        return "list_connections", {}
    wanted = set(missing)
    if "warehouse_id" in spec.args_model.model_fields and WAREHOUSE_HINT.search(text):
        wanted.add("warehouse_id")  # optional, but named: "in Lyon", "the Paris warehouse"
    order_id = known.found.ids.get("order_id")
    for name, (tool, _) in BY_ORDER.items():
        if name in wanted and order_id and tool not in known.resolved:
            return tool, {"order_id": order_id}
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
        query = product_phrase(text) or keywords(text, drop=_noun_words(spec) | PRODUCT_NOISE)
        if query:
            return "search_products", {"query": query}
    return None


def resolve(tool: str, result: Any, known: Known) -> None:
    """Read a look-up's result into known.resolved."""
    items = result.get("items", result) if isinstance(result, dict) else result
    items = items if isinstance(items, list) else []
    lowered = plain(known.text)
    if tool == "list_customers":
        known.resolved["customer_lookup"] = items
        if len(items) == 1:
            known.resolved["customer_id"] = items[0]["id"]
    elif tool == "search_products":
        known.resolved["product_lookup"] = items
        if items:
            known.resolved["product_id"] = items[0].get("id")
    elif tool == "get_product" and isinstance(result, dict):
        variants = [v for v in result.get("variants", []) if isinstance(v, dict)]
        known.resolved["variant_lookup"] = variants
        if variants:
            # the variant whose colour, capacity or grade the request names
            wanted = set(re.findall(r"\w+", lowered))
            best = max(variants, key=lambda v: len(wanted & _words(v)))
            known.resolved.setdefault("variant_id", best.get("id"))
            known.resolved.setdefault("sku", best.get("sku"))
    elif tool in BY_ORDER_TOOLS:
        known.resolved[tool] = items
        name = BY_ORDER_TOOLS[tool]
        if tool == "list_order_payments":  # the payment that still holds money
            items = [p for p in items if p.get("captured_cents", 0) > p.get("refunded_cents", 0)]
        if items:
            known.resolved[name] = items[-1 if tool == "list_order_payments" else 0]["id"]
    elif tool == "list_staff_users":
        known.resolved["staff_lookup"] = items
        named = [u for u in items if plain(str(u.get("full_name", ""))) in lowered]
        if len(named) == 1:
            known.resolved["user_id"] = named[0]["id"]
    elif tool == "list_config":
        known.resolved["config_lookup"] = items
        if items:
            wanted = set(re.findall(r"[a-z]+", lowered))

            def fit(setting: dict[str, Any]) -> int:  # the key's own words count most
                key_words = set(re.split(r"[._]", str(setting.get("key", ""))))
                described = set(re.findall(r"[a-z]+", plain(str(setting.get("description")))))
                return 3 * len(wanted & key_words) + len(wanted & described)

            best = max(items, key=fit)
            if fit(best) >= 3:
                known.resolved["key"] = best["key"]
    elif tool == "list_connections":
        known.resolved["connection_lookup"] = items
        named = [c for c in items if _names_connection(lowered, c)]
        if len(named) == 1:
            known.resolved["connection_id"] = named[0]["id"]
    elif tool == "list_warehouses":
        known.resolved["warehouse_lookup"] = items
        named = [w for w in items if _mentions(lowered, w)]
        if len(named) == 1:
            known.resolved["warehouse_id"] = named[0]["id"]
        elif len(named) == 2 and "from_warehouse_id" not in known.resolved:
            first, second = sorted(named, key=lambda w: _position(lowered, w))
            known.resolved["from_warehouse_id"] = first["id"]
            known.resolved["to_warehouse_id"] = second["id"]


def _names_connection(lowered: str, connection: dict[str, Any]) -> bool:
    marketplace = plain(str(connection.get("marketplace", ""))).replace("_", " ")
    name = plain(str(connection.get("name", "")))
    squashed = lowered.replace(" ", "")
    return bool(marketplace) and (
        marketplace.replace(" ", "") in squashed or name.split(" (")[0].replace(" ", "") in squashed
    )


PRODUCT_NOISE = frozenset((
    "product", "products", "sku", "variant", "stock", "price", "defect", "defects", "rate",
    "refurb", "refurbished", "sales", "quality", "metrics", "units", "unit",
))  # fmt: skip
PRODUCT_PHRASE = re.compile(r"\b(?:[A-Z][\w'+-]*|\w*\d\w*)(?:\s+(?:[A-Z][\w'+-]*|\w*\d\w*))*\b")


def product_phrase(text: str) -> str | None:
    """The product a request names the way people write it: 'the JBL Flip 6 black', 'the
    Galaxy S23 refurb' -> 'JBL Flip 6', 'Galaxy S23'."""
    runs = [
        m.group(0)
        for m in PRODUCT_PHRASE.finditer(text)
        if not m.group(0).isdigit()
        and not re.fullmatch(r"[A-Z0-9-]{6,}", m.group(0))
        and plain(m.group(0).split()[0]) not in STOP | VERBS
    ]
    runs = [r for r in runs if len(r) > 2 and not person_names(r)]
    return max(runs, key=len) if runs else None


def _words(record: dict[str, Any]) -> set[str]:
    text = " ".join(str(v) for v in record.values() if isinstance(v, str | int))
    return set(re.findall(r"\w+", plain(text)))


def _mentions(lowered: str, warehouse: dict[str, Any]) -> bool:
    return _position(lowered, warehouse) >= 0


def _position(lowered: str, warehouse: dict[str, Any]) -> int:
    names = [warehouse.get("city", ""), warehouse.get("code", ""), warehouse.get("name", "")]
    words = {plain(w) for n in names for w in re.split(r"[\s()-]+", n or "") if len(w) > 3}
    positions = [m.start() for w in words for m in re.finditer(rf"\b{re.escape(w)}\b", lowered)]
    return min(positions) if positions else -1
