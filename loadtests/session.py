"""One load run per gate run, shared by the five load items (through `Target.cached`).

The gate runs the profile's short mixed run (`load.gate`); `golive load` puts its own
`Spec` and output folder in the target's cache first (SPEC_KEY, OUT_KEY, PROGRESS_KEY).
The run is followed by the invariants, judged through the profile's observer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from golive import budget, httpclient
from golive.checklist import check_params
from golive.context import Target
from golive.loadtests import invariants, runner, safety
from golive.loadtests.metrics import CHECK_METRICS
from golive.observer import (
    ObserverError,
    ObserverModel,
    declared_none,
    not_observable,
    open_observer,
)
from golive.profile.loadtest import LoadModel
from golive.profile.pricing import Checkout

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
    no_invariants: str | None = None  # why the invariants were not judged
    abort_rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def aborted(self) -> list[dict[str, Any]]:
        return [e for e in (self.run.ledger if self.run else []) if e.get("kind") == "aborted"]


def load_model(target: Target) -> LoadModel:
    block = target.profile.model.load
    if block is None:
        raise NotReady("the target profile has no `load` block (customers, gate run)")
    try:
        return LoadModel.model_validate(block)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise NotReady(f"the profile's load.{where}: {first['msg']}") from None


def checkout_spec(target: Target) -> Checkout:
    pricing = target.profile.model.pricing or {}
    if "checkout" not in pricing:
        raise NotReady("the target profile has no `pricing.checkout`: no way to place an order")
    return Checkout.model_validate(pricing["checkout"])


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
        checkout = checkout_spec(target)
        where = endpoints(target, model)
    except (safety.Refused, NotReady) as exc:
        return Shared(not_run=str(exc))
    spec: runner.Spec = target.cache.get(SPEC_KEY) or default_spec(model)
    out: Path = target.cache.get(OUT_KEY) or target.workdir / "load"
    the_plan = runner.plan(spec, where, model, checkout, out)
    the_plan["abort"] = abort_rules
    _answers(where.app_base)
    try:
        with budget.not_counted():  # bounded by its duration (runner.run), which may be long
            run = runner.run(spec, where, the_plan, out, target.cache.get(PROGRESS_KEY))
    except runner.Interrupted as exc:
        target.cache["load.interrupted"] = exc.result
        raise
    result = Shared(run=run, abort_rules=abort_rules)
    _judge_invariants(target, model, where, run, result)
    return result


def _answers(base_url: str) -> None:
    """One request before the load (any status will do): a target that does not answer
    stops the load checks here, through the check's time budget (golive.budget), instead
    of after a whole load run of timeouts."""
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
    if not where.stripe_api_base:
        result.no_invariants = "the profile names no Stripe backend to read the intents from"
        return
    intents = invariants.intents_of(run.ledger)
    try:
        observer = open_observer(
            ObserverModel.model_validate(block),
            database_url=target.profile.database_url(),
            app_base_url=where.app_base,
        )
    except (ObserverError, ValidationError) as exc:
        result.no_invariants = f"the observer cannot be used: {exc}"
        return
    reader = invariants.StripeReader(where.stripe_api_base, where.stripe_key)
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
