"""Load on ``winnow serve``: 20, then 100 concurrent clients against the shipped model, on loopback.

The server runs in its own process (``winnow serve models/default --port 0``) so its memory and
CPU are its own. Each client thread sends ``--requests`` requests, each on a new connection,
alternating a three-unit ``texts`` body and a short ``text`` article, and stops early at
``--max-seconds``. Printed per phase: requests, errors (any non-200 answer or a connection error),
p50 and p99 latency, requests per second, and the server's RSS before and after.
Targets: 0 errors, and p99 under 3x p50 at 20 clients.

    .venv/bin/python benchmarks/serve_load.py [--clients 20 100] [--requests 50] [--max-seconds 60]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HOST = "127.0.0.1"
BODIES = [
    json.dumps(
        {
            "texts": [
                "Flood waters cut the rail line between Tarn and Ostrava on Tuesday.",
                "The ministry's plan is likely to collapse before the summer.",
                "Sign up for our morning briefing and never miss a story.",
            ]
        }
    ).encode(),
    json.dumps(
        {"text": "By Jane Doe\nTroops entered the town on Monday. It was a mistake."}
    ).encode(),
]


def start_server(package: Path) -> tuple[subprocess.Popen[str], int]:
    """``winnow serve`` on a free loopback port; returns the process and the port it printed."""
    winnow = Path(sys.executable).with_name("winnow")
    proc = subprocess.Popen(
        [str(winnow), "serve", str(package), "--host", HOST, "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r":(\d+)\s*$", line)
    if not match:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, int(match.group(1))


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_request(port: int, body: bytes) -> tuple[bool, float]:
    """POST one body on a new connection: (answered 200, seconds)."""
    began = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("POST", "/v1/label", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        ok = response.status == 200
    except OSError:
        ok = False
    finally:
        conn.close()
    return ok, time.perf_counter() - began


def phase(port: int, clients: int, requests: int, max_seconds: float) -> dict[str, float]:
    """``clients`` threads, ``requests`` each, all stopped at ``max_seconds``."""
    deadline = time.perf_counter() + max_seconds

    def client(worker: int) -> list[tuple[bool, float]]:
        results = []
        for i in range(requests):
            if time.perf_counter() > deadline:
                break
            results.append(one_request(port, BODIES[(worker + i) % 2]))
        return results

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = [r for rs in pool.map(client, range(clients)) for r in rs]
    wall = time.perf_counter() - began
    latencies = sorted(s for _, s in results)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "clients": clients,
        "requests": len(results),
        "errors": sum(not ok for ok, _ in results),
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "req_per_s": len(results) / wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=Path("models/default"))
    parser.add_argument("--clients", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per phase")
    args = parser.parse_args()

    proc, port = start_server(args.package)
    try:
        for body in BODIES:  # warm up: first predictions build caches
            one_request(port, body)
        print(
            f"server pid {proc.pid} on {HOST}:{port}, RSS {rss_mb(proc.pid):.0f} MB after warm-up"
        )
        print("clients  requests  errors  p50 ms  p99 ms  p99/p50  req/s  RSS before/after MB")
        for clients in args.clients:
            before = rss_mb(proc.pid)
            r = phase(port, clients, args.requests, args.max_seconds)
            after = rss_mb(proc.pid)
            print(
                f"{clients:7d}  {r['requests']:8d}  {r['errors']:6d}  {r['p50_ms']:6.1f}"
                f"  {r['p99_ms']:6.1f}  {r['p99_ms'] / r['p50_ms']:7.2f}  {r['req_per_s']:5.0f}"
                f"  {before:.0f}/{after:.0f}"
            )
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
