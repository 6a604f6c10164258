"""Price integrity: the amount charged is the server's own, from its own prices and rules.

Each check places orders through the profile's `checkout` flow as the `pricing:` block's
customers (golive/profile/pricing.py), reads the payment each one started back from the
Stripe backend (a PaymentIntent, or a Checkout Session paid as the hosted page would), and compares its amount with the total golive computes from the
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

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from golive import outcomes, redact
from golive.client import payments
from golive.client.errors import FlowError
from golive.context import CheckContext
from golive.profile.pricing import PROFILE_KEY, CartLine, Pricing, Quote, quote
from golive.registry import check

TIMEOUT_S = 10
NEEDS = {"app", "stripe"}


ROLES = ("subtotal", "platform_fee", "tax", "total")


class SnapshotParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: dict[str, str] = Field(
        default_factory=lambda: {role: role for role in ROLES},
        description="The price snapshot's metadata keys on the PaymentIntent, by role "
        "(subtotal, platform_fee, tax, total); `total` is required, leave out a role the "
        "app has not (e.g. no platform_fee)",
    )

    def model_post_init(self, context: Any) -> None:
        unknown = set(self.keys) - set(ROLES)
        if unknown or "total" not in self.keys:
            raise ValueError(f"keys: roles are {', '.join(ROLES)}, with total required")


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


def _backend(ctx: CheckContext) -> Any:
    return ctx.require_backend("stateful")  # the PaymentIntent's amount is read back


def _state(ctx: CheckContext, pricing: Pricing, user: str) -> str:
    """The user's state, from the variable `pricing.state_var` names."""
    state = ctx.app_client().user_vars(user).get(pricing.state_var)
    if state in (None, ""):
        ctx.error(
            f"user {user!r} has no `{pricing.state_var}` variable: the price checks tax "
            f"each customer by it (set users.{user}.{pricing.state_var})"
        )
    return str(state)


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

    def fetch() -> tuple[int | str, dict[str, int], str]:
        session = ctx.app_client().session(pricing.customers.in_state)
        try:
            answer = session.request("GET", pricing.menu_path or "")
        except (httpx.HTTPError, FlowError) as exc:
            return f"no answer ({exc})", {}, ""
        found: dict[str, int] = {}
        if answer.status_code == 200:
            with contextlib.suppress(ValueError):
                _find_prices(answer.json(), pricing.menu_id_field, pricing.menu_price_field, found)
        return answer.status_code, found, redact.excerpt(ctx.target.redactor, answer.text, 200)

    status, found, excerpt = ctx.target.cached("price.menu", fetch)
    if not isinstance(status, int) or outcomes.control_problem(status):
        ctx.record(menu_path=pricing.menu_path, status=status, body_excerpt=excerpt)
        ctx.error(
            f"golive could not read the menu at {pricing.menu_path} as "
            f"{pricing.customers.in_state!r}: {status} (check `auth`, the user and menu_path)"
        )
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
    steps: list[dict[str, Any]] = field(default_factory=list)  # a multi-step checkout's
    control: str | None = None  # the buyer, when this is a plain untampered cart (a control)

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
        if self.steps:
            entry["flow_steps"] = self.steps
        return entry


@dataclass
class Plan:
    """One checkout: whose, which cart, which tampered fields, golive's expected quote."""

    customer: str  # in_state | out_of_state (pricing.customers)
    cart: str  # single | multi
    top: dict[str, Any] = field(default_factory=dict)
    per_item: dict[str, Any] = field(default_factory=dict)
    quantity: int | None = None  # overrides every line's quantity (negative probe)


def _tampered_amount(expected: int) -> int:
    # At least 50 cents off, and still a chargeable amount if the target trusts it.
    return 50 if expected >= 100 else expected + 100


