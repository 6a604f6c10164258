"""Price integrity: the amount charged is the server's own, from its own prices and rules.

Each check sends checkouts to the running target (the profile's `pricing:` block,
golive/profile/pricing.py, says how), reads the PaymentIntent each one created back from
the Stripe backend, and compares its amount with the total golive computes from the
declared rules and the target's menu prices. Tampered requests carry the amount, price
and fee fields a hostile client would send; they must change nothing.

The checkouts are shared by the checks through the run's cache: six per run, three per
customer, well under a per-user rate limit. Each carries a fresh Idempotency-Key, so a
run never replays an earlier run's order.

Evidence: the request sent (tampered fields included), golive's computation step by
step, the answer's status, the PaymentIntent id and amount.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import stripe
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from golive import httpclient, redact
from golive.checkout import body as checkout_body
from golive.checkout import place
from golive.context import CheckContext
from golive.profile.pricing import PROFILE_KEY, CartLine, Pricing, Quote, quote
from golive.registry import check

TIMEOUT_S = 10
NEEDS = {"app", "stripe"}


class SnapshotParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required_keys: list[str] = Field(
        default_factory=lambda: ["subtotal", "platform_fee", "tax", "total"],
        min_length=1,
        description="Metadata keys the PaymentIntent's price snapshot must carry",
    )


# --- the profile's block ----------------------------------------------------------------


def _pricing(ctx: CheckContext) -> Pricing:
    raw = ctx.profile.model.pricing
    if raw is None:
        ctx.not_run(
            f"the target profile has no `{PROFILE_KEY}` block (checkout, customers, menu_path "
            "or prices, rules): golive cannot know what the total must be"
        )
    try:
        return ctx.target.cached("price.profile", lambda: Pricing.model_validate(raw))
    except ValidationError as exc:
        ctx.fail(f"the profile's `{PROFILE_KEY}` block is invalid: {exc}")


def _app(ctx: CheckContext) -> Any:
    if ctx.target.app is None:
        ctx.not_run("the target profile names no running app (set app in the profile)")
    return ctx.target.app


def _client(ctx: CheckContext) -> stripe.StripeClient:
    backend = ctx.target.stripe
    if backend is None:
        ctx.not_run("the target profile names no Stripe backend (set stripe in the profile)")
    if not getattr(backend, "stateful", True):
        ctx.not_applicable(f"the {backend.kind} backend keeps no PaymentIntents to read back")
    return stripe.StripeClient(
        backend.secret_key, base_addresses={"api": backend.api_base}, max_network_retries=0
    )


def _find_prices(node: Any, id_field: str, price_field: str, out: dict[str, int]) -> None:
    if isinstance(node, dict):
        if id_field in node and isinstance(node.get(price_field), int):
            out[str(node[id_field])] = node[price_field]
        for value in node.values():
            _find_prices(value, id_field, price_field, out)
    elif isinstance(node, list):
        for value in node:
            _find_prices(value, id_field, price_field, out)


def _prices(ctx: CheckContext, pricing: Pricing) -> dict[str, int]:
    if pricing.prices is not None:
        return {str(k): v for k, v in pricing.prices.items()}

    def fetch() -> tuple[int, dict[str, int], str]:
        app = _app(ctx)
        headers = {"Authorization": f"Bearer {pricing.customers.in_state.token}"}
        with httpclient.client(base_url=app.base_url, timeout=TIMEOUT_S) as web:
            answer = web.get(pricing.menu_path or "", headers=headers)
        found: dict[str, int] = {}
        if answer.status_code == 200:
            with contextlib.suppress(ValueError):
                _find_prices(answer.json(), pricing.menu_id_field, pricing.menu_price_field, found)
        return answer.status_code, found, redact.excerpt(ctx.target.redactor, answer.text, 200)

    status, found, excerpt = ctx.target.cached("price.menu", fetch)
    if not found:
        ctx.record(menu_path=pricing.menu_path, status=status, body_excerpt=excerpt)
        ctx.fail(
            f"the menu at {pricing.menu_path} answered {status} with no item carrying "
            f"`{pricing.menu_id_field}` and an integer `{pricing.menu_price_field}`"
        )
    return found


# --- checkouts --------------------------------------------------------------------------


@dataclass
class Probe:
    name: str
    state: str
    request: dict[str, Any]
    quote: Quote | None
    status: int
    answer: Any
    body_excerpt: str
    intent_id: str | None = None
    amount: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    read_error: str | None = None

    def evidence(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "checkout": self.name,
            "customer_state": self.state,
            "request": self.request,
            "status": self.status,
        }
        if self.quote is not None:
            entry["golive_computation"] = self.quote.steps()
            entry["expected_total"] = self.quote.total
        if not 200 <= self.status < 300:
            entry["body_excerpt"] = self.body_excerpt
        if self.intent_id:
            entry["payment_intent"] = self.intent_id
            entry["payment_intent_amount"] = self.amount
        if self.read_error:
            entry["read_error"] = self.read_error
        return entry


@dataclass
class Plan:
    """One checkout: whose, which cart, which tampered fields, golive's expected quote."""

    customer: str  # in_state | out_of_state
    cart: str  # single | multi
    top: dict[str, Any] = field(default_factory=dict)
    per_item: dict[str, Any] = field(default_factory=dict)
    quantity: int | None = None  # overrides every line's quantity (negative probe)


