"""The offline planner: a chat model that needs no LLM, so Comptoir works with no model at all.

It is an ordinary LangChain chat model, so the same graph, tests and evals run on it and its
accuracy is measured like any model's. Deterministic, and it says plainly what it cannot do.

- As the supervisor (its tools are `ask_<agent>`): splits the request into intents and picks
  an agent for each by embedding similarity plus the words merchants use for each domain.
- As an agent: picks the tool that fits the request (similarity + action words + which
  tool's required ids the request gives), fills its arguments from the request against the
  tool's schema (ids, SKUs, amounts, dates, enum values, names), resolves a customer, product
  or warehouse named in words through the read-only look-up tools, asks for what is still
  missing, and writes the answer from the tool's result.
"""

import json
import re
import time
import uuid
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.runtime import get_runtime
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from agents import AGENT_SPECS, agent_of
from db.base import utc_now
from db.models import Carrier, Customer, Product, ProductVariant, Warehouse
from graph.actions import actions, hits, tool_words
from graph.models import ToolCallingModel, answered_calls
from graph.planner.answer import write_answer, write_error
from graph.planner.choose import (
    CONSIDERING,
    COURTESY,
    DOMAIN_WORDS,
    STATED,
    WISH,
    named_tools,
    rank_agents,
    rank_tools,
    without_models,
)
from graph.planner.extract import VERBS, capitalise_people, extract
from graph.planner.fill import Known, fill
from graph.planner.lookups import lookup_for, resolve
from graph.referents import REFERENTS, pointed_at
from graph.router import ASKING, MEASURE_OF_IT, WRITTEN, split_intents
from graph.wording import QUOTE, normalize, plain
from tools.base import REGISTRY

AGENT_FLOOR = 0.22  # below this no agent fits: small talk or outside the merchant's operations
SPLIT_FLOOR = 0.45  # both halves of a request must be this clear to become two intents
CANNOT = (
    "I can't help with that. I work on this shop's operations: orders, products, stock, "
    "shipping, payments, returns, customers, marketplaces, documents, fraud and risk, "
    "reports and settings, and the help articles."
)
WELCOME = (
    "You're welcome. I'm here whenever the shop needs something: orders, stock, shipping, "
    "payments, returns, customers, marketplaces and the rest."
)
HELLO = (
    "Hello! What can I do for the shop? Ask about orders, stock, shipping, payments, returns, "
    "customers, marketplaces, reports or settings, or ask me to do something with them."
)
GREETING = re.compile(
    r"\s*(?:hi|hello|hey|bonjour|salut|good (?:morning|afternoon|evening))(?: there| comptoir)?"
    r"[\s!.,]*"
)
THANKS = re.compile(r"\b(?:thanks|thank you|merci|cheers|see you|bye|goodbye)\b")
PART = re.compile(r"\n\(Your part: (.+)\)\s*$", re.S)
REFERS_BACK = re.compile(r"\b(?:it|its|them|that one|this one|the same)\b", re.I)
# a message about what the last turn showed: "start it", "acknowledge that alert", "the
# packing slip too", "the Face ID one", "the customer behind it"
POINTS_BACK = re.compile(
    r"\b(?:it|its|them|they|those|these|that|this|the same|too|as well|also|behind it|she|he|"
    r"her|his|their|which ones?)\b|"
    r"\bthe [\w -]{1,30} one\b",
    re.I,
)