def _plans(pricing: Pricing, prices: dict[str, int], in_state: str) -> dict[str, Plan]:
    rules, carts = pricing.rules, pricing.carts
    single_in = quote(rules, prices, carts.single, in_state).total
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
    user_of = {
        "in_state": pricing.customers.in_state,
        "out_of_state": pricing.customers.out_of_state,
    }
    plan = _plans(pricing, prices, _state(ctx, pricing, user_of["in_state"]))[name]
    user = user_of[plan.customer]
    state = _state(ctx, pricing, user)
    cart: list[CartLine] = getattr(pricing.carts, plan.cart)
    items = [
        {"id": line.id, "quantity": plan.quantity if plan.quantity is not None else line.quantity}
        for line in cart
    ]
    expected = None if plan.quantity is not None else quote(pricing.rules, prices, cart, state)
    try:
        placed = ctx.app_client().checkout(
            user,
            items,
            per_line=plan.per_item,
            top=plan.top,
            idempotency_key=f"golive-price-{name}-{uuid.uuid4().hex[:12]}",
        )
    except FlowError as exc:
        ctx.flow_error(exc)  # golive's own request was refused: not a verdict on prices
    probe = Probe(
        name, state, placed.request, expected, placed.status or 0, None, placed.body_excerpt
    )
    probe.steps = [s.evidence() for s in placed.steps] if len(placed.steps) > 1 else []
    probe.control = None if plan.top or plan.per_item or plan.quantity is not None else user
    if placed.ok:
        paid = payments.read(_backend(ctx), placed, complete=True)
        probe.intent_id = paid.reference
        probe.amount, probe.metadata, probe.read_error = paid.amount, paid.metadata, paid.error
    return probe


def checkout(ctx: CheckContext, name: str) -> Probe:
    """The named checkout, sent once per run, its PaymentIntent read back; recorded."""
    pricing = _pricing(ctx)
    _app(ctx)
    _backend(ctx)
    ctx.require_job("checkout")
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
    if probe.control and outcomes.control_problem(probe.status):  # golive's, not the app's
        step = f"checkout {probe.name!r}"
        ctx.error(
            outcomes.control_failed(
                "place a plain, untampered order",
                probe.control,
                step,
                probe.status,
                probe.body_excerpt,
            )
        )
    if not 200 <= probe.status < 300:
        ctx.fail(
            f"checkout {probe.name!r} was answered {probe.status}, not 2xx: "
            f"{probe.body_excerpt[:120]}"
        )
    if not probe.intent_id:
        ctx.fail(f"checkout {probe.name!r}: the checkout flow captured no payment")
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
    problems = [_expect_total(ctx, tampered, "the request said another amount")]
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
    snapshot = {key: probe.metadata.get(key) for key in params.keys.values()}
    ctx.record(payment_intent=probe.intent_id, amount=amount, snapshot=snapshot)
    missing = [k for k, v in snapshot.items() if v in (None, "")]
    if missing:
        ctx.fail(
            f"PaymentIntent {probe.intent_id}'s metadata lacks the price snapshot key(s) "
            f"{', '.join(missing)} (it has: {', '.join(sorted(probe.metadata)) or 'none'})"
        )
    numbers: dict[str, int] = {}
    for role, key in params.keys.items():
        raw = probe.metadata.get(key)
        try:
            numbers[role] = int(str(raw))
        except ValueError:
            ctx.fail(f"metadata {key}={raw!r} is not an amount in cents")
    problems = []
    if numbers["total"] != amount:
        problems.append(
            f"metadata {params.keys['total']} {numbers['total']} but the amount is {amount}"
        )
    parts = [role for role in ROLES[:3] if role in numbers]
    if "subtotal" in numbers:
        summed = sum(numbers[role] for role in parts)
        if summed != numbers["total"]:
            problems.append(
                f"metadata {' + '.join(params.keys[r] for r in parts)} = {summed}, not its "
                f"{params.keys['total']} {numbers['total']}"
            )
    _conclude(ctx, problems)
