"""Tools as a model sees them: OpenAI-style function schemas from the tool registry."""

from functools import cache
from typing import Any

from agents import AGENT_SPECS, LOOKUP_TOOLS
from tools import load_tools
from tools.base import REGISTRY


@cache
def tool_schema(name: str) -> dict[str, Any]:
    load_tools()
    spec = REGISTRY[name]
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": spec.description,
            "parameters": spec.args_model.model_json_schema(),
        },
    }


@cache
def agent_tools(agent: str) -> tuple[dict[str, Any], ...]:
    """An agent's own tools, then the shared look-ups it does not own."""
    own = AGENT_SPECS[agent].tools
    return tuple(tool_schema(name) for name in (*own, *(t for t in LOOKUP_TOOLS if t not in own)))


@cache
def supervisor_tools() -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "type": "function",
            "function": {
                "name": f"ask_{spec.name}",
                "description": f"Hand a request to the {spec.name} agent. {spec.description}",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "task": {
                            "type": "string",
                            "description": "What this agent should do, with the ids and "
                            "details from the request.",
                        }
                    },
                    "required": ["task"],
                },
            },
        }
        for spec in AGENT_SPECS.values()
    )
