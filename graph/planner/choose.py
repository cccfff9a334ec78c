"""Choosing agents and tools without a language model: embedding similarity (the same index
as the fast router) plus the words merchants use for each domain and each action."""

import re
from dataclasses import dataclass
from typing import Any

from agents import AGENT_SPECS
from graph.actions import NEW_ORDER, actions, hits
from graph.planner.extract import EMAIL, Found, person_names, plain
from graph.router import QUOTED, agent_index

# Words that point to a domain. A hit adds to the embedding score; two hits more. "order" is
# left out: it names the context of most requests (an order's invoice, payments, returns).
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    "orders": ("commande", "cancel", "cancelled", "placed", "unpaid", "checkout", "ordered",
               "bought", "purchased", "hold"),
    "products": ("product", "catalogue", "catalog", "price", "priced", "variant", "category",
                 "carry", "best seller", "bestseller", "best-selling", "brand", "archive"),
    "marketplace": ("marketplace", "amazon", "cdiscount", "backmarket", "back market", "ebay",
                    "refurbed", "mirakl", "fnac", "offer", "buyer", "sync", "listed", "listing",
                    "buffer", "connection", "reply"),
    "customers": ("customer", "client", "loyalty", "points", "address", "gdpr", "erase",
                  "profile", "vip", "interaction", "complaint", "contact"),
    "inventory": ("stock", "inventory", "worth", "run out", "running out", "running low", "low on",
                  "out of stock", "reorder", "transfer", "move", "supplier", "write off",
                  "written off",
                  "reserve", "reservation", "units left", "in stock", "movement", "restock",
                  "do we have", "left", "available"),
    "transport": ("ship", "shipping", "shipment", "carrier", "parcel", "tracking", "track",
                  "delivery", "delivered", "colissimo", "chronopost", "dpd", "ups", "label rate",
                  "quote"),
    "payments": ("payment", "pay", "paid", "refund", "capture", "card", "gateway",
                 "transaction", "charge", "void", "stripe", "authorization"),
    "warehouse": ("warehouse", "pick list", "picking", "capacity", "occupancy", "site",
                  "locations"),
    "documents": ("invoice", "credit note", "packing slip", "label", "pdf", "document", "zpl"),
    "fraud": ("fraud", "fraudulent", "suspicious", "block", "unblock", "blacklist", "scam",
              "stolen card", "chargeback"),
    "risk": ("risk", "risky", "weird", "odd", "anomaly", "anomalies", "unusual", "spike", "drop",
             "abnormal", "outage", "exposed", "exposure"),
    "knowledge": ("policy", "how do i", "how do we", "how to", "article", "help", "procedure",
                  "guide", "rule", "faq"),
    "after_sales": ("return", "rma", "warranty", "survey", "satisfaction", "satisfied", "nps",
                    "broken", "defective", "send back"),
    "backoffice": ("report", "dashboard", "config", "setting", "staff", "api key", "user",
                   "role", "revenue report", "kpi", "threshold"),
    "quality": ("inspection", "inspect", "defect", "quality", "grade", "grading", "refurbish"),
    "monitoring": ("health", "heartbeat", "system alert", "latency", "uptime", "errors",
                   "is comptoir", "status of the system", "slow", "down", "agent", "event",
                   "response time"),
}  # fmt: skip

