"""Webhook delivery rate from the account's events.

Stripe keeps on each event `pending_webhooks`: how many of the account's webhook
endpoints have not yet acknowledged it (2xx). An event of the window older than the
grace period (`grace`, default 10m: Stripe's first retries come within the hour) that
still has `pending_webhooks > 0` counts as undelivered:

    webhook_delivery_rate = events with pending_webhooks == 0 / events judged

Only events of a type some enabled endpoint subscribes to are judged (`enabled_events`,
`*` for all): the others are sent nowhere, so their `pending_webhooks: 0` says nothing.
Events younger than the grace are left out (still being delivered). Both are counted in
the evidence. `pending_webhooks` is read when golive runs (Stripe keeps no history of it).

An account without an enabled endpoint delivers nothing, yet every event then shows
`pending_webhooks: 0`: that is a finding (the measurement fails), never a perfect rate.
The evidence lists the endpoints with their status, and a few undelivered events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from golive.metrics.model import Measurement
from golive.metrics.payments import LISTED
from golive.metrics.stripe_source import StripeData
from golive.profile.postdeploy import Window

DEFAULT_GRACE = timedelta(minutes=10)


def webhook_delivery_rate(
    data: StripeData, window: Window, *, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> Measurement:
    endpoints = data.webhook_endpoints()
    enabled = [e for e in endpoints if e.get("status") == "enabled"]
    cut = min(window.end, now - grace)
    events = data.created_in("events", window)
    judged_window = replace(window, end=max(cut, window.start))
    cutoff = judged_window.end.timestamp()
    # With no enabled endpoint every event is judged: the finding below fails it.
    subscribed = _subscribed(enabled) if enabled else None
    sent = [e for e in events if subscribed is None or e.get("type") in subscribed]
    judged = [e for e in sent if int(e.get("created") or 0) < cutoff]
    values = [int(e.get("pending_webhooks") or 0) == 0 for e in judged]
    undelivered = [e for e in judged if int(e.get("pending_webhooks") or 0) > 0]
    findings = []
    if not enabled:
        findings.append(
            f"no enabled webhook endpoint among the account's {len(endpoints)}: events are "
            "delivered nowhere (pending_webhooks 0 means nothing then)"
        )
    evidence = {
        "metric": "webhook_delivery_rate",
        **window.evidence(),
        "definition": "events of the window (older than the grace) with pending_webhooks == 0 "
        "/ those events",
        "grace_s": int(grace.total_seconds()),
        "judged_until": judged_window.end.isoformat(),
        "events": len(judged),
        "delivered": len(judged) - len(undelivered),
        "undelivered": len(undelivered),
        "too_recent_not_counted": len(sent) - len(judged),
        "not_subscribed_not_counted": len(events) - len(sent),
        "undelivered_types": dict(Counter(str(e.get("type")) for e in undelivered).most_common()),
        "undelivered_events": [_event(e) for e in undelivered[:LISTED]],
        "endpoints": [_endpoint(e) for e in endpoints[:LISTED]],
    }
    share = sum(values) / len(values) if values else None
    return Measurement("webhook_delivery_rate", share, values, evidence, tuple(findings))


def _subscribed(endpoints: list[dict[str, Any]]) -> set[str] | None:
    """The event types the endpoints receive; None for all of them (`*`)."""
    types = {str(t) for e in endpoints for t in e.get("enabled_events") or ()}
    return None if "*" in types else types


def _event(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": event.get("id"),
        "type": event.get("type"),
        "created": event.get("created"),
        "pending_webhooks": event.get("pending_webhooks"),
    }


def _endpoint(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {"id": endpoint.get("id"), "url": endpoint.get("url"), "status": endpoint.get("status")}
