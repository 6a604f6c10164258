"""Price integrity: the amount charged is the server's own, whatever the client sends.

Each check places orders through the profile's `checkout` flow as the `pricing:` block's
customers (golive/profile/pricing.py) and reads the payment each one started back from
the Stripe backend (a PaymentIntent, or a Checkout Session paid as the hosted page would).

Tampering is judged **by difference** (golive/tamper.py): the same cart is bought clean
and tampered by the same customer, and the two payments must be equal in amount and
currency. The clean order is the positive control: if golive cannot place it, or cannot
read its payment back, every check that needs it is an error, never a fail. The tampered
fields are the flow's own numeric fields, the money-like keys of the app's answers (its
menu and the clean checkout's answers), the money-like request fields the target's source
reads when the profile names a repository (golive/fieldmine.py: fields no answer shows,
sent as a low number and as an object of every mined money-like name, for nested shapes;
the evidence names the file:line that reads the field that moved the charge) and a
dictionary of money words, sent at the top of the submit body (the in-state customer's
orders) and in every cart line (the out-of-state customer's), in batches bisected when
the amount moves; quantities of -1, 1.5 and 10^9 on
every line; and `currency` swapped to another ISO code. A tampered order the app refuses
(4xx) is safe; one it answers 5xx fails (a crash is not a refusal), but for a field sent
as an object: an object where the app reads a number may crash it, a type check it lacks
rather than a price it trusted, so that counts as refused. Each tampered field is
judged by one check: fee-like names (`fee`, `platformFeeCents`) by price.platform-fee,
cart-line fields by price.from-catalogue, the rest, the quantities and the currency by
price.tampered-amount.

This needs no pricing rules. With `pricing.rules`, the clean orders must also cost golive's
total from the rules and the menu's prices (price.intent-amount-matches, price.state-tax
need the rules and are not-run without them).

Every order carries a fresh Idempotency-Key, so a run never replays an earlier run's
order. The orders are shared by the checks through the run's cache, and the tampering's
are bounded (TAMPER_BUDGET per customer), under a per-user rate limit: a 429 whose
Retry-After is short (MAX_RATE_WAIT_S) and fits the check's time is waited out once;
otherwise it ends the tampering as the budget does (an error if no tampered order had been
accepted yet), and the fields not tried are listed in the evidence.

Evidence: the requests sent (tampered fields included), golive's computation step by
step, the answers' statuses, the PaymentIntents' ids, amounts and currencies.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from golive import budget, fieldmine, outcomes, redact, tamper
from golive.client import payments
from golive.client.errors import FlowError
from golive.context import CheckContext
from golive.profile.pricing import PROFILE_KEY, CartLine, Pricing, Quote, Rules, quote
from golive.registry import check
from golive.tamper import Tamper, Trial

TIMEOUT_S = 10
NEEDS = {"app", "stripe"}
# Orders each customer's tampering may place (batches, their narrowing, bisection).
TAMPER_BUDGET = 8
MAX_RATE_WAIT_S = 65  # a per-minute limit's window, and a little
RATE_WAIT_MARGIN_S = 20  # what the retried order and the rest of the check need
# More when the repository named fields: their two batches (numbers, objects) and a split.
SOURCE_BUDGET = 2
# Quantities no cart can honestly hold: each must be refused (4xx) or charged as the
# clean cart (an app that clamps or ignores them); any other amount, or a 5xx, fails.
ODD_QUANTITIES: dict[str, Any] = {"negative": -1, "fractional": 1.5, "huge": 10**9}
OTHER_CURRENCIES = ("eur", "jpy")

ROLES = ("subtotal", "platform_fee", "tax", "total")
IN_STATE, OUT_OF_STATE = "multi-in-state", "multi-out-of-state"


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


def _rules(ctx: CheckContext, pricing: Pricing) -> Rules:
    if pricing.rules is None:
        ctx.not_run(
            f"the profile's `{PROFILE_KEY}` block has no `rules`: golive cannot compute the "
            "total this check compares with (the tampering checks judge by difference "
            "without them); add pricing.rules"
        )
    return pricing.rules


def _app(ctx: CheckContext) -> Any:
    if ctx.target.app is None:
        ctx.not_run("the target profile names no running app (set app in the profile)")
    return ctx.target.app


def _backend(ctx: CheckContext) -> Any:
    return ctx.require_backend("stateful")  # the PaymentIntent's amount is read back


def _state(ctx: CheckContext, pricing: Pricing, user: str) -> str:
    """The user's state, from the variable `pricing.state_var` names ("" without rules:
    nothing is taxed by it then)."""
    state = ctx.app_client().user_vars(user).get(pricing.state_var)
    if state in (None, "") and pricing.rules is not None:
        ctx.error(
            f"user {user!r} has no `{pricing.state_var}` variable: the price checks tax "
            f"each customer by it (set users.{user}.{pricing.state_var})"
        )
    return str(state or "")


def _find_prices(node: Any, id_field: str, price_field: str, out: dict[str, int]) -> None:
    if isinstance(node, dict):
        if id_field in node and isinstance(node.get(price_field), int):
            out[str(node[id_field])] = node[price_field]
        for value in node.values():
            _find_prices(value, id_field, price_field, out)
    elif isinstance(node, list):
        for value in node:
            _find_prices(value, id_field, price_field, out)


@dataclass
class Menu:
    status: int | str
    prices: dict[str, int]
    excerpt: str
    keys: list[str]  # every key of the answer, for the tampering's money-like names


def _menu(ctx: CheckContext, pricing: Pricing) -> Menu | None:
    """The target's menu, read once per run (None without a menu_path)."""
    if pricing.menu_path is None:
        return None

    def fetch() -> Menu:
        session = ctx.app_client().session(pricing.customers.in_state)
        try:
            answer = session.request("GET", pricing.menu_path or "")
        except (httpx.HTTPError, FlowError) as exc:
            return Menu(f"no answer ({exc})", {}, "", [])
        found: dict[str, int] = {}
        keys: list[str] = []
        if answer.status_code == 200:
            with contextlib.suppress(ValueError):
                body = answer.json()
                _find_prices(body, pricing.menu_id_field, pricing.menu_price_field, found)
                keys = tamper.keys_in(body)
        excerpt = redact.excerpt(ctx.target.redactor, answer.text, 200)
        return Menu(answer.status_code, found, excerpt, keys)

    return ctx.target.cached("price.menu", fetch)


