"""Every tool call measured without anyone calling a heartbeat by hand.

`run_tool` reports each call here; a running `Telemetry` (the server starts one for its
engine) buffers the measurements and writes them to agent_metrics in batches from a
background thread, so measuring costs a request no database write.
"""

import threading
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core.logging import get_logger
from db.base import utc_now
from db.engine import serialized_writer
from db.models import AgentMetric, MetricKind

log = get_logger("comptoir.telemetry")
_running: dict[int, "Telemetry"] = {}


@dataclass(frozen=True)
class Measurement:
    agent: str
    kind: MetricKind
    name: str
    duration_ms: float
    success: bool
    error_code: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0


class Telemetry:
    def __init__(self, engine: Engine, interval_s: float = 2.0) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.buffer: list[dict[str, object]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="telemetry", daemon=True)

    def start(self) -> "Telemetry":
        _running[id(self.engine)] = self
        self.thread.start()
        return self

    def stop(self) -> None:
        _running.pop(id(self.engine), None)
        self.stopping.set()
        self.thread.join(timeout=10)
        self.flush()

    def add(self, measurement: Measurement) -> None:
        row = {**measurement.__dict__, "kind": measurement.kind.value, "recorded_at": utc_now()}
        with self.lock:
            self.buffer.append(row)

    def flush(self) -> int:
        with self.lock:
            rows, self.buffer = self.buffer, []
        if not rows:
            return 0
        try:
            with (
                serialized_writer(self.engine),
                self.engine.begin() as connection,  # one executemany, no ORM objects
            ):
                connection.execute(AgentMetric.__table__.insert(), rows)  # type: ignore[attr-defined]
        except Exception:  # measurements must never take the service down
            log.warning("could not write metrics", exc_info=True, dropped=len(rows))
            return 0
        return len(rows)

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval_s):
            self.flush()


def observe(engine: Engine, measurement: Measurement) -> None:
    """Record a measurement if telemetry runs for this engine; otherwise do nothing."""
    telemetry = _running.get(id(engine))
    if telemetry is not None:
        telemetry.add(measurement)
