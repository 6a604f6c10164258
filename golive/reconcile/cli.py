"""`golive reconcile [--target PROFILE] [--since 24h | --from ISO --to ISO] [--out DIR]`:
the app's orders (the profile's `reconcile` block) against Stripe's PaymentIntents,
Charges, Refunds and Disputes over a window, with a report of every mismatch.

The target is booted as a post-deploy gate boots it: its setup commands, its Stripe
backend, and on a profile with `traffic:` (the demo) the app and the day of payments it
plays, which is then what is reconciled.

Writes findings.csv (as found), results.json, summary.md, report.html and junit.xml.
Exit codes: 0 clean, 1 findings, 2 invalid input or usage, 3 harness failure (a side
could not be read, or nothing was examined).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from golive import gate, outdir
from golive.errors import InputError
from golive.profile.postdeploy import parse_duration
from golive.timeutil import parse_utc, utcnow

EXIT_CLEAN, EXIT_FINDINGS = 0, 1
EXIT_CODES = """exit codes:
  0  clean: payments and orders were examined and nothing is out of line
  1  findings: at least one mismatch (findings.csv lists them)
  2  invalid input or usage (the message names the file, line and field)
  3  harness failure: a side could not be read (the message names it), or the window
     held neither payments nor orders
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reconcile",
        help="reconcile the app's orders with Stripe over a time window",
        description="Read the app's orders through the profile's `reconcile` block and\n"
        "Stripe's PaymentIntents, Charges, Refunds and Disputes over a window; report stuck\n"
        "orders, orders paid without a payment, amount and currency mismatches, duplicate\n"
        "orders, refunds and disputes the orders do not show, orders pending too long and\n"
        "platform fees against the pricing rules (docs/reconcile.md).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--target", type=Path, default=None, help="target profile (default: the demo)")
    p.add_argument(
        "--since", type=_duration, help="the window: this long up to --to (default: 24h)"
    )
    p.add_argument("--from", dest="start", type=_utc, help="the window's start (ISO 8601, UTC)")
    p.add_argument("--to", dest="end", type=_utc, help="the window's end (default: now)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("golive-reconcile"),
        help="report folder (default: ./golive-reconcile)",
    )
    p.set_defaults(func=run)


def _utc(text: str) -> datetime:
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(text: str):  # noqa: ANN202 - a timedelta, for argparse
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def window(args: argparse.Namespace) -> tuple[datetime, datetime]:
    """[since, until) from the options; InputError when they contradict each other."""
    until = args.end or utcnow()
    if args.start is not None and args.since is not None:
        raise InputError("give --since or --from, not both")
    since = args.start if args.start is not None else until - (args.since or parse_duration("24h"))
    if since >= until:
        raise InputError(
            f"the window is empty: --from {since.isoformat()} is not before --to "
            f"{until.isoformat()}"
        )
    return since, until


def run(args: argparse.Namespace) -> int:
    from golive.reconcile import report
    from golive.reconcile.orders_side import SourceError
    from golive.reconcile.run import NoBlock, model_of
    from golive.reconcile.run import run as reconcile
    from golive.reconcile.stripe_side import StripeSideError
    from golive.traffic.gate_hook import LEDGER_KEY

    since, until = window(args)
    outdir.check_writable(args.out)
    # Booted as a post-deploy gate boots: the profile's setup, its Stripe backend, and — on
    # a target that plays `traffic:` (the demo) — the app and a day of payments to judge.
    prepared = gate.prepare(
        gate.GateRequest(args.target, phases=["post-deploy"], command="reconcile")
    )
    target = prepared.profile
    try:
        try:
            model_of(target)
        except NoBlock as exc:
            raise InputError(str(exc), file=target.path, hint="add a `reconcile:` block") from None
        if target.model.stripe is None:
            raise InputError(
                "the target profile names no Stripe backend",
                file=target.path,
                hint="set stripe.backend (and stripe.api_base for a running one)",
            )
        gate.boot(prepared)
        if args.end is None and args.start is None:
            # The window ends now, after what the boot played, not when the command started.
            since, until = window(args)
        backend, redactor = prepared.target.stripe, prepared.target.redactor
        ledger = prepared.target.cache.get(LEDGER_KEY) or {}
        args.out.mkdir(parents=True, exist_ok=True)
        sink = report.CsvSink(args.out / report.CSV, redactor)
        try:
            result = reconcile(
                target,
                backend,
                since,
                until,
                sink,
                app=prepared.target.app,
                redactor=redactor,
                app_clock_s=float(ledger.get("clock_behind_s") or 0.0),
            )
        except (StripeSideError, SourceError) as exc:
            print(f"golive: harness failure: {redactor.text(str(exc))}", file=sys.stderr)
            return gate.EXIT_HARNESS
        finally:
            sink.close()
    finally:
        gate.discard(prepared)
    if result.examined == 0:
        status = "nothing examined"
    else:
        status = "findings" if result.total_findings else "clean"
    report.write(args.out, result, sink, redactor, status)
    print(_line(result, status))
    print(f"reports: {args.out}/ ({', '.join(report.FILES)})")
    if result.examined == 0:
        print(
            "golive: error: the window holds no payments and no orders: nothing was examined "
            "(is stripe.api_base the backend the app uses?)",
            file=sys.stderr,
        )
        return gate.EXIT_HARNESS
    return EXIT_FINDINGS if result.total_findings else EXIT_CLEAN


def _line(result, status: str) -> str:  # noqa: ANN001 - an engine Result
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.findings.items()))
    return (
        f"golive reconcile · {result.since.isoformat()} → {result.until.isoformat()} · "
        f"{result.payments} payments ({result.succeeded} succeeded) · {result.orders} orders · "
        f"{result.matched} matched · {status}" + (f": {kinds}" if kinds else "")
    )
