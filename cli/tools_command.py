"""`comptoir tools`: what each agent can do."""

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.console import console
from tools import load_tools
from tools.base import ADMINS, EVERYONE, MANAGERS, REGISTRY, STAFF

ROLE_LABELS = {EVERYONE: "everyone", STAFF: "staff", MANAGERS: "managers", ADMINS: "admins"}


def tools(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per tool.")] = False,
    agent: Annotated[str | None, typer.Option(help="Only this agent's tools.")] = None,
) -> None:
    """List every tool: its agent, flags, roles and REST route (--json adds argument schemas)."""
    load_tools()
    specs = [s for s in REGISTRY.values() if agent is None or s.agent == agent]
    if as_json:
        for spec in specs:
            print(json.dumps(spec.json(), ensure_ascii=False))
        return
    table = Table(show_edge=False)
    for column in ("agent", "tool", "route", "writes", "approval", "roles"):
        table.add_column(column)
    for spec in sorted(specs, key=lambda s: (s.agent, s.name)):
        table.add_row(
            spec.agent,
            spec.name,
            f"{spec.method} /api/v1{spec.path}",
            "yes" if spec.writes else "",
            "yes" if spec.approval else "",
            ROLE_LABELS.get(spec.roles) or ", ".join(sorted(r.value for r in spec.roles)),
        )
    console.print(table)
    console.print(f"{len(specs)} tools")
