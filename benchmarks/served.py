"""`comptoir serve` in a child process on a free loopback port, for load runs and crash tests.

    with ServedComptoir(database_url, data_dir, log_path) as server:
        httpx.get(f"{server.base_url}/health")
        server.kill()      # SIGKILL: no shutdown handler runs, like a crash
        server.start()     # the same database, a new process

The server runs one worker with no background automations, warm-up or seeding unless the
caller's environment says otherwise.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from benchmarks.tansu import free_port
from db.demo import catalogue
from db.demo.reference import demo_api_key

QUIET = {
    "COMPTOIR_AUTOMATIONS": "0",
    "COMPTOIR_WARM_START": "0",
    "COMPTOIR_SEED_ON_START": "0",
    "COMPTOIR_OFFLINE": "1",  # chat on the offline planner, whatever OPENAI_* says
    "COMPTOIR_RATE_LIMIT": "off",  # the load is the point, not the limiter
}
COMMAND = [sys.executable, "-c", "from cli import app; app()", "serve"]


def staff_key(role: str, seed: int = 42) -> str:
    """The demo API key of the first staff user with this role in a database seeded with
    `seed` (the same key `comptoir seed` prints)."""
    email = next(email for email, _, staff_role in catalogue.STAFF if staff_role == role)
    return demo_api_key(seed, email)


class ServerDidNotStart(RuntimeError):
    pass


class ServedComptoir:
    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        log_path: Path,
        env: dict[str, str] | None = None,
        start_timeout_s: float = 180.0,
    ) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = {**QUIET, **(env or {})}
        self.start_timeout_s = start_timeout_s
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    def start(self) -> "ServedComptoir":
        env = {
            **os.environ,
            **self.env,
            "DATABASE_URL": self.database_url,
            "COMPTOIR_DATA_DIR": str(self.data_dir),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*COMMAND, "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerDidNotStart(
                    f"the server exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise ServerDidNotStart(f"no healthy answer in {self.start_timeout_s:.0f} s")

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing is flushed or closed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> "ServedComptoir":
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
