"""`golive sandbox`: the Stripe-compatible sandbox in the foreground."""

from __future__ import annotations

import argparse
import sys

from golive.loopback import is_loopback_host
from golive.sandbox.defaults import (
    DEFAULT_API_VERSION,
    DEFAULT_HOST,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_PORT,
    DEFAULT_TTL_S,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sandbox",
        help="run the Stripe-compatible sandbox API in the foreground",
        description="Serve a stateful, Stripe-compatible API (PaymentIntents, charges, refunds, disputes, early fraud warnings, events, webhook endpoints, account, balance) for the official Stripe libraries: point their API base at http://HOST:PORT. Admin endpoints are under /_golive/. Memory is bounded: the sandbox keeps the newest --max-objects objects and idempotency keys and evicts older ones; an evicted id answers a 404 resource_missing that says it was evicted.",
    )
    p.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default: {DEFAULT_HOST})"
    )
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port (default: {DEFAULT_PORT}, stripe-mock's)",
    )
    p.add_argument(
        "--api-version",
        default=DEFAULT_API_VERSION,
        help=f"API version on responses and events (default: {DEFAULT_API_VERSION})",
    )
    p.add_argument(
        "--idempotency-ttl",
        type=float,
        default=DEFAULT_TTL_S,
        metavar="SECONDS",
        help="how long idempotency keys are remembered (default: 86400, Stripe's 24 h)",
    )
    p.add_argument(
        "--max-objects",
        type=_positive,
        default=DEFAULT_MAX_OBJECTS,
        metavar="N",
        help=f"keep the newest N objects (PaymentIntents, PaymentMethods, charges, refunds, disputes, early fraud warnings, Checkout Sessions and events together; webhook endpoints are never evicted) and the newest N idempotency keys; older ones are evicted (default: {DEFAULT_MAX_OBJECTS:,}). Raise it to hold history: POST /_golive/history makes about 5 objects per past payment, about 1.7 KB each (100,000 payments: 506,000 objects, 0.8 GB; refused rather than evicted when over the cap)",
    )
    p.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help=f"refuse a request body over N bytes with a 413, before reading it whole (default: {DEFAULT_MAX_BODY_BYTES:,}; Stripe's own requests are a few KB)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    host = "[" + args.host + "]" if ":" in args.host else args.host
    print(f"golive sandbox: Stripe-compatible API on http://{host}:{args.port}", flush=True)
    from golive.sandbox.server import serve  # the server's imports only when it serves

    if not is_loopback_host(args.host):
        print(
            "golive sandbox: warning: bound beyond loopback; /_golive/ admin calls are still served to loopback clients only",
            file=sys.stderr,
            flush=True,
        )
    serve(
        args.host,
        args.port,
        api_version=args.api_version,
        idempotency_ttl_s=args.idempotency_ttl,
        max_objects=args.max_objects,
        max_body_bytes=args.max_body_bytes,
    )
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value
