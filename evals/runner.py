"""Running cases against the assistant, each on a fresh copy of the seeded demo database.

The demo (seed 42, scale small, as of 2026-11-25) is seeded once per run into a temporary
folder; every case gets its own copy of that SQLite file, with the clock pinned to the
demo's "now" like the tests. Approvals are granted. Where a case has `gold`, the gold calls
are replayed with run_tool (as the same user) on another fresh copy and the two databases
are compared (evals.dbstate).
"""

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from core.settings import get_settings
from db.base import set_clock
from db.demo import catalogue
from db.demo.seed import seed_database
from db.engine import create_db_engine
from evals.cases import Case
from evals.dbstate import compare
from evals.metrics import Judged, Observed, judge
from graph.models import Models
from graph.results import TurnResult
from graph.router import Router
from tools import load_tools
from tools.base import REGISTRY, Actor, ToolError, run_tool

DEMO_SEED = 42
DEMO_SCALE = "small"
DEMO_DAY = date(2026, 11, 25)
DEMO_NOW = datetime(2026, 11, 25, 18, 5, tzinfo=UTC)
MAX_APPROVALS = 6  # per turn: more means the agent keeps asking for the same thing


class Databases(Protocol):
    def fresh(self) -> Any:
        """A context manager giving an engine on a fresh copy of the seeded demo."""


class SeededCopies:
    """A seeded SQLite template, copied for every case (copying beats seeding: ~20 ms)."""

    def __init__(self, template: Path, folder: Path) -> None:
        self.template = template
        self.folder = folder

    @classmethod
    @contextmanager
    def seeded(cls, seed: int = DEMO_SEED, scale: str = DEMO_SCALE) -> Iterator["SeededCopies"]:
        with tempfile.TemporaryDirectory(prefix="comptoir-eval-") as folder:
            template = Path(folder) / "template.db"
            engine = create_db_engine(f"sqlite:///{template}")
            seed_database(engine, seed=seed, scale=scale, as_of=DEMO_DAY)
            engine.dispose()  # the last connection folds the WAL into the file
            yield cls(template, Path(folder))

    @contextmanager
    def fresh(self) -> Iterator[Engine]:
        case_folder = self.folder / uuid.uuid4().hex[:12]
        case_folder.mkdir()
        path = case_folder / "case.db"
        shutil.copyfile(self.template, path)
        engine = create_db_engine(f"sqlite:///{path}")
        try:
            yield engine
        finally:
            engine.dispose()
            shutil.rmtree(case_folder, ignore_errors=True)


