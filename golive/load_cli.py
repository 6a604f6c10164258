"""`golive load`: one Locust scenario against a target, headless, judged by the checklist.

    golive load --target PROFILE --scenario mixed --users 50 --spawn-rate 10 --duration 60s

It runs the load items of checklist.yaml (section load-testing) the scenario exercises,
with the given shape instead of the gate's short run: the profile is validated, the target
booted as `golive gate` boots it, Locust runs as a child process (or a master and
`--workers K` workers), progress is printed every second, and the output folder gets
Locust's CSV, HTML and JSON, the ledger, and golive's four reports with the charts.

Exit codes: 0 every threshold and invariant held; 1 one failed (or could not be judged);
2 bad input (a misspelled threshold name, an unsafe host, a live key); 3 interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from golive import gate, outdir, yamlsrc
from golive.audit.signing import load_signer
from golive.audit.verify_cli import add_sign_key
from golive.errors import InputError
from golive.evidence.cli import add_bundle_option, check_outside
from golive.profile.loadtest import PROFILE_KEY, SCENARIOS, LoadModel
from golive.results import Outcome, Verdict
from golive.validation import validate

# Which load checks each scenario feeds; the others are not selected.
SCENARIO_CHECKS = {
    "storm": {
        "load.concurrent-intents",
        "load.database",
        "load.response-times",
        "load.race-invariants",
    },
    "burst": {"load.webhook-burst"},
    "race": {"load.race-invariants"},
    "mixed": {
        "load.concurrent-intents",
        "load.webhook-burst",
        "load.database",
        "load.response-times",
        "load.race-invariants",
    },
}
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "load",
        help="run a Locust load scenario against a target and judge its thresholds",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--target", type=Path, default=None, help="target profile (default: the demo)")
    p.add_argument("--checklist", type=Path, default=None, help="checklist.yaml")
    p.add_argument("--scenario", choices=SCENARIOS, default="mixed")
    p.add_argument("--users", type=int, default=None, help="peak users (default: load.gate)")
    p.add_argument("--spawn-rate", type=float, default=None, help="users started per second")
    p.add_argument("--duration", type=duration_s, default=None, help="e.g. 60s, 2m, 1m30s")
    p.add_argument(
        "--workers", type=int, default=0, help="Locust workers (master/worker mode); 0: one process"
    )
    p.add_argument(
        "--master-bind",
        metavar="ADDR",
        help="with --workers K: bind Locust's master to ADDR:5557 and wait for K workers "
        "started on other machines (none start here); see docs/load.md",
    )
    p.add_argument("--out", type=Path, default=Path("golive-load"), help="output folder")
    add_sign_key(p)
    add_bundle_option(p)
    p.set_defaults(func=run_command)


def duration_s(text: str) -> float:
    match = _DURATION.match(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 60s, 2m, 1m30s)")
    h, m, s = (float(g) if g else 0.0 for g in match.groups())
    total = h * 3600 + m * 60 + s
    if total <= 0:
        raise argparse.ArgumentTypeError("the duration must be above zero")
    return total


def run_command(args: argparse.Namespace) -> int:
    from golive.console import GateConsole
    from golive.loadtests import runner, session
    from golive.reported import run_and_report

    if args.users is not None and args.users < 1 or args.workers < 0:
        raise InputError("--users must be at least 1 and --workers at least 0")
    if args.master_bind and args.workers < 1:
        raise InputError("--master-bind needs --workers K (the workers that will connect)")
    if args.spawn_rate is not None and args.spawn_rate <= 0:
        raise InputError("--spawn-rate must be above zero")
    outdir.check_writable(args.out)
    check_outside(args.bundle, args.out)  # before the run, not after
    signer = load_signer(args.sign_key)
    model = _load_block(args.target)
    items = _items(args)
    prepared = gate.prepare(
        gate.GateRequest(args.target, args.checklist, items=items, command="load")
    )
    try:
        _refuse_unsafe(prepared, model)
    except BaseException:
        gate.discard(prepared)
        raise
    spec = runner.Spec(
        args.scenario,
        args.users or model.gate.users,
        args.spawn_rate or args.users or model.gate.spawn_rate,
        args.duration or model.gate.duration_s,
        args.workers,
        args.master_bind,
    )
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    terminal = _terminal()
    cache = prepared.target.cache
    cache[session.SPEC_KEY] = spec
    cache[session.OUT_KEY] = out
    cache[session.PROGRESS_KEY] = lambda line: _say(terminal, line)
    gate.boot_or_interrupted(prepared)
    try:  # again, now that the setup has written the env and the servers have their URLs
        if not prepared.interrupted:
            _refuse_unsafe(prepared, model)
    except BaseException:
        gate.discard(prepared)
        raise
    _say(
        terminal,
        f"golive load · {prepared.profile.name} · {spec.scenario} · {spec.users} users "
        f"at {spec.spawn_rate:g}/s for {spec.duration_s:g}s"
        + (f" · {spec.workers} workers" if spec.workers else "")
        + f" · {len(prepared.selected)} items",
    )
    console = GateConsole(redactor=prepared.target.redactor)
    outcome, paths = run_and_report(prepared, console, out, signer, bundle=args.bundle)
    if paths is None:
        return gate.EXIT_HARNESS
    print(f"  locust {out / 'locust.html'} (and locust_*.csv, locust.json, ledger.jsonl)")
    if outcome.result.verdict == Verdict.INCOMPLETE:
        return gate.EXIT_HARNESS
    if all(i.outcome == Outcome.PASS for i in outcome.result.items):
        return gate.EXIT_GO
    return gate.EXIT_NO_GO


def _terminal() -> TextIO:
    # The checks run under pytest, which captures file descriptors 1 and 2: progress goes
    # to a copy of the real stdout taken before that.
    return os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")


def _say(stream: TextIO, line: str) -> None:
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):
        pass


def _load_block(profile_path: Path) -> LoadModel:
    located = yamlsrc.load(profile_path)
    data = located.data if isinstance(located.data, dict) else {}
    if data.get(PROFILE_KEY) is None:
        raise InputError(
            "the profile has no `load` block",
            file=profile_path,
            hint="add load: {users: …, gate: …} (see targets/demo/target.yaml)",
        )
    # (profile.load validates the block too; this gives the model to the command.)
    return validate(LoadModel, located.sub(PROFILE_KEY), prefix=PROFILE_KEY)


def _items(args: argparse.Namespace) -> list[str]:
    from golive import checklist

    the_checklist = checklist.load(args.checklist or checklist.DEFAULT_CHECKLIST)
    wanted = SCENARIO_CHECKS[args.scenario]
    items = [
        item.id
        for item in the_checklist.items.values()
        if item.automated and any(ref.ref in wanted for ref in item.automated.checks)
    ]
    if not items:
        raise InputError(f"no checklist item uses the {args.scenario} scenario's checks")
    return items


def _refuse_unsafe(prepared: gate.Prepared, model: LoadModel) -> None:
    from golive.loadtests import safety

    profile = prepared.profile
    spec = profile.model
    key_var = profile.var("secret_key")
    keys = {f"the target's {key_var}": profile.env.get(key_var)}
    if spec.stripe is not None:
        keys[f"the harness's {spec.stripe.secret_key_env}"] = profile.env.get(
            spec.stripe.secret_key_env
        )
    safety.check_mode(spec.mode)
    safety.check_keys(keys)
    hosts = []
    if spec.app is not None:
        hosts.append(spec.app.base_url.replace("{port}", "1"))
    if spec.stripe is not None and spec.stripe.backend == "stripe-test":
        hosts.append("https://api.stripe.com")
    elif spec.stripe is not None and spec.stripe.api_base:
        hosts.append(spec.stripe.api_base)
    safety.check_hosts(hosts, model.allow_hosts)
