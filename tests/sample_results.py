"""Synthetic RunResult objects for report tests and benchmarks.

`make_result()` gives every outcome kind, attestations (one not valid), waivers (one
expired), diagnostics (at risk and covered), nested evidence, and titles full of HTML
and Markdown special characters. With `with_secrets=True` it also plants secrets that
"slipped past the engine": CANARY_KEY, CANARY_WHSEC and card numbers, in titles,
reasons, messages, evidence values and keys, attestation evidence and harness errors.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from golive.results import (
    ACCEPTING,
    AttestationRecord,
    CheckResult,
    DiagnosticResult,
    ItemResult,
    Outcome,
    RunMeta,
    RunResult,
    SectionSummary,
    Verdict,
    WaiverRecord,
)

CANARY_KEY = "sk_" + "live_CANARY4eC39HqLyjWDarjtT1zdp7dc"  # built, never a literal key
CANARY_WHSEC = "whsec" + "_CANARYa1b2c3d4e5f6g7h8i9j0"
CANARY_PAN = "4242 4242 4242 4242"  # Luhn-valid, written as people write it
CANARY_PAN_INT = 4000056655665556  # Luhn-valid, as a JSON number
CANARY_STRINGS = (CANARY_KEY, CANARY_WHSEC, CANARY_PAN, "4242424242424242", str(CANARY_PAN_INT))

NOW = datetime(2025, 11, 26, 4, 30, 0, tzinfo=UTC)

SECTIONS = [
    ("environment", "Environment Configuration", "Pre-Deployment"),
    ("database", "Database", "Pre-Deployment"),
    ("code-review", "Code Review", "Pre-Deployment"),
    ("api-security", "API Security", "Security"),
    ("data-security", "Data Security", "Security"),
    ("webhook-security", "Webhook Security", "Security"),
    ("payments", "Payment Flows", "Testing"),
    ("monitoring", "Monitoring & Alerts", "Post-Deployment"),
]

# Every outcome in the first eight items; blockers among them fail, error, go pending
# and not-run, so the derived verdict is NO-GO.
OUTCOME_CYCLE = [
    Outcome.PASS,
    Outcome.FAIL,
    Outcome.ERROR,
    Outcome.NOT_RUN,
    Outcome.WAIVED,
    Outcome.ATTESTED,
    Outcome.PENDING,
    Outcome.NOT_APPLICABLE,
    Outcome.PASS,
    Outcome.PASS,
    Outcome.FAIL,
    Outcome.PASS,
]
SEVERITIES = ["blocker", "blocker", "blocker", "major", "blocker", "blocker", "blocker", "minor"]
PHASES = ["pre-deploy", "staging", "post-deploy"]

NASTY_TITLES = [
    'Keys never echoed <script>alert("x")</script> in HTML',
    "Amounts | currency | idempotency key columns & indexes",
    "**Bold** _claims_ [link](javascript:alert(1)) `code` <img src=x onerror=alert(1)>",
    "Raw body <middleware> keeps bytes & verifies 'whsec' signature",
]


def _evidence(index: int, outcome: Outcome, secrets: bool) -> list[dict[str, Any]]:
    body = '{"error": {"type": "card_error", "code": "card_declined"}}'
    entry: dict[str, Any] = {
        "request": {
            "method": "POST",
            "url": f"http://127.0.0.1:8000/api/orders/{index}/pay",
            "headers": {
                "Idempotency-Key": f"order-{index}-attempt-1",
                "Stripe-Version": "2024-11-20.acacia",
            },
            "body": {"amount": 1999, "currency": "usd", "metadata": {"order": index}},
        },
        "response": {"status": 402 if outcome is Outcome.FAIL else 200, "body_excerpt": body},
        "timings_ms": [12.5, 14.1, 13.9],
        "note": "multi-line\noutput <b>not bold</b> & | pipes |",
        "examined": 3,
        "ok": outcome is Outcome.PASS,
        "missing": None,
    }
    entries = [
        entry,
        {"index": "ix_orders_payment_intent", "definition": "UNIQUE (stripe_payment_intent_id)"},
    ]
    if secrets:
        entry["leaked_key"] = CANARY_KEY
        entry["response"]["headers"] = {"X-Debug": f"key={CANARY_KEY}", "X-Hook": CANARY_WHSEC}
        entry["card"] = {
            "number": CANARY_PAN,
            "number_int": CANARY_PAN_INT,
            "after_newline": "line\n4242424242424242",
        }
        entry[f"seen {CANARY_KEY}"] = "secret in a key"
    return entries


def make_result(
    n_items: int = 12,
    *,
    verdict: Verdict | None = None,
    with_secrets: bool = False,
    checks_per_item: int = 2,
) -> RunResult:
    """A deterministic synthetic run of n_items items; verdict derived unless given."""
    if n_items < 1:
        raise ValueError("n_items must be at least 1")
    items: list[ItemResult] = []
    attestations: list[AttestationRecord] = []
    waivers: list[WaiverRecord] = []
    for index in range(n_items):
        section_id, section_title, group = SECTIONS[index % len(SECTIONS)]
        outcome = OUTCOME_CYCLE[index % len(OUTCOME_CYCLE)]
        severity = SEVERITIES[index % len(SEVERITIES)]
        item_id = f"{section_id}.item-{index:04d}"
        title = (
            NASTY_TITLES[index % len(NASTY_TITLES)]
            if index % 3 == 0
            else f"Item {index} is in order"
        )
        attested_kind = outcome in (Outcome.ATTESTED, Outcome.PENDING)
        reason = {
            Outcome.FAIL: "expected 402 on a declined card, saw 200 | body <empty> & no error",
            Outcome.ERROR: "check examined nothing: zero rows in payments",
            Outcome.NOT_RUN: "phase post-deploy not selected",
            Outcome.PENDING: "no valid attestation (expired 2025-10-01)",
            Outcome.NOT_APPLICABLE: "target does not use Stripe Connect",
            Outcome.WAIVED: "failed; waived until 2026-01-31",
        }.get(outcome, "")
        if with_secrets and outcome is Outcome.FAIL:
            reason += f" (server logged {CANARY_KEY} and card {CANARY_PAN})"
        checks: list[CheckResult] = []
        if not attested_kind and outcome is not Outcome.NOT_APPLICABLE:
            for n in range(checks_per_item):
                check_outcome = outcome if n == 0 else Outcome.PASS
                if outcome is Outcome.WAIVED and n == 0:
                    check_outcome = Outcome.FAIL
                message = {
                    Outcome.FAIL: "POST /api/orders/{id}/pay returned 200 for tok_chargeDeclined",
                    Outcome.ERROR: "query returned 0 rows; refusing to pass on nothing",
                    Outcome.NOT_RUN: "",
                }.get(check_outcome, f"check {n} found what it needed")
                if with_secrets and check_outcome is Outcome.FAIL:
                    message += f"; key in log: {CANARY_KEY}"
                checks.append(
                    CheckResult(
                        ref=f"checks.{section_id.replace('-', '_')}.check_{n}",
                        outcome=check_outcome,
                        message=message,
                        duration_s=0.0125 * (n + 1) + index * 0.0001,
                        evidence=_evidence(index, check_outcome, with_secrets),
                    )
                )
        attestation = None
        if attested_kind:
            valid = outcome is Outcome.ATTESTED
            attestation = AttestationRecord(
                item=item_id,
                by="Dana Auditor <dana@example.com>",
                evidence=(
                    f"https://wiki.example.com/runbooks/{item_id}?a=1&b=2"
                    if index % 2
                    else "Signed PDF in the compliance drive, ref CMP-2025-117"
                )
                + (f" {CANARY_KEY}" if with_secrets else ""),
                date=NOW - timedelta(days=40 if valid else 120),
                expires=NOW + timedelta(days=50) if valid else NOW - timedelta(days=30),
                valid=valid,
                reason="" if valid else "expired on 2025-10-27",
            )
            attestations.append(attestation)
        waiver = None
        if outcome is Outcome.WAIVED:
            waiver = WaiverRecord(
                item=item_id,
                reason="Rate limiting ships in 2.4 | tracked in OPS-231 <urgent>",
                author="sam@example.com",
                approver="cto@example.com",
                expires=NOW + timedelta(days=60),
                expired=False,
                applied=True,
            )
            waivers.append(waiver)
        items.append(
            ItemResult(
                id=item_id,
                title=title + (f" {CANARY_KEY}" if with_secrets and index == 0 else ""),
                section=section_id,
                section_title=section_title,
                group=group,
                severity=severity,
                phase=PHASES[index % len(PHASES)],
                kind="attested" if attested_kind else "automated",
                parent=items[0].id if index % 5 == 4 and items else None,
                tags=["stripe", "pci"] if index % 2 else [],
                outcome=outcome,
                reason=reason,
                checks=checks,
                attestation=attestation,
                waiver=waiver,
            )
        )

    # One expired waiver, which no longer applies: its item stays failed.
    failing = next((i for i in items if i.outcome is Outcome.FAIL), items[0])
    expired = WaiverRecord(
        item=failing.id,
        reason="Temporary: legacy webhook endpoint & old secret | until migration",
        author="lee@example.com",
        approver="cto@example.com",
        expires=NOW - timedelta(days=3),
        expired=True,
        applied=False,
    )
    failing.waiver = expired
    waivers.append(expired)

    blockers_open = [i for i in items if i.severity == "blocker" and i.outcome not in ACCEPTING]
    derived = Verdict.NO_GO if blockers_open else Verdict.GO
    verdict = verdict or derived
    reasons = [f"blocker {i.id} is {i.outcome.value}: {i.reason}" for i in blockers_open[:5]]
    reasons.append(f"waiver for {failing.id} expired on {expired.expires.date()}")
    if verdict is Verdict.INCOMPLETE:
        reasons.insert(0, "the harness was interrupted after 40% of the items")

    sections = []
    for section_id, section_title, group in SECTIONS:
        members = [i for i in items if i.section == section_id]
        if members:
            counts = Counter(i.outcome.value for i in members)
            sections.append(
                SectionSummary(id=section_id, title=section_title, group=group, counts=dict(counts))
            )

    item_ids = [i.id for i in items]
    diagnostics = [
        DiagnosticResult(
            id="duplicate-charges",
            title="Customers charged twice after a retry",
            detection="Two PaymentIntents for one order id; support tickets about double charges",
            resolution=["Refund the duplicate charge", "Add an idempotency key per order attempt"],
            prevention=[
                "Send Idempotency-Key on every POST",
                "Unique index on orders.idempotency_key",
            ],
            prevented_by=item_ids[:2],
            at_risk=True,
        ),
        DiagnosticResult(
            id="webhook-forgery",
            title="Forged <webhook> events mark orders paid",
            detection="Orders paid with no matching charge in the Stripe dashboard",
            resolution=["Verify Stripe-Signature with the endpoint secret"],
            prevention=["Reject events without a valid signature"],
            prevented_by=[item_ids[0], "webhook-security.unknown-item"],
            at_risk=False,
        ),
    ]

    started = NOW - timedelta(minutes=3, seconds=12)
    errors = (
        ["plugin crashed while collecting loadtests/ (see log)"]
        if verdict is Verdict.INCOMPLETE
        else []
    )
    if with_secrets:
        errors.append(f"traceback mentioned STRIPE_SECRET_KEY={CANARY_KEY}")

    return RunResult(
        verdict=verdict,
        verdict_reasons=reasons if verdict is not Verdict.GO else [],
        exit_code={Verdict.GO: 0, Verdict.NO_GO: 1, Verdict.INCOMPLETE: 3}[verdict],
        meta=RunMeta(
            harness_version="0.1.0",
            profile_name="staging",
            profile_path="targets/staging.yaml",
            checklist_path="checklist.yaml",
            checklist_sha256=hashlib.sha256(b"checklist").hexdigest(),
            target_git_sha="3f2c1e9a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e",
            started_at=started,
            finished_at=NOW,
            duration_s=192.4,
            phases=["pre-deploy", "staging"],
            selection={"sections": [], "tags": ["stripe"]},
            python="3.11.9",
            host="ci-runner-7",
        ),
        counts=dict(Counter(i.outcome.value for i in items)),
        sections=sections,
        items=items,
        attestations=attestations,
        waivers=waivers,
        diagnostics=diagnostics,
        errors=errors,
    )