class OfflinePlanner(ToolCallingModel):
    """Plans tool calls from the request's words and the tools' schemas; no LLM."""

    @property
    def _llm_type(self) -> str:
        return "offline-planner"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        names = [t["function"]["name"] for t in kwargs.get("tools", [])]
        if names and all(name.startswith("ask_") for name in names):
            reply = self._supervise(messages)
        else:
            reply = self._act(messages, names)
        return ChatResult(generations=[ChatGeneration(message=reply)])

    # -- supervisor ----------------------------------------------------------------------

    def _supervise(self, messages: list[BaseMessage]) -> AIMessage:
        request = _understood(_last_human(messages), catalogue_words())
        if only_thanks(request):
            return AIMessage(content=WELCOME)
        if GREETING.fullmatch(plain(request)):
            return AIMessage(content=HELLO)
        if off_topic(request):
            return AIMessage(content=CANNOT)
        places, models = shop_places(), model_words()
        calls: list[dict[str, Any]] = []
        for clause in intents(request, places, models):
            agent, score = rank_agents(clause, places, models)[0]
            if score < AGENT_FLOOR and names_a_place(clause, places):
                agent, score = "warehouse", AGENT_FLOOR  # "how did Gennevilliers do?": the site
            if calls and _goes_with_the_last(clause, agent, score):
                # "... make it her default", "PO-7781 arrived: 20 JBL Flip 6. book it in": one
                # task, for the agent the two together fit best
                last = calls[-1]
                last["args"]["task"] += f"; {clause}"
                best = rank_agents(last["args"]["task"], places, models)[0][0]
                if not any(call["name"] == f"ask_{best}" for call in calls):
                    last["name"] = f"ask_{best}"
                continue
            if score < AGENT_FLOOR:
                continue
            same = next((c for c in calls if c["name"] == f"ask_{agent}"), None)
            if same:  # "new email for Nina David: ... update her record": one task
                same["args"]["task"] += f"; {clause}"
            else:
                calls.append(_call(f"ask_{agent}", {"task": clause}))
        if not calls:
            agent, score = rank_agents(request, places, models)[0]
            if score < AGENT_FLOOR:
                return AIMessage(content=CANNOT)
            calls.append(_call(f"ask_{agent}", {"task": request}))
        return AIMessage(content="", tool_calls=calls)

    # -- agent ---------------------------------------------------------------------------

    def _act(self, messages: list[BaseMessage], names: list[str]) -> AIMessage:
        task_index = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        task = str(messages[task_index].content)
        part = PART.search(task)
        brands = catalogue_words()
        focus = _understood(part.group(1) if part else task, brands)
        today = utc_now().date()
        request = _understood(PART.sub("", task), brands)
        models = model_words()
        known = Known(
            focus,
            extract(focus, today, models),
            context=request if part else "",
            places=shop_places(),
            catalogue=brands,
        )
        for name, value in extract(task, today, models).ids.items():
            known.found.ids.setdefault(name, value)
        # the tool is chosen on this turn's words; earlier turns' ids only fill its arguments
        # ("she pays by card now" after a new order is a payment, not a card to save)
        this_turn = replace(known.found, ids=dict(known.found.ids))
        for earlier in _earlier_requests(messages[:task_index]):
            for name, value in extract(earlier, today, models).ids.items():
                known.found.ids.setdefault(name, value)
        if part and not known.found.skus and REFERS_BACK.search(focus):
            known.found.skus = extract(request, today, models).skus  # "... and put it at 119€"
        done = _calls_made(messages[task_index + 1 :])
        agent = agent_of(names[0])
        own = [n for n in names if agent_of(n) == agent]  # not the shared look-ups
        choice = rank_tools(focus, own, this_turn)[0].name
        # "make the invoice and the credit note": each named tool in turn ("the Redmi Note 13"
        # notes nothing)
        planned = named_tools(without_models(focus, models), own)
        sequence = planned if choice in planned else [choice]
        finished: dict[str, Any] = {}
        known.target = sequence[0]
        for tool, args, result, ok in done:
            if tool in sequence and not ok:
                return AIMessage(content=write_error(tool, result))
            if tool in sequence:
                finished[tool] = result
            if ok:
                resolve(tool, result, known, args)
        remaining = [tool for tool in sequence if tool not in finished]
        if not remaining:
            asked = plain(focus)
            answers = [write_answer(tool, finished[tool], asked) for tool in sequence]
            return AIMessage(content="\n\n".join(answers))
        spec = REGISTRY[remaining[0]]
        filled = fill(spec, known)
        records, asked_before = _last_turn(messages[:task_index])
        # "start it", "acknowledge that alert", "the packing slip too", or more of the same
        # agent's work ("done, both units passed")
        goes_on = POINTS_BACK.search(focus) or any(
            REGISTRY[r["tool"]].agent == agent for r in records if r["tool"] in REGISTRY
        )
        if filled.missing and goes_on:
            for name in filled.missing:
                value = pointed_at(records, name, focus, asked_before)
                if value is not None:
                    known.resolved[name] = value
            filled = fill(spec, known)
        lookup = lookup_for(filled.missing, known, spec)
        if lookup and lookup[0] in names and list(lookup) not in [[d[0], d[1]] for d in done]:
            return AIMessage(content="", tool_calls=[_call(*lookup)])
        if filled.missing:
            return AIMessage(content=_question(spec.name, filled.missing, known))
        return AIMessage(content="", tool_calls=[_call(spec.name, filled.args)])


