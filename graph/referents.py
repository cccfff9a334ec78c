"""What a turn worked on, kept with its answer so that the next message can point back at it
("start it", "acknowledge that alert", "the Face ID one: close it as replaced").

A language model reads the ids in the answer's text; the offline planner reads these records,
kept in the answer's `response_metadata`: one per tool call's arguments and one per record in
its result (the record's id, the ids it names, and its short texts to tell records apart).
"""

import re
from typing import Any

REFERENTS = "referents"  # response_metadata key of an answer
MAX_RECORDS = 60  # per turn: a long listing is pointed back at by its first rows
SHORT_TEXT = 80  # a text longer than this describes, it does not name

Record = dict[str, Any]


def referents(trace: list[dict[str, Any]]) -> list[Record]:
    """Records of the turn's successful tool calls, the latest call first."""
    records: list[Record] = []
    for entry in reversed(trace):
        if entry.get("status") != "ok":
            continue
        tool = str(entry["tool"])
        records.append({"tool": tool, "part": "args", **_named(entry.get("args") or {})})
        records.extend(_records(tool, entry.get("result"), part=""))
    return records[:MAX_RECORDS]


def _records(tool: str, value: Any, part: str, depth: int = 0) -> list[Record]:
    if depth > 3:
        return []
    if isinstance(value, list):
        return [r for item in value for r in _records(tool, item, part, depth + 1)]
    if not isinstance(value, dict):
        return []
    found: list[Record] = []
    own = _named(value)
    if len(own) > ("text" in own):
        found.append({"tool": tool, "part": part, **own})
    for name, inner in value.items():
        if isinstance(inner, dict | list):
            found.extend(_records(tool, inner, name if name != "items" else part, depth + 1))
    return found


def _named(values: dict[str, Any]) -> Record:
    """A record's ids and SKU, and its short texts joined (what a merchant calls it by)."""
    named: Record = {}
    texts = []
    for name, value in values.items():
        is_id = (name == "id" or name.endswith("_id")) and isinstance(value, int)
        if is_id or (name in ("sku", "key") and isinstance(value, str)):  # a setting's key
            named[name] = value
        elif isinstance(value, str) and 0 < len(value) <= SHORT_TEXT:
            texts.append(value)
    if texts:
        named["text"] = " ".join(texts)
    return named


def calls_of(records: list[Record]) -> list[tuple[str, Record, list[Record]]]:
    """The turn's calls again, from its records: (tool, arguments, result records)."""
    calls: list[tuple[str, Record, list[Record]]] = []
    for record in records:
        fields = {k: v for k, v in record.items() if k not in ("tool", "part")}
        if record["part"] == "args":
            calls.append((record["tool"], fields, []))
        elif calls and calls[-1][0] == record["tool"]:
            calls[-1][2].append(fields)
    return calls


def pointed_at(records: list[Record], field: str, request: str, earlier: str = "") -> Any:
    """The value of `field` (an id, a SKU) the request points back at among the last turn's
    records: what the turn's latest call was given, else the one result record that has it,
    or the one whose texts share most words with the request ("the Face ID one"), or the
    first when the request says "it". The words of the `earlier` request count too ("how
    much is the iPhone 15 256GB black?" then "drop it to 979€")."""
    given = [r[field] for r in records if r["part"] == "args" and field in r]
    if given:
        return given[0]
    entity = field.removesuffix("_id")
    candidates: list[tuple[Any, Record]] = []
    for record in records:
        if field in record:
            candidates.append((record[field], record))
        elif (  # the records of a listing of alerts hold the alert ids (an order's lines
            # hold their own)
            field.endswith("_id")
            and "id" in record
            and record["part"] != "args"
            and (entity in record["part"] or (not record["part"] and entity in record["tool"]))
        ):
            candidates.append((record["id"], record))
    values = list(dict.fromkeys(value for value, _ in candidates))
    if len(values) <= 1:
        return values[0] if values else None
    words = _words(f"{request} {earlier}")
    overlap = [(_shared(words, _words(_naming(record))), value) for value, record in candidates]
    best = max(score for score, _ in overlap)
    top = list(dict.fromkeys(value for score, value in overlap if score == best))
    if best > 0 and len(top) == 1:
        return top[0]
    return values[0] if SINGULAR.search(request) and best == 0 else None


SINGULAR = re.compile(r"\b(?:it|its|that one|this one|that|this)\b", re.I)


def _naming(record: Record) -> str:
    return f"{record.get('text', '')} {record.get('sku', '')}"


def _shared(asked: set[str], named: set[str]) -> int:
    """Words of the request found in a record's texts, a word also matching its start or
    its extension ("samsung" and SKU part "sam", "45w" and "45wsuperfastch")."""
    return sum(
        1
        for word in asked
        if word in named
        or any(
            min(len(word), len(other)) >= 3 and (word.startswith(other) or other.startswith(word))
            for other in named
        )
    )


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]{2,}", text.lower()) if w not in _COMMON}


_COMMON = frozenset(
    {"the", "and", "for", "with", "one", "that", "this", "it", "its", "is", "was", "are", "of",
     "to", "in", "on", "at", "by", "from", "we", "our"}
)  # fmt: skip
