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

from golive.backends import BackendError, start_backend
from golive.profile import StripeBackend
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
    with running_localstripe() as url:
        run = gate(
            with_backend(tmp_path, backend="localstripe", api_base=url), tmp_path / "out", *ITEM
        )
        assert run.returncode == 0, run.stdout + run.stderr
        backend = run.results["meta"]["stripe_backend"]
        assert backend == {
            "backend": "localstripe",
            "api_base": url,
            "stateful": True,
            "sends_webhooks": False,
            "read_only": False,
            "key": "sk_test_…demo",
        }


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