def _prices(ctx: CheckContext, pricing: Pricing) -> dict[str, int]:
    if pricing.prices is not None:
        return {str(k): v for k, v in pricing.prices.items()}
    menu = _menu(ctx, pricing)
    assert menu is not None  # the model wants menu_path or prices with rules
    if not isinstance(menu.status, int) or outcomes.control_problem(menu.status):
        ctx.record(menu_path=pricing.menu_path, status=menu.status, body_excerpt=menu.excerpt)
        ctx.error(
            f"golive could not read the menu at {pricing.menu_path} as "
            f"{pricing.customers.in_state!r}: {menu.status} (check `auth`, the user and "
            "menu_path)"
        )
    if not menu.prices:
        ctx.record(menu_path=pricing.menu_path, status=menu.status, body_excerpt=menu.excerpt)
        ctx.fail(
            f"the menu at {pricing.menu_path} answered {menu.status} with no item carrying "
            f"`{pricing.menu_id_field}` and an integer `{pricing.menu_price_field}`"
        )
    return menu.prices


# --- the clean checkouts ----------------------------------------------------------------


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
    currency: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    read_error: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)  # a multi-step checkout's
    excerpts: list[str] = field(default_factory=list)  # every answer, for money-like keys
    user: str | None = None  # the buyer

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
            entry["currency"] = self.currency
        if self.read_error:
            entry["read_error"] = self.read_error
        if self.steps:
            entry["flow_steps"] = self.steps
        return entry


def _customer(pricing: Pricing, name: str) -> str:
    return pricing.customers.in_state if name == IN_STATE else pricing.customers.out_of_state


def _items(cart: list[CartLine], quantity: Any = None) -> list[dict[str, Any]]:
    return [
        {"id": line.id, "quantity": line.quantity if quantity is None else quantity}
        for line in cart
    ]


