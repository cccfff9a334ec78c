"""Browser tests of the chat page: Debian's Chromium driven by Playwright against a live
uvicorn server (a subprocess on a free loopback port) over a freshly seeded SQLite demo
database in a temporary data folder. The offline planner answers: no language model.

Screenshots and the server's log go to test-artifacts/browser/ (look at them)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from db.demo import catalogue
from db.demo.reference import demo_api_key
from db.demo.seed import seed_database
from db.engine import create_db_engine
from tests.conftest import DEMO_DAY

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
STARTUP_SECONDS = 120
APP = "server:create_app"  # what `comptoir serve` runs

playwright_api = pytest.importorskip("playwright.sync_api")


def staff_key(role: str) -> tuple[str, str]:
    """(email, demo API key) of the first demo staff member with that role."""
    email = next(email for email, _, staff_role in catalogue.STAFF if staff_role == role)
    return email, demo_api_key(42, email)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LiveServer:
    def __init__(self, url: str, engine: Engine, log: Path) -> None:
        self.url = url
        self.engine = engine
        self.log = log

    def sql(self, statement: str, **params: Any) -> Any:
        """The first column of the first row, read from the server's database."""
        with self.engine.connect() as connection:
            return connection.execute(sa.text(statement), params).scalar()


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[LiveServer]:
    """`comptoir serve`'s app in its own process, on a demo database seeded for this run."""
    data_dir = tmp_path_factory.mktemp("browser-data")
    database_url = f"sqlite:///{data_dir / 'comptoir.db'}"
    engine = create_db_engine(database_url)
    seed_database(engine, seed=42, scale="small", as_of=DEMO_DAY)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    }
    env |= {
        "COMPTOIR_DATA_DIR": str(data_dir),
        "COMPTOIR_OFFLINE": "true",
        "COMPTOIR_SEED_ON_START": "false",
        "COMPTOIR_LOG_LEVEL": "WARNING",
    }
    log = artifacts / "server.log"
    command = [sys.executable, "-m", "uvicorn", APP, "--factory", "--host", "127.0.0.1"]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_healthy(url, process, log)
        with urllib.request.urlopen(f"{url}/", timeout=10) as response:
            if 'id="composer"' not in response.read().decode():
                pytest.fail(
                    "the server does not serve the chat page at /: create_app must call "
                    "web.mount_web(app)"
                )
        yield LiveServer(url, engine, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Debian's chromium at /usr/bin/chromium "
            "(scripts/install-browser installs it)"
        )
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(
    browser: Any, live_server: LiveServer, artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh browser tab on the chat page. A script error in the page fails the test; the
    last state of the page is saved as a screenshot whatever happens."""
    playwright_api.expect.set_options(timeout=60_000)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 860}, color_scheme="light"
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto("/")
    yield tab
    tab.screenshot(path=artifacts / f"{request.node.name}-end.png", full_page=True)
    context.close()
    assert not errors, f"script errors in the page: {errors}"


@pytest.fixture
def sign_in(page: Any) -> Callable[[str], None]:
    def run(role: str = "admin") -> None:
        email, key = staff_key(role)
        page.get_by_label("API key").fill(key)
        page.get_by_role("button", name="Sign in").click()
        playwright_api.expect(page.locator("#whoami")).to_contain_text(email)

    return run
