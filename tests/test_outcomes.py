"""The outcome rule (README, "What each outcome means"), family by family, on real loopback
apps: pass and fail only after a positive control of the same check succeeded; error when
golive's own setup could not produce the situation (its credentials, a path, a plain
checkout the app cannot serve); not-run when the profile cannot exercise the item.

- API security: tests/sessionapp.py (a Token header), correct, with a flaw, with golive's
  token wrong, with a probe path wrong, without the blocks the checks need.
- Price, side effects, smoke: the reference shop (a demo copy) against a sandbox this test
  starts, once with golive's tokens wrong and once with the sandbox answering 500 to every
  PaymentIntent creation (so the shop's checkout fails on a plain cart); pass and fail on
  the correct shop and a flaw come from the detection matrix's shared runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from gatekit import GateRun, SharedRuns, demo_copy, gate, golive, load_yaml

from golive.sandbox import Sandbox
from tests.test_checks_other_auth import AUTH, AUTHZ, CORS, RATE, run_items

PRICE = "price-integrity.intent-amount-verified"  # price.intent-amount-matches + side effect
FEE = "price-integrity.platform-fee-server-side"  # price.platform-fee alone
EFFECTS = "webhook-security.idempotency"  # webhook.duplicate-one-order: a side-effect check
SMOKE = "smoke-tests.create-intent"
E2E_TAX = "e2e-tests.state-tax"


def reason(run: GateRun, item: str) -> str:
    return run.item(item)["reason"] or ""


# --- API security -----------------------------------------------------------------------

API = (AUTH, AUTHZ, CORS, RATE)


def test_api_security_pass_and_fail_only_after_their_controls(tmp_path: Path) -> None:
    for name in ("ok", "idor"):
        (tmp_path / name).mkdir()
    correct, _ = run_items(tmp_path / "ok", "token", items=API)
    assert {i: correct.outcomes()[i] for i in API} == dict.fromkeys(API, "pass"), correct.stdout
    authz = correct.evidence(AUTHZ)
    # bob was refused each probe, and ada then did the same on her own order: the control.
    assert [(e["user"], e["status"]) for e in authz[1:]] == [
        ("bob", 404),
        ("ada", 200),
        ("bob", 404),
        ("ada", 200),
    ]
    assert [e["status"] for e in correct.evidence(AUTH) if e.get("kind") == "control"]
    broken, _ = run_items(tmp_path / "idor", "token", {"idor", "cors-wildcard"}, items=API)
    outcomes = {i: broken.outcomes()[i] for i in API}
    assert outcomes == {AUTH: "pass", AUTHZ: "fail", CORS: "fail", RATE: "pass"}, outcomes
    assert "as user B (bob): 200" in reason(broken, AUTHZ)


def _no_cancel_route(data: dict[str, Any]) -> None:
    data["api"]["owned"]["probes"][1]["path"] = "/api/orders/{order_id}/void"


def _wrong_token(data: dict[str, Any]) -> None:
    data["users"]["ada"]["token"] = "tk-wrong"


def _without(*blocks: str) -> Any:
    def edit(data: dict[str, Any]) -> None:
        for block in blocks:
            data["api"].pop(block)

    return edit


@pytest.mark.parametrize(
    ("edit", "expected", "words"),
    [
        # A non-GET probe on a route the app lacks: bob's 404 alone used to pass it.
        (
            _no_cancel_route,
            {AUTHZ: "error"},
            {AUTHZ: "golive could not act on user A's own resource as 'ada' (POST /api/orders/"},
        ),
        # golive's own token refused: the app is not blamed, the user and request are named.
        (
            _wrong_token,
            {AUTH: "error", AUTHZ: "error", CORS: "error", RATE: "pass"},
            {AUTH: "as 'ada' (GET /api/me): answered 401", CORS: "as 'ada', without an Origin"},
        ),
        # The profile cannot exercise the items: not-run, naming what to set.
        (
            _without("owned", "cors", "rate_limit"),
            {AUTHZ: "not-run", CORS: "not-run", RATE: "not-run", AUTH: "pass"},
            {AUTHZ: "no `api.owned`", CORS: "no `api.cors`", RATE: "no `api.rate_limit`"},
        ),
    ],
)
def test_api_security_errors_and_not_run_for_golives_own_reasons(
    tmp_path: Path, edit: Any, expected: dict[str, str], words: dict[str, str]
) -> None:
    run, _ = run_items(tmp_path, "token", edit=edit, items=tuple(expected))
    assert {i: run.outcomes()[i] for i in expected} == expected, run.stdout
    for item, text in words.items():
        assert text in reason(run, item), reason(run, item)


# --- price, side effects, smoke: pass and fail ------------------------------------------


def test_price_smoke_and_side_effects_pass_and_fail_on_the_shop(shared_runs: SharedRuns) -> None:
    control = shared_runs.control().outcomes()
    assert {control[i] for i in (PRICE, FEE, EFFECTS, SMOKE)} == {"pass"}
    assert shared_runs.flaw("fee-from-client").outcomes()[FEE] == "fail"
    assert shared_runs.flaw("no-event-dedup").outcomes()[EFFECTS] == "fail"
    assert shared_runs.flaw("no-cart-clear").outcomes()["smoke-tests.cart-cleared"] == "fail"


# --- price, side effects, smoke: golive's own failures ----------------------------------


@contextmanager
def faulty_sandbox(error_rate: float) -> Iterator[str]:
    """A sandbox of this test's own; with error_rate, POST /v1/payment_intents answers
    Stripe's 500 api_error that share of the time."""
    sandbox = Sandbox(port=0).start()
    try:
        if error_rate:
            plan = {
                "routes": [
                    {"route": "/v1/payment_intents", "methods": ["POST"], "error_rate": error_rate}
                ]
            }
            httpx.post(f"{sandbox.url}/_golive/faults", json=plan).raise_for_status()
        yield sandbox.url
    finally:
        sandbox.stop()