# What no shop operation is about: verse, jokes, food, weather, travel, sport, politics.
OFF_TOPIC = re.compile(
    r"\b(?:poems?|poetry|poemes?|songs?|jokes?|blagues?|recipes?|recettes?|bake|baking|cook|"
    r"cooking|eat|eating|lunch|dinner|breakfast|weather|forecast|meteo|temps fera|pleut|rain|"
    r"raining|snow|snowing|sunny|trains?|tgv|sncf|flights?|hotels?|restaurants?|movies?|"
    r"football|rugby|tennis|basketball|sports?|bets?|betting|final score|elections?|capital of|"
    r"invest\w*|crypto\w*|bitcoin|accountants?|comptables?|"
    r"lawyers?|avocats?|translate|translation|how do you say|in (?:japanese|chinese|german|"
    r"spanish|italian)|instagram|linkedin|facebook|tiktok|tweets?|captions?|social media|"
    r"formulas?)\b"
)
# Nouns only the shop's operations have: a clause naming one is a request to the shop.
SHOP_NOUNS = re.compile(
    r"\b(?:orders?|refunds?|invoices?|stock|inventory|warehouses?|customers?|products?|skus?|"
    r"shipments?|carriers?|payments?|api keys?|staff|returns?|warrant(?:y|ies)|offers?|"
    r"listings?|marketplaces?|alerts?|reports?|settings?|catalogu?e?|accounts?|labels?)\b"
)


def _goes_with_the_last(clause: str, agent: str, score: float) -> bool:
    """A clause that points back at the one before and says nothing of its own domain ("make
    it her default", "fix it"): part of that task, not one for another agent."""
    if not POINTS_BACK.search(clause):
        return False
    if re.match(r"\s*(?:and )?which ones?\b", plain(clause)):
        return True  # "…, and which one has been paid the longest?": one of those just listed
    said = {word.removesuffix("s") for word in re.findall(r"[a-z]+", plain(clause))}
    own = hits(plain(clause), DOMAIN_WORDS[agent]) or said & _tool_nouns(agent)
    bare = COURTESY.sub("", plain(clause))  # "can you update that?" says "update that"
    return score < AGENT_FLOOR or (len(bare.split()) <= 3 and not own)


def _tool_nouns(agent: str) -> set[str]:
    """The nouns of an agent's tool names: "order" for the orders agent's list_orders."""
    return {word for tool in AGENT_SPECS[agent].tools for word in tool_words(tool)}


def off_topic(request: str) -> bool:
    """A request about something outside the shop, naming nothing of it (no id or code: no
    number of three digits or more). A shop request that mentions something else on the side
    ("revoke his api key, his laptop was stolen on the train") is not: one of its clauses is
    about the shop alone."""
    lowered = plain(request)
    if not OFF_TOPIC.search(lowered) or re.search(r"\d{3,}|[A-Z]{2,}-", request):
        return False
    clauses = _clauses(lowered)
    # what a request asks is what counts: "will it rain in Lyon? I drive to the warehouse"
    asked = [c for c in clauses if _asks(c)] or clauses
    return not any(SHOP_NOUNS.search(c) and not OFF_TOPIC.search(c) for c in asked)


