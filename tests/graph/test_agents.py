"""The sixteen agent specs against the tool registry."""

from collections import Counter

from agents import AGENT_SPECS, LOOKUP_TOOLS
from tools import load_tools
from tools.base import AGENTS, REGISTRY

load_tools()

CONSEQUENTIAL = ("refund_", "cancel_", "block_", "unblock_", "delete_", "erase_", "revoke_",
                 "deactivate_", "release_reservation", "update_variant_price")  # fmt: skip


def test_sixteen_agents_have_the_registry_names() -> None:
    assert tuple(AGENT_SPECS) == AGENTS


def test_every_tool_belongs_to_exactly_one_agent() -> None:
    owners = Counter(tool for spec in AGENT_SPECS.values() for tool in spec.tools)
    assert set(owners) == set(REGISTRY)
    assert [tool for tool, count in owners.items() if count > 1] == []


def test_every_agent_owns_the_tools_it_registered() -> None:
    for spec in AGENT_SPECS.values():
        assert {t for t in spec.tools if REGISTRY[t].agent != spec.name} == set(), spec.name


def test_shared_lookups_are_read_only() -> None:
    assert all(not REGISTRY[name].writes for name in LOOKUP_TOOLS)


def test_consequential_writes_need_approval() -> None:
    for name, spec in REGISTRY.items():
        if name.startswith(CONSEQUENTIAL):
            assert spec.writes and spec.approval, name


def test_every_agent_has_instructions_and_a_routing_line() -> None:
    for spec in AGENT_SPECS.values():
        assert len(spec.description) > 40
        assert len(spec.instructions) > 80
