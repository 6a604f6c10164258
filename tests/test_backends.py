"""Stripe backends: each starts, or fails with exit 2 naming the backend, why and what to use.

stripe-mock cannot run here (no Docker engine, and its Go binary comes from no registry this
machine reaches): its Docker path is tested for the clear refusal, its URL path for an
unreachable address. localstripe runs for real from PyPI in a throwaway environment.
"""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
import stripe

from golive.backends import Backend, BackendError, backend_answered, start_backend
from golive.client import stripe_api
from golive.profile import StripeBackend
from golive.smoke.stripe_side import StripeSide
from tests.gatekit import demo_copy, edit_yaml, gate, set_env
from tests.localstripekit import free_port, running_localstripe

ITEM = ["--item", "business-settings.business-name"]  # stripe.account-settings needs the backend
LIVE_KEY = "sk_" + "live_" + "B4ckendCanary" + "9" * 20


def with_backend(tmp_path: Path, **stripe: object) -> Path:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, stripe=stripe)
    return profile


def test_sandbox_backend_starts_for_the_run_and_is_recorded(tmp_path: Path) -> None:
    run = gate(with_backend(tmp_path, backend="sandbox"), tmp_path / "out", *ITEM)
    assert run.returncode == 0, run.stdout + run.stderr
    backend = run.results["meta"]["stripe_backend"]
    assert backend["backend"] == "sandbox"
    assert backend["stateful"] is True and backend["sends_webhooks"] is True
    assert "restricted-keys" not in backend["capabilities"]
    assert {"account", "refunds", "declines", "delivery-failures"} <= set(backend["capabilities"])
    assert backend["api_base"].startswith("http://127.0.0.1:")
    assert backend["key"] == "sk_test_…demo"  # the profile's own test key, redacted
    # Stopped when the run ended.
    with pytest.raises(httpx.ConnectError):
        httpx.get(backend["api_base"] + "/_golive/health", timeout=2, trust_env=False)


def test_sandbox_backend_on_a_taken_port_is_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = gate(with_backend(tmp_path, backend="sandbox", port=port), tmp_path / "out", *ITEM)
    assert run.returncode == 2
    assert f"backend sandbox: cannot listen on 127.0.0.1:{port}" in run.stderr
    assert "stripe.port: 0" in run.stderr
    assert not (tmp_path / "out").exists()


def test_live_key_is_refused_by_the_sandbox_backend(tmp_path: Path) -> None:
    profile = with_backend(tmp_path, backend="sandbox")
    set_env(profile, STRIPE_SECRET_KEY=LIVE_KEY)
    run = gate(profile, tmp_path / "out", *ITEM)
    assert run.returncode == 2
    assert "is a live key (sk_live_…9999)" in run.stderr
    assert LIVE_KEY not in run.stderr + run.stdout


def test_stripe_mock_without_docker_says_what_to_use_instead(tmp_path: Path) -> None:
    run = gate(with_backend(tmp_path, backend="stripe-mock"), tmp_path / "out", *ITEM)
    assert run.returncode == 2
    assert "backend stripe-mock: no Docker engine answers" in run.stderr
    assert "stripe.api_base" in run.stderr and "backend: sandbox" in run.stderr


def test_stripe_mock_url_that_nothing_answers_is_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    run = gate(with_backend(tmp_path, backend="stripe-mock", api_base=url), tmp_path / "out", *ITEM)
    assert run.returncode == 2
    assert "backend stripe-mock: nothing answers at 127.0.0.1:" in run.stderr


def test_bad_url_is_exit_2(tmp_path: Path) -> None:
    run = gate(
        with_backend(tmp_path, backend="localstripe", api_base="ftp://x"), tmp_path / "out", *ITEM
    )
    assert run.returncode == 2
    assert "is not an http(s) URL" in run.stderr


def test_localstripe_needs_its_url(tmp_path: Path) -> None:
    run = gate(with_backend(tmp_path, backend="localstripe"), tmp_path / "out", *ITEM)
    assert run.returncode == 2
    assert "backend localstripe: stripe.api_base is not set" in run.stderr
    assert "localstripe --port" in run.stderr


