"""The sandbox holding history: 100,000 past payments imported, then listed page by page.

    python bench/bench_sandbox_history.py [--payments 100000] [--batch 10000]
    python bench/bench_sandbox_history.py --via-api --source DIR   # code before the history

`golive sandbox` runs as its own process on a free loopback port with --max-objects large
enough for everything (no eviction). The payments (30 days of them: 92 % succeeded, 5 %
declined, 2 % canceled, 1 % abandoned; 4 % of the succeeded refunded, 0.5 % disputed, 0.3 %
with an early fraud warning) go in through POST /_golive/history in batches. The official
stripe library then walks every PaymentIntent with `auto_paging_iter()` (limit 100), and
the last 7 days' PaymentIntents through a `created` window. RSS is read from /proc.

--in-process measures the server's side alone: 100,000 PaymentIntents created in-process
(PaymentIntent and event each), then every page (limit 100) built and serialised as the
list endpoint would, with the code of --source DIR if given: the cost of a page, first to
last, before and after the list order (store.py).

--via-api creates plain PaymentIntents with POST /v1/payment_intents instead (one request
each), for a sandbox without /_golive/history: with --source DIR (e.g. `git archive` of
the code before the change, unpacked into DIR) the listing is compared with the old code.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
import stripe

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_sandbox_memory import rss_mb, sandbox_process  # noqa: E402

KEY = "sk_test_benchmark000000000000000000"
DAY = 86_400


def history(count: int, now: int, seed: int = 15) -> list[dict]:
    rng = random.Random(seed)
    start = now - 30 * DAY
    step = 30 * DAY / count
    payments = []
    for i in range(count):
        created = int(start + i * step)
        roll = rng.random()
        payment: dict = {
            "created": created,
            "amount": rng.randrange(500, 20_000),
            "currency": "usd",
            "metadata": {"order_id": f"order-{i}"},
        }
        if roll < 0.05:
            payment["outcome"] = "declined"
            payment["decline_code"] = rng.choice(["generic_decline", "insufficient_funds"])
        elif roll < 0.07:
            payment["outcome"] = "canceled"
        elif roll < 0.08:
            payment["outcome"] = "requires_payment_method"
        else:
            extra = rng.random()
            later = min(created + rng.randrange(60, 3 * DAY), now)
            if extra < 0.04:
                payment["refunds"] = [{"amount": payment["amount"], "created": later}]
            elif extra < 0.045:
                payment["dispute"] = {"created": later, "reason": "fraudulent"}
            elif extra < 0.048:
                payment["early_fraud_warning"] = {"created": later, "fraud_type": "misc"}
        payments.append(payment)
    return payments


def walk_in_process(count: int) -> None:
    """Runs with the sandbox code of the working directory (see --in-process)."""
    from golive.sandbox import pagination
    from golive.sandbox.endpoint import dumps
    from golive.sandbox.resources import payment_intents
    from golive.sandbox.state import SandboxState, Settings

    print(f"code: {Path(pagination.__file__).parent}")
    state = SandboxState(Settings(max_objects=700_000))
    params = {"amount": "2000", "currency": "usd", "payment_method_types": ["card"]}
    for i in range(count):
        payment_intents.open_intent(state, dict(params), None)
        if i % 1000 == 0:
            state.trim()
    state.trim()
    cursor, listed, times = None, 0, []
    started = time.perf_counter()
    while True:
        query = {"limit": "100"} if cursor is None else {"limit": "100", "starting_after": cursor}
        t0 = time.perf_counter()
        page = pagination.page(
            state.store, "payment_intent", query, "/v1/payment_intents", "payment_intent"
        )
        dumps(page)
        times.append(time.perf_counter() - t0)
        listed += len(page["data"])
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    total = time.perf_counter() - started
    print(
        f"in-process walk: {listed:,} PaymentIntents, {len(times):,} pages in {total:.2f} s; "
        f"a page: first {times[0] * 1000:.2f} ms, middle {times[len(times) // 2] * 1000:.2f} ms, "
        f"last {times[-1] * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--max-objects", type=int, default=700_000)
    parser.add_argument("--via-api", action="store_true", help="plain creates, no history")
    parser.add_argument("--source", type=Path, default=None, help="run the sandbox from DIR")
    parser.add_argument("--in-process", action="store_true", help="page cost, server side")
    parser.add_argument("--walk-here", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.walk_here:  # the child of --in-process, in the source's directory
        sys.path.insert(0, os.getcwd())
        walk_in_process(args.payments)
        return
    if args.in_process:
        source = (args.source or ROOT).resolve()
        print(f"sandbox code from: {source}")
        argv = [sys.executable, str(Path(__file__).resolve()), "--walk-here"]
        argv += ["--payments", str(args.payments)]
        subprocess.run(argv, cwd=source, check=True)
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"sandbox from: {args.source or ROOT}, max objects: {args.max_objects:,}")
    with sandbox_process(args.source, args.max_objects) as (process, url):
        idle = rss_mb(process.pid)
        now = int(time.time())
        started = time.monotonic()
        with httpx.Client(base_url=url, trust_env=False, timeout=600) as http:
            if args.via_api:
                headers = {"Authorization": f"Bearer {KEY}"}
                for _ in range(args.payments):
                    body = {"amount": "2000", "currency": "usd", "payment_method_types[]": "card"}
                    http.post("/v1/payment_intents", data=body, headers=headers).raise_for_status()
            else:
                payments = history(args.payments, now)
                for first in range(0, len(payments), args.batch):
                    chunk = payments[first : first + args.batch]
                    t0 = time.monotonic()
                    answer = http.post("/_golive/history", json={"payments": chunk})
                    answer.raise_for_status()
                    print(
                        f"  batch of {len(chunk):,}: {time.monotonic() - t0:.2f} s, "
                        f"RSS {rss_mb(process.pid):.0f} MB"
                    )
            made = time.monotonic() - started
            stats = http.get("/_golive/stats").json()
        held = sum(stats["objects"].values())
        loaded = rss_mb(process.pid)
        print(
            f"made {args.payments:,} payments in {made:.1f} s: {held:,} objects, evicted {stats['evicted']}"
        )
        print(
            f"RSS idle {idle:.0f} MB, loaded {loaded:.0f} MB ({(loaded - idle) * 1e6 / max(held, 1):,.0f} B/object)"
        )

        client = stripe.StripeClient(KEY, base_addresses={"api": url}, max_network_retries=0)
        t0 = time.monotonic()
        pages = client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        listed = sum(1 for _ in pages)
        walk = time.monotonic() - t0
        print(
            f"auto_paging_iter, all PaymentIntents: {listed:,} in {walk:.1f} s ({listed / walk:,.0f}/s)"
        )
        if not args.via_api:
            t0 = time.monotonic()
            window = {"created": {"gte": now - 7 * DAY}, "limit": 100}
            pages = client.v1.payment_intents.list(params=window).auto_paging_iter()
            week = sum(1 for _ in pages)
            print(f"auto_paging_iter, last 7 days: {week:,} in {time.monotonic() - t0:.1f} s")
        print(f"RSS after listing {rss_mb(process.pid):.0f} MB")


if __name__ == "__main__":
    main()