# Phrasings that settle the domain more than any single word does.
DOMAIN_PATTERNS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("knowledge", 0.45, re.compile(
        r"\bhow (?:do|should|can|must) (?:i|we)\b|"
        r"\bhow (?:are|am) (?:we|i) (?:supposed|meant) to\b|"
        r"\bwhat (?:do|should|must) (?:i|we) do\b|"
        r"\bprocedure\b|\bpolic(?:y|ies)\b|"
        r"\b(?:our|the) (?:return|refund|shipping|warranty|delivery) (?:window|policy|deadline|"
        r"period|rules?|terms)\b|\bare we allowed\b|\bcan (?:a|the) (?:customer|client|buyer)\b|"
        r"\bis it (?:possible|allowed)\b")),
    # a setting named by its key (returns.window_days) or changed to a new value
    ("backoffice", 0.4, re.compile(
        r"(?<![@\w.])[a-z_]+\.[a-z_]+(?![\w@.])|\b(?:extend|shorten|lower|raise|increase|"
        r"decrease|change|set|drop|bump|reduce|cut)\b.{0,40}\b(?:window|threshold|limit|setting|config)")),
    ("backoffice", 0.25, re.compile(
        r"\b(?:an? |as )?(?:admin|manager|viewer|support)(?: account| user| role)?\b.{0,30}|"
        r"\bstaff\b|\bapi keys?\b|\baccount for\b")),
    ("orders", 0.25, re.compile("|".join((
        r"\bnew (?:\w+ )?order\b", r"\b(?:place|create) an? (?:\w+ )?order\b",
        r"\b(?:called|phoned|emailed) in an? (?:\w+ )?order\b",
        NEW_ORDER.pattern,  # "she wants 2 Anker PowerCore"
        r"\bhow many orders\b", r"\bnumber of orders\b", r"\b(?:which|what) orders\b",
        r"\bwhat did \w+(?: \w+)? (?:buy|order|purchase)\b",
    )))),
    # a count of a SKU: "received 10 LOG-MXMASTER3S-GRAP", "move 2 MAR-EMBERTONII-CREA"
    ("inventory", 0.2, re.compile(r"\b\d+\s*(?:x\s*)?[a-z0-9]{2,}-[a-z0-9]{2,}")),
    ("payments", 0.35, re.compile(
        r"\bcards?\b.{0,40}\bon file\b|\bsaved cards?\b|"
        r"\bpayment (?:providers?|methods?|gateways?)\b")),
    ("backoffice", 0.25, re.compile(
        r"\b(?:what|how much) did we (?:make|earn|take)\b|\brevenue\b|\bturnover\b|"
        r"\b(?:left|leaving|joined|joining) the (?:company|team)\b")),
    ("risk", 0.25, re.compile(r"\bat risk\b|\bexposed\b|\bexposure\b")),
    # a new price with no currency: "Nest Mini charcoal should be 49,90 now" (not a rate's)
    ("products", 0.2, re.compile(
        r"^(?!.*\brates?\b).*\b(?:should be|now|to|at)\s+\d+[.,]\d{2}\b")),
    ("products", 0.3, re.compile(
        r"\bsales?\b.{0,40}\b(?:stock|inventory)\b|\b(?:stock|inventory)\b.{0,40}\bsales?\b")),
    ("marketplace", 0.3, re.compile(r"\bbuffer\b")),
    ("risk", 0.25, re.compile(
        r"\b(?:refund|return|cancellation|chargeback)s? rates?\b|\brisk\w*\b.{0,30}\b(?:overall|"
        r"look\w*)\b|\b(?:overall|look\w*)\b.{0,30}\brisk\w*")),
    ("products", 0.25, re.compile(
        r"(?:\bat|→|->|=) ?\d+(?:[.,]\d+)? ?(?:€|eur\b|euros?\b)|\bprice of\b")),
    ("fraud", 0.25, re.compile(r"\b(?:suspicious|suspect|scam\w*|stolen|fraudulent)\b")),
    ("monitoring", 0.25, re.compile(r"\b(?:the )?\w+ agent\b")),
)  # fmt: skip


def rank_agents(text: str) -> list[tuple[str, float]]:
    """Agents by how well they fit a request, best first. Quoted text (a message to send, a
    note to write) is content, not intent, and is left out."""
    text = QUOTED.sub(" ", text)
    # an e-mail's domain ("fontaine.fr") is not a setting's key ("returns.window_days")
    lowered = plain(EMAIL.sub(" email ", text)).replace("-", " ")
    scores = agent_index().scores(text)
    named = actions(lowered)
    patterns: dict[str, float] = {}
    for agent, weight, pattern in DOMAIN_PATTERNS:
        if pattern.search(lowered):
            patterns[agent] = max(patterns.get(agent, 0.0), weight)
    # "Chloé Fontaine's address": a person named in words, unless staff are the subject
    person = (
        bool(person_names(text)) and not re.search(r"\d", text) and "backoffice" not in patterns
    )
    ranked = []
    for agent, similarity in zip(scores.agents, scores.combined, strict=True):
        score = float(similarity) + 0.12 * min(hits(lowered, DOMAIN_WORDS[agent]), 2)
        score += patterns.get(agent, 0.0)
        if named and any(t.startswith(named[0]) for t in AGENT_SPECS[agent].tools):
            score += 0.1  # the agent owns a tool doing the action the request names first
        if agent == "customers" and person:
            score += 0.12
        ranked.append((agent, score))
    return sorted(ranked, key=lambda pair: -pair[1])


