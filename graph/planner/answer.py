"""Writing an answer from a tool's result: the facts that matter, lists as tables."""

import re
from typing import Any

from tools.base import REGISTRY

KEY_FIELDS = (
    "id", "number", "status", "name", "title", "sku", "email", "full_name", "customer_name",
    "total_cents", "amount_cents", "refunded_cents", "captured_cents", "price_cents",
    "available", "on_hand", "reserved", "quantity", "score", "risk_level", "decision",
    "tracking_number", "carrier", "rma_number", "kind", "format", "message", "summary", "key",
    "value",
)  # fmt: skip
MAX_ROWS = 10
MAX_COLUMNS = 6


def write_answer(tool: str, result: Any, asked: str = "") -> str:
    """The answer to a tool's result; `asked` (the request, plain) puts the columns it names
    into a table ("the fees of each gateway")."""
    if tool == "search_articles" and isinstance(result, dict):
        return cited_passages(result.get("hits", []))
    spec = REGISTRY[tool]
    verb, _, noun = tool.partition("_")
    noun = noun.replace("_", " ") or verb
    if isinstance(result, list) or (isinstance(result, dict) and _items(result) is not None):
        rows = result if isinstance(result, list) else _items(result) or []
        if not rows:
            return f"No {noun} found."
        more = "+" if isinstance(result, dict) and result.get("next_cursor") else ""
        header = f"{len(rows)}{more} {noun} found."
        return header + "\n\n" + table(rows[:MAX_ROWS], asked) + _remainder(result, len(rows))
    if isinstance(result, dict):
        if spec.writes:
            lead = f"Done: {tool.replace('_', ' ')}."
        elif "id" in result and verb == "get":
            lead = f"{noun.capitalize()} {result['id']}:"
        else:
            lead = f"{_sentence(spec.description)}:"
        return f"{lead}\n\n" + facts(result)
    return f"{tool.replace('_', ' ')}: {result}"


def cited_passages(hits: list[dict[str, Any]], best: int = 3) -> str:
    """The best passages of the help articles, each cited by article id and title."""
    if not hits:
        return "No help article answers that; nothing in the knowledge base covers it yet."
    parts = ["From the help articles:"]
    for hit in hits[:best]:
        article = hit.get("article") or hit
        title, number = article.get("title", "?"), article.get("id", "?")
        section = f", {hit['section']}" if hit.get("section") else ""
        passage = " ".join(str(hit.get("passage", "")).split())
        parts.append(f"> {passage}\n— *{title}* (article {number}{section})")
    return "\n\n".join(parts)


def write_error(tool: str, error: dict[str, Any]) -> str:
    return f"I could not do that ({tool}): {error.get('message', error)}"


def _items(result: dict[str, Any]) -> list[Any] | None:
    for key in ("items", "results", "rows"):
        if isinstance(result.get(key), list):
            return result[key]  # type: ignore[no-any-return]
    return None


def _remainder(result: Any, shown: int) -> str:
    if not isinstance(result, dict):
        return ""
    extra = {k: v for k, v in result.items() if k not in ("items", "next_cursor")}
    scalars = {k: v for k, v in extra.items() if not isinstance(v, dict | list)}
    return "\n\n" + facts(scalars) if scalars else ""


def facts(record: dict[str, Any]) -> str:
    """The key fields first, then the other scalar ones, as a short list."""
    keys = [k for k in KEY_FIELDS if k in record]
    keys += [k for k, v in record.items() if k not in keys and not isinstance(v, dict | list)]
    lines = [
        f"- {_label(k)}: {format_value(k, record[k])}" for k in keys[:14] if record[k] is not None
    ]
    for key, value in record.items():
        if isinstance(value, dict) and value:  # a nested record: its key facts on one line
            inner = [k for k in KEY_FIELDS if k in value] + [
                k for k in ("first_name", "last_name", "city") if k in value
            ]
            shown = ", ".join(f"{_label(k)} {format_value(k, value[k])}" for k in inner[:8])
            if shown:
                lines.append(f"- {_label(key)}: {shown}")
    for key, value in record.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"- {_label(key)}: {len(value)}")
            lines.append(table(value[:MAX_ROWS]))
            break
    return "\n".join(lines)


def table(rows: list[Any], asked: str = "") -> str:
    """Rows as a table: what identifies a row, the columns the request names, then the key
    fields and the rest, as many as fit."""
    if not rows or not isinstance(rows[0], dict):
        return "\n".join(f"- {row}" for row in rows)
    # a column is scalar in some row: a setting's value is a number here, a list there
    scalar = [
        key for key in dict.fromkeys(key for row in rows for key in row)
        if any(not isinstance(row.get(key, {}), dict | list) for row in rows)
    ]  # fmt: skip
    preferred = [k for k in KEY_FIELDS if k in scalar]
    named = [k for k in scalar if _names_column(asked, k)]
    columns = list(dict.fromkeys([*preferred[:2], *named, *preferred, *scalar]))[:MAX_COLUMNS]
    lines = ["| " + " | ".join(_label(c) for c in columns) + " |"]
    lines.append("|" + "---|" * len(columns))
    for row in rows:
        cells = [str(format_value(c, row.get(c))).replace("|", "/") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _names_column(asked: str, key: str) -> bool:
    """Whether a request names a column by one of its words ("fees" names fee_bp)."""
    words = [w for w in key.split("_") if len(w) >= 3 and w not in ("cents", "count")]
    return any(re.search(rf"\b{w}(?:s|es)?\b", asked) for w in words)


def format_value(key: str, value: Any) -> Any:
    """A field's value as a person reads it: cents as euros, basis points as percents, a list
    as its items."""
    if isinstance(value, list) and not any(isinstance(item, dict | list) for item in value):
        return ", ".join(str(item) for item in value)
    if key.endswith("_cents") and isinstance(value, int):
        return f"{value / 100:,.2f} EUR".replace(",", " ")
    if key.endswith("_bp") and isinstance(value, int):
        return f"{value / 100:.1f}%"
    return value


def _label(key: str) -> str:
    return key.removesuffix("_cents").replace("_", " ")


def _sentence(description: str) -> str:
    paragraph = " ".join(description.split("\n\n")[0].split())
    return re.split(r"(?<=[.:;])\s", paragraph, maxsplit=1)[0].rstrip(".:;")