def _clauses(lowered: str) -> list[str]:
    """A request's clauses, between its punctuation and dashes."""
    return [c for c in re.split(r"[,;:.!?\u2014\u2013]\s*", lowered) if c.strip()]


def only_thanks(request: str) -> bool:
    """A thank-you or a goodbye that asks for nothing: no number, and no part of it naming
    something of the shop or an action but the thanks ("thanks for the help with the returns",
    not "article 22 was really helpful, thanks")."""
    lowered = plain(request)
    if not THANKS.search(lowered) or re.search(r"\d", lowered):
        return False
    clauses = _clauses(lowered)
    return all(THANKS.search(c) or not (SHOP_NOUNS.search(c) or actions(c)) for c in clauses)


# Words of warehouse names that do not name the place: "Lyon Saint-Priest (main)".
SITE_WORDS = frozenset({"main", "hub", "warehouse", "depot", "site", "centre", "center"})


def shop_places() -> tuple[str, ...]:
    """The shop's own sites as merchants name them: its warehouses' names and towns ("lyon",
    "saint priest", "gennevilliers"), read from the run's database on every request, so a
    warehouse opened in the last turn counts. Empty outside a graph run."""
    rows = _run_rows(select(Warehouse.name, Warehouse.city))
    words = {
        " ".join(part.split("-"))
        for row in rows
        for text in row
        for part in re.split(r"[\s()/,]+", plain(text or ""))
        if len(part) >= 4 and part not in SITE_WORDS
    }
    # "st priest" for Saint-Priest, "ste foy" for Sainte-Foy
    words |= {re.sub(r"^saint(e?) ", r"st\1 ", word) for word in words}
    return tuple(sorted(words))


def model_words() -> frozenset[str]:
    """The words the catalogue puts before a model's number ("iphone" in "Apple iPhone 14",
    "flip" in "JBL Flip 6"): a number after one names a product, not a record ("cancel her
    iphone 14"). Read from the run's database; empty outside a graph run."""
    return frozenset(
        plain(match.group(1))
        for name in _run_rows(select(Product.name))
        for match in re.finditer(r"([A-Za-z]+)\s+\d", name or "")
    )


def catalogue_words() -> frozenset[str]:
    """The words of the catalogue's brands and variants' names ("fitbit", "dualsense") and of
    the carriers' ("colis privé"): names, neither typos nor French to translate. Read from the
    run's database; empty outside a graph run."""
    names = [
        *_run_rows(select(Product.brand)),
        *_run_rows(select(ProductVariant.name)),
        *_run_rows(select(Carrier.name)),
    ]
    return frozenset(word for name in names for word in re.findall(r"[a-z]+", plain(name or "")))


PEOPLE_TTL_S = 60.0
_people: dict[str, Any] = {}  # the last database read: its url, when, and the names


def people_names() -> tuple[frozenset[str], frozenset[str]]:
    """The first and last names of the shop's customers, folded: a name typed in lower case
    ("cancel jules guillot's order") is still a name. Read from the run's database at most
    once a minute (a shop's customers are many; their names change little)."""
    engine = _run_engine()
    url, now = str(engine.url) if engine else "", time.monotonic()
    if _people.get("url") == url and now - _people["at"] < PEOPLE_TTL_S:
        return _people["names"]  # type: ignore[no-any-return]
    rows = _run_rows(select(Customer.first_name, Customer.last_name).distinct())
    names = (
        frozenset(plain(first) for first, _ in rows if first),
        frozenset(plain(last) for _, last in rows if last),
    )
    _people.update(url=url, at=now, names=names)
    return names


# "she wrote 'please delete all my personal data'. do it": what the quote asks is the request
DO_AS_QUOTED = re.compile(
    r"(?:^|[.!?;,]\s*)(?:(?:please|pls|so|ok|okay|just|then) )*(?:do it|do that|go ahead|"
    r"handle it|deal with it|sort it out|make it happen)\b[\s.!]*$",
    re.I,
)


