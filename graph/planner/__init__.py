"""The offline planner: a chat model that needs no LLM (see planner.py)."""

from graph.planner.planner import OfflinePlanner

__all__ = ["OfflinePlanner"]
