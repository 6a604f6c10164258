"""`golive webhook send …`: deliver signed (or forged) Stripe events, like `stripe trigger`.

Exit codes: 0 when every delivery got a 2xx answer, 1 otherwise (including no answer),
2 on invalid input (unknown type or variant, bad fixture, malformed --set, a URL golive
may not send to).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from pathlib import Path
from typing import Any

from golive.errors import InputError
from golive.redact import Redactor
from golive.webhooks import fixtures, forge, sender
from golive.webhooks.signing import encode_event

SECRET_ENV = "STRIPE_WEBHOOK_SECRET"
MAX_COUNT = 1000
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add `webhook` (with `send` and `variants`) to the `golive` command's subparsers."""
    p = sub.add_parser("webhook", help="send signed or forged Stripe webhook events")
    add_commands(p)


def add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(metavar="COMMAND")
    p = commands.add_parser(
        "send",
        help="POST a Stripe-shaped event, signed like Stripe's (or forged with --variant)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--type", dest="event_type", help="event type, e.g. payment_intent.succeeded")
    p.add_argument("--url", required=True, help="the receiver, e.g. http://127.0.0.1:8000/webhook")
    p.add_argument(
        "--secret", help=f"the endpoint's whsec_ signing secret (default: ${SECRET_ENV})"
    )
    p.add_argument("--fixture", type=Path, help="a JSON event to send instead of the built-in one")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="set a field, e.g. data.object.metadata.order_id=42 (value parsed as JSON if it can be)",
    )
    p.add_argument(
        "--var",
        dest="variables",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of a ${NAME} placeholder of the fixture, e.g. amount=500",
    )
    p.add_argument("--variant", default="signed", help="forgery to send (see `variants`)")
    p.add_argument(
        "--header",
        dest="headers",
        action="append",
        default=[],
        metavar="NAME:VALUE",
        help="an extra request header, e.g. 'X-Debug: 1' (repeatable; replaces the variant's "
        "header of that name, so 'Stripe-Signature: test' sends a magic signature)",
    )
    p.add_argument(
        "--count",
        type=int,
        help="deliveries (fresh ids each; for the duplicate variants, the number of copies)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="deliveries in flight at once (concurrent-duplicates always sends all N at once)",
    )
    p.add_argument("--timeout", type=float, default=sender.DEFAULT_TIMEOUT_S, help="seconds")
    p.add_argument(
        "--allow-host",
        dest="allow_hosts",
        action="append",
        default=[],
        metavar="HOST",
        help="a non-loopback host golive may send to (repeatable)",
    )
    p.set_defaults(func=cmd_send)

    p = commands.add_parser("variants", help="list the forged variants and the event types")
    p.set_defaults(func=cmd_variants)


def cmd_variants(args: argparse.Namespace) -> int:
    for name in forge.names():
        print(f"{name:<32} {forge.describe(name)}")
    print("\nevent types: " + ", ".join(fixtures.event_types()))
    return EXIT_OK


