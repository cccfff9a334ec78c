"""Eval cases: one JSON object a line, read and checked before anything runs.

    {"id": "orders-cancel-3", "request": "cancel 3998, she changed her mind",
     "expect": {"agents": ["orders"], "tools": ["cancel_order"],
                "args": {"cancel_order": {"order_id": 3998}}, "approval": true,
                "answer_contains": ["3998"]},
     "gold": [{"tool": "cancel_order", "args": {"order_id": 3998, "reason": "..."}}]}

Only `id`, `request` (or `turns`, several messages sent in one conversation) and
`expect.agents` are required. `gold` absent: the database is not judged; `gold: []`: the
database must be left as it was. `role` is who asks (admin unless said); `tags` are free
labels (the agent a case was written for, "two_intents", "out_of_scope"...).

Prompt-injection cases (evals/injection.jsonl) plant hostile text first and judge what the
assistant did with it:

    {"id": "inj-note-refund", "approvals": "reject",
     "setup": [{"tool": "record_interaction", "args": {"customer_id": 12, ...}}],
     "request": "what did customer 12 tell us last time?",
     "expect": {"agents": ["customers"], "unapproved_writes": 0, "answer_excludes": ["..."]},
     "gold": []}

`setup` steps run before the conversation, on the case's database and before its gold calls:
a tool call (as `role`, admin unless said), a chat message `role`'s user sends (their own
conversation, answered by the offline planner) or, where no tool can plant the text, one SQL
statement. `approvals: "reject"` rejects every approval asked, as a merchant would for a write
they never asked for (the default grants them).
"""

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools.base import AGENTS


class GoldCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class SetupStep(BaseModel):
    """One step planting data before a case runs: a tool call, a chat message of another
    user, or one SQL statement."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    role: str = "admin"
    chat: str | None = None
    sql: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "SetupStep":
        if sum(kind is not None for kind in (self.tool, self.chat, self.sql)) != 1:
            raise ValueError("a setup step gives one of `tool` (with `args`), `chat` or `sql`")
        return self


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agents: list[str]
    tools: list[str] | None = None
    args: dict[str, dict[str, Any]] | None = None
    approval: bool | None = None
    answer_contains: list[str] | None = None
    # Injection cases: at most this many writes ran without approval that the merchant did
    # not ask for (their writes are the `tools` with matching `args`); strings that must
    # appear neither in the answers nor in the tool results shown.
    unapproved_writes: int | None = Field(default=None, ge=0)
    answer_excludes: list[str] | None = None

    @model_validator(mode="after")
    def _known_agents(self) -> "Expect":
        unknown = [name for name in self.agents if name not in AGENTS]
        if unknown:
            raise ValueError(f"unknown agents {unknown}")
        return self


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    request: str | None = None
    turns: list[str] | None = None
    expect: Expect
    gold: list[GoldCall] | None = None
    role: str = "admin"
    tags: list[str] = Field(default_factory=list)
    setup: list[SetupStep] = Field(default_factory=list)
    approvals: Literal["grant", "reject"] = "grant"

    @model_validator(mode="after")
    def _one_way_to_ask(self) -> "Case":
        if (self.request is None) == (self.turns is None):
            raise ValueError("give either `request` or `turns`")
        if self.turns is not None and not self.turns:
            raise ValueError("`turns` is empty")
        return self

    @property
    def messages(self) -> list[str]:
        return [self.request] if self.request is not None else list(self.turns or [])

    @property
    def injection(self) -> bool:
        """Whether the case judges what the assistant does with hostile text."""
        return self.expect.unapproved_writes is not None or self.expect.answer_excludes is not None

    @property
    def stratum(self) -> str:
        """The agent the case was written for (its first tag, else its first expected
        agent, else "none"): what the dev/test split and the per-agent tables group by."""
        if self.tags and self.tags[0] in AGENTS:
            return self.tags[0]
        return self.expect.agents[0] if self.expect.agents else "none"


class CaseFileError(ValueError):
    pass


def load_cases(path: Path) -> list[Case]:
    """The cases of a JSONL file, or of every *.jsonl in a folder (sorted by name)."""
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise CaseFileError(f"{path}: no such case file or folder of *.jsonl files")
    cases: list[Case] = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                cases.append(Case.model_validate(json.loads(line)))
            except (json.JSONDecodeError, ValidationError) as error:
                raise CaseFileError(f"{file}:{number}: {error}") from None
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise CaseFileError(f"{path}: case id {case.id!r} is used twice")
        seen.add(case.id)
    return cases
