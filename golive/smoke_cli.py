"""`golive smoke --target PROFILE [--flow NAME]…`: the smoke and end-to-end flows alone.

The gate's machinery with the selection narrowed to the items the chosen flows prove
(staging phase by default), every step printed as it ends, the same reports and the
gate's exit codes: 0 GO, 1 NO-GO, 2 invalid input, 3 harness failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from rich.markup import escape

from golive import checklist, gate, outdir
from golive.audit.signing import load_signer
from golive.audit.verify_cli import add_sign_key
from golive.console import GateConsole
from golive.evidence.cli import add_bundle_option, check_outside

SMOKE_CHECKS = (
    "smoke.create-intent",
    "smoke.confirm-test-card",
    "smoke.webhook-received",
    "smoke.order-created",
    "smoke.payment-recorded",
    "smoke.notification-written",
    "smoke.cart-cleared",
)
EXIT_CODES = """exit codes (as `golive gate`):
  0  GO: every blocker item of the flows passed (or is waived, attested, not applicable)
  1  NO-GO: a blocker failed, erred or did not run (e.g. live keys without the opt-in)
  2  invalid input or usage
  3  harness failure or interrupted run (the report of what finished is still written)
"""
# --flow NAME -> the checks that judge it.
FLOW_CHECKS: dict[str, tuple[str, ...]] = {
    "smoke": SMOKE_CHECKS,
    "full-checkout": ("e2e.full-checkout",),
    "state-tax": ("e2e.state-tax",),
    "multi-item": ("e2e.multi-item",),
    "payment-failure": ("e2e.payment-failure",),
    "refund": ("e2e.refund",),
    "webhook-retry": ("e2e.webhook-retry",),
    "latency": ("e2e.webhook-latency", "e2e.order-latency"),
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "smoke",
        help="run the smoke and end-to-end flows against a target, with live progress",
        description="Run the checklist's smoke and end-to-end flows (a small payment through "
        "the target, a full checkout, CA vs another state, several items, a declined card, "
        "a refund, a retried webhook, the latency figures) and decide GO / NO-GO on their "
        "items. Exit codes as `golive gate`.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--target", type=Path, default=None, help="target profile (default: the demo)")
    p.add_argument(
        "--flow",
        action="append",
        default=[],
        choices=sorted(FLOW_CHECKS),
        help="a flow to run (repeatable; default: all)",
    )
    p.add_argument(
        "--phase",
        default="staging",
        choices=checklist.PHASES,
        help="the phase whose items are judged (default: staging)",
    )
    p.add_argument("--checklist", type=Path, default=None)
    p.add_argument(
        "--out",
        type=Path,
        default=Path("golive-smoke-report"),
        help="report folder (default: ./golive-smoke-report)",
    )
    add_sign_key(p)
    add_bundle_option(p)
    p.set_defaults(func=run)


def selected_items(checklist_path: Path | None, flows: list[str], phase: str) -> list[str]:
    """Ids of the items of `phase` that the chosen flows' checks prove."""
    the_checklist = checklist.load(checklist_path or checklist.DEFAULT_CHECKLIST)
    wanted = {c for name in (flows or FLOW_CHECKS) for c in FLOW_CHECKS[name]}
    return [
        item.id
        for item in the_checklist.items.values()
        if item.phase == phase
        and item.automated
        and any(ref.ref in wanted for ref in item.automated.checks)
    ]


class SmokeConsole(GateConsole):
    """The gate's console plus one line per flow step as it ends."""

    def start(
        self,
        profile: str,
        selected: int,
        phases: list[str],
        per_section: dict[str, int] | None = None,
    ) -> None:
        self._per_section = dict(per_section or {})
        self._print(
            f"golive smoke · target [bold]{escape(profile)}[/] · {selected} items · "
            f"phase {', '.join(phases)}"
        )

    def step(self, flow: str, step: Any) -> None:
        mark = {True: "[green]✓[/]", False: "[red]✗[/]", None: "[magenta]·[/]"}[step.ok]
        where = escape(f"{flow} › {step.name}")
        self._print(
            f"    {mark} {where:<36} {step.duration_ms:>7.0f} ms  [dim]{escape(_short(self.redactor.text(step.seen)))}[/]"
        )


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run(args: argparse.Namespace) -> int:
    from golive.reported import run_and_report
    from golive.smoke import flows

    ids = selected_items(args.checklist, args.flow, args.phase)
    if not ids:
        print(
            f"golive: error: no {args.phase} item is proven by the flows "
            f"{', '.join(args.flow) or 'chosen'}",
            file=sys.stderr,
        )
        return gate.EXIT_USAGE
    outdir.check_writable(args.out)
    check_outside(args.bundle, args.out)  # before the run, not after
    signer = load_signer(args.sign_key)
    request = gate.GateRequest(
        profile_path=args.target,
        checklist_path=args.checklist,
        phases=[args.phase],
        items=ids,
        command="smoke",
    )
    prepared = gate.prepare(request)
    gate.boot_or_interrupted(prepared)
    # pytest captures fd 1 while the checks run: steps go to a copy of the terminal's fd.
    terminal = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    console = SmokeConsole(terminal, redactor=prepared.target.redactor)
    console.start(
        prepared.profile.name,
        len(prepared.selected),
        [args.phase],
        Counter(prepared.checklist.section_of[i.id].id for i in prepared.selected),
    )
    flows.LISTENERS.append(console.step)
    try:
        outcome, paths = run_and_report(prepared, console, args.out, signer, bundle=args.bundle)
    finally:
        flows.LISTENERS.remove(console.step)
        terminal.close()
    return gate.EXIT_HARNESS if paths is None else outcome.exit_code
