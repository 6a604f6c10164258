"""Run the Locust scenarios in child processes and collect what they measured.

Locust monkey-patches the interpreter with gevent, so it never runs inside the gate's
pytest process: `python -m locust -f loadtests/scenarios.py --headless …` runs as a child
(or a master and K workers, Locust's own distributed mode, on this machine). Every run is
bounded twice: Locust's `--run-time`, and a hard timeout on the child processes.

Outputs in the run's folder: Locust's CSV (`locust_stats.csv`, `locust_stats_history.csv`,
`locust_failures.csv`), HTML (`locust.html`) and JSON (`locust.json`), its log
(`locust.log`), the plan the scenarios read (`load-plan.json`: the profile's auth, flows
and jobs and the load users' variables) and the ledger of the PaymentIntents the run
touched (`ledger.jsonl`). The Stripe key and the webhook secret reach the children through
their environment only, never a file or a command line.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golive.loadtests import metrics

LOCUSTFILE = Path(__file__).with_name("scenarios.py")
PREFIX = "locust"
USER_CLASSES = {"storm": "StormUser", "burst": "WebhookUser", "race": "RaceUser"}
STOP_TIMEOUT_S = 5  # in-flight tasks may finish after --run-time; then they are killed
GRACE_S = 60  # start-up, workers connecting, writing the reports: beyond that, kill
MASTER_PORT = 5557  # Locust's default, for workers on other machines
REMOTE_WAIT_S = 300  # how long a master waits for workers started on other machines
STORM_THINK_S = (0.3, 0.9)


@dataclass
class Spec:
    scenario: str  # storm | burst | race | mixed
    users: int
    spawn_rate: float
    duration_s: float
    workers: int = 0  # 0: one local process; K: a master and K workers
    master_bind: str | None = None  # set: workers come from other machines, none start here


@dataclass
class Endpoints:
    app_base: str
    webhook_path: str
    stripe_api_base: str | None
    webhook_secret: str = field(repr=False)
    stripe_key: str = field(repr=False)


@dataclass
class LoadRun:
    spec: Spec
    out: Path
    returncode: int | None
    interrupted: bool
    started: float
    duration_s: float
    stats: dict[str, metrics.Entry]
    history: list[dict[str, Any]]
    ledger: list[dict[str, Any]]
    log_tail: str

    @property
    def total_requests(self) -> int:
        return sum(e.requests for e in self.stats.values())

    def files(self) -> list[str]:
        return sorted(p.name for p in self.out.iterdir() if p.is_file())


Progress = Callable[[str], None]


def plan(
    spec: Spec,
    where: Endpoints,
    load: Any,
    app: dict[str, Any],
    members: list[dict[str, Any]],
    out: Path,
    probed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the scenarios read: no Stripe key nor webhook secret. `app` is the profile's
    auth, flows and jobs (loadtests/shoppers.py app_plan), `members` the load users with
    their variables (as the profile states them), `probed` the member the pre-Locust
    probe bought as (its quota spent, signed up)."""
    weights = dict(load.weights)
    if spec.scenario != "mixed":
        weights = {spec.scenario: 1}
    return {
        "scenario": spec.scenario,
        "app_base": where.app_base,
        "webhook_path": where.webhook_path,
        "stripe_api_base": where.stripe_api_base,
        "app": app,
        "members": members,
        "spent": {probed["name"]: 1} if probed else {},
        "signed_up": [probed["name"]] if probed and probed.get("signed_up") else [],
        "quota_per_min": load.quota_per_min,
        "carts": [[line.model_dump() for line in cart] for cart in load.carts],
        "payment_methods": dict(load.payment_methods),
        "weights": weights,
        "webhook_rate_per_user": load.webhook_rate_per_user,
        "race": load.race.model_dump(),
        "storm_think_s": list(STORM_THINK_S),
        "allow_hosts": list(load.allow_hosts),
        "workers": spec.workers,
        "shape": {
            "users": spec.users,
            "spawn_rate": spec.spawn_rate,
            "duration_s": spec.duration_s,
        },
        "ledger": str(out / "ledger.jsonl"),
    }


