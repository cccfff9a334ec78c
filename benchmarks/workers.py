"""Throughput with one and two worker processes: `comptoir serve --workers 1` against
`--workers 2`, the same seeded PostgreSQL database and Chroma server, same run.

    uv run python -m benchmarks.workers --database-url postgresql://.../empty_db
        [--seconds 5] [--rounds 3] [--connections 10]

Needs `wrk` (Debian: apt-get install wrk) and an empty PostgreSQL database, which it seeds
(small demo). Both servers run at once on loopback (automations, warm-up and the rate limit
off; the idle one costs nothing) and each round loads, in turn for each server (each warmed
first): the read GET /api/v1/warehouses/1, the write PATCH /api/v1/warehouses/1 (an update,
an audit entry and an event in one transaction) and a chat turn POST /api/v1/chat (a new
conversation on the offline planner: a thread row, a tool call, a checkpoint). The table
gives medians over the rounds and, for two workers, the median of each round's ratio to one.
"CPU/req" is the CPU time of the server's processes per request (Linux); "req per CPU-s" is
its inverse: what one core busy with Comptoir alone serves. wrk and PostgreSQL share the
machine's cores with the workers, so on 2 cores two workers cannot double anything.
"""

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from statistics import median
from typing import Any

import httpx
from rich.table import Table

from benchmarks.rest_speed import LUA, PATCH_BODY, console, measure
from benchmarks.served import ServedComptoir, staff_key
from db.demo.seed import seed_database
from db.engine import create_db_engine, is_sqlite

CHAT_BODY = '{"message": "show order 12"}'
ENDPOINTS: dict[str, tuple[str, dict[str, str]]] = {
    "read GET /api/v1/warehouses/1": ("/api/v1/warehouses/1", {}),
    "write PATCH /api/v1/warehouses/1": (
        "/api/v1/warehouses/1",
        {"method": "PATCH", "body": PATCH_BODY},
    ),
    "chat POST /api/v1/chat": ("/api/v1/chat", {"method": "POST", "body": CHAT_BODY}),
}
WORKER_COUNTS = (1, 2)


@contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """`chroma run` on a free loopback port (several workers need a Chroma server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    chroma = Path(sys.executable).parent / "chroma"
    command = str(chroma) if chroma.exists() else shutil.which("chroma") or "chroma"
    process = subprocess.Popen(
        [command, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/api/v2/heartbeat", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None:
                    raise RuntimeError("chroma run exited") from None
                time.sleep(0.2)
        else:
            raise RuntimeError(f"chroma run did not answer on {url}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def warm_workers(server: ServedComptoir, auth: str, requests: int = 20) -> None:
    """A chat turn over a new connection each time, so that every worker (the kernel spreads
    new connections) loads its models and checkpointer before it is measured."""
    for _ in range(requests):
        response = httpx.post(
            f"{server.base_url}/api/v1/chat",
            content=CHAT_BODY,
            headers={"Authorization": auth, "Content-Type": "application/json"},
            timeout=120,
        )
        response.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="An empty PostgreSQL database.")
    parser.add_argument("--seconds", type=int, default=5, help="Of load per endpoint and round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if is_sqlite(args.database_url):
        sys.exit("several workers need PostgreSQL: give an empty PostgreSQL database")
    engine = create_db_engine(args.database_url)
    seed_database(engine, seed=42, scale="small")
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp, chroma_server(Path(tmp) / "chroma") as chroma:
        folder = Path(tmp)
        script = folder / "report.lua"
        script.write_text(LUA)
        servers = {
            count: ServedComptoir(
                args.database_url,
                folder,
                folder / f"workers-{count}.log",
                env={"COMPTOIR_WORKERS": str(count), "CHROMA_URL": chroma},
            )
            for count in WORKER_COUNTS
        }
        common: dict[str, Any] = {
            "connections": args.connections,
            "script": script,
            "auth": f"Bearer {staff_key('admin')}",
        }
        rounds: list[dict[tuple[str, int], dict[str, float]]] = []
        try:
            for server in servers.values():
                server.start()
                warm_workers(server, common["auth"])
            for number in range(1, args.rounds + 1):
                results = {
                    (name, count): measure(
                        server.process,  # type: ignore[arg-type]
                        f"{server.base_url}{path}",
                        args.seconds,
                        **common,
                        **options,
                    )
                    for name, (path, options) in ENDPOINTS.items()
                    for count, server in servers.items()
                }
                rounds.append(results)
                console.print(
                    f"round {number}: "
                    + ", ".join(
                        f"{name.split()[0]} {count}w {result['rps']:.0f}"
                        for (name, count), result in results.items()
                    )
                    + " req/s"
                )
        finally:
            for server in servers.values():
                server.stop()
    console.print(report(rounds, args))


def report(rounds: list[dict[tuple[str, int], dict[str, float]]], args: Any) -> Table:
    table = Table(
        title=f"Workers on PostgreSQL, loopback, {args.connections} connections, "
        f"{len(rounds)} rounds of {args.seconds} s per endpoint (medians)"
    )
    for column in (
        "endpoint",
        "workers",
        "req/s",
        "2w / 1w",
        "each round",
        "p50 ms",
        "p95 ms",
        "CPU/req ms",
        "req per CPU-s",
        "errors",
    ):
        table.add_column(column, justify="right")
    for name in ENDPOINTS:
        for count in WORKER_COUNTS:
            runs = [results[(name, count)] for results in rounds]
            ratios = [
                results[(name, count)]["rps"] / results[(name, 1)]["rps"] for results in rounds
            ]
            cpu = median(r["cpu_ms"] for r in runs) if all("cpu_ms" in r for r in runs) else None
            table.add_row(
                name if count == 1 else "",
                str(count),
                f"{median(r['rps'] for r in runs):.0f}",
                f"{median(ratios):.2f}x" if count > 1 else "",
                " ".join(f"{ratio:.2f}" for ratio in ratios) if count > 1 else "",
                f"{median(r['p50_ms'] for r in runs):.1f}",
                f"{median(r['p95_ms'] for r in runs):.1f}",
                f"{cpu:.2f}" if cpu else "-",
                f"{1000 / cpu:.0f}" if cpu else "-",
                str(int(sum(r["errors"] + r["non2xx"] for r in runs))),
            )
    return table


if __name__ == "__main__":
    main()