# Words of tool names too common to tell tools apart.
GENERIC_NAME_WORDS = frozenset(
    {"get", "list", "create", "update", "delete", "add", "set", "customer", "customers", "order",
     "orders", "product", "products", "stock", "by", "of", "to"}
)  # fmt: skip

# Ids the planner can find from words, through a look-up tool.
LOOKED_UP = frozenset(
    {"customer_id", "product_id", "variant_id", "warehouse_id", "from_warehouse_id",
     "to_warehouse_id", "connection_id", "user_id", "key"}
)  # fmt: skip
BY_ORDER_IDS = frozenset({"payment_id", "shipment_id", "return_id", "document_id"})


@dataclass(frozen=True)
class ToolChoice:
    name: str
    score: float


def rank_tools(text: str, tool_names: list[str], found: Found) -> list[ToolChoice]:
    """The tools of an agent by how well they fit a request, best first."""
    from tools.base import REGISTRY

    lowered = plain(text)
    similarity = agent_index().tool_similarity(text, tool_names)
    said = actions(lowered)
    # an action none of these tools does ("book" for the stock team) picks none of them
    named = [p for p in said if any(name.startswith(p) for name in tool_names)]
    choices = []
    for name in tool_names:
        score = similarity[name]
        matched = [i for i, prefixes in enumerate(named) if name.startswith(prefixes)]
        if matched:
            score += 0.3 if matched[0] == 0 else 0.05
        elif said and _writes(name) and not _is_read_word(lowered):
            score -= 0.05
        if not said and _writes(name):
            score -= 0.2  # a request with no action word is a question: prefer reads
        fields = REGISTRY[name].args_model.model_fields
        required = [n for n, info in fields.items() if info.is_required()]
        for parameter in required:
            if parameter.endswith("_id") and parameter in found.ids:
                score += 0.08
            elif parameter.endswith("_id") and parameter not in found.ids:
                # an id the request does not give: likely the wrong tool, unless a number is
                # there to stand for it or a look-up can find it
                findable = parameter in LOOKED_UP or (
                    parameter in BY_ORDER_IDS and "order_id" in found.ids
                )
                score -= 0.04 if found.numbers or findable else 0.1
        if name.startswith("get_") and any(p in found.ids for p in required):
            score += 0.05
        score += _fits_the_measure(lowered, found, fields)
        # a tool's name is its summary: "fraud history", "pick list", "system alerts"
        named_words = [w.removesuffix("s") for w in name.split("_") if w not in GENERIC_NAME_WORDS]
        score += 0.08 * min(hits(lowered.replace("-", " "), tuple(named_words)), 2)
        choices.append(ToolChoice(name, score))
    return sorted(choices, key=lambda choice: -choice.score)


TOP_N = re.compile(r"\btop\s+\d{1,3}\b")


def _fits_the_measure(lowered: str, found: Found, fields: dict[str, Any]) -> float:
    """A request for a period ("this month", "in november") or a top N fits the tools that
    take one: reports and analytics rather than listings."""
    bonus = 0.0
    if found.period and "start" in fields:
        bonus += 0.08
    if TOP_N.search(lowered) and "top" in fields:
        bonus += 0.1
    return bonus


def _writes(name: str) -> bool:
    from tools.base import REGISTRY

    return REGISTRY[name].writes


def _is_read_word(lowered: str) -> bool:
    return bool(re.search(r"\b(show|list|what|which|how many|any|find|get|see)\b", lowered))
