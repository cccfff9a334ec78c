"""What an agent is: a name, a line the router reads, instructions, and the tools it may call."""

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

INSTRUCTIONS = Path(__file__).parent / "instructions"


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    tools: tuple[str, ...]

    @cached_property
    def instructions(self) -> str:
        return (INSTRUCTIONS / f"{self.name}.md").read_text(encoding="utf-8").strip()
