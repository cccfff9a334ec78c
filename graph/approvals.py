"""Approvals of consequential writes: what the user is asked, and what they may answer."""

import re
from typing import Any

from graph.errors import BadDecision
from graph.planner.answer import format_value
from tools.base import ToolSpec

HIDDEN = ("idempotency_key",)  # plumbing, not something a person decides on


def summarize(spec: ToolSpec, args: dict[str, Any]) -> str:
    """One sentence saying what will happen, for the approval card: 'Cancel an order that
    has not shipped yet: order 3999, reason "customer changed their mind".'"""
    action = re.split(r"(?<=[.:;])\s", spec.description, maxsplit=1)[0].rstrip(".:;")
    details = ", ".join(
        f"{_label(key)} {_value(key, value)}" for key, value in args.items() if key not in HIDDEN
    )
    return f"{action}: {details}." if details else f"{action}."


def _label(key: str) -> str:
    return key.removesuffix("_cents").removesuffix("_id").replace("_", " ")


def _value(key: str, value: Any) -> str:
    if isinstance(value, str) and " " in value:
        return f'"{value}"'
    return str(format_value(key, value))


class Decision:
    """The decision recorded for one tool call, as a plain (checkpointable) dict."""

    @staticmethod
    def auto(args: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"decision": "auto", "args": args}

    @staticmethod
    def refuse(code: str, message: str, field: str | None = None) -> dict[str, Any]:
        return {"decision": "refuse", "error": {"code": code, "message": message, "field": field}}

    @staticmethod
    def parse(answer: Any) -> dict[str, Any]:
        """The user's answer to an approval: approve, reject, or edit with new arguments."""
        if not isinstance(answer, dict) or answer.get("decision") not in (
            "approve",
            "reject",
            "edit",
        ):
            raise BadDecision("decision must be approve, reject or edit")
        if answer["decision"] == "edit":
            if not isinstance(answer.get("args"), dict):
                raise BadDecision("an edit needs the new arguments as an object in 'args'")
            return {"decision": "edit", "args": answer["args"]}
        return {"decision": answer["decision"]}
