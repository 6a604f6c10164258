"""Checks that checklist.yaml already references but that are not written yet.

An item whose checks are planned comes out `not-run` with the reason below, never `pass`.
When a check lands, delete its line here: validation then needs the real one.
"""

from __future__ import annotations

_SMOKE = "planned in issue #6 (smoke and end-to-end flows)"
_LOAD = "planned in issue #7 (Locust load scenarios)"

PLANNED: dict[str, str] = {
    # Smoke and end-to-end flows (issue #6)
    "smoke.create-intent": _SMOKE,
    "smoke.confirm-test-card": _SMOKE,
    "smoke.webhook-received": _SMOKE,
    "smoke.order-created": _SMOKE,
    "smoke.payment-recorded": _SMOKE,
    "smoke.notification-written": _SMOKE,
    "smoke.cart-cleared": _SMOKE,
    "e2e.full-checkout": _SMOKE,
    "e2e.state-tax": _SMOKE,
    "e2e.multi-item": _SMOKE,
    "e2e.payment-failure": _SMOKE,
    "e2e.refund": _SMOKE,
    "e2e.webhook-retry": _SMOKE,
    "e2e.webhook-latency": _SMOKE,
    "e2e.order-latency": _SMOKE,
    # Load (issue #7)
    "load.concurrent-intents": _LOAD,
    "load.webhook-burst": _LOAD,
    "load.database": _LOAD,
    "load.response-times": _LOAD,
    "load.race-invariants": _LOAD,
}
