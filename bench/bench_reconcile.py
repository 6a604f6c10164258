"""`golive reconcile` over a large history: time and peak memory.

    python bench/bench_reconcile.py [--payments 100000] [--days 20]

1. `golive sandbox` runs as its own process on a free loopback port (object cap raised to
   hold the history); `POST /_golive/history` makes --payments past payments spread over
   --days (1 in 50 refunded, 1 in 200 disputed), in batches of 10,000.
2. shop/history.py writes the matching orders into a new SQLite database in the shop's own
   schema (each order's status as the shop would have it: paid, refunded, disputed).
3. `golive reconcile` runs as its own process over the whole span, with the demo's
   `reconcile` block and pricing rules. Its wall time and peak RSS (ru_maxrss of that
   process alone, from wait4) are reported, with its summary line.

The history is clean, so the run must end with exit code 0 and no finding: a finding is
a bug of the benchmark or of golive, and the benchmark fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from golive.profile.pricing import round_half_up  # noqa: E402
from tests.localstripekit import free_port  # noqa: E402

KEY = "sk_test_benchmark000000000000000000"
BATCH = 10_000
FEE_BPS = 1000


def history(count: int, days: int, seed: int = 15) -> list[dict]:
    """The payments to make: (history route's payment, the shop's order line)."""
    rng = random.Random(seed)
    end = int(time.time()) - 3600
    start = end - days * 86400
    payments = []
    for n in range(count):
        created = start + (end - start) * n // count
        subtotal = rng.randrange(500, 6000)
        fee = round_half_up(subtotal, FEE_BPS)
        payment: dict = {
            "created": created,
            "amount": subtotal + fee,
            "currency": "usd",
            "outcome": "succeeded",
        }
        status, refunded = "paid", 0
        if n % 50 == 7:
            payment["refunds"] = [{"amount": subtotal + fee, "created": created + 600}]
            status, refunded = "refunded", subtotal + fee
        elif n % 200 == 11:
            payment["dispute"] = {"created": created + 900, "reason": "fraudulent"}
            status = "disputed"
        payments.append(
            {
                "sandbox": payment,
                "order": {
                    "amount": subtotal + fee,
                    "currency": "usd",
                    "created": created + 1,  # the order is paid a second after the charge
                    "status": status,
                    "refunded": refunded,
                    "subtotal": subtotal,
                    "platform_fee": fee,
                },
            }
        )
    return payments


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    port = free_port()
    python = sys.executable
    sandbox = subprocess.Popen(
        [
            python,
            "-m",
            "golive.cli",
            "sandbox",
            "--port",
            str(port),
            "--max-objects",
            str(args.payments * 12),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=600, trust_env=False) as web:
            for _ in range(200):
                try:
                    web.get("/_golive/health")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            plan = history(args.payments, args.days)
            started = time.perf_counter()
            lines = []
            for i in range(0, len(plan), BATCH):
                chunk = plan[i : i + BATCH]
                answer = web.post(
                    "/_golive/history", json={"payments": [p["sandbox"] for p in chunk]}
                )
                answer.raise_for_status()
                for made, p in zip(answer.json()["data"], chunk, strict=True):
                    lines.append(
                        json.dumps({"payment_intent": made["payment_intent"], **p["order"]})
                    )
            made_s = time.perf_counter() - started
        jsonl = work / "orders.jsonl"
        jsonl.write_text("\n".join(lines) + "\n")
        started = time.perf_counter()
        subprocess.run(
            [python, "-m", "shop.history", f"sqlite:///{work / 'shop.db'}", str(jsonl)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        orders_s = time.perf_counter() - started
        profile = write_profile(work, base)
        frm = datetime.fromtimestamp(plan[0]["sandbox"]["created"], UTC) - timedelta(hours=1)
        to = datetime.now(UTC)
        started = time.perf_counter()
        with (work / "stdout").open("w") as stdout, (work / "stderr").open("w") as stderr:
            child = subprocess.Popen(
                [
                    python,
                    "-m",
                    "golive.cli",
                    "reconcile",
                    "--target",
                    str(profile),
                    "--from",
                    frm.isoformat(),
                    "--to",
                    to.isoformat(),
                    "--out",
                    str(work / "out"),
                ],
                cwd=ROOT,
                stdout=stdout,
                stderr=stderr,
            )
            # wait4: the peak RSS of this child alone.
            _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        out, err = (work / "stdout").read_text(), (work / "stderr").read_text()
        sandbox_rss = rss_kb(sandbox.pid)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"history: {args.payments} payments made in {made_s:.1f} s; orders written in {orders_s:.1f} s"
    )
    print(out.strip())
    if err.strip():
        print(err.strip())
    print(f"reconcile: {elapsed:.1f} s wall, exit code {code}")
    print(f"reconcile peak RSS: {usage.ru_maxrss / 1024:.0f} MiB")
    print(f"sandbox RSS at the end: {sandbox_rss / 1024:.0f} MiB")
    return 0 if code == 0 else 1


def write_profile(work: Path, api_base: str) -> Path:
    demo = yaml.safe_load((ROOT / "targets" / "demo" / "target.yaml").read_text())
    (work / "bench.env").write_text(f"STRIPE_SECRET_KEY={KEY}\n")
    data = {
        "name": "bench-reconcile",
        "mode": "test",
        "env": {"file": "bench.env"},
        "database": {"url": f"sqlite:///{work / 'shop.db'}"},
        "stripe": {"backend": "sandbox", "api_base": api_base},
        "users": {"alice": {"token": "t_a", "state": "CA"}, "bob": {"token": "t_b", "state": "NY"}},
        "pricing": {
            "customers": {"in_state": "alice", "out_of_state": "bob"},
            "prices": {"1": 1250, "2": 899},
            "rules": demo["pricing"]["rules"],
            "carts": {
                "single": [{"id": 1, "quantity": 1}],
                "multi": [{"id": 1, "quantity": 2}, {"id": 2, "quantity": 1}],
            },
        },
        "reconcile": demo["reconcile"],
    }
    path = work / "target.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


if __name__ == "__main__":
    raise SystemExit(main())