def shop_profile(tmp_path: Path, url: str, edit: Any = None) -> Path:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    data["stripe"] = {**data["stripe"], "backend": "sandbox", "api_base": url}
    if edit is not None:
        edit(data)
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profile


def run_shop(tmp_path: Path, profile: Path, items: tuple[str, ...]) -> tuple[GateRun, GateRun]:
    args = [a for item in items for a in ("--item", item)]
    checks = gate(profile, tmp_path / "gate", *args, timeout=300)
    done = golive(
        "smoke", "--target", str(profile), "--out", str(tmp_path / "smoke"), "--flow", "smoke",
        "--flow", "state-tax", timeout=300,
    )  # fmt: skip
    return checks, GateRun(done.returncode, done.stdout, done.stderr, tmp_path / "smoke")


def _wrong_tokens(data: dict[str, Any]) -> None:
    for user in ("alice", "bob", "dave", "erin", "frank", "gina"):
        data["users"][user]["token"] = f"tok_wrong_{user}"


def test_golives_own_refused_credentials_are_errors_naming_user_and_step(tmp_path: Path) -> None:
    with faulty_sandbox(0) as url:
        profile = shop_profile(tmp_path, url, _wrong_tokens)
        checks, flows = run_shop(tmp_path, profile, (PRICE, FEE, EFFECTS))
    assert {i: checks.outcomes()[i] for i in (PRICE, FEE, EFFECTS)} == dict.fromkeys(
        (PRICE, FEE, EFFECTS), "error"
    ), checks.stdout
    assert "as 'frank'" in reason(checks, FEE) and "401" in reason(checks, FEE)
    assert "as 'dave' at step 'POST /api/v1/stripe/create-payment-intent'" in reason(
        checks, EFFECTS
    )
    assert flows.outcomes()[SMOKE] == "error", flows.stdout
    assert "as 'erin' at step" in reason(flows, SMOKE) and "401" in reason(flows, SMOKE)
    # The state-tax flow reads the menu first: its refusal is golive's, not a missing price.
    assert flows.outcomes()[E2E_TAX] == "error", reason(flows, E2E_TAX)
    assert "'menu' as 'erin' at step 'GET /api/v1/menu'" in reason(flows, E2E_TAX)


def test_a_plain_checkout_the_app_cannot_serve_is_an_error_in_every_control(
    tmp_path: Path,
) -> None:
    # One root cause, one outcome: every price and side-effect check needs a plain order
    # as its control. The smoke flow's checkout is no control but the thing it judges:
    # there the app's 5xx fails the item.
    with faulty_sandbox(1.0) as url:
        profile = shop_profile(tmp_path, url)
        checks, flows = run_shop(tmp_path, profile, (PRICE, EFFECTS))
    outcomes = {i: checks.outcomes()[i] for i in (PRICE, EFFECTS)}
    assert outcomes == {PRICE: "error", EFFECTS: "error"}, checks.stdout
    for item in (PRICE, EFFECTS):
        text = reason(checks, item)
        assert "could not place" in text and "answered 5" in text and "body:" in text, text
    assert "as 'frank'" in reason(checks, PRICE) and "as 'dave'" in reason(checks, EFFECTS)
    assert flows.outcomes()[SMOKE] == "fail", flows.stdout


def test_price_items_without_a_pricing_block_are_not_run(tmp_path: Path) -> None:
    with faulty_sandbox(0) as url:
        profile = shop_profile(tmp_path, url, lambda data: data.pop("pricing"))
        run = gate(profile, tmp_path / "gate", "--item", FEE, timeout=300)
    assert run.outcomes()[FEE] == "not-run"
    assert "no `pricing` block" in reason(run, FEE)
