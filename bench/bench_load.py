"""The load generator's efficiency: golive's Locust scenarios next to `wrk`, per core.

    python bench/bench_load.py [--duration 10] [--users 40]

A trivial HTTP server (asyncio, keep-alive, one fixed JSON answer to every request) runs
on loopback pinned to CPU 1; each generator runs pinned to CPU 0, one after the other:

- `wrk` (Debian package `wrk`), 1 thread, 50 connections, GET;
- golive's `burst` scenario (WebhookUser: a signed event per request) and `storm`
  scenario (StormUser: the profile's fill_cart, checkout and read_order flows through
  golive's UserSession, then a Stripe confirm; the Stripe base points at the same
  server), one Locust process, no think time.

Reported: requests/s (wall clock) and requests per CPU-second of the generator (its own
user + system time, from the kernel), so a server-bound wrk is still compared per core.
Then the reference shop's own ceiling: `wrk` (2 threads, 8 connections) on its cheapest
API endpoint (GET /api/v1/menu), the demo booted as the gate boots it.
Every run is bounded by --duration and a subprocess timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ANSWER = json.dumps(
    {"payment_intent_id": "pi_bench", "order_id": 1, "id": "pi_bench", "status": "succeeded"}
).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(ANSWER)).encode()
    + b"\r\n\r\n"
    + ANSWER
)


# --- the trivial endpoint ---------------------------------------------------------------


class Trivial(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            match = re.search(rb"content-length:\s*(\d+)", head)
            size = int(match.group(1)) if match else 0
            if len(self.buffer) < end + 4 + size:
                return
            self.buffer = self.buffer[end + 4 + size :]
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]


def serve(port: int) -> None:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(Trivial, "127.0.0.1", port, backlog=512))
    try:
        loop.run_forever()
    finally:
        server.close()


# --- measuring ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout_s: float = 10) -> None:
    end = time.time() + timeout_s
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], timeout_s: float, **kw: object) -> tuple[str, float, float]:
    """(stdout, wall s, CPU s of the process and its reaped children)."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, **kw)  # type: ignore[call-overload]
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{argv[0]} failed: {done.stderr[-500:]}")
    return done.stdout, wall, cpu