def _tampered_amount(expected: int) -> int:
    # At least 50 cents off, and still a chargeable amount if the target trusts it.
    return 50 if expected >= 100 else expected + 100


def _plans(pricing: Pricing, prices: dict[str, int]) -> dict[str, Plan]:
    rules, carts, customers = pricing.rules, pricing.carts, pricing.customers
    single_in = quote(rules, prices, carts.single, customers.in_state.state).total
    wrong = _tampered_amount(single_in)
    first_price = prices[str(carts.single[0].id)]
    low_price = 100 if first_price != 100 else 200
    return {
        "multi-in-state": Plan("in_state", "multi"),
        "multi-out-of-state": Plan("out_of_state", "multi"),
        "tampered-amount": Plan("in_state", "single", top={"amount": wrong, "total": wrong}),
        "negative-quantity": Plan("out_of_state", "single", quantity=-1),
        "tampered-unit-price": Plan(
            "out_of_state", "single", per_item={"unit_price": low_price, "price": low_price}
        ),
        "tampered-fee": Plan("in_state", "single", top={"platform_fee": 0, "fee": 0}),
    }


def _send(ctx: CheckContext, pricing: Pricing, name: str) -> Probe:
    prices = _prices(ctx, pricing)
    plan = _plans(pricing, prices)[name]
    customer = getattr(pricing.customers, plan.customer)
    cart: list[CartLine] = getattr(pricing.carts, plan.cart)
    body = checkout_body(
        pricing.checkout, cart, per_item=plan.per_item, top=plan.top, quantity=plan.quantity
    )
    expected = (
        None if plan.quantity is not None else quote(pricing.rules, prices, cart, customer.state)
    )
    placed = place(
        _app(ctx).base_url,
        pricing.checkout,
        customer.token,
        body,
        idempotency_key=f"golive-price-{name}-{uuid.uuid4().hex[:12]}",
        redactor=ctx.target.redactor,
    )
    probe = Probe(
        name, customer.state, body, expected, placed.status, placed.answer, placed.body_excerpt
    )
    intent_id = placed.payment_intent_id
    if placed.ok and intent_id:
        probe.intent_id = intent_id
        try:
            intent = _client(ctx).v1.payment_intents.retrieve(intent_id).to_dict()
        except stripe.StripeError as exc:
            probe.read_error = f"{type(exc).__name__}: {exc.user_message or exc}"
        else:
            probe.amount = intent.get("amount")
            probe.metadata = dict(intent.get("metadata") or {})
    return probe


def checkout(ctx: CheckContext, name: str) -> Probe:
    """The named checkout, sent once per run, its PaymentIntent read back; recorded."""
    pricing = _pricing(ctx)
    _app(ctx)
    _client(ctx)
    prices = _prices(ctx, pricing)
    cart_ids = {str(line.id) for line in pricing.carts.single + pricing.carts.multi}
    if cart_ids - prices.keys():
        ctx.fail(
            f"the carts name item(s) {', '.join(sorted(cart_ids - prices.keys()))} that have "
            "no unit price in the menu (or `prices`)"
        )
    probe: Probe = ctx.target.cached(f"price.checkout:{name}", lambda: _send(ctx, pricing, name))
    ctx.record(**probe.evidence())
    return probe


def _charged(ctx: CheckContext, probe: Probe) -> int:
    """The PaymentIntent's amount; fails when the checkout made none to read."""
    if not 200 <= probe.status < 300:
        ctx.fail(
            f"checkout {probe.name!r} was answered {probe.status}, not 2xx: "
            f"{probe.body_excerpt[:120]}"
        )
    if not probe.intent_id:
        path = _pricing(ctx).checkout.payment_intent_id
        ctx.fail(f"checkout {probe.name!r}: no PaymentIntent id at `{path}` in the answer")
    if probe.read_error or not isinstance(probe.amount, int):
        ctx.fail(
            f"checkout {probe.name!r}: PaymentIntent {probe.intent_id} could not be read back "
            f"from the Stripe backend ({probe.read_error or 'no amount'})"
        )
    return probe.amount


def _expect_total(ctx: CheckContext, probe: Probe, why: str) -> str | None:
    amount = _charged(ctx, probe)
    assert probe.quote is not None
    if amount != probe.quote.total:
        return (
            f"{probe.name}: PaymentIntent {probe.intent_id} is for {amount}, golive's total is "
            f"{probe.quote.total} ({why})"
        )
    return None


