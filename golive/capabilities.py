"""What each Stripe backend can do, so a check that needs more is not-run, never judged.

A check asks for what it needs (`ctx.require_backend("refunds")`); a backend without it
makes the item not-run (it blocks GO) with the reason and what would make it run. An item
a backend cannot exercise is untestable there, not irrelevant to the app: it never counts
toward GO the way not-applicable does.

The lists are what each backend really does (localstripe's was found by running it:
tests/test_backend_capabilities.py and tests/test_backends.py). A profile can narrow its
backend's list with `stripe: {capabilities: {without: [...]}}`, e.g. for a stand-in that
lacks something, or to run the sandbox exactly as stripe-mock would be judged.
"""

from __future__ import annotations

from collections.abc import Iterable

# name -> what a backend that has it can do (the reason reads "backend X cannot <this>").
CAPABILITIES: dict[str, str] = {
    "stateful": "keep the objects it creates (PaymentIntents, charges) to read them back",
    "webhook-endpoints": "keep webhook endpoints (/v1/webhook_endpoints) to list and read",
    "webhook-delivery": "deliver its own webhook events to the app",
    "delivery-failures": "be made to fail webhook deliveries on purpose, then retry them",
    "account": "report the account's settings (/v1/account)",
    "declines": "decline a test card, then let the same PaymentIntent be paid with "
    "another (Stripe.js's retry)",
    "refunds": "refund a payment",
    "checkout-sessions": "create and keep Checkout Sessions",
    "admin-payments": "pay a PaymentIntent or Checkout Session without a browser "
    "(golive's /_golive/ payment routes)",
    "publishable-confirm": "confirm a PaymentIntent with the publishable key and "
    "client_secret, as Stripe.js does",
    "restricted-keys": "issue restricted keys (rk_…), a Dashboard feature",
    "disputes": "open disputes and early fraud warnings from Stripe's test cards and list "
    "them (/v1/disputes, /v1/radar/early_fraud_warnings)",
    "history": "be given past payments, refunds, disputes and fraud warnings at chosen "
    "times (golive's /_golive/history and /_golive/clock) and list them by `created` window",
}

_ALL = frozenset(CAPABILITIES)

# What each backend kind really does.
BY_BACKEND: dict[str, frozenset[str]] = {
    # golive's sandbox models everything but the Dashboard's restricted keys.
    "sandbox": _ALL - {"restricted-keys"},
    # stripe-mock answers every call from fixtures: it keeps nothing, sends nothing, has
    # no account, declines no card, refunds nothing and fails no delivery.
    "stripe-mock": frozenset(),
    # localstripe (run in tests/test_backends.py) keeps PaymentIntents, charges and
    # refunds. It answers 404 to /v1/account, /v1/webhook_endpoints and
    # /v1/checkout/sessions, sends webhooks only to URLs set through its own
    # /_config/webhooks route (golive signs its own events instead), and refuses
    # `payment_method` on confirm and knows no pm_card_* ids (golive makes a PaymentMethod
    # from a card number and sets it on the intent before confirming). It declines card
    # 4000000000000341, but a declined PaymentIntent stays requires_payment_method for good
    # (its failed charge is kept): no retry on the same intent, so no `declines`. It serves
    # no /v1/disputes nor /v1/radar/early_fraud_warnings.
    "localstripe": frozenset({"stateful", "refunds"}),
    # Stripe's test mode: all but golive's own admin routes, delivery faults (Stripe
    # retries a failed delivery an hour later at the earliest) and made-up history (its
    # objects are created now; test clocks move subscriptions, not payments).
    "stripe-test": _ALL - {"admin-payments", "delivery-failures", "history"},
}

# Where to turn for a capability: the backends that have it, best first.
_PREFERRED = ("sandbox", "stripe-test", "localstripe", "stripe-mock")
_NAMES = {"sandbox": "the sandbox", "stripe-test": "Stripe test mode"}


def unknown(names: Iterable[str]) -> list[str]:
    """The names that are no capability (a profile's misspelling)."""
    return sorted(set(names) - _ALL)


def of(kind: str, without: Iterable[str] = ()) -> frozenset[str]:
    """The capabilities of backend `kind`, less those the profile takes away."""
    return BY_BACKEND[kind] - frozenset(without)


def lacking(kind: str, have: frozenset[str], wanted: Iterable[str]) -> str | None:
    """None when `have` holds every `wanted` capability, else the not-run reason:
    "backend stripe-mock cannot refund a payment: use the sandbox or Stripe test mode"."""
    missing = [name for name in wanted if name not in have]
    if not missing:
        return None
    what = "; nor ".join(CAPABILITIES[name] for name in missing)
    if all(name in BY_BACKEND[kind] for name in missing):
        # The backend could: the profile took it away.
        fix = f"remove {', '.join(missing)} from the profile's stripe.capabilities.without"
    else:
        able = [
            _NAMES.get(k, k)
            for k in _PREFERRED
            if k != kind and all(name in BY_BACKEND[k] for name in missing)
        ]
        fix = f"use {' or '.join(able[:2])}" if able else "no backend golive knows can"
    return f"backend {kind} cannot {what}: {fix}"