def _send(ctx: CheckContext, pricing: Pricing, name: str) -> Probe:
    user = _customer(pricing, name)
    state = _state(ctx, pricing, user)
    cart = pricing.carts.multi
    expected = None
    if pricing.rules is not None:
        expected = quote(pricing.rules, _prices(ctx, pricing), cart, state)
    try:
        placed = ctx.app_client().checkout(
            user, _items(cart), idempotency_key=f"golive-price-{name}-{uuid.uuid4().hex[:12]}"
        )
        last = placed.steps[-1] if placed.steps else None
        if placed.status == 429 and _waited_out(ctx, last.retry_after_s if last else None):
            placed = ctx.app_client().checkout(
                user, _items(cart), idempotency_key=f"golive-price-{name}-{uuid.uuid4().hex[:12]}"
            )
    except FlowError as exc:
        ctx.flow_error(exc)  # golive's own request was refused: not a verdict on prices
    probe = Probe(
        name, state, placed.request, expected, placed.status or 0, None, placed.body_excerpt
    )
    probe.steps = [s.evidence() for s in placed.steps] if len(placed.steps) > 1 else []
    probe.excerpts = [s.excerpt for s in placed.steps if s.excerpt]
    probe.user = user
    if placed.ok:
        paid = payments.read(_backend(ctx), placed, complete=True)
        probe.intent_id = paid.reference
        probe.amount, probe.metadata, probe.read_error = paid.amount, paid.metadata, paid.error
        probe.currency = paid.currency
    return probe


def _ready(ctx: CheckContext) -> Pricing:
    pricing = _pricing(ctx)
    _app(ctx)
    _backend(ctx)
    ctx.require_job("checkout")
    if pricing.rules is not None:
        prices = _prices(ctx, pricing)
        cart_ids = {str(line.id) for line in pricing.carts.single + pricing.carts.multi}
        if cart_ids - prices.keys():
            ctx.fail(
                f"the carts name item(s) {', '.join(sorted(cart_ids - prices.keys()))} that "
                "have no unit price in the menu (or `prices`)"
            )
    return pricing


def checkout(ctx: CheckContext, name: str) -> Probe:
    """The named clean checkout, sent once per run, its PaymentIntent read back; recorded."""
    pricing = _ready(ctx)
    probe: Probe = ctx.target.cached(f"price.checkout:{name}", lambda: _send(ctx, pricing, name))
    ctx.record(**probe.evidence())
    return probe


def _charged(ctx: CheckContext, probe: Probe) -> int:
    """The clean order's amount: the positive control. golive could not place it or read
    its payment back -> error (no tampering can be judged against nothing)."""
    if outcomes.control_problem(probe.status):
        ctx.error(
            outcomes.control_failed(
                f"place the clean order {probe.name!r}",
                probe.user,
                "the checkout flow",
                probe.status,
                probe.body_excerpt,
            )
            + "; fix the profile's checkout flow, users or carts, or the app"
        )
    if not probe.intent_id:
        ctx.error(f"clean order {probe.name!r}: the checkout flow captured no payment")
    if probe.read_error or not isinstance(probe.amount, int):
        ctx.error(
            f"clean order {probe.name!r}: PaymentIntent {probe.intent_id} could not be read "
            f"back from the Stripe backend ({probe.read_error or 'no amount'})"
        )
    return probe.amount


def _expect_total(ctx: CheckContext, probe: Probe, why: str) -> str | None:
    amount = _charged(ctx, probe)
    if probe.quote is None:
        return None  # no rules: judged by difference only
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


# --- tampered checkouts -------------------------------------------------------------------


def _low(clean: int) -> int:
    # At least 50 cents off, and still a chargeable amount if the target trusts it.
    return 50 if clean >= 100 else clean + 100


def _attempt(
    ctx: CheckContext,
    pricing: Pricing,
    clean: Probe,
    *,
    top: dict[str, Any] | None = None,
    per_line: dict[str, Any] | None = None,
    quantity: Any = None,
) -> Trial:
    """One tampered order, judged against the clean one; a 429 whose Retry-After the
    check's time allows is waited out once, as a polite client would (golive's other
    checks may have spent the user's quota a moment before)."""
    trial = _tampered_order(ctx, pricing, clean, top, per_line, quantity)
    if trial.kind == "stop" and trial.status == 429 and _waited_out(ctx, trial.retry_after_s):
        return _tampered_order(ctx, pricing, clean, top, per_line, quantity)
    return trial


