"""REST throughput and latency of Comptoir against a bare FastAPI + SQLModel app, same run.

    uv run python -m benchmarks.rest_speed [--database-url URL] [--seconds 3] [--rounds 5]
        [--connections 10]

Needs `wrk` (Debian: apt-get install wrk). Seeds a fresh small demo database (SQLite file by
default, or the PostgreSQL database given, which must be empty), then serves, one uvicorn
worker each with the same options, on loopback:
- the baselines: benchmarks/bare_app.py, GET and PATCH /warehouses/1 (no auth, no logs, no
  tool layer, no audit entry or event; the same engine settings, from
  db.engine.create_db_engine);
- Comptoir, with API-key auth, the per-key rate limiter (a limit it cannot reach), request
  logging (masked) and the automations (reading the events writes add) on, the chat's
  warm-up off: the read GET /api/v1/warehouses/1 and
  the write PATCH /api/v1/warehouses/1 (one transaction with an audit entry and an event).
Each round loads the three in turn (each warmed first), so a machine shared with other work
weighs on all three alike; the table gives each one's median over the rounds, and the
ratios are medians of each round's own ratio. "CPU/req" is the server process's CPU time
per request (Linux), which depends less on what else the machine runs than req/s does.
Targets (issue 3): at least 70% of the baseline's requests per second, p95 under 50 ms. The
table compares every endpoint with the bare read, and the write also with the bare write: a
write that must add an audit entry and an event to its update can only be held to the cost
of a bare update, not of a read.
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
from statistics import median
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from db.demo.reference import demo_api_key
from db.demo.seed import seed_database
from db.engine import create_db_engine

console = Console(width=None if sys.stdout.isatty() else 132)
ADMIN = "claire.martin@maison-lumen.fr"
BASELINE = "baseline: bare FastAPI + SQLModel GET /warehouses/1"
BARE_WRITE = "baseline: bare FastAPI + SQLModel PATCH /warehouses/1"
WRITE = "Comptoir write PATCH /api/v1/warehouses/1"
PATCH_BODY = '{"capacity_locations": 12001}'
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
    for _ in range(300):  # up to a minute on a busy machine
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


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time so far of a process and its live descendants (uvicorn's worker
    processes) (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return None
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) or 0.0 for child in children)


def measure(
    process: subprocess.Popen[bytes], url: str, seconds: int, **load_args: Any
) -> dict[str, float]:
    load(url, 1, **load_args)  # warm: connections, caches, compiled statements
    before = cpu_seconds(process.pid)
    result = load(url, seconds, **load_args)
    after = cpu_seconds(process.pid)
    if before is not None and after is not None and result["requests"]:
        result["cpu_ms"] = (after - before) * 1000 / result["requests"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="An empty PostgreSQL database (default SQLite).")
    parser.add_argument("--seconds", type=int, default=3, help="Of load per endpoint and round.")
    parser.add_argument("--rounds", type=int, default=5)
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
            # The per-key limiter on, counting every request, with a limit out of reach.
            "COMPTOIR_RATE_LIMIT": "1000000000/minute",
            # No warm-up: on a fresh data folder it embeds every help article for the chat, on
            # onnxruntime's threads, through the first rounds (1.6 of the write's 3.4 ms of
            # CPU per request, and cores the load needed). The automations stay on: they read
            # the outbox events the writes add, which is part of what a write costs.
            "COMPTOIR_WARM_START": "0",
        }
        auth = f"Bearer {demo_api_key(42, ADMIN)}"
        common = {"connections": args.connections, "script": script}
        bare = serve("benchmarks.bare_app:app", 8871, env, folder / "bare.log")
        comptoir = serve("server:create_app", 8872, env, folder / "comptoir.log")
        endpoints: dict[str, tuple[subprocess.Popen[bytes], str, dict[str, Any]]] = {
            BASELINE: (bare, "http://127.0.0.1:8871/warehouses/1", {}),
            BARE_WRITE: (
                bare,
                "http://127.0.0.1:8871/warehouses/1",
                {"method": "PATCH", "body": PATCH_BODY},
            ),
            "Comptoir read GET /api/v1/warehouses/1": (
                comptoir,
                "http://127.0.0.1:8872/api/v1/warehouses/1",
                {"auth": auth},
            ),
            WRITE: (
                comptoir,
                "http://127.0.0.1:8872/api/v1/warehouses/1",
                {"method": "PATCH", "body": PATCH_BODY, "auth": auth},
            ),
        }
        rounds: list[dict[str, dict[str, float]]] = []
        try:
            for number in range(1, args.rounds + 1):
                results = {
                    name: measure(process, target, args.seconds, **common, **options)
                    for name, (process, target, options) in endpoints.items()
                }
                rounds.append(results)
                console.print(
                    f"round {number}: "
                    + ", ".join(f"{r['rps']:.0f}" for r in results.values())
                    + " req/s"
                )
        finally:
            for process in (bare, comptoir):
                process.send_signal(signal.SIGINT)
                process.wait(timeout=20)
    console.print(report(rounds, args))


def report(rounds: list[dict[str, dict[str, float]]], args: argparse.Namespace) -> Table:
    table = Table(
        title=f"REST on loopback, {args.connections} connections, {len(rounds)} rounds of "
        f"{args.seconds} s per endpoint, {'PostgreSQL' if args.database_url else 'SQLite'} "
        "(medians)"
    )
    for column in (
        "endpoint",
        "req/s",
        "vs bare read",
        "each round",
        "vs bare write",
        "p50 ms",
        "p95 ms",
        "CPU/req ms",
        "errors",
    ):
        table.add_column(column, justify="right")
    for name in rounds[0]:
        runs = [results[name] for results in rounds]
        ratios = [results[name]["rps"] / results[BASELINE]["rps"] for results in rounds]
        cpu = [r["cpu_ms"] for r in runs if "cpu_ms" in r]
        write_ratios = [results[name]["rps"] / results[BARE_WRITE]["rps"] for results in rounds]
        table.add_row(
            name,
            f"{median(r['rps'] for r in runs):.0f}",
            f"{median(ratios):.0%}",
            " ".join(f"{ratio:.0%}" for ratio in ratios),
            f"{median(write_ratios):.0%}" if name == WRITE else "",
            f"{median(r['p50_ms'] for r in runs):.1f}",
            f"{median(r['p95_ms'] for r in runs):.1f}",
            f"{median(cpu):.2f}" if cpu else "-",
            str(int(sum(r["errors"] + r["non2xx"] for r in runs))),
        )
    return table


if __name__ == "__main__":
    main()