@contextmanager
def eval_environment(data_dir: Path) -> Iterator[None]:
    """The demo's clock, and documents written under a scratch data folder."""
    previous = os.environ.get("COMPTOIR_DATA_DIR")
    os.environ["COMPTOIR_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    set_clock(DEMO_NOW)
    try:
        yield
    finally:
        set_clock(None)
        if previous is None:
            os.environ.pop("COMPTOIR_DATA_DIR", None)
        else:
            os.environ["COMPTOIR_DATA_DIR"] = previous
        get_settings.cache_clear()


def staff_actor(role: str) -> Actor:
    """The first demo staff user with that role (user ids follow catalogue.STAFF)."""
    for user_id, (email, _, staff_role) in enumerate(catalogue.STAFF, start=1):
        if staff_role == role:
            return Actor(user_id=user_id, email=email, role=staff_role)  # type: ignore[arg-type]
    raise ValueError(f"no demo staff user has the role {role!r}")


class GoldError(Exception):
    """A gold call failed: the case is wrong, not the model."""


def replay_gold(engine: Engine, actor: Actor, case: Case) -> None:
    for number, call in enumerate(case.gold or [], start=1):
        try:
            run_tool(engine, actor, call.tool, call.args)
        except ToolError as error:
            raise GoldError(
                f"{case.id}: gold call {number} ({call.tool}) failed: {error.code}: {error.message}"
            ) from None


def check_case(case: Case) -> list[str]:
    """What is wrong with a case before it runs: unknown tools, tools not of an expected
    agent's... (gold calls are checked by replaying them: `check_gold`)."""
    load_tools()
    problems = []
    named = [*(case.expect.tools or []), *(case.expect.args or {})]
    named += [call.tool for call in case.gold or []]
    for tool in named:
        if tool not in REGISTRY:
            problems.append(f"{case.id}: unknown tool {tool!r}")
    try:
        staff_actor(case.role)
    except ValueError as error:
        problems.append(f"{case.id}: {error}")
    return problems


def check_gold(case: Case, databases: Databases) -> str | None:
    """Replays a case's gold calls on fresh copies and says what is wrong: a call that
    fails, gold calls that change nothing (the case could not tell doing it from not doing
    it), or two replays that end in different states (something compared is not
    deterministic)."""
    if not case.gold:
        return None
    actor = staff_actor(case.role)
    with databases.fresh() as first, databases.fresh() as second:
        try:
            replay_gold(first, actor, case)
            if compare(first, second).equal:
                return f"{case.id}: the gold calls change nothing in the database"
            replay_gold(second, actor, case)
        except GoldError as error:
            return str(error)
        diff = compare(first, second)
        if not diff.equal:
            return f"{case.id}: gold replays differ:\n{diff.summary()}"
    return None


ModelsFor = Callable[[Case], Models]


@dataclass
class Runner:
    databases: Databases
    models_for: ModelsFor
    router: Router | None = None

    def run(self, case: Case, repeat: int = 0) -> Judged:
        actor = staff_actor(case.role)
        observed = Observed()
        with self.databases.fresh() as engine:
            self._converse(engine, actor, case, observed)
            if case.gold is not None and observed.error is None:
                with self.databases.fresh() as gold_engine:
                    try:
                        replay_gold(gold_engine, actor, case)
                    except GoldError as error:
                        observed.error = str(error)
                    else:
                        diff = compare(engine, gold_engine)
                        observed.state_equal = diff.equal
                        observed.state_diff = "" if diff.equal else diff.summary()
        return judge(case, observed, repeat)

    def _converse(self, engine: Engine, actor: Actor, case: Case, observed: Observed) -> None:
        from graph.assistant import Assistant  # the graph is heavy: only when running

        assistant = Assistant(engine, self.models_for(case), router=self.router)
        started = time.perf_counter()
        thread_id: str | None = None
        try:
            for message in case.messages:
                result = assistant.ask(actor, message, thread_id)
                thread_id = result.thread_id
                _add_agents(observed, result)
                for _ in range(MAX_APPROVALS):
                    if result.pending_approval is None:
                        break
                    observed.approvals_asked += 1
                    result = assistant.decide(actor, thread_id, {"decision": "approve"})
                    _add_agents(observed, result)
                # The turn's last result holds the whole turn: its trace and its counters.
                observed.tool_calls.extend(
                    {"agent": c.agent, "tool": c.tool, "args": c.args, "status": c.status}
                    for c in result.tool_calls
                )
                observed.model_calls += result.model_calls
                observed.tokens += result.tokens
                observed.answers.append(result.answer)
        except Exception as error:  # a crash is a failed case, reported, not a stopped suite
            observed.error = f"{type(error).__name__}: {error}"
        finally:
            observed.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            assistant.close()


def _add_agents(observed: Observed, result: TurnResult) -> None:
    for agent in result.agents:
        if agent not in observed.agents:
            observed.agents.append(agent)


def run_suite(
    runner: Runner,
    cases: list[Case],
    k: int = 1,
    on_run: Callable[[Judged], None] | None = None,
) -> list[Judged]:
    runs = []
    for repeat in range(k):
        for case in cases:
            judged = runner.run(case, repeat)
            runs.append(judged)
            if on_run is not None:
                on_run(judged)
    return runs
