"""The sandbox's memory under a long run of PaymentIntent creates: does its RSS plateau?

    python bench/bench_sandbox_memory.py [--creates 1000000] [--time-limit 600]

`golive sandbox` runs as its own process on a free loopback port, at its default object
cap unless --max-objects is given. `wrk` (Debian package `wrk`) sends `POST
/v1/payment_intents`, each with its own `Idempotency-Key` as the stripe library sends one,
and stops once --creates responses came back (or at --time-limit). The server's RSS
(VmRSS in /proc/<pid>/status) is sampled along the way; the run also stops early if the
RSS passes --rss-limit, so measuring a sandbox without a cap cannot exhaust the machine.

--source DIR runs the sandbox from another checkout (e.g. `git archive` of the code before
a change, unpacked into DIR) with this checkout's Python environment.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.localstripekit import free_port  # noqa: E402

KEY = "sk_test_benchmark000000000000000000"
# Each wrk thread numbers its own requests; the key is unique per request and per thread.
# The thread stops itself once it has its share of responses (in-flight requests finish).
LUA = f"""
-- thread_id and limit are globals: setup() sets them in each thread's environment.
thread_id = 0
limit = 0
local counter = 0
local body = "amount=2000&currency=usd&payment_method_types[]=card&metadata[order_id]=42"
local headers = {{
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Authorization"] = "Bearer {KEY}",
}}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  thread:set("limit", PER_THREAD)
  next_id = next_id + 1
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = string.format("bench-%d-%012d-6f1c2e8a", thread_id, counter)
  return wrk.format("POST", "/v1/payment_intents", headers, body)
end

local responses = 0
function response(status, headers, body)
  responses = responses + 1
  if responses >= limit then
    wrk.thread:stop()
  end
end
"""


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", text, re.M).group(1)) / 1024


@contextmanager
def sandbox_process(source: Path | None, max_objects: int | None):
    port = free_port()
    argv = [sys.executable, "-m", "golive.cli", "sandbox", "--port", str(port)]
    if max_objects is not None:
        argv += ["--max-objects", str(max_objects)]
    # `python -m` imports from its working directory first, ahead of the editable install.
    process = subprocess.Popen(
        argv, cwd=source or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/_golive/health", trust_env=False, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)
        yield process, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def served(url: str) -> int:
    """The sandbox's count of /v1 requests served."""
    return httpx.get(url + "/_golive/stats", trust_env=False, timeout=10).json()["requests"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creates", type=int, default=1_000_000)
    parser.add_argument("--time-limit", type=int, default=600, help="seconds, at most")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--max-objects", type=int, default=None, help="default: the sandbox's")
    parser.add_argument("--rss-limit", type=float, default=2048, help="MB; stop the run above")
    parser.add_argument("--sample-every", type=float, default=1.0, help="seconds")
    parser.add_argument("--source", type=Path, default=None, help="run the sandbox from DIR")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    threads = 2
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"sandbox from: {args.source or ROOT}, max objects: {args.max_objects or 'default'}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        sandbox_process(args.source, args.max_objects) as (
            process,
            url,
        ),
    ):
        script = Path(tmp) / "create.lua"
        script.write_text(LUA.replace("PER_THREAD", str(-(-args.creates // threads))))
        before = rss_mb(process.pid)
        start_count = served(url)
        samples: list[tuple[float, int, float]] = []
        stop = threading.Event()
        over_limit = threading.Event()
        wrk = subprocess.Popen(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                str(args.connections),
                "-d",
                f"{args.time_limit}s",
                "-s",
                str(script),
                f"{url}/v1/payment_intents",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(args.sample_every):
                rss = rss_mb(process.pid)
                count = served(url) - start_count
                samples.append((time.monotonic() - started, count, rss))
                if rss > args.rss_limit:
                    over_limit.set()
                if count >= args.creates or over_limit.is_set():
                    # wrk's threads stop at their share, but wrk itself waits out -d;
                    # SIGINT ends it early (and it still prints its summary).
                    wrk.send_signal(signal.SIGINT)
                    return

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            out, _ = wrk.communicate(timeout=args.time_limit + 60)
        finally:
            stop.set()
            sampler.join(timeout=30)
            if wrk.poll() is None:
                wrk.kill()
        elapsed = time.monotonic() - started
        time.sleep(1.0)  # let the last responses' garbage go
        creates = served(url) - start_count
        after = rss_mb(process.pid)
        stats = httpx.get(url + "/_golive/stats", trust_env=False, timeout=10).json()
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out or "")
    print(f"\n{'elapsed s':>9} {'creates':>10} {'RSS MB':>8}")
    shown = samples if len(samples) <= 12 else samples[:: max(1, len(samples) // 10)]
    for at, count, rss in shown:
        print(f"{at:>9.0f} {count:>10,} {rss:>8.1f}")
    print(f"\nRSS before: {before:.1f} MB")
    if samples:
        print(f"RSS peak during the run: {max(s[2] for s in samples):.1f} MB")
    print(f"RSS after {creates:,} creates: {after:.1f} MB")
    quarter = next((s for s in samples if s[1] >= creates // 4), None)
    if quarter is not None and creates > quarter[1]:
        growth = (after - quarter[2]) * 1024 * 1024 / (creates - quarter[1])
        print(f"growth after {quarter[1]:,} creates: {growth:,.0f} bytes per create")
    print(
        f"growth over the run: {(after - before) * 1024 * 1024 / max(1, creates):,.0f} bytes per create"
    )
    print(f"throughput: {creates / elapsed:,.0f} creates/s over {elapsed:.0f} s")
    print(f"non-2xx: {int(non2xx.group(1)) if non2xx else 0}")
    print(f"stored at the end: {stats['objects']}, idempotency keys: {stats['idempotency_keys']}")
    if over_limit.is_set():
        print(f"stopped early: the sandbox's RSS passed {args.rss_limit:.0f} MB")
    elif creates < args.creates:
        print(f"stopped at the time limit ({args.time_limit} s) before {args.creates:,} creates")


if __name__ == "__main__":
    main()
