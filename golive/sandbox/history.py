"""Past payments in bulk, for testing what looks back over time (reconciliation, success,
refund, dispute and fraud rates over windows): `POST /_golive/history`.

    POST /_golive/history
    {"payments": [
      {"created": 1764547200, "amount": 2000, "currency": "usd",
       "outcome": "succeeded",       # or declined | canceled | requires_payment_method
       "decline_code": "insufficient_funds",      # declined only; default generic_decline
       "refunds": [{"amount": 500, "created": 1764550800,
                    "reason": "requested_by_customer"}],         # reason optional
       "dispute": {"created": 1765000000, "reason": "fraudulent",
                   "status": "needs_response", "closed": 1765500000},  # closed: won/lost…
       "early_fraud_warning": {"created": 1764900000, "fraud_type": "made_with_stolen_card"},
       "metadata": {"order_id": "A-1001"}, "application_fee_amount": 100,
       "customer": "cus_…", "description": "…", "canceled_at": …, "cancellation_reason": …}
    ]}
    -> {"object": "list", "data": [{"payment_intent": "pi_…", "charge": "ch_…" | null,
        "refunds": ["re_…"], "dispute": "du_…" | null, "early_fraud_warning": "issfr_…" | null,
        "events": ["evt_…", …]}, …]}          # one per payment, in the order given

Each payment becomes what Stripe would hold had it happened then: the PaymentIntent, its
Charge (a declined one failed, with Stripe's outcome and failure_code), its Refunds, its
Dispute and Early Fraud Warning, and their Events (payment_intent.created,
charge.succeeded / charge.failed, payment_intent.succeeded / payment_failed / canceled,
refund.created, charge.refunded, charge.dispute.created / funds_withdrawn / closed,
radar.early_fraud_warning.created / updated), each at its own `created` and in that order,
with `pending_webhooks: 0`: history is never sent to a webhook endpoint. Lists then show it
by `created` among the live objects (store.py).

A batch is checked whole before anything is made: one bad field is a 400 naming it
(`payments[3][refunds][0][amount]`) and nothing is added. Nothing may be created later than
the sandbox's clock allows (clock.py), and a refund, dispute or warning not before its
payment. A batch that would push the store past `max_objects` is refused rather than
evicting history (raise it: `golive sandbox --max-objects N`, `Sandbox(max_objects=N)`).

Size: a payment is 2 objects or more (a succeeded one: 5, each refund 3 more, a dispute up
to 4, a warning up to 3), about 1.7 KB each
in memory: 100,000 payments of a realistic mix are 506,000 objects and 0.8 GB of RSS, made
in about 2 s per batch of 10,000 (BENCHMARKS.md). The body limit of this route is
HISTORY_MAX_BODY_BYTES (a 10,000-payment batch is 1-3 MB of JSON); the sandbox serves
nothing else while a batch is made, so send big histories in batches of about 10,000.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from golive.sandbox import params as p
from golive.sandbox.clock import MAX_AHEAD_S
from golive.sandbox.errors import StripeError, invalid_request
from golive.sandbox.events import emit
from golive.sandbox.resources import (
    charges,
    disputes,
    early_fraud_warnings,
    payment_intents,
    payment_methods,
    refunds,
)
from golive.sandbox.resources.payment_intent_params import CANCELLATION_REASONS
from golive.sandbox.testcards import DECLINE_MESSAGES

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

HISTORY_MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_PAYMENTS = 100_000  # per request
OUTCOMES = ("succeeded", "declined", "canceled", "requires_payment_method")
# The error code Stripe gives with a decline code (card_declined for all others).
ERROR_CODES = {
    "expired_card": "expired_card",
    "incorrect_cvc": "incorrect_cvc",
    "processing_error": "processing_error",
    "incorrect_number": "incorrect_number",
}
PAYMENT_FIELDS = {
    "created": None,
    "amount": None,
    "currency": None,
    "outcome": None,
    "decline_code": None,
    "refunds": None,
    "dispute": None,
    "early_fraud_warning": None,
    "metadata": None,
    "application_fee_amount": None,
    "customer": None,
    "description": None,
    "canceled_at": None,
    "cancellation_reason": None,
}


@dataclass
class Payment:
    """One payment of a batch, checked."""

    created: int
    amount: int
    currency: str
    outcome: str
    decline_code: str | None = None
    refunds: list[dict[str, Any]] = field(default_factory=list)
    dispute: dict[str, Any] | None = None
    warning: dict[str, Any] | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # metadata, customer, …
    canceled_at: int | None = None
    cancellation_reason: str | None = None

    def objects(self) -> int:
        """How many stored objects it makes, at most (for the store's cap)."""
        count = 2  # the PaymentIntent and payment_intent.created
        if self.outcome in ("succeeded", "declined"):
            count += 3  # the charge and its two events
        elif self.outcome == "canceled":
            count += 1
        count += 3 * len(self.refunds)
        if self.dispute is not None:
            count += 4
        if self.warning is not None:
            count += 3
        return count


def import_history(state: SandboxState, body: dict[str, Any]) -> dict[str, Any]:
    """Check the whole batch, then make it; the ids made, payment by payment."""
    p.check_known(body, {"payments": None})
    raw = body.get("payments")
    if not isinstance(raw, list) or not raw:
        raise invalid_request("payments must be a non-empty list of payments.", param="payments")
    if len(raw) > MAX_PAYMENTS:
        raise invalid_request(
            f"At most {MAX_PAYMENTS:,} payments per request (got {len(raw):,}): send batches.",
            param="payments",
        )
    latest = state.clock.seconds() + MAX_AHEAD_S
    batch = [_checked(item, i, latest) for i, item in enumerate(raw)]
    needed = sum(payment.objects() for payment in batch) + 2  # + the PaymentMethods
    held, cap = state.store.held(), state.store.max_objects
    if held + needed > cap:
        raise invalid_request(
            f"This history needs up to {needed:,} objects and the sandbox holds {held:,} of "
            f"at most {cap:,}: older objects would be evicted. Start the sandbox with a "
            "larger cap (golive sandbox --max-objects N) or send less.",
            param="payments",
        )
    state.quiet = True  # history is never delivered: pending_webhooks stays 0
    try:
        cards = _Cards(state)
        data = [_make(state, payment, cards) for payment in batch]
    finally:
        state.quiet = False
    return {"object": "list", "data": data, "url": "/_golive/history"}


# -- checking -------------------------------------------------------------------------------


def _checked(item: Any, index: int, latest: int) -> Payment:
    prefix = f"payments[{index}]"
    try:
        return _payment(item, latest)
    except StripeError as exc:
        # Name the field within the batch: payments[3][refunds][0][amount]
        inner = _bracketed(exc.param) if exc.param else ""
        raise invalid_request(f"{prefix}{inner}: {exc.message}", param=prefix + inner) from None


def _bracketed(param: str) -> str:
    head, bracket, rest = param.partition("[")
    return f"[{head}]" + (bracket + rest if bracket else "")


def _payment(item: Any, latest: int) -> Payment:
    item = p.hash_(item, "")
    p.check_known(item, PAYMENT_FIELDS)
    p.require(item, "created", "amount", "currency")
    created = _time(item["created"], "created", 0, latest)
    currency = payment_intents.currency_of(item["currency"])
    amount = payment_intents.amount_of(item["amount"], currency)
    outcome = p.choice(item.get("outcome", "succeeded"), "outcome", OUTCOMES)
    payment = Payment(created, amount, currency, outcome)
    if "decline_code" in item:
        if outcome != "declined":
            raise invalid_request("decline_code goes with outcome declined.", param="decline_code")
        payment.decline_code = _code(item["decline_code"], "decline_code")
    elif outcome == "declined":
        payment.decline_code = "generic_decline"
    for name in ("refunds", "dispute", "early_fraud_warning"):
        if name in item and outcome != "succeeded":
            raise invalid_request(
                f"{name} needs a succeeded payment (outcome is {outcome}).", param=name
            )
    payment.refunds = _refunds(item.get("refunds", []), created, latest, amount)
    if "dispute" in item:
        payment.dispute = _dispute(item["dispute"], created, latest)
    if "early_fraud_warning" in item:
        payment.warning = _warning(item["early_fraud_warning"], created, latest)
    for name in ("canceled_at", "cancellation_reason"):
        if name in item and outcome != "canceled":
            raise invalid_request(f"{name} goes with outcome canceled.", param=name)
    if outcome == "canceled":
        payment.canceled_at = _time(
            item.get("canceled_at", created), "canceled_at", created, latest
        )
        if "cancellation_reason" in item:
            payment.cancellation_reason = p.choice(
                item["cancellation_reason"], "cancellation_reason", CANCELLATION_REASONS
            )
    if "metadata" in item:
        payment.fields["metadata"] = p.metadata(item["metadata"])
    if "application_fee_amount" in item:
        payment.fields["application_fee_amount"] = p.integer(
            item["application_fee_amount"], "application_fee_amount", minimum=0, maximum=amount
        )
    for name in ("customer", "description"):
        if name in item:
            payment.fields[name] = p.string(item[name], name, max_length=5000)
    return payment


def _refunds(value: Any, created: int, latest: int, amount: int) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise invalid_request("refunds must be a list.", param="refunds")
    checked, total = [], 0
    for i, raw in enumerate(value):
        prefix = f"refunds[{i}]"
        raw = p.hash_(raw, prefix)
        p.check_known(raw, {"amount": None, "created": None, "reason": None}, prefix)
        p.require(raw, "amount", "created", prefix=prefix)
        refund = {
            "amount": p.integer(raw["amount"], f"{prefix}[amount]", minimum=1),
            "created": _time(raw["created"], f"{prefix}[created]", created, latest),
            "reason": (
                p.choice(raw["reason"], f"{prefix}[reason]", refunds.REASONS)
                if raw.get("reason") is not None
                else None
            ),
        }
        total += refund["amount"]
        if total > amount:
            raise invalid_request(
                f"The refunds add up to {total}, more than the payment's amount ({amount}).",
                param=f"{prefix}[amount]",
            )
        checked.append(refund)
    return checked


def _dispute(value: Any, created: int, latest: int) -> dict[str, Any]:
    value = p.hash_(value, "dispute")
    p.check_known(
        value, {"created": None, "reason": None, "status": None, "closed": None}, "dispute"
    )
    p.require(value, "created", prefix="dispute")
    when = _time(value["created"], "dispute[created]", created, latest)
    status = p.choice(value.get("status", "needs_response"), "dispute[status]", disputes.STATUSES)
    if "closed" in value and status not in disputes.CLOSED:
        raise invalid_request(
            f"dispute[closed] goes with a decided status ({', '.join(sorted(disputes.CLOSED))}).",
            param="dispute[closed]",
        )
    return {
        "created": when,
        "reason": p.choice(value.get("reason", "fraudulent"), "dispute[reason]", disputes.REASONS),
        "status": status,
        "closed": _time(value.get("closed", when), "dispute[closed]", when, latest),
    }


def _warning(value: Any, created: int, latest: int) -> dict[str, Any]:
    prefix = "early_fraud_warning"
    value = p.hash_(value, prefix)
    p.check_known(value, {"created": None, "fraud_type": None}, prefix)
    p.require(value, "created", prefix=prefix)
    return {
        "created": _time(value["created"], f"{prefix}[created]", created, latest),
        "fraud_type": p.choice(
            value.get("fraud_type", "misc"),
            f"{prefix}[fraud_type]",
            early_fraud_warnings.FRAUD_TYPES,
        ),
    }


def _time(value: Any, param: str, earliest: int, latest: int) -> int:
    when = p.integer(value, param)
    if when < earliest:
        raise invalid_request(
            f"{param} ({when}) is before the payment it belongs to ({earliest}).", param=param
        )
    if when > latest:
        raise invalid_request(
            f"{param} ({when}) is in the future: the sandbox's clock allows at most {latest}.",
            param=param,
        )
    return when


def _code(value: Any, param: str) -> str:
    code = p.string(value, param, max_length=100)
    if not code or not code.replace("_", "").isalnum() or not code.islower():
        raise invalid_request(
            f"{param} must be a decline code like insufficient_funds.", param=param
        )
    return code


# -- making ---------------------------------------------------------------------------------


class _Cards:
    """The two PaymentMethods a batch's payments were made with: one approved, one declined."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._made: dict[str, dict[str, Any]] = {}

    def get(self, token: str) -> dict[str, Any]:
        if token not in self._made:
            self._made[token] = payment_methods.resolve(self.state, token, "payment_method")
        return self._made[token]


def _make(state: SandboxState, payment: Payment, cards: _Cards) -> dict[str, Any]:
    events = state.store.tables["event"]
    before = len(events)
    made = _make_objects(state, payment, cards)
    # The events it made are the newest in the table (nothing is evicted within a request).
    made["events"] = list(islice(reversed(events), len(events) - before))[::-1]
    return made


def _make_objects(state: SandboxState, payment: Payment, cards: _Cards) -> dict[str, Any]:
    at = payment.created
    outcome = payment.outcome
    pm = None
    if outcome in ("succeeded", "declined"):
        pm = cards.get("pm_card_visa" if outcome == "succeeded" else "pm_card_chargeDeclined")
    store = state.store
    pi = payment_intents.blank(
        store.new_id("pi"),
        payment.amount,
        payment.currency,
        at,
        payment_method=pm["id"] if pm else None,
    )
    pi.update(payment.fields)
    store.add(pi)
    made: dict[str, Any] = {
        "payment_intent": pi["id"],
        "charge": None,
        "refunds": [],
        "dispute": None,
        "early_fraud_warning": None,
    }

    def event(type_: str, obj: dict[str, Any], when: int) -> None:
        emit(state, type_, obj, created=when)

    event("payment_intent.created", pi, at)
    if outcome == "canceled":
        pi["status"] = "canceled"
        pi["canceled_at"] = payment.canceled_at
        pi["cancellation_reason"] = payment.cancellation_reason
        event("payment_intent.canceled", pi, payment.canceled_at or at)
    if pm is None:
        return made
    card = payment_methods.card_of(state, pm)
    if outcome == "declined":
        code = payment.decline_code or "generic_decline"
        error_code = ERROR_CODES.get(code, "card_declined")
        charge = charges.build(
            state,
            pi,
            pm,
            card,
            decline_code=code,
            error_code=error_code,
            authenticated=False,
            created=at,
        )
        pi["last_payment_error"] = {
            "charge": charge["id"],
            "code": error_code,
            "decline_code": code,
            "doc_url": "https://stripe.com/docs/error-codes/" + error_code.replace("_", "-"),
            "message": DECLINE_MESSAGES.get(code, DECLINE_MESSAGES["generic_decline"]),
            "payment_method": dict(pm),
            "type": "card_error",
        }
        pi["latest_charge"] = charge["id"]
        pi["payment_method"] = None
        pi["status"] = "requires_payment_method"
        made["charge"] = charge["id"]
        event("charge.failed", charge, at)
        event("payment_intent.payment_failed", pi, at)
        return made
    charge = charges.build(
        state, pi, pm, card, decline_code=None, error_code=None, authenticated=False, created=at
    )
    pi["latest_charge"] = charge["id"]
    pi["status"] = "succeeded"
    pi["amount_received"] = payment.amount
    made["charge"] = charge["id"]
    event("charge.succeeded", charge, at)
    event("payment_intent.succeeded", pi, at)
    _afterwards(state, payment, charge, made, event)
    return made


def _afterwards(
    state: SandboxState,
    payment: Payment,
    charge: dict[str, Any],
    made: dict[str, Any],
    event: Callable[[str, dict[str, Any], int], None],
) -> None:
    """Refunds, dispute and warning in the order of their `created`, each event showing the
    charge as it was then (a later dispute or full refund turns the warning's `actionable`
    off: early_fraud_warnings.settle)."""
    steps: list[tuple[int, int, str, dict[str, Any]]] = [
        (refund["created"], i, "refund", refund) for i, refund in enumerate(payment.refunds)
    ]
    if payment.dispute is not None:
        steps.append((payment.dispute["created"], len(steps), "dispute", payment.dispute))
    if payment.warning is not None:
        steps.append((payment.warning["created"], len(steps), "warning", payment.warning))
    for when, _, kind, spec in sorted(steps, key=lambda step: step[:2]):
        if kind == "refund":
            refund = refunds.build(
                state, charge, spec["amount"], reason=spec["reason"], created=when
            )
            made["refunds"].append(refund["id"])
        elif kind == "dispute":
            dispute = disputes.build(
                state, charge, created=when, reason=spec["reason"], status=spec["status"]
            )
            made["dispute"] = dispute["id"]
            disputes.announce(state, dispute, closed=spec["closed"])
        else:
            warning = early_fraud_warnings.build(
                state, charge, created=when, fraud_type=spec["fraud_type"]
            )
            made["early_fraud_warning"] = warning["id"]
            event("radar.early_fraud_warning.created", warning, when)
