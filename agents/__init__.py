"""The sixteen agents of Comptoir, as plain specs (no LangGraph here: graph/ runs them)."""

from agents.catalog import AGENT_SPECS, LOOKUP_TOOLS, agent_of
from agents.spec import AgentSpec

__all__ = ["AGENT_SPECS", "LOOKUP_TOOLS", "AgentSpec", "agent_of"]
