"""Backend capabilities: an item the backend cannot exercise is not-run (it blocks GO) with
the reason and what would make it run, never not-applicable (that would count toward GO).

stripe-mock cannot run here (no Docker engine); its capability list can: the sandbox runs
with `stripe: {capabilities: {without: [...]}}` taking away everything stripe-mock lacks,
against the reference shop with blocker flaws on and against the correct shop.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from golive import capabilities
from golive.backends import Backend
from golive.matrix import Catalogue
from golive.profile import StripeBackend
from tests.gatekit import GateRun, demo_copy, edit_yaml, gate, load_yaml

# What stripe-mock lacks, taken away from the sandbox.
STRIPE_MOCK_LACKS = sorted(set(capabilities.CAPABILITIES) - capabilities.BY_BACKEND["stripe-mock"])
# Blocker flaws of the price, webhook-effect and end-to-end families.
FLAWS = ["trusts-client-amount", "no-amount-check-in-webhook", "ignores-payment-failed"]
ITEMS = [
    "price-integrity.backend-recalculates",
    "price-integrity.intent-amount-verified",
    "webhook-config.live-endpoint",
    "business-settings.business-name",
    "e2e-tests.payment-failure",
    "e2e-tests.refund",
    "smoke-tests.webhook-received",
]


def test_stripe_mock_can_do_nothing_stateful_and_says_what_would() -> None:
    assert capabilities.BY_BACKEND["stripe-mock"] == frozenset()
    backend = Backend("stripe-mock", "http://127.0.0.1:9", "sk_test_x")
    assert not backend.stateful and not backend.sends_webhooks
    assert backend.lacking("refunds") == (
        "backend stripe-mock cannot refund a payment: use the sandbox or Stripe test mode"
    )
    assert backend.lacking("delivery-failures", "admin-payments").endswith(": use the sandbox")
    assert Backend("sandbox", "http://127.0.0.1:9", "sk_test_x").lacking("refunds") is None
    # localstripe keeps state and refunds, and has no account endpoint.
    local = Backend("localstripe", "http://127.0.0.1:9", "sk_test_x")
    assert local.lacking("stateful", "refunds") is None
    assert local.lacking("account") == (
        "backend localstripe cannot report the account's settings (/v1/account): "
        "use the sandbox or Stripe test mode"
    )


def test_a_capability_the_profile_takes_away_names_the_profile() -> None:
    narrowed = Backend(
        "sandbox", "http://127.0.0.1:9", "sk_test_x", capabilities.of("sandbox", ["refunds"])
    )
    assert narrowed.lacking("refunds") == (
        "backend sandbox cannot refund a payment: remove refunds from the profile's "
        "stripe.capabilities.without"
    )


def test_an_unknown_capability_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="unknown capability refundz; known: stateful"):
        StripeBackend(capabilities={"without": ["refundz"]})


def _as_stripe_mock(tmp_path: Path, flaws: list[str]) -> GateRun:
    profile = demo_copy(tmp_path)
    stripe = load_yaml(profile)["stripe"]
    edit_yaml(profile, stripe={**stripe, "capabilities": {"without": STRIPE_MOCK_LACKS}})
    items = [arg for item in ITEMS for arg in ("--item", item)]
    env = {**os.environ, "SHOP_FLAWS": ",".join(flaws)}
    return gate(profile, tmp_path / "out", *items, env=env, timeout=300)


def _assert_not_run_reasons(run: GateRun) -> None:
    for item in run.results["items"]:
        if item["outcome"] == "not-run":
            assert "backend sandbox cannot " in item["reason"], item
            assert "from the profile's stripe.capabilities.without" in item["reason"], item


def test_blocker_flaws_are_never_go_under_stripe_mocks_capabilities(tmp_path: Path) -> None:
    run = _as_stripe_mock(tmp_path, FLAWS)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.results["verdict"] == "NO-GO"
    assert run.results["meta"]["stripe_backend"]["capabilities"] == []
    outcomes = run.outcomes()
    # Every selected item these flaws fail on the sandbox (the catalogue, which the
    # detection matrix holds to) is failed or not-run here: never accepted.
    catalogue = Catalogue.load()
    caught = {item for flaw in FLAWS for item in catalogue.expected(flaw)} & set(ITEMS)
    assert caught, "the flaws fail none of the selected items"
    for item in caught:
        assert outcomes[item] in ("fail", "not-run"), (item, run.item(item)["reason"])
    assert "not-applicable" not in outcomes.values(), outcomes
    _assert_not_run_reasons(run)
    reasons = {i: run.item(i)["reason"] for i in ITEMS if outcomes[i] == "not-run"}
    assert "keep the objects it creates" in reasons["price-integrity.intent-amount-verified"]
    assert "decline a test card" in reasons["e2e-tests.payment-failure"]


def test_the_correct_shop_is_no_go_through_not_run_items_only(tmp_path: Path) -> None:
    run = _as_stripe_mock(tmp_path, [])
    assert run.returncode == 1, run.stdout + run.stderr
    outcomes = run.outcomes()
    assert set(outcomes.values()) == {"pass", "not-run"}, outcomes  # never a fail
    assert outcomes["smoke-tests.webhook-received"] == "pass"  # golive signs the event
    _assert_not_run_reasons(run)
    not_run = {i for i, outcome in outcomes.items() if outcome == "not-run"}
    assert not_run == set(ITEMS) - {"smoke-tests.webhook-received"}, outcomes
    reasons = {i: run.item(i)["reason"] for i in not_run}
    assert "keep webhook endpoints" in reasons["webhook-config.live-endpoint"]
    assert "report the account's settings" in reasons["business-settings.business-name"]
    assert "refund a payment" in reasons["e2e-tests.refund"]
    # Each not-run blocker is a reason of the verdict.
    blockers = {"price-integrity.backend-recalculates", "e2e-tests.payment-failure"}
    for item in blockers:
        assert any(
            r.startswith(f"blocker {item} is not-run: ") and "backend sandbox cannot" in r
            for r in run.results["verdict_reasons"]
        ), run.results["verdict_reasons"]


def test_the_race_invariants_are_not_run_on_a_backend_that_delivers_no_webhooks(
    tmp_path: Path,
) -> None:
    # On stripe-mock the race item once passed having examined nothing (no intent
    # succeeded): it needs the intents' states read back and the backend's own deliveries.
    profile = demo_copy(tmp_path)
    stripe = load_yaml(profile)["stripe"]
    edit_yaml(profile, stripe={**stripe, "capabilities": {"without": ["webhook-delivery"]}})
    run = gate(profile, tmp_path / "out", "--item", "load-testing.race-conditions")
    assert run.returncode == 1, run.stdout + run.stderr
    item = run.item("load-testing.race-conditions")
    assert item["outcome"] == "not-run"
    assert item["reason"] == (
        "backend sandbox cannot deliver its own webhook events to the app: remove "
        "webhook-delivery from the profile's stripe.capabilities.without"
    )
