"""`golive traffic`: play a compressed day of payments against a target and write the ledger.

    golive traffic --target PROFILE --payments 40 \\
        --mix success=85,decline=8,refund=4,dispute=2,drop-webhook=1 --out traffic.json

The target is booted as `golive smoke` boots it (setup, the Stripe backend, the app), the
traffic is played through the profile's own users and flows (its `traffic:` block, else
its `load:` block's users and carts), the ledger is written, and everything is stopped.

Exit codes: 0 everything planned was played; 1 some of it could not be (the ledger says
what); 2 bad input, or refused (live keys, a production profile, a host off loopback);
3 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from golive import gate, outdir
from golive.errors import InputError

EXIT_PLAYED, EXIT_INCOMPLETE = 0, 1


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "traffic",
        help="play a compressed day of payments against a target (demo/staging only)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--target", type=Path, default=None, help="target profile (default: the demo)")
    p.add_argument("--checklist", type=Path, default=None, help="checklist.yaml")
    p.add_argument("--payments", type=int, default=None, help="checkouts to play (default: 40)")
    p.add_argument(
        "--mix",
        default=None,
        help="weights by kind, e.g. success=85,decline=8,refund=4,dispute=2,drop-webhook=1",
    )
    p.add_argument(
        "--out", type=Path, default=Path("traffic-ledger.json"), help="the ledger (JSON)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from golive.traffic import gate_hook, mix, safety

    if args.payments is not None and not 1 <= args.payments <= 1000:
        raise InputError("--payments must be between 1 and 1000")
    if args.out.is_dir():
        raise InputError("--out names a folder: give the ledger's file name", file=args.out)
    outdir.check_writable(args.out.parent, "--out's folder")
    prepared = gate.prepare(
        gate.GateRequest(args.target, args.checklist, phases=["post-deploy"], command="traffic")
    )
    try:
        model = _model(prepared.profile, args, mix)
        safety.check(prepared.profile, model)  # again after the setup, inside the run
    except BaseException:
        gate.discard(prepared)
        raise
    prepared.target.cache[gate_hook.MODEL_KEY] = model
    try:
        gate.boot_or_interrupted(prepared)
        if prepared.interrupted:
            print("golive: interrupted", file=sys.stderr)
            return gate.EXIT_HARNESS
        ledger = prepared.target.cache[gate_hook.LEDGER_KEY]
    finally:
        gate.discard(prepared)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(ledger, indent=2) + "\n", encoding="utf-8")
    print(f"ledger {args.out}")
    complete = not ledger["errors"] and not any(p["error"] for p in ledger["played"])
    return EXIT_PLAYED if complete else EXIT_INCOMPLETE


def _model(profile: Any, args: argparse.Namespace, mix: Any) -> Any:
    """The profile's `traffic:` block (else its `load:` block's users and carts) with the
    command line's payments and mix."""
    from golive.traffic.profile import TrafficModel
    from golive.validation import validate
    from golive.yamlsrc import Located

    spec = profile.model
    data: dict[str, Any]
    if spec.traffic is not None:
        data = dict(spec.traffic)
    elif spec.load is not None:
        load = spec.load
        data = {"users": load.get("users"), "carts": load.get("carts")}
        if "quota_per_min" in load:
            data["quota_per_min"] = load["quota_per_min"]
    else:
        raise InputError(
            "the profile has neither a `traffic:` nor a `load:` block: golive does not know "
            "who buys what",
            file=profile.path,
            hint="add traffic: {users: <a pool>, carts: [[{id: …, quantity: 1}]]}",
        )
    data["ledger"] = None  # the command writes --out
    if args.payments is not None:
        data["payments"] = args.payments
    if args.mix is not None:
        data["mix"] = mix.parse(args.mix)
    return validate(TrafficModel, Located(data, profile.path), prefix="traffic")
