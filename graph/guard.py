"""The prompt-injection guard: a write proposed after reading data must be one the merchant's
own words asked for, else the merchant approves it first.

Anyone can put text in the data: a buyer writes a marketplace message, a customer a return
reason or a survey comment, a supplier a product description. Once a tool result is in an
agent's context (or an earlier answer built on one), what the model proposes next may come
from that text rather than from the merchant. No model judges this; the rule reads only the
merchant's messages, so nothing in the data can satisfy it. After reading data, a write runs
without approval only when all of these hold:

- the tool needs no approval anyway (refunds, cancellations, blocks... always ask);
- the merchant's request names its action, in the words the offline planner reads ("add a
  note" -> record_..., "reply" -> send_...); quoted text is content, not a request;
- every entity it acts on (ids, SKUs, emails, setting keys) is one the merchant wrote, or
  one returned by calls whose arguments come from their words ("Théo Robin" -> customer 412;
  "JBL Flip" -> product 27 -> its SKUs; a day filter counts as theirs, "this morning" being
  no word of 2026-11-25), read from reference fields, never from free text;
- it is the first call of that tool in the agent's turn that went through.

Any other write waits in the `approve` node, and every approval card after reading data says
which reads the call followed.
"""

import enum
import json
import re
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from graph.actions import actions
from graph.models import answered_calls
from graph.referents import REFERENTS, calls_of
from graph.router import QUOTED
from graph.wording import normalize, plain
from tools.base import REGISTRY, ToolSpec

READ_DATA = "read_data"  # response_metadata key of an answer built on tool results
PLUMBING = ("limit", "cursor", "idempotency_key")  # arguments no merchant words
REFERENCE_NAMES = ("sku", "skus", "email", "key", "id")
SOURCES_SHOWN = 4
_WORD = re.compile(r"[a-z0-9]+")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Reading:
    """A tool call the agent made and the result it read."""

    tool: str
    args: dict[str, Any]
    result: Any

    def label(self) -> str:
        shown = {k: v for k, v in self.args.items() if k not in PLUMBING and v is not None}
        inside = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in shown.items())
        return f"{self.tool}({inside[:80]})"


@dataclass(frozen=True)
class MerchantWords:
    """What the merchant wrote: `request` (this turn's ask: its message, and the question it
    answers when the turn follows up one) and `said` (all their messages in the conversation,
    for the entities they named)."""

    request: str
    said: str
    _tokens: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        tokens = _WORD.findall(plain(self.said))
        # "RMA-2026-000184" names return 184
        numbers = [t.lstrip("0") for t in tokens if t.isdigit() and t.startswith("0")]
        # "chargebacks" names the search for "chargeback"
        singulars = [t.removesuffix("s") for t in tokens if t.endswith("s") and not t.isdigit()]
        object.__setattr__(self, "_tokens", frozenset([*tokens, *numbers, *singulars]))

    def asks_for(self, tool: str) -> bool:
        # read as the planner reads requests: "updte" and "mvoe" ask for an update and a move
        named = actions(plain(normalize(QUOTED.sub(" ", self.request))))
        return any(tool.startswith(prefixes) for prefixes in named)

    def named(self, value: Any) -> bool:
        """Whether every word and number of `value` is one the merchant wrote."""
        words = _WORD.findall(plain(str(value)))
        return bool(words) and all(word in self._tokens for word in words)


@dataclass(frozen=True)
class Verdict:
    """The guard's view of one proposed call."""

    read: list[str]  # labels of the reads it follows, empty when the agent read no data
    requested: bool  # whether the merchant's words ask for exactly this

    @property
    def needs_approval(self) -> bool:
        return bool(self.read) and not self.requested

    def note(self) -> str:
        """The sentence added to the approval card."""
        if not self.read:
            return ""
        sources = ", ".join(self.read[:SOURCES_SHOWN])
        if len(self.read) > SOURCES_SHOWN:
            sources += f" and {len(self.read) - SOURCES_SHOWN} more"
        text = f"Proposed after reading data from {sources}."
        if not self.requested:
            text += " Your request did not ask for this: check it is what you want."
        return text


def merchant_words(messages: list[AnyMessage], followup: bool) -> MerchantWords:
    """The merchant's words in a conversation's messages (its requests, never the answers)."""
    asked = [str(m.content) for m in messages if isinstance(m, HumanMessage)]
    request = "\n".join(asked[-2:] if followup else asked[-1:])
    return MerchantWords(request=request, said="\n".join(asked))


