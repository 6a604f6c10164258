"""Helpers for the success-metric tests (tests/test_metrics_*.py): a payment history made
in a real sandbox through the official stripe client, and `golive gate` run on a profile
that points at that sandbox.

The history is made now (real time); the profile's go-live is a little before it and the
gate judges as of a little after it (`--now`), so the anchored windows (week-1, month-1,
quarter-1, first-day) are open and hold it, and the rolling ones (last-24h, last-7d) are
clipped at go-live and hold it too.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sandboxkit
import stripe
import yaml
from gatekit import GateRun, gate
from sandboxkit import client_for, paid_intent

from golive.sandbox import Sandbox

# go-live and the run's time, relative to the history made now
BEFORE = timedelta(hours=2)
AFTER = timedelta(hours=1)


# One sandbox per module, wiped before each test (sandboxkit's).
_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox


@pytest.fixture
def client(sandbox: Sandbox) -> stripe.StripeClient:
    return client_for(sandbox)


def pay(client: stripe.StripeClient, count: int, amount: int = 2000, **params: Any) -> list[str]:
    """`count` succeeded card payments; their charge ids."""
    return [str(paid_intent(client, amount, **params).latest_charge) for _ in range(count)]


def decline(client: stripe.StripeClient, count: int) -> list[str]:
    """`count` payments declined by the card (pm_card_chargeDeclined); their charge ids."""
    charges = []
    for _ in range(count):
        with pytest.raises(stripe.CardError) as declined:
            paid_intent(client, payment_method="pm_card_chargeDeclined")
        intent = declined.value.error.payment_intent
        charges.append(str(intent["latest_charge"]))
    return charges


def refund(client: stripe.StripeClient, charges: list[str]) -> None:
    for charge in charges:
        client.v1.refunds.create(params={"charge": charge, "reason": "requested_by_customer"})


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def profile(
    tmp_path: Path,
    sandbox: Sandbox,
    *,
    go_live: datetime | None | str = "default",
    **extra: Any,
) -> Path:
    """A target profile for the sandbox: no app, only the Stripe backend and `post_deploy`.
    `go_live=None` leaves post_deploy out."""
    data: dict[str, Any] = {
        "name": "metrics",
        "mode": "test",
        "env": {"source": "process"},
        "stripe": {"backend": "sandbox", "api_base": sandbox.url},
    }
    if go_live == "default":
        go_live = datetime.now(UTC) - BEFORE
    if go_live is not None:
        assert isinstance(go_live, datetime)
        data["post_deploy"] = {"go_live": iso(go_live)}
    data.update(extra)
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run(
    target: Path,
    out: Path,
    *items: str,
    now: datetime | None = None,
    env: dict[str, str] | None = None,
) -> GateRun:
    """`golive gate` on `items` (post-deploy), judged as of `now` (default: AFTER from now);
    `env` is added to the environment."""
    selection = [arg for item in items for arg in ("--item", item)]
    moment = now or datetime.now(UTC) + AFTER
    environment = {**os.environ, **(env or {})}
    return gate(target, out, "--phase", "post-deploy", *selection, now=iso(moment), env=environment)


def check_of(run: GateRun, item: str) -> dict[str, Any]:
    [only] = run.item(item)["checks"]
    return only


def measured(run: GateRun, item: str, metric: str) -> dict[str, Any]:
    """The measurement evidence of `metric` in the item's (only) check."""
    evidence = check_of(run, item)["evidence"]
    return next(e for e in evidence if e.get("definition") and e.get("metric") == metric)