def run(
    spec: Spec,
    where: Endpoints,
    the_plan: dict[str, Any],
    out: Path,
    progress: Progress | None = None,
) -> LoadRun:
    """Run Locust to the end (or to Ctrl-C, which still collects what was written)."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in [*out.glob(f"{PREFIX}*"), out / "ledger.jsonl"]:
        stale.unlink(missing_ok=True)
    plan_path = out / "load-plan.json"
    plan_path.write_text(json.dumps(the_plan, indent=2), encoding="utf-8")
    env = _child_env(plan_path, where)
    classes = [USER_CLASSES[s] for s, w in the_plan["weights"].items() if w > 0]
    log = (out / "locust.log").open("w", encoding="utf-8")
    started = time.time()
    children = _start(spec, where, out, classes, env, log)
    interrupted = False
    try:
        _wait(children, spec, out, progress, started)
    except KeyboardInterrupt:
        interrupted = True
        # Locust writes its CSV, HTML and JSON on SIGINT; give it the time to.
        for child in children:
            _signal(child, signal.SIGINT)
        _reap(children, 30)
    finally:
        _reap(children, 0)
        log.close()
    result = collect(spec, out, children[0].returncode, interrupted, started)
    if interrupted:
        raise Interrupted(result)
    return result


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a load run; carries what the run wrote before it stopped."""

    def __init__(self, result: LoadRun) -> None:
        super().__init__("load run interrupted")
        self.result = result