def test_localstripe_backend_runs_against_a_real_localstripe(tmp_path: Path) -> None:
    # What localstripe can do passes; what it cannot is not-run saying what would run it.
    # Never an error: golive asks it nothing it does not serve.
    items = ["--item", "api-keys.live-mode", "--item", "webhook-config.live-endpoint", *ITEM]
    with running_localstripe() as url:
        run = gate(
            with_backend(tmp_path, backend="localstripe", api_base=url), tmp_path / "out", *items
        )
        assert run.returncode == 1, run.stdout + run.stderr  # a blocker not-run: NO-GO
        backend = run.results["meta"]["stripe_backend"]
        assert backend == {
            "backend": "localstripe",
            "api_base": url,
            "stateful": True,
            "sends_webhooks": False,
            "capabilities": ["refunds", "stateful"],
            "read_only": False,
            "key": "sk_test_…demo",
        }
    assert run.outcomes() == {
        "api-keys.live-mode": "pass",
        "webhook-config.live-endpoint": "not-run",
        "business-settings.business-name": "not-run",
    }
    assert run.evidence("api-keys.live-mode")[0]["api_livemode"] is False  # localstripe said
    assert run.item("business-settings.business-name")["reason"] == (
        "backend localstripe cannot report the account's settings (/v1/account): "
        "use the sandbox or Stripe test mode"
    )
    assert run.item("webhook-config.live-endpoint")["reason"].startswith(
        "backend localstripe cannot keep webhook endpoints"
    )


def _localstripe_intent(url: str, amount: int) -> str:
    answer = httpx.post(
        url + "/v1/payment_intents",
        data={"amount": amount, "currency": "usd"},
        auth=("sk_test_x", ""),
        trust_env=False,
    )
    answer.raise_for_status()
    return answer.json()["id"]


def test_golive_pays_a_localstripe_intent_with_stripes_test_card_ids() -> None:
    # localstripe refuses `payment_method` on confirm and knows no pm_card_* ids: golive's
    # confirm makes a PaymentMethod from the card's number and sets it on the intent first.
    with running_localstripe() as url:
        side = StripeSide(Backend("localstripe", url, "sk_test_x"), None)
        try:
            paid = side.confirm(_localstripe_intent(url, 1250), "pm_card_visa", None)
            assert paid.ok and paid.body["status"] == "succeeded", paid
            declined = side.confirm(_localstripe_intent(url, 1250), "pm_card_chargeDeclined", None)
            assert declined.status == 402, declined
            assert declined.body["error"]["code"] == "card_declined"
            unknown = side.confirm(_localstripe_intent(url, 1250), "pm_card_amex", None)
            assert not unknown.ok and "golive knows no localstripe card" in unknown.error()
        finally:
            side.close()


def test_a_stripe_error_from_golives_own_call_is_the_backends() -> None:
    # localstripe has no /v1/account: the 404 golive's own call gets is the backend's.
    with running_localstripe() as url:
        backend = Backend("localstripe", url, "sk_test_x")
        with pytest.raises(stripe.StripeError) as caught:
            stripe_api.client(backend).v1.accounts.retrieve_current()
    said = backend_answered(backend, caught.value)
    assert said.startswith("backend localstripe answered HTTP 404 (")
    assert said.endswith("to golive's own Stripe request: the backend's error, not the app's")


def test_stripe_test_needs_a_test_key_and_never_takes_a_live_one() -> None:
    spec = StripeBackend(backend="stripe-test")
    with pytest.raises(BackendError, match="must be a test-mode key .* it is not set"):
        start_backend(spec, {})
    with pytest.raises(BackendError, match=r"it is sk_live_…9999") as caught:
        start_backend(spec, {"STRIPE_SECRET_KEY": LIVE_KEY})
    assert LIVE_KEY not in str(caught.value)


def test_stripe_test_is_read_only_unless_writes_are_allowed() -> None:
    # No network: the backend is only described, Stripe is called by whoever needs it.
    key = "sk_test_" + "R3adOnly" + "0" * 16
    backend = start_backend(StripeBackend(backend="stripe-test"), {"STRIPE_SECRET_KEY": key})
    assert (backend.api_base, backend.read_only, backend.stateful) == (
        "https://api.stripe.com",
        True,
        True,
    )
    writable = start_backend(
        StripeBackend(backend="stripe-test", allow_writes=True), {"STRIPE_SECRET_KEY": key}
    )
    assert writable.read_only is False
    assert key not in repr(backend) and backend.describe()["key"] == "sk_test_…0000"
