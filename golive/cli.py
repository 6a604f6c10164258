"""The `golive` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from golive import __version__, checklist, gate, interrupts, outdir, registry, resources
from golive.audit import verify_cli
from golive.audit.signing import load_signer
from golive.errors import InputError
from golive.evidence.cli import add_bundle_option, check_outside
from golive.evidence.cli import add_parser as add_verdict_parser
from golive.history import cli as history_cli
from golive.init_cli import add_parser as add_init_parser
from golive.load_cli import add_parser as add_load_parser
from golive.reconcile.cli import add_parser as add_reconcile_parser
from golive.redact import DEFAULT
from golive.sandbox.cli import add_parser as add_sandbox_parser
from golive.smoke_cli import add_parser as add_smoke_parser
from golive.timeutil import parse_utc
from golive.traffic.cli import add_parser as add_traffic_parser
from golive.watch.cli import add_parser as add_watch_parser
from golive.webhooks.cli import add_parser as add_webhook_parser

EXIT_CODES = """exit codes:
  0  GO: every blocker item passed, or is waived, attested or not applicable
  1  NO-GO: at least one blocker is not accepted, or a waiver has expired
  2  invalid input or usage (the message names the file, line and item)
  3  harness failure or interrupted run (the report of what finished is still written),
     or an evidence bundle asked for with --bundle that could not be written
