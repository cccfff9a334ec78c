"""Choosing agents and tools without a language model: embedding similarity (the same index
as the fast router) plus the words merchants use for each domain and each action."""

import re
from dataclasses import dataclass

from agents import AGENT_SPECS
from graph.planner.extract import Found, person_names, plain
from graph.router import QUOTED, agent_index

# Words that point to a domain. A hit adds to the embedding score; two hits more. "order" is
# left out: it names the context of most requests (an order's invoice, payments, returns).
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    "orders": ("commande", "cancel", "cancelled", "placed", "unpaid", "checkout", "ordered",
               "bought", "purchased", "hold"),
    "products": ("product", "catalogue", "catalog", "price", "priced", "variant", "category",
                 "best seller", "bestseller", "best-selling", "brand", "archive"),
    "marketplace": ("marketplace", "amazon", "cdiscount", "backmarket", "back market", "ebay",
                    "refurbed", "mirakl", "fnac", "offer", "buyer", "sync", "listed", "listing",
                    "buffer", "connection", "reply"),
    "customers": ("customer", "client", "loyalty", "points", "address", "gdpr", "erase",
                  "profile", "vip", "interaction", "complaint", "contact"),
    "inventory": ("stock", "inventory", "run out", "running out", "running low", "low on",
                  "out of stock", "reorder", "transfer", "move",
                  "reserve", "reservation", "units left", "in stock", "movement", "restock",
                  "do we have", "left", "available"),
    "transport": ("ship", "shipping", "shipment", "carrier", "parcel", "tracking", "track",
                  "delivery", "delivered", "colissimo", "chronopost", "dpd", "ups", "label rate",
                  "quote"),
    "payments": ("payment", "pay", "paid", "refund", "capture", "card", "gateway",
                 "transaction", "charge", "void", "stripe", "authorization"),
    "warehouse": ("warehouse", "pick list", "picking", "capacity", "occupancy", "site"),
    "documents": ("invoice", "credit note", "packing slip", "label", "pdf", "document", "zpl"),
    "fraud": ("fraud", "fraudulent", "suspicious", "block", "unblock", "blacklist", "scam",
              "stolen card", "chargeback"),
    "risk": ("risk", "anomaly", "anomalies", "unusual", "spike", "drop", "abnormal", "outage"),
    "knowledge": ("policy", "how do i", "how do we", "how to", "article", "help", "procedure",
                  "guide", "rule", "faq"),
    "after_sales": ("return", "rma", "warranty", "survey", "satisfaction", "satisfied", "nps",
                    "broken", "defective", "send back"),
    "backoffice": ("report", "dashboard", "config", "setting", "staff", "api key", "user",
                   "role", "revenue report", "kpi", "threshold"),
    "quality": ("inspection", "inspect", "defect", "quality", "grade", "grading", "refurbish"),
    "monitoring": ("health", "heartbeat", "system alert", "latency", "uptime", "errors",
                   "is comptoir", "status of the system", "slow", "down", "agent", "event"),
}  # fmt: skip

# Phrasings that settle the domain more than any single word does.
DOMAIN_PATTERNS: tuple[tuple[str, float, re.Pattern[str]], ...] = (
    ("knowledge", 0.35, re.compile(
        r"\bhow (?:do|should|can|must) (?:i|we)\b|\bprocedure\b|\bpolic(?:y|ies)\b|"
        r"\b(?:our|the) (?:return|refund|shipping|warranty|delivery) (?:window|policy|deadline|"
        r"period|rules?|terms)\b|\bare we allowed\b|\bcan (?:a|the) (?:customer|client|buyer)\b|"
        r"\bis it (?:possible|allowed)\b")),
    # a setting named by its key (returns.window_days) or changed to a new value
    ("backoffice", 0.4, re.compile(
        r"(?<![@\w.])[a-z_]+\.[a-z_]+(?![\w@.])|\b(?:extend|shorten|lower|raise|increase|"
        r"decrease|change|set)\b.{0,40}\b(?:window|threshold|limit|setting|config)")),
    ("backoffice", 0.25, re.compile(
        r"\b(?:an? |as )?(?:admin|manager|viewer|support)(?: account| user| role)?\b.{0,30}|"
        r"\bstaff\b|\bapi keys?\b|\baccount for\b")),
    ("orders", 0.25, re.compile(
        r"\bnew (?:\w+ )?order\b|\b(?:place|create) an? (?:\w+ )?order\b")),
    ("products", 0.25, re.compile(
        r"\bat \d+(?:[.,]\d+)? ?(?:€|eur\b|euros?\b)|\bprice of\b")),
    ("fraud", 0.25, re.compile(r"\b(?:suspicious|suspect|scam\w*|stolen|fraudulent)\b")),
    ("monitoring", 0.25, re.compile(r"\b(?:the )?\w+ agent\b")),
)  # fmt: skip


