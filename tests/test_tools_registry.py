"""The tool registry as a whole: every agent equipped, every write gated, every tool served."""

import json

import pytest
from typer.testing import CliRunner

from cli import app as cli_app
from db.models import Role
from server import create_app
from tools import load_tools
from tools.base import AGENTS, REGISTRY

load_tools()
CONSEQUENTIAL = (
    "cancel_",
    "refund_",
    "block_",
    "unblock_",
    "delete_",
    "erase_",
    "deactivate_",
    "revoke_",
)


def test_every_agent_has_tools() -> None:
    per_agent = {agent: [s.name for s in REGISTRY.values() if s.agent == agent] for agent in AGENTS}
    assert [agent for agent, names in per_agent.items() if not names] == []
    assert len(REGISTRY) >= 112  # every operation of the capability catalog, and more


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_tool_is_described_and_gated(name: str) -> None:
    spec = REGISTRY[name]
    assert len(spec.description) >= 20
    schema = spec.args_model.model_json_schema()
    undescribed = [
        arg
        for arg, field in schema.get("properties", {}).items()
        if "description" not in field and "$ref" not in field and "allOf" not in field
    ]
    assert undescribed == [], f"{name}: describe {undescribed} for the model"
    if spec.writes:
        assert Role.VIEWER not in spec.roles, f"{name}: viewers must not write"
    if name.startswith(CONSEQUENTIAL) or (spec.writes and "price" in name):
        assert spec.writes and spec.approval, f"{name} is consequential: it needs approval"


def test_every_tool_has_a_rest_route() -> None:
    schema = create_app().openapi()
    operations = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert set(REGISTRY) - operations == set()


def test_tools_json_lists_every_tool() -> None:
    result = CliRunner().invoke(cli_app, ["tools", "--json"])
    assert result.exit_code == 0
    listed = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert {tool["name"] for tool in listed} == set(REGISTRY)
    for tool in listed:
        assert {
            "agent",
            "name",
            "description",
            "writes",
            "approval",
            "roles",
            "args_schema",
        } <= set(tool)