def _conclude(ctx: CheckContext, problems: list[str | None]) -> None:
    found = [p for p in problems if p]
    if found:
        ctx.fail("; ".join(found))


# --- the checks -------------------------------------------------------------------------


@check("price.tampered-amount", needs=NEEDS)
def test_tampered_amount(ctx: CheckContext) -> None:
    """A client's amount/total is ignored and a negative quantity refused (4xx)."""
    tampered = checkout(ctx, "tampered-amount")
    problems = [_expect_total(ctx, tampered, f"the request said {tampered.request.get('amount')}")]
    negative = checkout(ctx, "negative-quantity")
    if not 400 <= negative.status < 500:
        problems.append(
            f"negative-quantity: answered {negative.status}, not 4xx"
            + (f" (PaymentIntent {negative.intent_id})" if negative.intent_id else "")
        )
    _conclude(ctx, problems)


@check("price.intent-amount-matches", needs=NEEDS)
def test_intent_amount_matches(ctx: CheckContext) -> None:
    """The PaymentIntent's amount is golive's total, in and out of state, multi-item carts."""
    _conclude(
        ctx,
        [
            _expect_total(ctx, checkout(ctx, name), "an untampered checkout")
            for name in ("multi-in-state", "multi-out-of-state")
        ],
    )


@check("price.from-catalogue", needs=NEEDS)
def test_from_catalogue(ctx: CheckContext) -> None:
    """Per-item unit_price/price sent by the client are ignored: menu prices are charged."""
    probe = checkout(ctx, "tampered-unit-price")
    _conclude(ctx, [_expect_total(ctx, probe, "the items said other unit prices")])


@check("price.platform-fee", needs=NEEDS)
def test_platform_fee(ctx: CheckContext) -> None:
    """A client's platform_fee/fee is ignored: the fee comes from the rules."""
    probe = checkout(ctx, "tampered-fee")
    _conclude(ctx, [_expect_total(ctx, probe, "the request said fee 0")])


@check("price.state-tax", needs=NEEDS)
def test_state_tax(ctx: CheckContext) -> None:
    """The same cart costs in and out of state exactly the rules' tax difference."""
    inside = checkout(ctx, "multi-in-state")
    outside = checkout(ctx, "multi-out-of-state")
    a, b = _charged(ctx, inside), _charged(ctx, outside)
    assert inside.quote is not None and outside.quote is not None
    expected = inside.quote.tax - outside.quote.tax
    ctx.record(
        in_state=f"{inside.state}: tax {inside.quote.tax} ({inside.quote.tax_rate_bps} bp)",
        out_of_state=f"{outside.state}: tax {outside.quote.tax} ({outside.quote.tax_rate_bps} bp)",
        expected_difference=expected,
        charged_difference=a - b,
    )
    problems = [
        _expect_total(ctx, inside, f"{inside.state} tax"),
        _expect_total(ctx, outside, f"{outside.state} tax"),
    ]
    if a - b != expected:
        problems.insert(
            0,
            f"{inside.state} minus {outside.state} for the same cart is {a - b} "
            f"({a} - {b}); the rules say {expected}",
        )
    _conclude(ctx, problems)


@check("price.snapshot-metadata", params=SnapshotParams, needs=NEEDS)
def test_snapshot_metadata(ctx: CheckContext) -> None:
    """The PaymentIntent's metadata carries a price snapshot consistent with its amount."""
    params: SnapshotParams = ctx.params  # type: ignore[assignment]
    probe = checkout(ctx, "multi-in-state")
    amount = _charged(ctx, probe)
    snapshot = {k: probe.metadata.get(k) for k in params.required_keys}
    ctx.record(payment_intent=probe.intent_id, amount=amount, snapshot=snapshot)
    missing = [k for k, v in snapshot.items() if v in (None, "")]
    if missing:
        ctx.fail(
            f"PaymentIntent {probe.intent_id}'s metadata lacks the price snapshot key(s) "
            f"{', '.join(missing)} (it has: {', '.join(sorted(probe.metadata)) or 'none'})"
        )
    numbers: dict[str, int] = {}
    for key in ("subtotal", "platform_fee", "tax", "total"):
        raw = probe.metadata.get(key)
        if raw not in (None, ""):
            try:
                numbers[key] = int(str(raw))
            except ValueError:
                ctx.fail(f"metadata {key}={raw!r} is not an amount in cents")
    problems = []
    if "total" in numbers and numbers["total"] != amount:
        problems.append(f"metadata total {numbers['total']} but the amount is {amount}")
    if {"subtotal", "platform_fee", "tax", "total"} <= numbers.keys():
        parts = numbers["subtotal"] + numbers["platform_fee"] + numbers["tax"]
        if parts != numbers["total"]:
            problems.append(
                f"metadata subtotal + platform_fee + tax = {parts}, not its total "
                f"{numbers['total']}"
            )
    _conclude(ctx, problems)