# Words naming an action, and the tool-name prefixes that do it.
ACTION_WORDS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("run out", "running out", "low stock", "out of stock", "low on", "restock"),
     ("low_stock_",)),
    (("best seller", "bestseller", "best-selling", "top selling", "sold the most"),
     ("product_analytics",)),
    (("adjust", "write off", "missing", "damaged", "stock count"), ("record_movement",)),
    (("send back", "bring back", "wants to return", "return request"), ("request_return",)),
    (("reserved", "set aside for"), ("list_reservations",)),
    (("defect rate", "quality metrics", "failure rate"), ("product_quality_metrics",)),
    (("listed", "listing", "offers"), ("list_offers",)),
    (("slow", "latency", "how fast", "error rate"), ("performance_",)),
    (("note", "log"), ("record_",)),
    (("archive", "publish", "unpublish", "promote", "demote"), ("update_",)),
    (("reprice", "price at", "set the price", "put the price"),
     ("update_variant_price", "update_")),
    (("mark",), ("mark_",)),
    (("full picture", "everything about", "360", "overview of customer"), ("customer_360",)),
    (("stock of", "stock for", "units of", "how many units"), ("get_stock",)),
    (("pick list", "picking list"), ("pick_list",)),
    (("do we have any", "do we sell", "do we carry", "looking for"), ("search_",)),
    (("charge", "take the payment", "take payment", "pay with"), ("process_",)),
    (("is now", "it's now", "now costs", "changed to", "her new", "his new", "their new",
      "new phone is", "new email is", "new address is", "moved"), ("update_",)),
    (("search", "look for", "policy", "policies", "how do", "how to", "how can", "what is our",
      "what's our", "can we", "are we allowed", "procedure"), ("search_",)),
    (("anomaly", "anomalies", "unusual", "spike", "abnormal", "strange"), ("detect_",)),
    (("unblock", "lift the block", "remove the block", "whitelist"), ("unblock_",)),
    (("block", "ban", "blacklist"), ("block_",)),
    (("cancel", "annul"), ("cancel_",)),
    (("refund", "reimburse", "money back"), ("refund_",)),
    (("track", "where is", "where's"), ("track_",)),
    (("invoice",), ("generate_invoice",)),
    (("packing slip",), ("generate_packing_slip",)),
    (("credit note",), ("generate_credit_note",)),
    (("label",), ("generate_shipping_label",)),
    (("generate", "print", "make", "produce"), ("generate_",)),
    (("reserve", "hold back", "set aside"), ("reserve_",)),
    (("release",), ("release_",)),
    (("transfer", "move"), ("transfer_",)),
    (("sync", "import", "pull"), ("sync_",)),
    (("push",), ("push_",)),
    (("reply", "send", "write to", "answer the"), ("send_",)),
    (("delete", "remove", "drop"), ("delete_",)),
    (("rename", "change", "update", "edit", "modify", "set", "extend", "shorten", "lower",
      "increase", "decrease"), ("update_", "set_")),
    (("schedule", "plan"), ("schedule_",)),
    (("start", "begin"), ("start_",)),
    (("complete", "finish", "close", "passed", "failed"), ("complete_", "resolve_")),
    (("on hold", "hold order", "hold the order", "hold it"), ("hold_",)),
    (("discuss", "talked", "spoke", "contact history"), ("list_interactions",)),
    (("authorize", "approve", "accept"), ("authorize_", "decide_")),
    (("reject", "decline", "refuse", "deny"), ("reject_", "decide_")),
    (("received", "arrived", "came back", "receive"), ("receive_",)),
    (("inspect",), ("inspect_",)),
    (("redeem", "use points", "convert points"), ("redeem_",)),
    (("erase", "forget", "gdpr", "right to be forgotten"), ("erase_",)),
    (("deactivate", "disable", "stop using", "pause", "suspend"), ("deactivate_", "update_")),
    (("revoke",), ("revoke_",)),
    (("resolve", "fix", "clear"), ("resolve_",)),
    (("acknowledge", "ack"), ("acknowledge_",)),
    (("quote", "how much to ship", "shipping cost", "rates for"), ("quote_",)),
    (("capture",), ("capture_",)),
    (("void",), ("void_",)),
    (("create", "add", "new", "register", "file", "raise", "request"),
     ("create_", "add_", "file_", "request_", "raise_", "record_")),
    (("fraud history", "history of"), ("customer_fraud_history", "config_history")),
    (("fraud check", "check fraud", "fraud score", "fraud risk", "suspicious", "risky", "score",
      "fraud"), ("check_",)),
    (("who is",), ("list_customers", "get_customer", "customer_360")),
    (("nps", "satisfaction", "how satisfied"), ("survey_stats",)),
    (("list", "show me the", "show me all", "show all", "show the", "show our"), ("list_",)),
)  # fmt: skip