def _waited_out(ctx: CheckContext, retry_after: float | None) -> bool:
    """Waits a 429's Retry-After, once, when it is short and the check's time allows (as a
    polite client would); False when golive should not wait."""
    running = budget.active()
    room = running.remaining() if running is not None else float("inf")
    if retry_after is None or retry_after > MAX_RATE_WAIT_S:
        return False
    if retry_after + RATE_WAIT_MARGIN_S >= room:
        return False
    ctx.record(rate_limited=f"429, waited the Retry-After of {retry_after:g} s")
    time.sleep(retry_after)
    return True


def _tampered_order(
    ctx: CheckContext,
    pricing: Pricing,
    clean: Probe,
    top: dict[str, Any] | None,
    per_line: dict[str, Any] | None,
    quantity: Any,
) -> Trial:
    """One tampered order of the clean order's cart and customer, judged against it."""
    user = _customer(pricing, clean.name)
    try:
        placed = ctx.app_client().checkout(
            user,
            _items(pricing.carts.multi, quantity),
            per_line=per_line,
            top=top,
            idempotency_key=f"golive-price-tamper-{uuid.uuid4().hex[:12]}",
        )
    except FlowError as exc:
        last = exc.steps[-1] if exc.steps else None
        evidence = {"request": last.request if last else None, "status": exc.status}
        if exc.kind == "status" and exc.status is not None:
            # The clean order went through as this user: a 401/403/404 now is the app
            # refusing the tampered one.
            trial = _refusal(exc.status, last.excerpt if last else "", evidence)
            trial.retry_after_s = last.retry_after_s if last else None
            return trial
        return Trial("stop", exc.status, text=str(exc), evidence=evidence)
    evidence = {"request": placed.request, "status": placed.status}
    if placed.refused is not None or not placed.ok:
        trial = _refusal(placed.status, placed.body_excerpt, evidence)
        trial.retry_after_s = placed.steps[-1].retry_after_s if placed.steps else None
        return trial
    paid = payments.read(_backend(ctx), placed, complete=True)
    evidence.update(payment_intent=paid.reference, amount=paid.amount, currency=paid.currency)
    if paid.error or not isinstance(paid.amount, int):
        why = f"its payment {paid.reference} could not be read back ({paid.error or 'no amount'})"
        return Trial("stop", placed.status, text=why, evidence=evidence)
    same = paid.amount == clean.amount and (paid.currency or "") == (clean.currency or "")
    return Trial(
        "equal" if same else "differs",
        placed.status,
        paid.amount,
        paid.currency,
        paid.reference,
        evidence=evidence,
    )


def _refusal(status: int | None, excerpt: str, evidence: dict[str, Any]) -> Trial:
    evidence = {**evidence, "body_excerpt": excerpt}
    if status == 429:
        why = f"the app rate-limited golive (429): {excerpt[:120]}"
        return Trial("stop", status, text=why, evidence=evidence)
    if status is not None and 400 <= status < 500:
        return Trial("refused", status, text=excerpt, evidence=evidence)
    if status is not None and status >= 500:
        return Trial("broke", status, text=excerpt, evidence=evidence)
    return Trial(
        "stop",
        status,
        text=f"answered {status} without a payment: {excerpt[:120]}",
        evidence=evidence,
    )


@dataclass
class Tampering:
    clean: Probe
    search: tamper.Search
    fields: int
    budget: int = TAMPER_BUDGET
    source: list[fieldmine.Field] = field(default_factory=list)


def _source_fields(ctx: CheckContext) -> list[fieldmine.Field]:
    """The money-like request fields the target's source reads (none without a
    repository: black-box tampering as before), mined once per run."""
    root = ctx.profile.repository_path
    if root is None or not root.is_dir():
        return []
    mined = ctx.target.cached(f"fieldmine:{root}", lambda: fieldmine.mine(root, tamper.money_like))
    return mined.money(tamper.money_like)


