"""PaymentIntent create throughput and latency: golive's sandbox next to localstripe.

    python bench/bench_sandbox.py [--duration 10]

Both servers run as separate processes on loopback, on a free port each, and are driven
by `wrk` (Debian package `wrk`) with the same POST /v1/payment_intents request at 1 and at
8 concurrent connections. localstripe is installed from PyPI into a throwaway virtual
environment (cached in ~/.cache/golive). Every run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.localstripekit import free_port, running_localstripe, running_server  # noqa: E402

KEY = "sk_test_benchmark000000000000000000"
LUA = f"""
wrk.method = "POST"
wrk.body = "amount=2000&currency=usd&payment_method_types[]=card&metadata[order_id]=42"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Bearer {KEY}"
"""


def running_sandbox():
    port = free_port()
    argv = [sys.executable, "-m", "golive.cli", "sandbox", "--port", str(port)]
    return running_server(argv, port, "/_golive/health", "the sandbox")


def wrk(url: str, connections: int, duration: int, script: Path) -> dict[str, float]:
    threads = min(connections, 2)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration}s",
            "--latency",
            "-s",
            str(script),
            f"{url}/v1/payment_intents",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    lat = {p: _ms(re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1)) for p in ("50", "99")}
    return {
        "rps": rps,
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "create.lua"
        script.write_text(LUA)
        rows = []
        for name, runner in (
            ("golive sandbox", running_sandbox),
            ("localstripe", running_localstripe),
        ):
            with runner() as url:
                for connections in (1, 8):
                    wrk(url, connections, 2, script)  # warm-up
                    rows.append((name, connections, wrk(url, connections, args.duration, script)))
    print(f"{'server':<16} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, connections, r in rows:
        print(
            f"{name:<16} {connections:>7} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['non2xx']:>8}"
        )
    ours = {c: r["rps"] for n, c, r in rows if n == "golive sandbox"}
    theirs = {c: r["rps"] for n, c, r in rows if n == "localstripe"}
    for c in (1, 8):
        print(f"throughput ratio at {c} client(s): {ours[c] / theirs[c]:.1f}x localstripe")


if __name__ == "__main__":
    main()