NEW_PRICE = re.compile(r"\bat \d+(?:[.,]\d+)? ?(?:€|eur\b|euros?\b)")


def _word(word: str, endings: str = "s|es|d|ed|ing") -> re.Pattern[str]:
    """A word or phrase with its usual English endings (return, returns, returned)."""
    key = f"{word}/{endings}"
    if key not in _WORDS:
        _WORDS[key] = re.compile(rf"\b{re.escape(word)}(?:{endings})?\b")
    return _WORDS[key]


_WORDS: dict[str, re.Pattern[str]] = {}


def _first(text: str, words: tuple[str, ...], endings: str = "s|es|d|ed|ing") -> int | None:
    """Where the earliest of `words` appears in `text` (as whole words), if any."""
    positions = [m.start() for word in words if (m := _word(word, endings).search(text))]
    return min(positions) if positions else None


def _hits(text: str, words: tuple[str, ...]) -> int:
    return sum(1 for word in words if _word(word).search(text))


def actions(lowered: str) -> list[tuple[str, ...]]:
    """The tool-name prefixes of the actions a request names, the one said first first
    ("show me the return requests": a listing, not a new return). Verbs count in their base
    form only: "who is blocked" asks about a state, it does not block anyone."""
    lowered = lowered.replace("-", " ")
    found = []
    for rank, (words, prefixes) in enumerate(ACTION_WORDS):
        position = _first(lowered, words, endings="s|es")
        if position is not None:
            found.append((position, rank, prefixes))
    if price := NEW_PRICE.search(lowered):  # "the JBL Flip 6 black at 119 euros"
        found.append((price.start(), -1, ("update_variant_price", "update_")))
    return [prefixes for _, _, prefixes in sorted(found)]


def rank_agents(text: str) -> list[tuple[str, float]]:
    """Agents by how well they fit a request, best first. Quoted text (a message to send, a
    note to write) is content, not intent, and is left out."""
    text = QUOTED.sub(" ", text)
    lowered = plain(text).replace("-", " ")
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
        score = float(similarity) + 0.12 * min(_hits(lowered, DOMAIN_WORDS[agent]), 2)
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
    named = actions(lowered)
    choices = []
    for name in tool_names:
        score = similarity[name]
        matched = [i for i, prefixes in enumerate(named) if name.startswith(prefixes)]
        if matched:
            score += 0.3 if matched[0] == 0 else 0.05
        elif named and _writes(name) and not _is_read_word(lowered):
            score -= 0.05
        if not named and _writes(name):
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
        # a tool's name is its summary: "fraud history", "pick list", "system alerts"
        named_words = [w.removesuffix("s") for w in name.split("_") if w not in GENERIC_NAME_WORDS]
        score += 0.08 * min(_hits(lowered.replace("-", " "), tuple(named_words)), 2)
        choices.append(ToolChoice(name, score))
    return sorted(choices, key=lambda choice: -choice.score)


def _writes(name: str) -> bool:
    from tools.base import REGISTRY

    return REGISTRY[name].writes


def _is_read_word(lowered: str) -> bool:
    return bool(re.search(r"\b(show|list|what|which|how many|any|find|get|see)\b", lowered))
