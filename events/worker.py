"""The automations in a background thread of the server, like tools/telemetry.py's Telemetry.

Several server processes (workers) may each start one: the runner lock lets one of them
work while the others wait their turn; if the one working stops, dies or loses its
database session, another takes over within a tick.
"""

import os
import threading

from sqlalchemy.engine import Engine

from core.logging import get_logger
from events.lock import RunnerLock
from events.runner import LOCK_NAME, AutomationRunner

log = get_logger("comptoir.events.worker")


class AutomationWorker:
    def __init__(self, engine: Engine, interval_s: float = 2.0) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.runner = AutomationRunner(engine)
        self.lock = RunnerLock(engine, LOCK_NAME)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="automations", daemon=True)

    def start(self) -> "AutomationWorker":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.lock.release()

    def tick(self) -> bool:
        """One pass if this worker holds (or gets) the lock; True if it ran."""
        if not self.lock.still_held():
            if not self.lock.try_acquire():
                return False
            log.info("automations run in this process", pid=os.getpid())
        self.runner.run_once()
        return True

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.tick()
            except Exception:  # automations must never take the server down
                log.warning("automation pass failed", exc_info=True)
            self.stopping.wait(self.interval_s)
