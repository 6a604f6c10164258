"""`golive watch`: the first hour after a deploy, judged as Argo Rollouts judges a canary.

    golive watch --target PROFILE --duration 60m --interval 60s [--since go-live] [--out DIR]

Every tick measures the rollback triggers (the checklist's rollback plan: payment success
rate >= 80 %, webhook failures <= 10 %) and the post-deploy targets through the Stripe API,
plus the profile's `watch.metrics` (Stripe or Prometheus), and prints one line per metric.
It ends with PROMOTE or ROLLBACK (at the first trigger beyond its limits) and writes
watch.html (a chart per metric), watch.json, watch.md and junit.xml.

Exit codes: 0 PROMOTE; 4 ROLLBACK; 5 INCONCLUSIVE (a trigger never had enough data to be
judged: a person decides); 2 bad input; 3 harness failure or interrupted (the partial
report is still written).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from golive import gate, interrupts, outdir
from golive.errors import InputError
from golive.profile.postdeploy import parse_duration
from golive.timeutil import parse_utc, utcnow
from golive.watch import providers, report
from golive.watch.analysis import INCONCLUSIVE, PROMOTE, ROLLBACK, Measurement
from golive.watch.runner import WatchResult, run

EXIT_PROMOTE, EXIT_ROLLBACK, EXIT_INCONCLUSIVE = 0, 4, 5
EXIT_CODES = """exit codes:
  0  PROMOTE: the watch ran its duration and every rollback trigger held
  4  ROLLBACK: a rollback trigger failed beyond its limits (or could not be measured)
  5  INCONCLUSIVE: a trigger never had enough samples to be judged; a person decides
  2  invalid input or usage
  3  harness failure or interrupted run (the partial report is still written)
"""
EXITS = {PROMOTE: EXIT_PROMOTE, ROLLBACK: EXIT_ROLLBACK, INCONCLUSIVE: EXIT_INCONCLUSIVE}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "watch",
        help="watch a deploy's first hour: PROMOTE or ROLLBACK (Argo-style analysis)",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--target", type=Path, default=None, help="target profile (default: demo)")
    p.add_argument("--duration", help="how long to watch, e.g. 60m (default: watch.duration)")
    p.add_argument("--interval", help="time between ticks, e.g. 60s (default: watch.interval)")
    p.add_argument("--lookback", help="each tick judges this much before it (e.g. 15m)")
    p.add_argument(
        "--since",
        default=None,
        help="windows start here: `go-live` (the profile's post_deploy), an ISO 8601 time "
        "or a duration before now (e.g. 2h); default: when the watch starts",
    )
    p.add_argument("--out", type=Path, default=Path("golive-watch"), help="report folder")
    p.set_defaults(func=main)


def main(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    stream = stream or sys.stdout
    outdir.check_writable(args.out)
    prepared = gate.prepare(gate.GateRequest(args.target, phases=["post-deploy"], command="watch"))
    try:
        providers.preflight(prepared)
        _durations(args)
        since = None if args.since == "go-live" else _since(args.since)
        gate.boot(prepared)  # go-live may come from an env the profile's setup writes
        if args.since == "go-live":
            since = providers.go_live(prepared)
        plan = providers.plan(
            prepared, duration=args.duration, interval=args.interval, lookback=args.lookback
        )
        name = prepared.profile.model.name
        print(
            f"golive watch: {name}, {len(plan.rules)} metric(s), every {plan.interval} "
            f"for {plan.duration}",
            file=stream,
        )
        result = run(plan, since=since, on_tick=lambda r, ms: _progress(r, ms, stream))
    finally:
        with interrupts.shielded():
            gate.discard(prepared)
    with interrupts.shielded():
        paths = report.write(result, name, args.out, prepared.target.redactor)
    verdict = report.verdict_of(result)
    print(f"golive watch: {verdict} — " + "; ".join(result.reasons), file=stream)
    print(f"report: {paths['html']}", file=stream)
    if verdict == report.INTERRUPTED:
        return gate.EXIT_HARNESS
    return EXITS[verdict]


def _durations(args: argparse.Namespace) -> None:
    for option in ("duration", "interval", "lookback"):
        value = getattr(args, option)
        if value is not None:
            try:
                parse_duration(value)
            except ValueError as exc:
                raise InputError(f"--{option}: {exc}") from None


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return utcnow() - parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_utc(text)
    except ValueError:
        raise InputError(
            f"--since {text!r}: not go-live, an ISO 8601 time or a duration like 2h"
        ) from None


def _progress(result: WatchResult, measurements: list[Measurement], stream: TextIO) -> None:
    """A line per rollback trigger and one for the post-deploy targets, every tick."""
    at = measurements[0].at.strftime("%H:%M:%S") if measurements else ""
    roles = {rule.name: rule.role for rule in result.plan.rules}
    targets = [m for m in measurements if roles.get(m.metric) == "target"]
    for m in measurements:
        if roles.get(m.metric) == "target":
            continue
        observed = "—" if m.observed is None else f"{m.observed:.4g}"
        print(
            f"  {at} tick {result.ticks:>3}  {m.metric:<24} {m.phase:<12} {observed:>8}  "
            f"n={m.samples}",
            file=stream,
        )
    if targets:
        missed = [m.metric for m in targets if m.phase in ("failed", "error")]
        held = sum(1 for m in targets if m.phase == "successful")
        line = f"  {at} tick {result.ticks:>3}  targets: {held} of {len(targets)} held"
        print(line + (f"; missed: {', '.join(missed)}" if missed else ""), file=stream)
    stream.flush()