def run_wrk(
    url: str, duration: int, threads: int, connections: int, pin: str | None, header: str = ""
) -> dict:
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", url]
    if header:
        argv[1:1] = ["-H", header]
    if pin:
        argv = ["taskset", "-c", pin, *argv]
    out, _, cpu = timed(argv, duration + 30)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    seconds = float(re.search(r"requests in ([\d.]+)s", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": requests / seconds,
        "per_cpu_s": requests / cpu if cpu else 0.0,
        "cpu": cpu / seconds,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


# A profile's auth and flows for the storm: fill the cart, check out, read the order.
APP = {
    "auth": {"header": {"name": "Authorization", "scheme": "Bearer", "value": "{user.token}"}},
    "flows": {
        "fill_cart": {
            "item": {"food_item_id": "{item.id}", "quantity": "{item.quantity}"},
            "steps": [{"for_each": "lines", "request": {"method": "POST", "path": "/cart"}}],
        },
        "checkout": {
            "item": {"food_item_id": "{item.id}", "quantity": "{item.quantity}"},
            "steps": [
                {
                    "request": {
                        "method": "POST",
                        "path": "/checkout",
                        "json": {"items": "{lines}"},
                    },
                    "capture": {"payment_intent_id": "payment_intent_id", "order_id": "order_id"},
                }
            ],
        },
        "read_order": [
            {"request": {"path": "/orders/{order_id}"}, "capture": {"status": "status"}}
        ],
    },
}


def run_locust(url: str, scenario: str, users: int, duration: int, tmp: Path) -> dict:
    classes = {"burst": "WebhookUser", "storm": "StormUser"}
    plan = {
        "scenario": scenario,
        "app_base": url,
        "webhook_path": "/webhook",
        "stripe_api_base": url,
        "app": APP,  # the profile's auth, flows and jobs, as loadtests/shoppers.py writes them
        "members": [{"name": f"bench[{n}]", "vars": {"token": f"tok_{n}"}} for n in range(1000)],
        "quota_per_min": 10**9,
        "carts": [[{"id": 1, "quantity": 1}]],
        "payment_methods": {"pm_card_visa": 1},
        "weights": {scenario: 1},
        "webhook_rate_per_user": 1000,
        "race": {"fanout": 2, "new_event_ids": 0},
        "storm_think_s": [0, 0],
        "allow_hosts": [],
        "workers": 0,
        "shape": {"users": users, "spawn_rate": users, "duration_s": duration},
        "ledger": str(tmp / f"ledger-{scenario}.jsonl"),
        "abort": [],
    }
    plan_path = tmp / f"plan-{scenario}.json"
    plan_path.write_text(json.dumps(plan))
    env = {
        **os.environ,
        "GOLIVE_LOAD_PLAN": str(plan_path),
        "GOLIVE_LOAD_WEBHOOK_SECRET": "whsec_bench",
        "GOLIVE_LOAD_STRIPE_KEY": "sk_test_bench",
        "PYTHONPATH": str(ROOT),
    }
    stats = tmp / f"stats-{scenario}"
    argv = ["taskset", "-c", "0", sys.executable, "-m", "locust", "-f"]
    argv += [str(ROOT / "loadtests" / "scenarios.py"), "--headless", "--host", url]
    argv += ["-u", str(users), "-r", str(users), "-t", f"{duration}s", "--only-summary"]
    argv += ["--json-file", str(stats), "--loglevel", "ERROR", "--exit-code-on-error", "0"]
    argv += [classes[scenario]]
    _, wall, cpu = timed(argv, duration + 60, env=env)
    entries = json.loads(stats.with_suffix(".json").read_text())
    requests = sum(e["num_requests"] for e in entries)
    failures = sum(e["num_failures"] for e in entries)
    return {
        "rps": requests / duration,
        "per_cpu_s": requests / cpu if cpu else 0.0,
        "cpu": cpu / wall,
        "failures": failures,
    }


def shop_ceiling(duration: int) -> dict:
    from golive import gate

    request = gate.GateRequest(
        ROOT / "targets" / "demo" / "target.yaml", items=["load-testing.race-conditions"]
    )
    prepared = gate.prepare(request)
    gate.boot(prepared)
    try:
        url = prepared.target.app.base_url + "/api/v1/menu"
        run_wrk(url, 2, 2, 8, None, "Authorization: Bearer tok_load_01")  # warm-up
        return run_wrk(url, duration, 2, 8, None, "Authorization: Bearer tok_load_01")
    finally:
        gate.discard(prepared)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--users", type=int, default=40, help="Locust users")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        sys.exit("needs 2 cores and taskset (util-linux): the server and the generator are pinned")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    port = free_port()
    server = subprocess.Popen(
        ["taskset", "-c", "1", sys.executable, __file__, "--serve", str(port)]
    )
    rows = []
    try:
        wait_port(port)
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as tmp:
            run_wrk(url + "/", 2, 1, 50, "0")  # warm-up
            rows.append(("wrk (1 thread, 50 conns)", run_wrk(url + "/", args.duration, 1, 50, "0")))
            for scenario in ("burst", "storm"):
                name = f"golive {scenario} ({args.users} users)"
                rows.append((name, run_locust(url, scenario, args.users, args.duration, Path(tmp))))
    finally:
        server.terminate()
        server.wait(10)
    shop = shop_ceiling(args.duration)
    print(f"{'generator (pinned to 1 core)':<30} {'req/s':>9} {'req/CPU-s':>10} {'CPU':>6}")
    for name, r in rows:
        print(f"{name:<30} {r['rps']:>9.0f} {r['per_cpu_s']:>10.0f} {r['cpu']:>6.2f}")
    wrk_per_core = rows[0][1]["per_cpu_s"]
    for name, r in rows[1:]:
        print(
            f"{name}: {r['per_cpu_s'] / wrk_per_core:.2f}x wrk per core, "
            f"{r['per_cpu_s'] / shop['rps']:.1f}x the shop's ceiling per core; "
            f"failures {r['failures']}"
        )
    print(f"reference shop, GET /api/v1/menu, wrk 2 threads 8 conns: {shop['rps']:.0f} req/s")


if __name__ == "__main__":
    main()
