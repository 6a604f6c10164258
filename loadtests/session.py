"""One load run per gate run, shared by the five load items (through `Target.cached`).

The gate runs the profile's short mixed run (`load.gate`); `golive load` puts its own
`Spec` and output folder in the target's cache first (SPEC_KEY, OUT_KEY, PROGRESS_KEY).
Before Locust starts, one purchase as the first load user (the probe, on golive's own
client, not paid) proves golive can follow the profile's flows; the run is followed by the
invariants, judged through the profile's observer.

golive's own fault is an `error`, never a verdict: the probe stopped by a refused
credential, a wrong route or a capture not found, or a run where every checkout stopped
that way ("golive could not follow flow X: …").
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from golive import budget, httpclient
from golive.checklist import check_params
from golive.client.app import AppClient
from golive.client.errors import FlowError
from golive.context import Target
from golive.loadtests import invariants, runner, safety, shoppers
from golive.loadtests import metrics as m
from golive.loadtests.metrics import CHECK_METRICS
from golive.observer import (
    ObserverError,
    ObserverModel,
    declared_none,
    not_observable,
    open_observer,
)
from golive.profile.loadtest import LoadModel

SPEC_KEY = "load.spec"
OUT_KEY = "load.out"
PROGRESS_KEY = "load.progress"
RESULT_KEY = "load.shared"
PROBE_TIMEOUT_S = 10  # before the load: the app answers one request within this


class NotReady(Exception):
    """The load run cannot happen for a stated reason (not-run, never pass)."""


@dataclass
class Shared:
    run: runner.LoadRun | None = None
    findings: invariants.Findings | None = None
    not_run: str | None = None  # why nothing ran
    error: str | None = None  # golive could not follow its own flows: why
    error_evidence: dict[str, Any] = field(default_factory=dict)
    no_invariants: str | None = None  # why the invariants were not judged
    abort_rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def aborted(self) -> list[dict[str, Any]]:
        return [e for e in (self.run.ledger if self.run else []) if e.get("kind") == "aborted"]


def load_model(target: Target) -> LoadModel:
    block = target.profile.model.load
    if block is None:
        raise NotReady("the target profile has no `load` block (users, gate run)")
    try:
        return LoadModel.model_validate(block)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise NotReady(f"the profile's load.{where}: {first['msg']}") from None


def members(target: Target, model: LoadModel) -> list[dict[str, Any]]:
    """The load users, pools expanded (a pool's CSV file is read now, after the setup)."""
    try:
        found = shoppers.members_of(target.profile.model, model.users, target.profile.base_dir)
    except (OSError, UnicodeDecodeError) as exc:
        raise NotReady(f"the load users cannot be read: {exc}") from None
    if not found:
        raise NotReady(f"load.users ({', '.join(model.users)}) has no members")
    return found


def buys(spec: runner.Spec, model: LoadModel) -> bool:
    """Whether the run checks out (storm, race), or only sends webhooks (burst)."""
    if spec.scenario != "mixed":
        return spec.scenario in ("storm", "race")
    return any(model.weights.get(s, 0) > 0 for s in ("storm", "race"))


def default_spec(model: LoadModel) -> runner.Spec:
    return runner.Spec(
        "mixed", model.gate.users, model.gate.spawn_rate, model.gate.duration_s, workers=0
    )


def endpoints(target: Target, model: LoadModel) -> runner.Endpoints:
    """Where the run sends, checked for safety (safety.Refused, an InputError)."""
    app = target.app
    if app is None:
        raise NotReady("the target profile has no running `app` to load")
    secret_var, key_var = target.profile.var("webhook_secret"), target.profile.var("secret_key")
    secret = target.profile.env.get(secret_var)
    if not secret:
        raise NotReady(f"{secret_var} is not set in the target's env: cannot sign events")
    stripe = target.stripe
    safety.check_mode(target.profile.model.mode)
    safety.check_keys(
        {
            "the Stripe backend's key": stripe.secret_key if stripe else None,
            f"the target's {key_var}": target.profile.env.get(key_var),
        }
    )
    api_base = stripe.api_base if stripe else None
    safety.check_hosts([app.base_url, app.webhook_url, api_base], model.allow_hosts)
    path = app.webhook_url.removeprefix(app.base_url) or "/"
    return runner.Endpoints(
        app.base_url, path, api_base, secret, stripe.secret_key if stripe else ""
    )


def shared(target: Target, abort_rules: list[dict[str, Any]] | None = None) -> Shared:
    return target.cached(RESULT_KEY, lambda: _run(target, abort_rules or []))


def _run(target: Target, abort_rules: list[dict[str, Any]]) -> Shared:
    try:
        model = load_model(target)
        where = endpoints(target, model)
        spec: runner.Spec = target.cache.get(SPEC_KEY) or default_spec(model)
        people = members(target, model)
        shop = shoppers.Shop(_probe_client(target, where))
        if buys(spec, model) and shop.missing():
            raise NotReady(str(shop.missing()))
    except (safety.Refused, NotReady) as exc:
        return Shared(not_run=str(exc))
    out: Path = target.cache.get(OUT_KEY) or target.workdir / "load"
    probed = None
    if buys(spec, model):
        try:
            probed = _probe(shop, people[0], model)
        except FlowError as exc:
            return Shared(error=str(exc), error_evidence=exc.evidence())
    else:
        _answers(where.app_base)
    app = shoppers.app_plan(target.profile.model)
    the_plan = runner.plan(spec, where, model, app, people, out, probed)
    the_plan["abort"] = abort_rules
    try:
        with budget.not_counted():  # bounded by its duration (runner.run), which may be long
            run = runner.run(spec, where, the_plan, out, target.cache.get(PROGRESS_KEY))
    except runner.Interrupted as exc:
        target.cache["load.interrupted"] = exc.result
        raise
    result = Shared(run=run, abort_rules=abort_rules)
    unfollowed = unfollowed_flows(run.ledger)
    if unfollowed is not None:
        result.error, result.error_evidence = unfollowed
        return result
    _judge_invariants(target, model, where, run, result)
    return result


def _probe_client(target: Target, where: runner.Endpoints) -> AppClient:
    return AppClient(
        target.profile.model,
        where.app_base,
        base_dir=target.profile.base_dir,
        redactor=target.redactor,
        timeout=PROBE_TIMEOUT_S,
    )


def _probe(shop: shoppers.Shop, first: dict[str, Any], model: LoadModel) -> dict[str, Any]:
    """One purchase before the load, as the first load user on golive's own client (signed
    up and logged in as the profile says; the order is read back, not paid; the cart is
    emptied after it when the profile can). FlowError when golive cannot follow its own
    flows: a refused credential or route, a capture not found, no answer at all. An app
    that refuses the purchase otherwise is left to the run to measure. Returns the member,
    whose quota the run then counts one checkout spent."""
    member = shoppers.Members([first], model.quota_per_min).members[0]
    cart = [line.model_dump() for line in model.carts[0]]
    try:
        placed = shop.buy(
            member, cart, key=f"golive-load-probe-{uuid.uuid4().hex}", name=m.CHECKOUT
        )
        assert member.session is not None
        shop.read_order(member.session, placed)
    except FlowError as exc:
        if exc.setup_problem:
            if member.session is not None:
                member.session.close()
            raise
    assert member.session is not None
    with contextlib.suppress(FlowError):  # a courtesy, not part of the proof
        shop.clear_cart(member.session)
    member.session.close()
    return {"name": member.name, "signed_up": member.signed_up}


def unfollowed_flows(ledger: list[dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """When every purchase of the run stopped on golive's own fault (and none bought):
    the error's message and evidence."""
    failed = [e for e in ledger if e.get("kind") == "checkout_failed"]
    bought = any(e.get("kind") in ("intent", "checkout_session") for e in ledger)
    if not failed or bought or not all(e.get("setup") for e in failed):
        return None
    first = str(failed[0].get("error") or "golive could not follow its flows")
    return first, {"flow_error": first, "purchases_stopped": len(failed)}


def _answers(base_url: str) -> None:
    """One request before a run that buys nothing (the burst; any status will do): a
    target that does not answer stops the load checks here, through the check's time
    budget (golive.budget), instead of after a whole load run of timeouts."""
    with httpclient.client(timeout=PROBE_TIMEOUT_S) as http:
        http.get(base_url)


def _judge_invariants(
    target: Target,
    model: LoadModel,
    where: runner.Endpoints,
    run: runner.LoadRun,
    result: Shared,
) -> None:
    block = target.profile.model.observer
    if block is None:
        result.no_invariants = "the target profile has no `observer` block to count orders with"
        return
    reason = declared_none(block)
    if reason is not None:
        result.no_invariants = not_observable(reason)
        return
    if not where.stripe_api_base or target.stripe is None:
        result.no_invariants = "the profile names no Stripe backend to read the intents from"
        return
    intents = invariants.intents_of(run.ledger)
    if not intents and any(e.get("kind") == "checkout_session" for e in run.ledger):
        result.no_invariants = (
            "the app's checkout answers Checkout Sessions and none was paid: only the "
            "sandbox pays one without a browser, and the invariants count PaymentIntents"
        )
        return
    try:
        observer = open_observer(
            ObserverModel.model_validate(block),
            database_url=target.profile.database_url(),
            app_base_url=where.app_base,
        )
    except (ObserverError, ValidationError) as exc:
        result.no_invariants = f"the observer cannot be used: {exc}"
        return
    reader = invariants.StripeReader(target.stripe)
    try:
        fives = [
            f"{e.get('event_id')} ({e.get('status')}, {e.get('name')})"
            for e in run.ledger
            if e.get("kind") == "webhook_5xx"
        ]
        stripe = target.stripe
        if stripe is not None and stripe.kind == "sandbox" and target.app is not None:
            fives += reader.webhook_5xx(target.app.webhook_url, run.started)
        result.findings = invariants.judge(
            intents, reader.status, observer, settle_s=model.settle_s, webhook_5xx=fives
        )
    except ObserverError as exc:
        result.no_invariants = f"the observer failed: {exc}"
    finally:
        reader.close()
        observer.close()


def abort_rules_for(items: list[Any], profile_params: Any = None) -> list[dict[str, Any]]:
    """The thresholds of selected load items whose check sets `abort_on_fail` (in the
    checklist or the profile's `params:`)."""
    rules = []
    for item in items:
        for ref in item.automated.checks if item.automated else []:
            mapping = CHECK_METRICS.get(ref.ref)
            if mapping is None or not check_params(item, ref, profile_params).get("abort_on_fail"):
                continue
            for metric, expression in item.thresholds.items():
                rules.append(
                    {
                        "item": item.id,
                        "metric": metric,
                        "threshold": expression,
                        "requests": list(mapping[metric]),
                    }
                )
    return rules