(--baseline and --history add the changes to the reports; they never change the code.)
"""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return gate.EXIT_USAGE
    try:
        # SIGTERM behaves like Ctrl-C from before anything starts: what a command started
        # is stopped on the way out and a gate still writes its report (exit 3, not 143).
        with interrupts.handled():
            if "target" in args and args.target is None:
                args.target = resources.demo_profile()  # no --target: the embedded demo
            return args.func(args)
    except InputError as exc:
        print(f"golive: error: {DEFAULT.text(str(exc))}", file=sys.stderr)
        return gate.EXIT_USAGE
    except KeyboardInterrupt:
        print("golive: interrupted", file=sys.stderr)
        return gate.EXIT_HARNESS
    except BrokenPipeError:
        # `golive items | head`: the reader left; nothing is wrong with the harness.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - a harness bug still ends with exit code 3
        if os.environ.get("GOLIVE_DEBUG"):
            traceback.print_exc()
        print(
            f"golive: harness failure: {type(exc).__name__}: {DEFAULT.text(str(exc))} "
            "(set GOLIVE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return gate.EXIT_HARNESS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="golive",
        description="Deployment-readiness gate for Stripe integrations.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"golive {__version__}")
    sub = parser.add_subparsers(metavar="COMMAND")

    p = sub.add_parser(
        "gate",
        help="run the checklist against a target and decide GO / NO-GO",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _selection_args(p)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("golive-report"),
        help="report folder (default: ./golive-report)",
    )
    p.add_argument(
        "--now", type=_utc, help="judge freshness and expiry as of this UTC time (ISO 8601)"
    )
    verify_cli.add_sign_key(p)
    history_cli.add_gate_args(p)
    add_bundle_option(p)
    p.set_defaults(func=_cmd_gate)

    p = sub.add_parser(
        "validate", help="validate checklist, profile, attestations and waivers; run nothing"
    )
    _selection_args(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("attest", help="record a person's sign-off for a manual item")
    p.add_argument("item", help="item id, e.g. code-review.security-audit")
    p.add_argument("--by", required=True, type=_named, help="who attests")
    p.add_argument("--evidence", required=True, type=_named, help="text or URL showing it was done")
    p.add_argument(
        "--expires", type=_utc, help="UTC date after which the sign-off no longer counts"
    )
    p.add_argument("--date", type=_utc, help="when it was signed (default: now)")
    p.add_argument(
        "--target",
        type=Path,
        default=None,
        help="target profile naming the attestations file (default: the demo)",
    )
    p.add_argument("--file", type=Path, help="attestations file (default: the profile's)")
    p.add_argument("--checklist", type=Path, default=None)
    p.set_defaults(func=_cmd_attest)

    p = sub.add_parser("items", help="list checklist items")
    p.add_argument("--checklist", type=Path, default=None)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_items)

    add_sandbox_parser(sub)
    add_webhook_parser(sub)
    add_load_parser(sub)
    add_smoke_parser(sub)
    add_reconcile_parser(sub)
    add_traffic_parser(sub)
    add_watch_parser(sub)
    add_init_parser(sub)
    verify_cli.add_parsers(sub)
    history_cli.add_parser(sub)
    add_verdict_parser(sub)

    p = sub.add_parser("checks", help="list the checks, with the first line of each one's doc")
    p.set_defaults(func=_cmd_checks)

    p = sub.add_parser("schema", help="print the JSON Schema of results.json")
    p.set_defaults(func=_cmd_schema)
    return parser


def _selection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", type=Path, default=None, help="target profile (default: the demo)")
    p.add_argument(
        "--checklist", type=Path, default=None, help="checklist.yaml (default: the bundled one)"
    )
    p.add_argument(
        "--phase",
        action="append",
        default=[],
        help="pre-deploy, staging or post-deploy (repeatable; default: pre-deploy and staging)",
    )
    p.add_argument("--section", action="append", default=[], help="section id (repeatable)")
    p.add_argument("--item", action="append", default=[], help="item id (repeatable)")
    p.add_argument("--tag", action="append", default=[], help="tag (repeatable)")


def _utc(text: str) -> datetime:
    try:
        return parse_utc(text)  # range-checked too: far-off dates overflow the arithmetic
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _named(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be blank")
    return text


def _split(values: list[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _request(args: argparse.Namespace) -> gate.GateRequest:
    return gate.GateRequest(
        profile_path=args.target,
        checklist_path=args.checklist,
        phases=_split(args.phase),
        sections=_split(args.section),
        items=_split(args.item),
        tags=_split(args.tag),
        now=getattr(args, "now", None),
    )


def _cmd_gate(args: argparse.Namespace) -> int:
    from golive.console import GateConsole
    from golive.reported import run_and_report

    outdir.check_writable(args.out)  # not after the whole run
    check_outside(args.bundle, args.out)  # before the run, not after
    signer = load_signer(args.sign_key)  # a bad key: exit 2 before anything runs
    compared = history_cli.Comparison.from_args(args)  # a bad baseline: exit 2 at once
    prepared = gate.prepare(_request(args))
    console = GateConsole(redactor=prepared.target.redactor)
    try:
        gate.boot_or_interrupted(prepared)
        console.start(
            prepared.profile.name,
            len(prepared.selected),
            prepared.request.phases or list(checklist.DEFAULT_PHASES),
            Counter(prepared.checklist.section_of[i.id].id for i in prepared.selected),
        )
        outcome, paths = run_and_report(
            prepared, console, args.out, signer, before_write=compared.attach, bundle=args.bundle
        )
    finally:
        gate.discard(prepared)  # the run discards it; this is for a signal before the run
    compared.after(outcome.result, paths, prepared.target.redactor)
    return gate.EXIT_HARNESS if paths is None else outcome.exit_code


def _cmd_validate(args: argparse.Namespace) -> int:
    prepared = gate.prepare(_request(args))
    gate.discard(prepared)  # nothing runs: the scratch folder is not needed
    for module_path, error in sorted(registry.IMPORT_ERRORS.items()):
        print(
            f"golive: warning: check module {module_path} cannot be imported ({error}); "
            "`golive gate` will stop with exit code 3",
            file=sys.stderr,
        )
    c = prepared.checklist
    automated = sum(1 for i in c.items.values() if i.automated)
    print(
        f"ok: {c.path} ({len(c.items)} items, {automated} automated, {len(c.items) - automated} attested), "
        f"profile {prepared.profile.path}, {len(prepared.attestations.entries)} attestations, "
        f"{len(prepared.waivers.entries)} waivers; {len(prepared.selected)} items selected"
    )
    return 0


def _cmd_attest(args: argparse.Namespace) -> int:
    from golive import attestations, profile

    the_checklist = checklist.load(args.checklist or checklist.DEFAULT_CHECKLIST)
    item = the_checklist.items.get(args.item)
    if item is None:
        raise InputError("unknown item", item=args.item, hint="`golive items` lists the ids")
    if item.attested is None:
        raise InputError(
            "this item is automated: its checks prove it; a waiver accepts a failure",
            item=args.item,
        )
    path = args.file
    if path is None:
        target = profile.load(args.target)
        if not target.attestation_files:
            raise InputError(
                "the profile names no attestations file",
                file=args.target,
                hint="add `attestations: attestations.yaml` or pass --file",
            )
        path = target.attestation_files[0]  # a profile's own file comes first
    entry = attestations.Attestation(
        item=args.item,
        by=args.by,
        evidence=args.evidence,
        date=args.date or datetime.now(UTC).replace(microsecond=0),
        expires=args.expires,
    )
    attestations.load(
        path if path.exists() else None, the_checklist
    )  # refuse to append to a broken file
    attestations.append(path, entry)
    print(f"attested {args.item} by {args.by} in {path}")
    return 0


def _cmd_items(args: argparse.Namespace) -> int:
    the_checklist = checklist.load(args.checklist or checklist.DEFAULT_CHECKLIST)
    rows = [
        {
            "id": i.id,
            "section": s.id,
            "severity": i.severity,
            "phase": i.phase,
            "kind": i.kind,
            "title": i.title,
            "why_not_automated": i.attested.why_not_automated if i.attested else None,
        }
        for s in the_checklist.sections
        for i in s.items
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(
                f"{row['id']:<52} {row['severity']:<8} {row['phase']:<12} {row['kind']:<10} {row['title']}"
            )
            if row["why_not_automated"]:
                print(f"{'':<4}why not automated: {row['why_not_automated']}")
    return 0


def _cmd_checks(args: argparse.Namespace) -> int:
    registry.discover()
    for check_id, spec in sorted(registry.REGISTRY.items()):
        print(f"{check_id:<32} {spec.summary}")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from golive.reports.json_report import generate_schema

    print(json.dumps(generate_schema(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