def _understood(text: str, catalogue: frozenset[str]) -> str:
    """The request as the planner reads it: people's names capitalised, French and shorthand
    in plain English, typos fixed (never in the catalogue's own words), and a quoted request
    read as the merchant's own when they only say "do it"."""
    if DO_AS_QUOTED.search(text):
        text = QUOTE.sub(lambda quoted: quoted.group(0)[1:-1], text)
    return normalize(capitalise_people(text, *people_names()), catalogue)


def _run_engine() -> Engine | None:
    try:
        engine = getattr(get_runtime().context, "engine", None)
    except (RuntimeError, AttributeError, KeyError):
        return None
    return engine if isinstance(engine, Engine) else None


def _run_rows(statement: Any) -> list[Any]:
    """The rows of a small read on the graph run's database ([] outside a run or on error)."""
    engine = _run_engine()
    if engine is None:
        return []
    try:
        with Session(engine) as session:
            return list(session.exec(statement).all())
    except sa.exc.SQLAlchemyError:
        return []


def names_a_place(text: str, places: tuple[str, ...]) -> bool:
    return bool(places) and hits(plain(text).replace("-", " "), places) > 0


def intents(
    request: str, places: tuple[str, ...] = (), models: frozenset[str] = frozenset()
) -> list[str]:
    """The request's intents: its clauses, or its two halves around an "and" when each half
    clearly belongs to a different agent ("defect rate of product 1 and the capacity of
    warehouse 1")."""
    clauses = split_intents(request)
    if len(clauses) > 1:
        return _with_statements_as_context(clauses)
    if WRITTEN.match(request):  # a text to write is one task, whatever its text says
        return clauses
    # "do orders 3955 and 3964 have an invoice?": two records of one task, not two halves
    halves = re.split(r"(?<!\d),?\s+and\s+|,?\s+and\s+(?!\d)", request, maxsplit=1)
    if len(halves) == 2 and MEASURE_OF_IT.fullmatch(plain(halves[1]).strip(" ?")):
        return clauses  # "… and how much revenue": a measure of the same thing
    # "she says she's a real customer and can't place an order": one subject, one story
    continues = len(halves) == 2 and SAME_SUBJECT.match(plain(halves[1])) is not None
    if len(halves) == 2 and not continues and all(len(half.split()) >= 3 for half in halves):
        (first, first_score), (second, second_score) = (
            rank_agents(h, places, models)[0] for h in halves
        )
        if first != second and min(first_score, second_score) >= SPLIT_FLOOR:
            # "can I just delete it and make a new one?": both halves are asked
            return [f"{halves[0]}?", halves[1]] if request.rstrip().endswith("?") else halves
    return clauses


# The verb of the subject before "and", or what not to do, not an order of its own: "… and
# can't place an order", "don't cancel it and don't touch the payment"
SAME_SUBJECT = re.compile(
    r"\s*(?:can'?t|cannot|couldn'?t|doesn'?t|didn'?t|won'?t|isn'?t|wasn'?t|hasn'?t|haven'?t|"
    r"never|is|was|has|had|says|said|wants|keeps|needs|don'?t|do not|no need to)\b"
)
# Verbs that open an order: the tools' own, and "put it at 119€", "check the customer"…
ORDERING = VERBS | frozenset(
    {"put", "make", "give", "take", "get", "open", "log", "book", "move", "check", "run",
     "print", "issue", "pull", "close", "drop", "raise", "lift", "let", "use", "do"}
)  # fmt: skip
# A clause that asks for something in the form of a statement: "I need the invoice…"
ASKS_AS_STATEMENT = re.compile(
    r"\s*(?:i|we) (?:need|want|would like|'d like)\b|\s*(?:you can|you could|please|pls|kindly)\b"
)


