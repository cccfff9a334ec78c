"""The fast router: embedding similarity between a request and what each agent does.

Each agent is described by its routing line and the first line of each of its tools'
descriptions. A request (or each clause of a request with two intents) goes to the agent
whose texts are closest, when the match is clear; otherwise the router abstains and the
supervisor model decides. It costs one embedding (a few ms), not a model call.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from agents import AGENT_SPECS
from graph.actions import actions
from graph.wording import normalize, plain, single_quoted
from knowledge.embeddings import get_embedder
from tools import load_tools
from tools.base import REGISTRY

# Verbs opening a clause that asks for something of its own.
_ACTS = (
    r"cancel|refund|block|unblock|send|create|generate|track|mark|ship|reserve|release|update|"
    r"change|set|run|make|put|pause|resume|archive|note|log|lower|raise|extend|email|print|"
    r"approve|authorize|reject|flag|hold|close|notify|add|remove|delete|move|transfer|schedule|"
    r"sync|push|reply|issue|void|capture|erase|revoke|deactivate|resolve|inspect|blacklist|ban|"
    r"kill|scrap|book|wipe|bump|drop|swap|acknowledge|expire"
)
_ASKS_FOR = (
    rf"(?:please\s+)?(?:{_ACTS}|show|list|check|tell|give|find|what|which|how|is|are|do|does)\b"
)
# "refund order 12 and block that customer", "…; then …", "… Also …", "how many are left at
# Lyon? schedule an audit", "has 3990 been paid? if so generate the invoice"
_CLAUSE_BREAK = re.compile(
    r"\s*(?:;|\.\s+|,?\s+and then\s+|,?\s+then\s+|,?\s+and also\s+|[,—–-]?\s+also,?\s+|"
    r",?\s+(?:and )?while you(?:'re| are) at it,?\s+|"
    rf",?\s+and\s+(?={_ASKS_FOR})|"
    # after a question, an action of its own; "give me the score" asks more of the same
    rf"(?<=\?)\s+(?=(?:if (?:yes|so|not|it \w+),?\s+)?(?:please\s+)?(?:{_ACTS})\b))",
    re.IGNORECASE,
)


# Quoted text (a message to send, a note to write) is content, not intent.
QUOTED = re.compile(single_quoted(r"[^']{6,}") + r'|"[^"]{6,}"|«[^»]{6,}»')


# "write a draft article titled …: <its text>", "send the buyer a message: <its text>": what
# follows the colon is content, not intent
WRITTEN = re.compile(
    r"^(.{0,120}?\b(?:articles?|notes?|messages?|reply|e-?mail|text|body)\b[^:]{0,120}):\s.*$",
    re.I | re.S,
)


def split_intents(text: str) -> list[str]:
    """The clauses of a request that may each ask for something different. A clause that
    only sets the scene ("stolen card on payment 3993. refund the full amount") joins the
    clause after it when that one names nothing of its own (no id, no number). A text to
    write ("a draft article …: <its text>") is one clause, whatever its text says."""
    if WRITTEN.match(text):
        return [text.strip()]
    parts = [part.strip(" ,.!") for part in _CLAUSE_BREAK.split(text)]
    clauses = [part for part in parts if len(part.split()) >= 2] or [text.strip()]
    merged: list[str] = []
    scene = False  # whether the clause before only set the scene
    for number, clause in enumerate(clauses):
        if merged and scene and not re.search(r"\d", clause):
            merged[-1] = f"{merged[-1]}. {clause}"
            scene = _sets_the_scene(clause)
            continue
        scene = _sets_the_scene(clause)
        last = number == len(clauses) - 1
        if merged and last and scene and not re.search(r"\d", clause):
            joint = " " if merged[-1].endswith("?") else ". "
            merged[-1] = f"{merged[-1]}{joint}{clause}"  # "where is order 12? the buyer's angry"
            continue
        if merged and EXAMPLE.match(plain(clause)):
            merged[-1] = f"{merged[-1]}, {clause}"  # "… already fixed? like the sync thing"
        elif merged and MEASURE_OF_IT.fullmatch(plain(clause).strip(" ?")):
            merged[-1] = f"{merged[-1]} and {clause}"  # "… and how much revenue": the same
        else:
            merged.append(clause)
    return [clause.rstrip("?") for clause in merged]


def _sets_the_scene(clause: str) -> bool:
    lowered = plain(clause)
    opens_with_action = bool(actions(" ".join(lowered.split()[:1])))  # "create a … called X"
    if REPORTED.match(lowered) and not opens_with_action and not clause.endswith("?"):
        return True  # "Valérie André emailed: the case from order 3927 arrived cracked"
    # an action in a subordinate clause is told, not asked: "… before we ship it"
    told = SUBORDINATE.sub("", lowered)
    return not actions(told) and not clause.endswith("?") and not ASKING.match(lowered)


# What someone told the shop: "Valérie André emailed: …", "the buyer just called, …"
REPORTED = re.compile(
    r"\s*(?:[\w'-]+ ){1,3}(?:just )?(?:called|phoned|rang|emailed|wrote|messaged|complained)\b"
)
SUBORDINATE = re.compile(
    r"\b(?:before|after|when|until|once|since|because|as soon as|so that|while) "
    r"(?:we|i|you|he|she|they|it|the \w+)\b.*"
)


# An example of what the clause before asks about: "like the cdiscount sync thing last month"
EXAMPLE = re.compile(r"\s*(?:like|such as|e\.?g\.?|for example|for instance)\b")
# A measure asked of what the clause before names: "how many amazon orders this month and how
# much revenue?"
MEASURE_OF_IT = re.compile(
    r"(?:and )?(?:how much|what|the)(?: total| in)? (?:revenue|turnover|sales|money|value|margin|"
    r"profit|total)(?: in total| overall)?|"
    r"(?:and )?how long (?:would|will|does|did|do) (?:it|that|this|they|each|each one) take"
)

ASKING = re.compile(
    r"\s*(?:which|what|who|whose|how|when|where|why|is|are|do|does|did|has|have|can|could|"
    r"will|would|should|any|show|list|give|tell|find|get)\b"
)


@dataclass(frozen=True)
class AgentScores:
    agents: tuple[str, ...]
    description: np.ndarray  # (agents,) similarity to the routing line
    best_tool: np.ndarray  # (agents,) best similarity to one of its tools

    @property
    def combined(self) -> np.ndarray:
        return 0.4 * self.description + 0.6 * self.best_tool

    def ranked(self) -> list[tuple[str, float]]:
        combined = self.combined
        order = np.argsort(-combined)
        return [(self.agents[i], float(combined[i])) for i in order]


class AgentIndex:
    """Embeddings of every agent's routing line and tool descriptions, built once."""

    def __init__(self) -> None:
        load_tools()
        self.agents = tuple(AGENT_SPECS)
        embedder = get_embedder()
        self.description_vectors = embedder.embed(
            [f"{name}: {AGENT_SPECS[name].description}" for name in self.agents]
        )
        tool_texts, self.tool_owner = [], []
        for index, name in enumerate(self.agents):
            for tool_name in AGENT_SPECS[name].tools:
                summary = REGISTRY[tool_name].description.split("\n")[0]
                tool_texts.append(f"{tool_name.replace('_', ' ')}: {summary}")
                self.tool_owner.append(index)
        self.tool_names = [t for name in self.agents for t in AGENT_SPECS[name].tools]
        self.tool_vectors = embedder.embed(tool_texts)
        self._tool_row = {name: row for row, name in enumerate(self.tool_names)}
        self._owner = np.array(self.tool_owner)

    def scores(self, text: str) -> AgentScores:
        query = get_embedder().embed_one(text)
        tool_similarity = self.tool_vectors @ query
        best = np.full(len(self.agents), -1.0, dtype=np.float32)
        np.maximum.at(best, self._owner, tool_similarity)
        return AgentScores(self.agents, self.description_vectors @ query, best)

    def tool_similarity(self, text: str, tool_names: list[str]) -> dict[str, float]:
        query = get_embedder().embed_one(text)
        return {name: float(self.tool_vectors[self._tool_row[name]] @ query) for name in tool_names}