def readings(scratch: list[AnyMessage]) -> list[Reading]:
    """Each tool call answered in an agent's working messages, with the result it got."""
    found = []
    for call, message in answered_calls(scratch):
        tool = call["name"] if call else str(message.name or "tool")
        found.append(Reading(tool, dict(call["args"]) if call else {}, _parsed(message)))
    return found


def earlier_turns(scratch: list[AnyMessage]) -> list[Reading]:
    """The calls of the earlier turns an agent sees, oldest first, from the records kept
    with their answers: a message going on about them ("resolve it", "start it", then "done,
    both passed") acts on what they found from the merchant's words."""
    found: list[Reading] = []
    for message in scratch:
        if isinstance(message, AIMessage) and REFERENTS in message.response_metadata:
            calls = calls_of(message.response_metadata[REFERENTS])
            found += [Reading(*call) for call in reversed(calls)]
    return found


def data_read(scratch: list[AnyMessage]) -> list[str]:
    """Where the data in an agent's context came from: its tool results, and the reads behind
    earlier answers it sees in the history."""
    sources: list[str] = []
    for message in scratch:
        if isinstance(message, AIMessage):
            sources += message.response_metadata.get(READ_DATA, [])
    sources += [reading.label() for reading in readings(scratch)]
    return list(dict.fromkeys(sources))


def judge(
    spec: ToolSpec,
    args: dict[str, Any],
    scratch: list[AnyMessage],
    merchant: MerchantWords,
    earlier_in_reply: Iterable[str] = (),
) -> Verdict:
    """Whether a call the agent proposes (in the last message of `scratch`, after the calls
    named in `earlier_in_reply`) follows data, and whether the merchant asked for it (see
    the module docstring). Approval tools ask whatever the verdict; it adds to their card."""
    read = data_read(scratch)
    if not read:
        return Verdict(read=[], requested=True)
    done = readings(scratch)
    requested = not spec.writes or (
        merchant.asks_for(spec.name)
        and spec.name not in earlier_in_reply
        and not any(r.tool == spec.name and not _failed(r.result) for r in done)
        and _entities_known(args, [*earlier_turns(scratch), *done], merchant)
    )
    return Verdict(read=read, requested=requested)


def _entities_known(args: dict[str, Any], done: list[Reading], merchant: MerchantWords) -> bool:
    """Whether every entity `args` act on is the merchant's: named in their words, or found
    by a chain of calls that starts from their words (search "JBL Flip" -> product 27 ->
    its SKUs). Entities only come from fields named like references, never free text."""
    derived: set[str] = set()

    def known(value: Any) -> bool:
        return merchant.named(value) or str(value) in derived

    for reading in done:
        # a day is no entity: "her order from this morning" reads placed_from=2026-11-25; nor
        # is a state, once the merchant's words narrow the read ("the batch PO-… in progress")
        given = [
            (key, value)
            for key, item in reading.args.items()
            if key not in PLUMBING
            for value in _leaves(item)
        ]
        theirs = any(known(value) for _, value in given)
        if not _failed(reading.result) and all(
            known(value)
            or DAY.fullmatch(str(value))
            or (theirs and _a_state(reading.tool, key, value))
            for key, value in given
        ):
            derived |= {str(value) for value in _references(reading.result)}
    return all(known(value) for value in _references(args))


def _a_state(tool: str, name: str, value: Any) -> bool:
    """Whether `value` is one of the fixed values (an enum's) the tool's `name` filter takes:
    a state a planner picks, not data."""
    spec = REGISTRY.get(tool)
    field = spec.args_model.model_fields.get(name) if spec else None
    if field is None:
        return False
    kinds = typing.get_args(field.annotation) or (field.annotation,)
    return any(
        isinstance(kind, type) and issubclass(kind, enum.Enum) and value in {e.value for e in kind}
        for kind in kinds
    )


def _is_reference(name: str) -> bool:
    return name.endswith(("_id", "_ids")) or name in REFERENCE_NAMES


def _references(value: Any) -> Iterator[Any]:
    """Entity references in arguments or a result: the values of id, *_id, sku, email and key
    fields, at any depth (free text is never read for them)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _is_reference(str(key)) and not isinstance(item, dict | bool):
                yield from (x for x in _leaves(item) if x is not None)
            elif isinstance(item, dict | list):
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _leaves(value: Any) -> Iterator[Any]:
    """The strings and whole numbers of a value (booleans and None say nothing)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str | int) and not isinstance(value, bool):
        yield value


def _failed(result: Any) -> bool:
    return isinstance(result, dict) and set(result) == {"error"}


def _parsed(message: ToolMessage) -> Any:
    if message.status == "error":
        return {"error": str(message.content)}
    try:
        return json.loads(str(message.content))
    except json.JSONDecodeError:
        return str(message.content)