def _with_statements_as_context(clauses: list[str]) -> list[str]:
    """A request's clauses, each statement ("Zoé changed her mind about the Redmi she just
    received") joined to the question or order after it ("open a return for it"), or before
    it when none follows: when a request asks or orders something, what it only states is
    the context of that, not a task of its own."""
    asking = [_asks(clause) for clause in clauses]
    # "Manon wants to swap her controller. is it too late to cancel?": what a customer wishes
    # is the context of a question that follows it
    for number, clause in enumerate(clauses):
        questions_after = any(ASKING.match(plain(c)) for c in clauses[number + 1 :])
        if WISH.search(plain(clause)) and questions_after:
            asking[number] = False
    if all(asking) or not any(asking):
        return clauses
    joined: list[str] = []
    pending: list[str] = []
    for clause, asks in zip(clauses, asking, strict=True):
        if not asks:
            pending.append(clause)
            continue
        joined.append(". ".join([*pending, clause]))
        pending = []
    if pending:
        joined[-1] = ". ".join([joined[-1], *pending])
    return joined


LEFT_AS_IS = re.compile(
    r"(?:nothing else|everything else|the rest|anything else)\b(?! (?:to|we|i|you)\b)|"
    r"(?:leave|keep) (?:the rest|everything else|the others?)\b|"
    r"(?:don'?t|do not) (?:change|touch) (?:anything|the rest)\b"
)


def _asks(clause: str) -> bool:
    """Whether a clause asks something (a question) or orders it (a verb of action opening
    one of its sentences or comma-separated parts: "alert 11 is fixed, resolve it")."""
    for sentence in re.split(r"[.:;,]\s+", re.sub(CONSIDERING, " ", plain(clause))):
        opening = re.sub(
            r"^\s*(?:and|then|also|so|now|ok|okay|right|oh|btw|by the way|quick question)\b,?\s*",
            "",
            sentence,
        )
        words = opening.split()
        if LEFT_AS_IS.match(opening):
            continue  # "nothing else changes": what stays, not something to do
        if words and (
            ASKING.match(opening)
            or ASKS_AS_STATEMENT.match(opening)
            or words[0] in ORDERING
            or actions(STATED.sub(" ", " ".join(words[:5])))  # "the system says 8 on hand"
        ):
            return True
    return False


def _question(tool: str, missing: list[str], known: Known) -> str:
    what = ", ".join(name.replace("_id", "").replace("_", " ") for name in missing)
    action = tool.replace("_", " ")
    for name in missing:
        candidates = known.resolved.get(name.replace("_id", "") + "_lookup")
        if candidates:
            listed = "; ".join(
                f"{c.get('id')}: {_label(c)}" + (f" ({c['city']})" if c.get("city") else "")
                for c in candidates[:5]
            )
            return f"To {action} I need to know which {what}. Several match: {listed}. Which one?"
    return f"To {action} I need the {what}. Which one?"


def _label(record: dict[str, Any]) -> str:
    for key in ("full_name", "name", "title", "email", "sku"):
        if record.get(key):
            return str(record[key])
    first, last = record.get("first_name"), record.get("last_name")
    return f"{first} {last}" if first else json.dumps(record)[:40]


def _last_human(messages: list[BaseMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


def _earlier_requests(messages: list[BaseMessage]) -> list[str]:
    return [str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)]


def _last_turn(messages: list[BaseMessage]) -> tuple[list[dict[str, Any]], str]:
    """The records of what the last answered turn worked on, and the request it answered."""
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, AIMessage) and REFERENTS in message.response_metadata:
            return message.response_metadata[REFERENTS], _last_human(messages[:index])
    return [], ""


def _calls_made(messages: list[BaseMessage]) -> list[tuple[str, dict[str, Any], Any, bool]]:
    """(tool, args, result, succeeded) for each tool call answered since the task."""
    made = []
    for call, message in answered_calls(messages):
        if call is not None:
            try:
                result = json.loads(str(message.content))
            except json.JSONDecodeError:
                result = {"message": str(message.content)}
            ok = message.status != "error"
            made.append((call["name"], call["args"], result if ok else result.get("error"), ok))
    return made


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:16]}", "type": "tool_call"}