def _child_env(plan_path: Path, where: Endpoints) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STRIPE_", "GOLIVE_LOAD_")) and "SECRET" not in k
    }
    env["GOLIVE_LOAD_PLAN"] = str(plan_path)
    env["GOLIVE_LOAD_WEBHOOK_SECRET"] = where.webhook_secret
    env["GOLIVE_LOAD_STRIPE_KEY"] = where.stripe_key
    env["PYTHONPATH"] = os.pathsep.join(
        [str(LOCUSTFILE.parent.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def _start(
    spec: Spec, where: Endpoints, out: Path, classes: list[str], env: dict[str, str], log: Any
) -> list[subprocess.Popen]:
    common = [
        "--headless",
        "--host",
        where.app_base,
        "--users",
        str(spec.users),
        "--spawn-rate",
        str(spec.spawn_rate),
        "--run-time",
        f"{max(1, round(spec.duration_s))}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--csv",
        str(out / PREFIX),
        "--html",
        str(out / f"{PREFIX}.html"),
        "--json-file",
        str(out / PREFIX),
        "--only-summary",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
    ]

    def spawn(argv: list[str]) -> subprocess.Popen:
        # Own session: Ctrl-C reaches Locust once, from us, after we decided to stop.
        return subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    if spec.workers <= 0:
        return [spawn(_locust(*common, *classes))]
    started: list[subprocess.Popen] = []
    try:
        return _start_distributed(spec, common, classes, spawn, started)
    except BaseException:  # Ctrl-C while starting: stop those already started
        for child in started:
            _signal(child, signal.SIGKILL)
        _reap(started, 5)
        raise


def _start_distributed(
    spec: Spec,
    common: list[str],
    classes: list[str],
    spawn: Callable[[list[str]], subprocess.Popen],
    started: list[subprocess.Popen],
) -> list[subprocess.Popen]:
    remote = spec.master_bind is not None
    port = MASTER_PORT if remote else _free_port()
    master = spawn(
        _locust(
            *common,
            "--master",
            "--master-bind-host",
            spec.master_bind or "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(spec.workers),
            "--expect-workers-max-wait",
            str(REMOTE_WAIT_S if remote else 30),
            *classes,
        )
    )
    started.append(master)
    if remote:
        return [master]
    for _ in range(spec.workers):
        worker = _locust(
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(port),
            "--loglevel",
            "WARNING",
            *classes,
        )
        started.append(spawn(worker))
    return list(started)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(
    children: list[subprocess.Popen],
    spec: Spec,
    out: Path,
    progress: Progress | None,
    started: float,
) -> None:
    deadline = started + spec.duration_s + STOP_TIMEOUT_S + GRACE_S
    if spec.master_bind is not None:
        deadline += REMOTE_WAIT_S
    master = children[0]
    last = ""
    while master.poll() is None:
        if time.time() > deadline:
            for child in children:
                _signal(child, signal.SIGKILL)
            raise TimeoutError(f"Locust did not finish within {deadline - started:.0f} s")
        time.sleep(0.5)
        if progress:
            line = progress_line(out, time.time() - started)
            news = line.split("s  ", 1)[-1] if line else ""  # the same second: say it once
            if line and news != last:
                progress(line)
                last = news
    _reap(children[1:], 15)


def _signal(child: subprocess.Popen, sig: int) -> None:
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)


def _reap(children: list[subprocess.Popen], timeout_s: float) -> None:
    end = time.time() + timeout_s
    for child in children:
        try:
            child.wait(max(0.0, end - time.time()))
        except subprocess.TimeoutExpired:
            _signal(child, signal.SIGKILL)
            child.wait(5)


def progress_line(out: Path, elapsed: float) -> str | None:
    """The latest aggregated second of the run, for the terminal."""
    rows = history(out)
    if not rows:
        return None
    row = rows[-1]
    if not row["users"] and not row["requests"]:
        return f"  {elapsed:5.1f}s  starting…"
    return (
        f"  {elapsed:5.1f}s  users {row['users']:>4}  req/s {row['rps']:8.1f}  "
        f"p50 {row['p50']:>6} ms  p95 {row['p95']:>6} ms  p99 {row['p99']:>6} ms  "
        f"fail/s {row['fps']:.1f}  requests {row['requests']}"
    )


def history(out: Path) -> list[dict[str, Any]]:
    """Locust's per-second aggregated rows: users, req/s, failures/s, p50/p95/p99 (ms)."""
    path = out / f"{PREFIX}_stats_history.csv"
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            if raw.get("Name") != "Aggregated":
                continue
            rows.append(
                {
                    "t": int(float(raw["Timestamp"])),
                    "users": int(float(raw.get("User Count") or 0)),
                    "rps": _num(raw.get("Requests/s")),
                    "fps": _num(raw.get("Failures/s")),
                    "p50": _num(raw.get("50%")),
                    "p95": _num(raw.get("95%")),
                    "p99": _num(raw.get("99%")),
                    "requests": int(_num(raw.get("Total Request Count"))),
                    "failures": int(_num(raw.get("Total Failure Count"))),
                }
            )
    return rows


def _num(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "", "N/A") else 0.0
    except ValueError:
        return 0.0


def collect(
    spec: Spec, out: Path, returncode: int | None, interrupted: bool, started: float
) -> LoadRun:
    stats_path = out / f"{PREFIX}.json"
    raw = json.loads(stats_path.read_text("utf-8")) if stats_path.exists() else []
    ledger_path = out / "ledger.jsonl"
    ledger = []
    if ledger_path.exists():
        for line in ledger_path.read_text("utf-8").splitlines():
            try:
                ledger.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a kill
    log_path = out / "locust.log"
    tail = log_path.read_text("utf-8", errors="replace")[-2000:] if log_path.exists() else ""
    return LoadRun(
        spec=spec,
        out=out,
        returncode=returncode,
        interrupted=interrupted,
        started=started,
        duration_s=round(time.time() - started, 2),
        stats=metrics.entries(raw),
        history=history(out),
        ledger=ledger,
        log_tail=tail,
    )