def cmd_send(args: argparse.Namespace) -> int:
    secret = args.secret or os.environ.get(SECRET_ENV, "")
    if not secret.strip():
        raise InputError(f"no signing secret: pass --secret whsec_… or set ${SECRET_ENV}")
    redactor = Redactor([secret])
    fixture = _fixture(args)
    sets = [fixtures.parse_assignment(text) for text in args.sets]
    variables = dict(fixtures.parse_var(text) for text in args.variables)
    extra = dict(parse_header(text) for text in args.headers)
    if args.variant not in forge.VARIANTS:
        raise InputError(
            f"unknown variant {args.variant!r}", hint="`golive webhook variants` lists them"
        )
    if args.count is not None and not 1 <= args.count <= MAX_COUNT:
        raise InputError(f"--count must be between 1 and {MAX_COUNT}")
    if not 1 <= args.concurrency <= sender.MAX_CONCURRENCY:
        raise InputError(f"--concurrency must be between 1 and {sender.MAX_CONCURRENCY}")
    sender.check_url(args.url, args.allow_hosts)  # refuse before rendering anything

    def event() -> bytes:
        rendered = fixture.render(variables, sets=sets)
        if args.event_type:
            rendered["type"] = args.event_type
        return encode_event(rendered)

    # Everything is built before anything is sent, so bad input never half-sends.
    repeated = args.variant in forge.REPEATED  # one event, sent `count` times over
    if repeated:
        batch = [forge.build(args.variant, event(), secret, copies=args.count)]
    else:
        batch = [forge.build(args.variant, event(), secret) for _ in range(args.count or 1)]
    batch = [forge.with_headers(forged, extra) for forged in batch]
    print(
        redactor.text(f"POST {args.url} signed with {secret}, variant {args.variant}: ")
        + forge.describe(args.variant)
    )
    for name, value in extra.items():
        print(redactor.text(f"  with header {name}: {value}"))
    send = {"timeout": args.timeout, "allow_hosts": args.allow_hosts, "redactor": redactor}
    if repeated:
        deliveries = sender.send_forged(args.url, batch[0], concurrency=args.concurrency, **send)
    else:
        requests = [(f.payload, f.headers) for f in batch]
        deliveries = sender.deliver_many(args.url, requests, concurrency=args.concurrency, **send)
    for index, delivery in enumerate(deliveries, 1):
        print(redactor.text(_line(index, delivery)))
    if len(deliveries) > 1:
        print(_summary(deliveries))
    return EXIT_OK if all(d.ok for d in deliveries) else EXIT_FAILED


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def parse_header(text: str) -> tuple[str, str]:
    """`NAME:VALUE` (spaces around the value are dropped) as a header; InputError if the
    name is not an HTTP token or the value has a line break."""
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not _TOKEN.fullmatch(name):
        raise InputError(
            f"--header {text!r}: expected NAME:VALUE with a header name",
            hint="e.g. --header 'X-Debug: 1'",
        )
    if "\r" in value or "\n" in value:
        raise InputError(f"--header {name}: a value cannot contain a line break")
    return name, value


def _fixture(args: argparse.Namespace) -> fixtures.Fixture:
    if args.fixture is not None:
        return fixtures.load_file(args.fixture)
    if not args.event_type:
        raise InputError("pass --type EVENT_TYPE or --fixture FILE")
    return fixtures.builtin(args.event_type)


def _line(index: int, delivery: sender.Delivery) -> str:
    event_id = _event_id(delivery.payload)
    if delivery.status is None:
        return (
            f"#{index} {event_id}: no response after {delivery.latency_ms:.1f} ms: {delivery.error}"
        )
    return (
        f"#{index} {event_id}: {delivery.status} in {delivery.latency_ms:.1f} ms: "
        f"{delivery.body_excerpt or '(empty body)'}"
    )


def _event_id(payload: bytes) -> str:
    try:
        value: Any = json.loads(payload).get("id")
    except (ValueError, AttributeError):
        return "?"
    return str(value)


def _summary(deliveries: list[sender.Delivery]) -> str:
    ok = sum(d.ok for d in deliveries)
    latencies = [d.latency_ms for d in deliveries if d.status is not None]
    text = f"{len(deliveries)} deliveries: {ok} × 2xx, {len(deliveries) - ok} other"
    if latencies:
        text += (
            f"; latency min {min(latencies):.1f} / median {statistics.median(latencies):.1f}"
            f" / max {max(latencies):.1f} ms"
        )
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="golive webhook", description="Send signed or forged Stripe webhook events."
    )
    add_commands(parser)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    return run(args)


def run(args: argparse.Namespace) -> int:
    """Run a parsed `webhook` command, turning InputError into exit code 2."""
    try:
        return args.func(args)
    except InputError as exc:
        print(f"golive: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