def _form_submit(flow: Any) -> bool:
    index = flow.submit_index()
    return index is not None and flow.steps[index].request.form is not None


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    """A form body carries an object as `name[key]` fields (how Rails, PHP and qs nest)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            out.update({f"{name}[{key}]": inner for key, inner in value.items()})
        else:
            out[name] = value
    return out


def _tampering(ctx: CheckContext, pricing: Pricing, name: str) -> Tampering:
    """The battery at one place (the in-state customer: the submit body's top; the
    out-of-state customer: every cart line), once per run."""
    clean = checkout(ctx, name)
    amount = _charged(ctx, clean)
    place: tamper.Place = "top" if name == IN_STATE else "line"

    def run() -> Tampering:
        client = ctx.app_client()
        flow = ctx.profile.model.flows[client.flow_for("checkout")]
        own = tamper.flow_fields(flow, clean.request)
        menu = _menu(ctx, pricing)
        menu_keys = [k for k in (menu.keys if menu else []) if tamper.money_like(k)]
        keys = list(dict.fromkeys([*menu_keys, *tamper.mined(clean.excerpts)]))
        source = _source_fields(ctx)
        batches = tamper.battery(place, own, keys, source)
        low = _low(amount)
        form = _form_submit(flow)

        def attempt(batch: list[Tamper]) -> Trial:
            values = {t.name: t.value(low) for t in batch}
            if place == "top":
                trial = _attempt(ctx, pricing, clean, top=_flat(values) if form else values)
            else:
                trial = _attempt(ctx, pricing, clean, per_line=values)
            if trial.kind == "broke" and any(t.shape == "object" for t in batch):
                # An object where the app reads a number may crash it: a type check it
                # lacks, not a price it trusted (the dictionary's numbers judge that).
                return Trial("refused", trial.status, text=trial.text, evidence=trial.evidence)
            return trial

        budget = TAMPER_BUDGET + (SOURCE_BUDGET if source else 0)
        found = tamper.search(batches, attempt, budget)
        return Tampering(clean, found, sum(len(b) for b in batches), budget, source)

    return ctx.target.cached(f"price.tampering:{place}", run)


def _fee_like(t: Tamper) -> bool:
    return any(p.lower() in ("fee", "fees") for p in tamper.parts(t.name))


def _judge(
    ctx: CheckContext, tampering: Tampering, mine: Callable[[Tamper], bool], what: str
) -> list[str]:
    """Record one battery's search and say what it found among this check's fields."""
    found, clean = tampering.search, tampering.clean
    mined = [f"{f.name} ({f.where})" for f in tampering.source]
    ctx.record(
        tampering=what,
        customer_state=clean.state,
        clean_order=f"{clean.intent_id}: {clean.amount} {clean.currency}",
        fields=tampering.fields,
        **({"mined_from_repository": mined} if mined else {}),
        orders=found.orders,
        refused=[t.label for t in found.refused if mine(t)],
        trials=found.trials,
    )
    problems = []
    for group, trial in found.moved:
        if any(mine(t) for t in group):
            who = (
                f"field {group[0].label}"
                if len(group) == 1
                else f"one or more of the fields {tamper.names(group)}"
            )
            read = [t for t in group if t.origin == "source"]
            if read:
                who += (
                    " (mined from the repository: read at "
                    + ", ".join(dict.fromkeys(f"{t.name} {t.where}" for t in read))
                    + ")"
                )
            problems.append(
                f"{who} moved the charge: the clean order {clean.intent_id} is "
                f"{clean.amount} {clean.currency}, the tampered one {trial.reference} "
                f"{trial.amount} {trial.currency}"
            )
    for group, trial in found.broke:
        if any(mine(t) for t in group):
            problems.append(
                f"the order tampered with {tamper.names(group)} was answered {trial.status}, "
                "a server error rather than a refusal"
            )
    untried = [t for t in found.untried if mine(t)]
    if untried:
        ctx.record(
            not_tried=[t.label for t in untried],
            why=found.stopped.text
            if found.stopped
            else f"the budget of {tampering.budget} orders ran out (the app refused each batch "
            "for one field at a time)",
        )
        # An app's rate limit ends the tampering like the budget does once some tampered
        # order was accepted; anything else that stopped golive leaves the check unjudged.
        limited = found.stopped is not None and found.stopped.status == 429 and found.cleared
        if found.stopped is not None and not problems and not limited:
            ctx.error(
                f"golive had to stop tampering ({what}) after {found.orders} orders: "
                f"{found.stopped.text}; not tried: {tamper.names(untried)}"
            )
    return problems


def _odd_quantities(ctx: CheckContext, pricing: Pricing, clean: Probe) -> dict[str, Trial]:
    def run() -> dict[str, Trial]:
        return {
            name: _attempt(ctx, pricing, clean, quantity=value)
            for name, value in ODD_QUANTITIES.items()
        }

    return ctx.target.cached("price.odd-quantities", run)


def _currency_swap(ctx: CheckContext, pricing: Pricing, clean: Probe) -> tuple[str, Trial]:
    other = next(c for c in OTHER_CURRENCIES if c != (clean.currency or "").lower())

    def run() -> tuple[str, Trial]:
        return other, _attempt(ctx, pricing, clean, top={"currency": other})

    return ctx.target.cached("price.currency-swap", run)


def _judge_trial(ctx: CheckContext, what: str, clean: Probe, trial: Trial) -> str | None:
    ctx.record(probe=what, result=trial.kind, **trial.evidence)
    if trial.kind == "stop":
        ctx.error(f"golive could not judge {what}: {trial.text}")
    if trial.kind == "broke":
        return f"{what}: answered {trial.status}, a server error rather than a refusal (4xx)"
    if trial.kind == "differs":
        return (
            f"{what}: accepted and charged {trial.amount} {trial.currency} "
            f"({trial.reference}); the clean order is {clean.amount} {clean.currency}"
        )
    return None


# --- the checks -------------------------------------------------------------------------


@check("price.tampered-amount", needs=NEEDS)
def test_tampered_amount(ctx: CheckContext) -> None:
    """A tampered checkout (money-like fields at the top of the body, odd quantities, another
    currency) costs what the clean one does, or is refused (4xx)."""
    pricing = _ready(ctx)
    tampering = _tampering(ctx, pricing, IN_STATE)
    problems: list[str | None] = [_expect_total(ctx, tampering.clean, "the clean order")]
    problems += _judge(
        ctx, tampering, lambda t: not _fee_like(t), "money-like fields at the top of the body"
    )
    # The odd quantities and the currency go as the other customer: each has its own quota.
    clean = checkout(ctx, OUT_OF_STATE)
    _charged(ctx, clean)
    for name, trial in _odd_quantities(ctx, pricing, clean).items():
        quantity = ODD_QUANTITIES[name]
        problems.append(
            _judge_trial(ctx, f"{name} quantity {quantity} on every line", clean, trial)
        )
    currency, trial = _currency_swap(ctx, pricing, clean)
    problems.append(_judge_trial(ctx, f"currency {currency!r} sent", clean, trial))
    _conclude(ctx, problems)


@check("price.intent-amount-matches", needs=NEEDS)
def test_intent_amount_matches(ctx: CheckContext) -> None:
    """The PaymentIntent's amount is golive's total, in and out of state, multi-item carts."""
    _rules(ctx, _ready(ctx))
    _conclude(
        ctx,
        [
            _expect_total(ctx, checkout(ctx, name), "an untampered checkout")
            for name in (IN_STATE, OUT_OF_STATE)
        ],
    )


@check("price.from-catalogue", needs=NEEDS)
def test_from_catalogue(ctx: CheckContext) -> None:
    """Money-like fields in each cart line (unit_price, price, lineCost…) change nothing:
    the server's own prices are charged."""
    pricing = _ready(ctx)
    tampering = _tampering(ctx, pricing, OUT_OF_STATE)
    problems: list[str | None] = [_expect_total(ctx, tampering.clean, "the clean order")]
    problems += _judge(
        ctx, tampering, lambda t: not _fee_like(t), "money-like fields in every cart line"
    )
    _conclude(ctx, problems)


@check("price.platform-fee", needs=NEEDS)
def test_platform_fee(ctx: CheckContext) -> None:
    """A client's fee (fee, platform_fee, feeCents…, at the top or in the lines) changes
    nothing: the fee is the server's."""
    pricing = _ready(ctx)
    problems: list[str | None] = []
    for name, where in ((IN_STATE, "at the top of the body"), (OUT_OF_STATE, "in every line")):
        tampering = _tampering(ctx, pricing, name)
        problems.append(_expect_total(ctx, tampering.clean, "the clean order"))
        problems += _judge(ctx, tampering, _fee_like, f"fee-like fields {where}")
    _conclude(ctx, problems)


@check("price.state-tax", needs=NEEDS)
def test_state_tax(ctx: CheckContext) -> None:
    """The same cart costs in and out of state exactly the rules' tax difference."""
    _rules(ctx, _ready(ctx))
    inside = checkout(ctx, IN_STATE)
    outside = checkout(ctx, OUT_OF_STATE)
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
    probe = checkout(ctx, IN_STATE)
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
