"""Webhook security checks: forged, signed and replayed deliveries to the running app.

Each check POSTs to the app's webhook URL (`ctx.target.app.webhook_url`) with golive's
sender, signing with the target's webhook secret (the env variable the profile's
env.names.webhook_secret names, STRIPE_WEBHOOK_SECRET by default). Every event is a fresh
`payment_intent.succeeded` for a PaymentIntent that does not exist (new ids every
delivery), so a receiver that accepts one — rightly or wrongly — has nothing to pay.
Traffic goes to loopback, or to the host of the profile's own app URL and nowhere else.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from golive import thresholds
from golive.context import CheckContext
from golive.registry import check
from golive.static import concerns as static
from golive.static.evidence import record_static
from golive.webhooks import forge, sender
from golive.webhooks.fixtures import render_event
from golive.webhooks.sender import Delivery
from golive.webhooks.signing import encode_event

# An event type every Stripe integration handles; its PaymentIntent id is fresh, so the
# app finds no order for it and changes nothing.
PROBE_EVENT = "payment_intent.succeeded"
RETRY_NOTE = (
    "a 5xx is not a rejection: Stripe retries 5xx deliveries for up to three days, and it "
    "hides why the request was refused"
)
ACK_METRIC = "ack_time_ms"


class ReplayParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tolerance_s: int = Field(
        300, ge=1, le=3600, description="The signature timestamp tolerance, in seconds"
    )


class FastAckParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deliveries: int = Field(
        20, ge=1, le=100, description="How many signed deliveries to time, one at a time"
    )


# --- helpers ----------------------------------------------------------------------------


class _Target:
    """Where to send, with which secret: resolved once per check."""

    def __init__(self, ctx: CheckContext) -> None:
        app = ctx.target.app
        if app is None:
            ctx.not_run("the target profile has no `app`: there is no webhook URL to send to")
        secret_var = ctx.profile.var("webhook_secret")
        secret = ctx.profile.env.get(secret_var)
        if not secret:
            ctx.not_run(f"{secret_var} is not set in the target's env: cannot sign deliveries")
        self.url: str = app.webhook_url
        self.secret: str = secret
        host = urlsplit(app.base_url).hostname
        # Only the profile's own app host may be non-loopback; anything else is refused.
        self.allow_hosts: tuple[str, ...] = (host,) if host else ()
        self.redactor = ctx.target.redactor  # masks the answers' excerpts

    def send(self, forged: forge.Forged) -> Delivery:
        [delivery] = sender.send_forged(
            self.url, forged, allow_hosts=self.allow_hosts, redactor=self.redactor
        )
        return delivery


def _payload(now: int | None = None) -> bytes:
    return encode_event(render_event(PROBE_EVENT, now=now))


def _record(ctx: CheckContext, variant: str, delivery: Delivery, **extra: Any) -> None:
    ctx.record(
        variant=variant,
        status=delivery.status,
        latency_ms=round(delivery.latency_ms, 1),
        body_excerpt=delivery.body_excerpt,
        **({"error": delivery.error} if delivery.error else {}),
        **extra,
    )


def _answer(delivery: Delivery) -> str:
    if delivery.status is None:
        return f"no answer ({delivery.error})"
    return str(delivery.status)


def _is_4xx(delivery: Delivery) -> bool:
    return delivery.status is not None and 400 <= delivery.status < 500


def _is_5xx(delivery: Delivery) -> bool:
    return delivery.status is not None and delivery.status >= 500


def _reject_problems(results: list[tuple[str, Delivery]]) -> list[str]:
    """What is wrong with answers that should all be 4xx: accepted, crashed, or other."""
    accepted = [f"{v} ({d.status})" for v, d in results if d.ok]
    crashed = [f"{v} ({d.status})" for v, d in results if _is_5xx(d)]
    other = [f"{v} ({_answer(d)})" for v, d in results if not (d.ok or _is_4xx(d) or _is_5xx(d))]
    problems = []
    if accepted:
        problems.append("accepted with a 2xx, so anyone can forge events: " + ", ".join(accepted))
    if crashed:
        problems.append(
            f"answered with a 5xx instead of a 4xx ({RETRY_NOTE}): " + ", ".join(crashed)
        )
    if other:
        problems.append("not answered with a 4xx: " + ", ".join(other))
    return problems


# --- the checks -------------------------------------------------------------------------


@check("webhook.forged-rejected", needs={"app"})
def test_forged_rejected(ctx: CheckContext) -> None:
    """Every forged delivery (unsigned, bad or wrong signature, tampered body, debug
    bypasses) is rejected with a 4xx."""
    target = _Target(ctx)
    record_static(ctx, static.SIGNATURE)  # the handler's code lines, as evidence
    results = []
    for variant in forge.FORGERIES:
        forged = forge.build(variant, _payload(), target.secret)
        delivery = target.send(forged)
        _record(ctx, variant, delivery, expected="4xx")
        results.append((variant, delivery))
    if not results:
        ctx.nothing_examined("no forged delivery was sent")
    problems = _reject_problems(results)
    if problems:
        ctx.fail("forged webhook deliveries " + "; ".join(problems))


@check("webhook.signed-accepted", needs={"app"})
def test_signed_accepted(ctx: CheckContext) -> None:
    """A correctly signed event is accepted with a 2xx, also with two v1 signatures (a
    secret being rotated)."""
    target = _Target(ctx)
    record_static(ctx, static.SIGNATURE)  # the handler's code lines, as evidence
    refused = []
    for variant in ("signed", "multiple-v1"):
        delivery = target.send(forge.build(variant, _payload(), target.secret))
        _record(ctx, variant, delivery, expected="2xx")
        if not delivery.ok:
            refused.append(f"{variant} ({_answer(delivery)})")
    if refused:
        ctx.fail(
            "correctly signed webhook deliveries were not accepted with a 2xx: "
            + ", ".join(refused)
            + " (multiple-v1 is a delivery during a secret rotation: any v1 may match)"
        )


@check("webhook.raw-body", needs={"app"})
def test_raw_body(ctx: CheckContext) -> None:
    """A signed event whose JSON is formatted differently (same data, other bytes) is
    accepted: the signature is verified over the raw body."""
    target = _Target(ctx)
    record_static(ctx, static.RAW_BODY)  # the handler's code lines, as evidence
    variant = "non-canonical-json"
    delivery = target.send(forge.build(variant, _payload(), target.secret))
    _record(ctx, variant, delivery, expected="2xx")
    if not delivery.ok:
        ctx.fail(
            f"{variant}: a correctly signed event in another JSON layout got {_answer(delivery)}, "
            "not a 2xx — the signature is checked over a re-serialized body instead of the raw "
            "bytes, so real events are refused whenever Stripe formats them differently"
        )


@check("webhook.replay-rejected", params=ReplayParams, needs={"app"})
def test_replay_rejected(ctx: CheckContext) -> None:
    """A correctly signed delivery with a timestamp older than the tolerance (a replay) is
    rejected with a 4xx; one dated in the future is noted if accepted."""
    target = _Target(ctx)
    record_static(ctx, static.REPLAY)  # the handler's code lines, as evidence
    tolerance = ctx.params.tolerance_s
    skew = 2 * tolerance  # well outside the tolerance either way
    now = int(time.time())
    # forge dates stale/future deliveries SKEW_S away from `now`: shift `now` to get `skew`.
    stale = forge.build(
        "stale-timestamp", _payload(now - skew), target.secret, now=now - skew + forge.SKEW_S
    )
    delivery = target.send(stale)
    _record(ctx, "stale-timestamp", delivery, expected="4xx", timestamp_age_s=skew)
    future = forge.build(
        "future-timestamp", _payload(now), target.secret, now=now + skew - forge.SKEW_S
    )
    ahead = target.send(future)
    finding = None
    if ahead.ok:
        finding = (
            f"minor finding: a delivery dated {skew} s in the future was accepted "
            f"({ahead.status}); strict receivers bound the timestamp both ways"
        )
    _record(
        ctx,
        "future-timestamp",
        ahead,
        expected="4xx (accepting it is a minor finding, not a failure)",
        timestamp_ahead_s=skew,
        **({"finding": finding} if finding else {}),
    )
    if delivery.ok:
        ctx.fail(
            f"stale-timestamp: a delivery signed {skew} s ago (tolerance {tolerance} s) was "
            f"accepted with {delivery.status} — a captured delivery can be replayed"
        )
    if _is_5xx(delivery):
        ctx.fail(f"stale-timestamp: answered {delivery.status} instead of a 4xx ({RETRY_NOTE})")
    if not _is_4xx(delivery):
        ctx.fail(f"stale-timestamp: answered {_answer(delivery)}, not a 4xx")


@check("webhook.fast-ack", params=FastAckParams, needs={"app"})
def test_fast_ack(ctx: CheckContext) -> None:
    """Signed deliveries are acknowledged quickly (the item's `ack_time_ms` threshold)."""
    expression = ctx.item.thresholds.get(ACK_METRIC)
    if not expression:
        ctx.not_run(f"the item sets no `{ACK_METRIC}` threshold to judge the answer times by")
    threshold = thresholds.parse(expression)
    target = _Target(ctx)
    planned = ctx.params.deliveries
    # Items sharing a threshold share one measurement per run.
    key = f"webhook.fast-ack:{target.url}:{planned}:{threshold.expression}"
    samples, refused, decided_early = ctx.target.cached(
        key, lambda: _time_deliveries(target, threshold, planned)
    )
    for index, variant, delivery in refused:
        _record(ctx, variant, delivery, expected="2xx", attempt=index)
    passed = True
    if samples:
        try:
            passed, observed = threshold.evaluate(samples)
        except thresholds.NoSamplesError as exc:
            ctx.nothing_examined(str(exc))
        ctx.record(
            variant="signed",
            metric=ACK_METRIC,
            threshold=threshold.expression,
            observed_ms=round(observed, 1),
            deliveries=len(samples) + len(refused),
            planned=planned,
            samples_ms=[round(s, 1) for s in samples],
            stopped_early=decided_early,
        )
    if refused:
        # Correctly signed deliveries refused: the finding, whether or not others were timed.
        ctx.fail(
            f"{len(refused)} of {len(samples) + len(refused)} signed deliveries were not "
            "acknowledged with a 2xx: "
            + ", ".join(f"#{i} ({_answer(d)})" for i, _, d in refused[:5])
        )
    if not samples:
        ctx.nothing_examined("no signed delivery was answered with a 2xx to time")
    if not passed:
        early = (
            f" (stopped after {len(samples)} of {planned}: the rest could not bring it under)"
            if decided_early
            else ""
        )
        ctx.fail(
            f"{ACK_METRIC} {_aggregate(threshold)} is {observed:.0f} ms over "
            f"{len(samples)} signed deliveries{early}; the threshold is {threshold.expression} "
            "— answer first and process the event afterwards (Stripe gives up after 10 s)"
        )


def _time_deliveries(
    target: _Target, threshold: thresholds.Threshold, planned: int
) -> tuple[list[float], list[tuple[int, str, Delivery]], bool]:
    """Answer times (ms) of signed deliveries, one at a time; stops as soon as the
    threshold fails whatever the remaining deliveries would take."""
    samples: list[float] = []
    refused: list[tuple[int, str, Delivery]] = []
    for index in range(1, planned + 1):
        delivery = target.send(forge.build("signed", _payload(), target.secret))
        if delivery.ok:
            samples.append(delivery.latency_ms)
        else:
            refused.append((index, "signed", delivery))
        remaining = planned - index
        if remaining and samples and _already_failed(threshold, samples, remaining):
            return samples, refused, True
    return samples, refused, False


def _already_failed(threshold: thresholds.Threshold, samples: list[float], remaining: int) -> bool:
    # Only upper bounds can be decided early: the best case is every remaining answer at 0 ms.
    if threshold.op not in ("<", "<=") or threshold.aggregate not in ("p", "avg", "med", "max"):
        return False
    passed, _ = threshold.evaluate([*samples, *([0.0] * remaining)])
    return not passed


def _aggregate(threshold: thresholds.Threshold) -> str:
    if threshold.aggregate == "p":
        return f"p({threshold.percentile:g})"
    return threshold.aggregate