@lru_cache(maxsize=1)
def agent_index() -> AgentIndex:
    return AgentIndex()


@dataclass(frozen=True)
class Route:
    agents: list[str]
    tasks: list[str]
    confidence: float


class Router:
    """Routes when sure (score above `threshold`, ahead of the runner-up by `margin`)."""

    def __init__(
        self, index: AgentIndex | None = None, threshold: float = 0.45, margin: float = 0.12
    ) -> None:
        self.index = index or agent_index()
        self.threshold = threshold
        self.margin = margin

    def route(self, text: str) -> Route | None:
        """The agents of a request when sure: each clause's embedding match is clear and the
        words merchants use for the domains (the offline planner's reading) agree with it,
        clause by clause. Otherwise None: the supervisor decides."""
        from graph.planner.choose import rank_agents  # the planner imports this module
        from graph.planner.planner import intents

        agents: list[str] = []
        tasks: list[str] = []
        confidence = 1.0
        clauses = split_intents(QUOTED.sub(" ", normalize(text)))
        if len(intents(QUOTED.sub(" ", normalize(text)))) != len(clauses):
            return None  # "the system overview and the refunds risk score": two asks
        for clause in clauses:
            ranked = self.index.scores(clause).ranked()
            (best, score), (_, runner_up) = ranked[0], ranked[1]
            if score < self.threshold or score - runner_up < self.margin:
                return None
            if rank_agents(clause)[0][0] != best:
                return None
            confidence = min(confidence, score - runner_up)
            if best in agents:
                tasks[agents.index(best)] += f"; {clause}"
            else:
                agents.append(best)
                tasks.append(clause)
        tasks = [f"{text}\n(Your part: {task})" for task in tasks] if len(agents) > 1 else [text]
        return Route(agents, tasks, round(confidence, 3))
