"""The sandbox as a server: embedded, as a separate `golive sandbox` process, its CLI and
its admin surface."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time

import httpx
import pytest
import sandboxkit
import stripe
from sandboxkit import WAIT_S, client_for, paid_intent

from golive.sandbox import Sandbox
from golive.sandbox.cli import add_parser, run

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_golive_sandbox_runs_as_its_own_process():
    port = free_port()
    process = subprocess.Popen(
        # `golive sandbox`
        [sys.executable, "-m", "golive.cli", "sandbox", "--port", str(port), "--max-objects", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                health = httpx.get(f"{url}/_golive/health", trust_env=False)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the sandbox process did not come up: {process.communicate()}")
                time.sleep(0.05)
        assert health.json()["status"] == "ok"
        assert health.json()["url"] == url
        client = stripe.StripeClient(
            "sk_test_process", base_addresses={"api": url}, max_network_retries=0
        )
        pi = paid_intent(client)
        assert pi.status == "succeeded"
        # Six objects made, the newest three kept: the charge and the two events after it.
        assert client.v1.charges.retrieve(pi.latest_charge).amount == 2000
        stats = httpx.get(f"{url}/_golive/stats", trust_env=False).json()
        assert (stats["max_objects"], stats["evicted"]) == (3, 3)
    finally:
        process.terminate()
        out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out


def test_sandbox_subcommand_parser():
    parser = argparse.ArgumentParser(prog="golive")
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["sandbox"])
    assert (args.host, args.port, args.func) == ("127.0.0.1", 12111, run)
    args = parser.parse_args(["sandbox", "--host", "127.0.0.2", "--port", "0"])
    assert (args.host, args.port) == ("127.0.0.2", 0)


def test_embedded_sandbox_binds_loopback_and_stops():
    with Sandbox() as embedded:
        assert embedded.url.startswith("http://127.0.0.1:")
        assert embedded.port != 0
        assert client_for(embedded).v1.balance.retrieve().object == "balance"
        url = embedded.url
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/_golive/health", trust_env=False)


def test_a_given_port_is_used():
    port = free_port()
    with Sandbox(port=port) as embedded:
        assert embedded.url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{embedded.url}/_golive/health", trust_env=False).status_code == 200


def test_fault_injection_routes_are_mounted(sandbox, stripe_client):
    faults = httpx.post(
        f"{sandbox.url}/_golive/faults",
        json={"routes": [{"route": "/v1/balance", "error_rate": 1.0}]},
        trust_env=False,
    )
    assert faults.status_code == 200
    try:
        with pytest.raises(stripe.APIError):
            stripe_client.v1.balance.retrieve()
        assert stripe_client.v1.payment_intents.list().object == "list"  # other routes untouched
    finally:
        httpx.delete(f"{sandbox.url}/_golive/faults", trust_env=False)
    assert stripe_client.v1.balance.retrieve().object == "balance"


def test_stats_count_what_happened(sandbox, stripe_client):
    paid_intent(stripe_client)
    stats = sandbox.stats()
    assert stats["objects"]["payment_intent"] == 1
    assert stats["objects"]["charge"] == 1
    assert stats["objects"]["event"] == 3
    assert stats["idempotency_keys"] == 1  # the library sends a key with every POST
    assert stats["requests"] == 1


def test_api_version_matches_the_stripe_library():
    # The sandbox labels responses and events with the version stripe-python pins; a
    # library upgrade that moves it shows up here.
    from golive.sandbox.defaults import DEFAULT_API_VERSION

    assert stripe.api_version == DEFAULT_API_VERSION
