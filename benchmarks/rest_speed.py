"""REST throughput and latency of Comptoir against a bare FastAPI + SQLModel app, same run.

    uv run python -m benchmarks.rest_speed [--database-url URL] [--seconds 10] [--connections 10]

Needs `wrk` (Debian: apt-get install wrk). Seeds a fresh small demo database (SQLite file by
default, or the PostgreSQL database given, which must be empty), then serves, one uvicorn
worker each, on loopback:
- the baseline: benchmarks/bare_app.py, GET /warehouses/1 (no auth, no logs, no tool layer);
- Comptoir, with API-key auth and request logging on: the read GET /api/v1/warehouses/1 and
  the write PATCH /api/v1/warehouses/1 (one transaction with an audit entry and an event).
Prints requests per second and p50/p95 latency of each, and Comptoir's share of the baseline.
Targets (issue 3): at least 70% of the baseline's requests per second, p95 under 50 ms.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from db.demo.reference import demo_api_key
from db.demo.seed import seed_database
from db.engine import create_db_engine

console = Console()
ADMIN = "claire.martin@maison-lumen.fr"
LUA = """
wrk.method = os.getenv("WRK_METHOD") or "GET"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("WRK_AUTH")
if auth then wrk.headers["Authorization"] = auth end
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %d, \\"seconds\\": %f, \\"errors\\": %d, "
    .. "\\"non2xx\\": %d, \\"p50_ms\\": %f, \\"p95_ms\\": %f}\\n",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def serve(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--no-access-log",
            *(["--factory"] if app.startswith("server:") else []),
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start; see {log}")


def load(
    url: str,
    seconds: int,
    connections: int,
    script: Path,
    method: str = "GET",
    body: str | None = None,
    auth: str | None = None,
) -> dict[str, float]:
    env = {**os.environ, "WRK_METHOD": method}
    if body:
        env["WRK_BODY"] = body
    if auth:
        env["WRK_AUTH"] = auth
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"^JSON (.*)$", output, re.MULTILINE)
    assert match, output
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default SQLite).")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        engine = create_db_engine(url)
        seed_database(engine, seed=42, scale="small")
        engine.dispose()
        script = folder / "report.lua"
        script.write_text(LUA)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "COMPTOIR_DATA_DIR": str(folder),
            "COMPTOIR_LOG_FORMAT": "json",
            "COMPTOIR_LOG_LEVEL": "INFO",
        }
        auth = f"Bearer {demo_api_key(42, ADMIN)}"
        results = {}
        bare = serve("benchmarks.bare_app:app", 8871, env, folder / "bare.log")
        comptoir = serve("server:create_app", 8872, env, folder / "comptoir.log")
        try:
            for name, call in (
                (
                    "baseline read (bare FastAPI + SQLModel)",
                    lambda: load(
                        "http://127.0.0.1:8871/warehouses/1", args.seconds, args.connections, script
                    ),
                ),
                (
                    "Comptoir read GET /api/v1/warehouses/1",
                    lambda: load(
                        "http://127.0.0.1:8872/api/v1/warehouses/1",
                        args.seconds,
                        args.connections,
                        script,
                        auth=auth,
                    ),
                ),
                (
                    "Comptoir write PATCH /api/v1/warehouses/1",
                    lambda: load(
                        "http://127.0.0.1:8872/api/v1/warehouses/1",
                        args.seconds,
                        args.connections,
                        script,
                        method="PATCH",
                        body='{"capacity_locations": 12001}',
                        auth=auth,
                    ),
                ),
            ):
                load("http://127.0.0.1:8871/warehouses/1", 2, args.connections, script)  # warm
                results[name] = call()
                console.print(f"{name}: {results[name]['rps']:.0f} req/s")
        finally:
            for process in (bare, comptoir):
                process.send_signal(signal.SIGINT)
                process.wait(timeout=20)
    baseline = next(iter(results.values()))["rps"]
    table = Table(
        title=f"REST on loopback, {args.connections} connections, {args.seconds} s "
        f"each, {'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    for column in ("endpoint", "req/s", "vs baseline", "p50 ms", "p95 ms", "errors"):
        table.add_column(column, justify="right")
    for name, r in results.items():
        table.add_row(
            name,
            f"{r['rps']:.0f}",
            f"{r['rps'] / baseline:.0%}",
            f"{r['p50_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
            str(int(r["errors"] + r["non2xx"])),
        )
    console.print(table)


if __name__ == "__main__":
    main()
