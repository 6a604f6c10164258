"""The webhook sender and `golive webhook send`, against a real receiver on 127.0.0.1.

The receiver below verifies every delivery with Stripe's own library and records the raw
body and headers, so each test sees exactly what went over the wire.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import stripe

from golive.errors import InputError
from golive.webhooks import cli, fixtures, forge, sender
from golive.webhooks.signing import encode_event

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Received:
    headers: dict[str, str]  # lower-cased names
    body: bytes
    path: str
    error: str | None  # Stripe's verification error; None when it verified
    barrier_broken: bool = False

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver(ThreadingHTTPServer):
    """Records every POST; answers 200 when Stripe's library verifies it, else 400."""

    daemon_threads = True
    request_queue_size = 128  # concurrent duplicates all connect at once

    def __init__(self, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret = secret
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.status: int | None = None  # force this answer
        self.answer: Callable[[Received], tuple[int, dict[str, str], bytes]] | None = None
        self.delay_s = 0.0
        self.barrier: threading.Barrier | None = None  # hold answers until N are in flight

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhooks/stripe"

    def bodies(self) -> list[bytes]:
        with self.lock:
            return [r.body for r in self.received]


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - the name http.server dispatches to
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        error = None
        try:
            stripe.Webhook.construct_event(
                body, self.headers.get("Stripe-Signature"), self.server.secret
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            error = str(exc)
        record = Received({k.lower(): v for k, v in self.headers.items()}, body, self.path, error)
        with self.server.lock:
            self.server.received.append(record)
        if self.server.barrier is not None:
            try:
                self.server.barrier.wait()
            except threading.BrokenBarrierError:
                record.barrier_broken = True
        time.sleep(self.server.delay_s)
        if self.server.answer is not None:
            status, headers, payload = self.server.answer(record)
        else:
            status = self.server.status or (400 if error else 200)
            headers = {}
            payload = json.dumps({"error": error} if error else {"received": True}).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def secret() -> str:
    return "whsec_" + secrets.token_hex(16)


@pytest.fixture
def receiver(secret: str) -> Iterator[Receiver]:
    server = Receiver(secret)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def outside_traffic(monkeypatch: pytest.MonkeyPatch) -> list:
    """A tripwire: should the sender's guard ever regress, connections to anything but
    loopback are recorded and refused here instead of leaving the machine."""
    attempts: list = []
    real = socket.create_connection

    def guarded(address: tuple, *args: object, **kwargs: object) -> socket.socket:
        try:
            loopback = ipaddress.ip_address(address[0]).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            attempts.append(address)
            raise OSError(f"test tripwire: no traffic to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the library call ------------------------------------------------------------------------


def test_send_event_delivers_a_verifiable_event(receiver: Receiver, secret: str) -> None:
    event = fixtures.render_event("payment_intent.succeeded")
    delivery = sender.send_event(receiver.url, secret, event)
    assert delivery.status == 200 and delivery.ok
    assert delivery.latency_ms > 0
    assert '"received": true' in delivery.body_excerpt
    [got] = receiver.received
    assert got.error is None
    assert got.path == "/webhooks/stripe"
    assert got.body == delivery.payload == encode_event(event)
    assert got.event["id"] == event["id"]
    assert got.headers["stripe-signature"] == delivery.request_headers["Stripe-Signature"]
    assert got.headers["content-type"] == "application/json; charset=utf-8"
    assert got.headers["user-agent"].startswith("Stripe/1.0")
    assert got.headers["content-length"] == str(len(got.body))


def test_bytes_are_sent_verbatim(receiver: Receiver, secret: str) -> None:
    body = forge.non_canonical(encode_event(fixtures.render_event("charge.succeeded")))
    delivery = sender.send_event(receiver.url, secret, body)
    assert delivery.ok
    assert receiver.received[0].body == body


def test_timestamp_and_extra_headers(receiver: Receiver, secret: str) -> None:
    event = fixtures.render_event("refund.created")
    old = int(time.time()) - 3600
    delivery = sender.send_event(
        receiver.url, secret, event, timestamp=old, headers={"X-Trace": "abc"}
    )
    assert delivery.status == 400 and not delivery.ok
    assert "Timestamp outside the tolerance zone" in delivery.body_excerpt
    got = receiver.received[0]
    assert got.headers["x-trace"] == "abc"
    assert got.headers["stripe-signature"].startswith(f"t={old},v1=")


def test_repr_hides_the_signature(receiver: Receiver, secret: str) -> None:
    delivery = sender.send_event(receiver.url, secret, fixtures.render_event("charge.refunded"))
    signature = delivery.request_headers["Stripe-Signature"].split("v1=")[1]
    shown = repr(delivery)
    assert signature not in shown
    assert "v1=…" + signature[-4:] in shown
    assert "status=200" in shown and f"<{len(delivery.payload)} bytes>" in shown


def test_forged_deliveries_reach_the_receiver_as_built(receiver: Receiver, secret: str) -> None:
    payload = encode_event(fixtures.render_event("payment_intent.succeeded"))
    for name in ("unsigned", "tampered-body", "multiple-v1"):
        forged = forge.build(name, payload, secret)
        [delivery] = sender.send_forged(receiver.url, forged)
        got = receiver.received[-1]
        assert got.body == forged.payload
        assert got.headers.get("stripe-signature") == forged.signature
        assert delivery.ok is (forged.expect == "accept"), name
    forged = forge.with_headers(forge.build("unsigned", payload, secret), {"X-Made-Up": "1"})
    sender.send_forged(receiver.url, forged)
    assert receiver.received[-1].headers["x-made-up"] == "1"


def test_duplicate_sends_the_same_bytes_each_time(receiver: Receiver, secret: str) -> None:
    payload = encode_event(fixtures.render_event("payment_intent.succeeded"))
    forged = forge.build("duplicate", payload, secret, copies=3)
    deliveries = sender.send_forged(receiver.url, forged)
    assert [d.status for d in deliveries] == [200, 200, 200]
    assert len(receiver.received) == 3
    assert len({(r.body, r.headers["stripe-signature"]) for r in receiver.received}) == 1


def test_concurrent_duplicates_are_in_flight_together(receiver: Receiver, secret: str) -> None:
    # The receiver holds every answer until all N requests have arrived: a sender that
    # waited for one answer before sending the next would break the barrier.
    receiver.barrier = threading.Barrier(8, timeout=5)
    payload = encode_event(fixtures.render_event("payment_intent.succeeded"))
    forged = forge.build("concurrent-duplicates", payload, secret, copies=8)
    deliveries = sender.send_forged(receiver.url, forged)
    assert [d.status for d in deliveries] == [200] * 8
    assert len(receiver.received) == 8
    assert not any(r.barrier_broken for r in receiver.received)
    assert set(receiver.bodies()) == {payload}


def test_the_barrier_receiver_catches_sequential_sending(receiver: Receiver, secret: str) -> None:
    receiver.barrier = threading.Barrier(3, timeout=0.3)
    payload = encode_event(fixtures.render_event("payment_intent.succeeded"))
    forged = forge.build("duplicate", payload, secret, copies=3)
    sender.send_forged(receiver.url, forged)  # one after the other
    assert receiver.received[0].barrier_broken


def test_deliver_many_keeps_order_and_bounds_concurrency(receiver: Receiver, secret: str) -> None:
    payloads = [encode_event(fixtures.render_event("charge.succeeded")) for _ in range(10)]
    requests = [(p, forge.build("signed", p, secret).headers) for p in payloads]
    deliveries = sender.deliver_many(receiver.url, requests, concurrency=4)
    assert [d.payload for d in deliveries] == payloads
    assert all(d.ok for d in deliveries)
    assert sorted(receiver.bodies()) == sorted(payloads)
    with pytest.raises(InputError, match="concurrency"):
        sender.deliver_many(receiver.url, requests, concurrency=sender.MAX_CONCURRENCY + 1)


def test_redirects_are_not_followed(receiver: Receiver, secret: str) -> None:
    receiver.answer = lambda r: (302, {"Location": "http://127.0.0.1:9/elsewhere"}, b"")
    delivery = sender.send_event(receiver.url, secret, fixtures.render_event("refund.created"))
    assert delivery.status == 302 and not delivery.ok
    assert len(receiver.received) == 1


def test_body_excerpt_is_short_one_line_and_redacted(receiver: Receiver, secret: str) -> None:
    echoed = "whsec_" + secrets.token_hex(16)
    receiver.answer = lambda r: (
        400,
        {},
        f"bad\nsecret {echoed} card 4242 4242 4242 4242 ".encode() + b"x" * 500,
    )
    delivery = sender.send_event(receiver.url, secret, fixtures.render_event("refund.created"))
    assert delivery.status == 400
    assert echoed not in delivery.body_excerpt and "whsec_…" + echoed[-4:] in delivery.body_excerpt
    assert "4242 4242 4242 4242" not in delivery.body_excerpt
    assert "\n" not in delivery.body_excerpt
    assert len(delivery.body_excerpt) == sender.EXCERPT_CHARS


def test_no_listener_is_a_failed_delivery_not_an_exception(secret: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    delivery = sender.send_event(url, secret, fixtures.render_event("refund.created"))
    assert delivery.status is None and not delivery.ok
    assert delivery.error and "Connection" in delivery.error


def test_a_slow_receiver_times_out(receiver: Receiver, secret: str) -> None:
    receiver.delay_s = 1.0
    delivery = sender.send_event(
        receiver.url, secret, fixtures.render_event("refund.created"), timeout=0.2
    )
    assert delivery.status is None
    assert delivery.error == "no answer within 0.2 s"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/webhook",
        "https://203.0.113.7/webhook",
        "http://10.0.0.1:8000/",
        "http://0.0.0.0:8000/",
        "http://127.0.0.1@example.com/",
        "http://[::ffff:8.8.8.8]/",
        "http://localhost.example.com/",
        "http://[2001:db8::1]:8000/",
    ],
)
def test_non_loopback_urls_are_refused_before_any_traffic(
    url: str, secret: str, outside_traffic: list
) -> None:
    with pytest.raises(sender.HostNotAllowed, match="refusing to send to"):
        sender.send_event(url, secret, fixtures.render_event("refund.created"))
    assert outside_traffic == []


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:1/x", "http://127.5.6.7/x", "http://[::1]:8000/", "http://localhost:8000/"],
)
def test_loopback_urls_are_allowed(url: str) -> None:
    assert sender.check_url(url).hostname


def test_an_allow_list_admits_named_hosts_only() -> None:
    allowed = ["Staging.Example.com", " [2001:db8::1] "]
    assert sender.check_url("https://staging.example.com/hook", allowed).port is None
    assert sender.check_url("http://[2001:db8::1]:8443/hook", allowed).port == 8443
    with pytest.raises(sender.HostNotAllowed):
        sender.check_url("https://prod.example.com/hook", allowed)


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "127.0.0.1:8000/x", "http:///x", "http://127.0.0.1:99999/"]
)
def test_malformed_urls_are_input_errors(url: str) -> None:
    with pytest.raises(InputError, match="not an http"):
        sender.check_url(url)


# --- the CLI -----------------------------------------------------------------------------------


def webhook(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m golive.webhooks.cli …` with no signing secret in the environment."""
    base = {k: v for k, v in os.environ.items() if k != cli.SECRET_ENV}
    return subprocess.run(
        [sys.executable, "-m", "golive.webhooks.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={**base, **(env or {})},
    )


def send(receiver: Receiver, secret: str, *args: str) -> subprocess.CompletedProcess:
    return webhook("send", "--url", receiver.url, "--secret", secret, *args)


def test_cli_2xx_exits_0(receiver: Receiver, secret: str) -> None:
    done = send(receiver, secret, "--type", "payment_intent.succeeded")
    assert done.returncode == 0, done.stderr
    [got] = receiver.received
    assert got.error is None and got.event["type"] == "payment_intent.succeeded"
    assert f"{got.event['id']}: 200 in " in done.stdout
    assert " ms: " in done.stdout and '"received": true' in done.stdout


def test_cli_receiver_400_exits_1(receiver: Receiver, secret: str) -> None:
    receiver.status = 400
    done = send(receiver, secret, "--type", "charge.succeeded")
    assert done.returncode == 1
    assert ": 400 in " in done.stdout
    assert len(receiver.received) == 1


def test_cli_forged_variant_rejected_by_a_correct_receiver_exits_1(
    receiver: Receiver, secret: str
) -> None:
    done = send(receiver, secret, "--type", "charge.succeeded", "--variant", "wrong-secret")
    assert done.returncode == 1
    assert NO_MATCH in receiver.received[0].error


NO_MATCH = "No signatures found matching the expected signature"


def test_cli_no_listener_exits_1(secret: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"
    done = webhook("send", "--url", url, "--secret", secret, "--type", "refund.created")
    assert done.returncode == 1
    assert "no response" in done.stdout


def test_cli_set_and_var_shape_the_event(receiver: Receiver, secret: str) -> None:
    done = send(
        receiver,
        secret,
        "--type",
        "checkout.session.completed",
        "--set",
        "data.object.metadata.order_id=42",
        "--set",
        "data.object.metadata.source=golive",
        "--var",
        "amount=500",
        "--var",
        "currency=eur",
    )
    assert done.returncode == 0, done.stderr
    session = receiver.received[0].event["data"]["object"]
    assert session["metadata"] == {"order_id": 42, "source": "golive"}
    assert (session["amount_total"], session["currency"]) == (500, "eur")


def test_cli_header_adds_and_replaces_headers(receiver: Receiver, secret: str) -> None:
    # Extra headers reach the receiver as given; one the variant already has is replaced,
    # so a magic signature can be sent with any variant.
    done = send(
        receiver,
        secret,
        "--type",
        "payment_intent.succeeded",
        "--variant",
        "unsigned",
        "--header",
        "X-Some-Switch: on",
        "--header",
        "stripe-signature:magic-word",
    )
    assert done.returncode == 1  # the receiver verifies: the magic value is refused
    [got] = receiver.received
    assert got.headers["x-some-switch"] == "on"
    assert got.headers["stripe-signature"] == "magic-word"
    assert "with header X-Some-Switch: on" in done.stdout
    # A signed delivery keeps its signature and gains the header.
    done = send(receiver, secret, "--type", "charge.succeeded", "--header", "X-Trace:7")
    assert done.returncode == 0, done.stderr
    assert receiver.received[-1].headers["x-trace"] == "7"
    assert receiver.received[-1].error is None


@pytest.mark.parametrize("bad", ["no-colon", ": value", "bad name: 1"])
def test_cli_header_must_be_name_colon_value(receiver: Receiver, secret: str, bad: str) -> None:
    done = send(receiver, secret, "--type", "charge.succeeded", "--header", bad)
    assert done.returncode == 2 and "expected NAME:VALUE" in done.stderr
    assert receiver.received == []


def test_cli_count_sends_fresh_events(receiver: Receiver, secret: str) -> None:
    done = send(
        receiver, secret, "--type", "payment_intent.created", "--count", "3", "--concurrency", "2"
    )
    assert done.returncode == 0, done.stderr
    ids = {r.event["id"] for r in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 3
    assert "3 deliveries: 3 × 2xx, 0 other" in done.stdout


def test_cli_count_5_duplicate_sends_5_identical_requests(receiver: Receiver, secret: str) -> None:
    done = send(
        receiver,
        secret,
        "--type",
        "payment_intent.succeeded",
        "--variant",
        "duplicate",
        "--count",
        "5",
    )
    assert done.returncode == 0, done.stderr
    assert len(receiver.received) == 5
    assert len({(r.body, r.headers["stripe-signature"]) for r in receiver.received}) == 1


def test_cli_concurrent_duplicates_arrive_together(receiver: Receiver, secret: str) -> None:
    receiver.barrier = threading.Barrier(6, timeout=5)
    done = send(
        receiver,
        secret,
        "--type",
        "payment_intent.succeeded",
        "--variant",
        "concurrent-duplicates",
        "--count",
        "6",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(receiver.received) == 6
    assert not any(r.barrier_broken for r in receiver.received)
    assert len(set(receiver.bodies())) == 1


def test_cli_custom_fixture_with_type_override(
    receiver: Receiver, secret: str, tmp_path: Path
) -> None:
    path = tmp_path / "event.json"
    event = json.loads((fixtures.FIXTURE_DIR / "charge.succeeded.json").read_text(encoding="utf-8"))
    event["data"]["object"]["metadata"] = {"tenant": "${metadata.tenant}"}
    path.write_text(json.dumps(event, indent=2), encoding="utf-8")
    done = send(
        receiver,
        secret,
        "--fixture",
        str(path),
        "--type",
        "charge.captured",
        "--var",
        "metadata.tenant=acme",
    )
    assert done.returncode == 0, done.stderr
    got = receiver.received[0].event
    assert got["type"] == "charge.captured"
    assert got["data"]["object"]["metadata"] == {"tenant": "acme"}


def test_cli_secret_from_the_environment(receiver: Receiver, secret: str) -> None:
    done = webhook(
        "send", "--url", receiver.url, "--type", "refund.created", env={cli.SECRET_ENV: secret}
    )
    assert done.returncode == 0, done.stderr
    assert receiver.received[0].error is None


def test_cli_never_prints_the_secret(receiver: Receiver, secret: str) -> None:
    # Even a receiver that echoes the secret and the signature back is shown redacted.
    receiver.answer = lambda r: (
        400,
        {},
        f"expected {secret} got {r.headers['stripe-signature']}".encode(),
    )
    done = send(receiver, secret, "--type", "refund.created", "--count", "2")
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert secret not in output and secret[6:] not in output
    assert f"whsec_…{secret[-4:]}" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--type", "payment_intent.exploded"],
            "no built-in fixture for event type 'payment_intent.exploded'",
        ),
        ([], "pass --type EVENT_TYPE or --fixture FILE"),
        (
            ["--type", "refund.created", "--set", "no-equals-sign"],
            "malformed --set 'no-equals-sign'",
        ),
        (
            ["--type", "refund.created", "--set", "data.object.amount.x=1"],
            "data.object.amount is not an object",
        ),
        (["--type", "refund.created", "--var", "=1"], "malformed --var"),
        (["--type", "refund.created", "--variant", "sneaky"], "unknown variant 'sneaky'"),
        (["--type", "refund.created", "--count", "0"], "--count must be between 1"),
        (["--type", "refund.created", "--concurrency", "0"], "concurrency must be between 1"),
        (
            ["--type", "refund.created", "--variant", "concurrent-duplicates", "--count", "500"],
            "between 2 and 50 copies",
        ),
    ],
)
def test_cli_bad_input_exits_2_without_sending(
    receiver: Receiver, secret: str, args: list[str], message: str
) -> None:
    done = send(receiver, secret, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert done.stderr.startswith("golive: error: ")
    assert receiver.received == []


def test_cli_missing_fixture_exits_2_naming_it(
    receiver: Receiver, secret: str, tmp_path: Path
) -> None:
    path = tmp_path / "missing.json"
    done = send(receiver, secret, "--fixture", str(path))
    assert done.returncode == 2
    assert f"{path}: fixture file not found" in done.stderr


def test_cli_invalid_fixture_json_exits_2_naming_file_and_line(
    receiver: Receiver, secret: str, tmp_path: Path
) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "id": "evt_1",\n\n  "type": "x",,\n}\n', encoding="utf-8")
    done = send(receiver, secret, "--fixture", str(path))
    assert done.returncode == 2
    assert f"{path}:4: invalid JSON" in done.stderr
    assert receiver.received == []


def test_cli_non_loopback_url_exits_2(secret: str) -> None:
    done = webhook(
        "send", "--url", "https://example.com/hook", "--secret", secret, "--type", "refund.created"
    )
    assert done.returncode == 2
    assert "refusing to send to example.com: not a loopback address" in done.stderr
    assert "--allow-host" in done.stderr


def test_cli_without_a_secret_exits_2(receiver: Receiver) -> None:
    done = webhook("send", "--url", receiver.url, "--type", "refund.created")
    assert done.returncode == 2
    assert "no signing secret" in done.stderr
    assert receiver.received == []


def test_cli_variants_lists_every_variant() -> None:
    done = webhook("variants")
    assert done.returncode == 0
    for name in forge.names():
        assert name in done.stdout
    assert "checkout.session.completed" in done.stdout


def test_add_parser_wires_webhook_send_into_a_parent_parser(
    receiver: Receiver, secret: str
) -> None:
    parser = argparse.ArgumentParser(prog="golive")
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(
        ["webhook", "send", "--type", "charge.refunded", "--url", receiver.url, "--secret", secret]
    )
    assert args.func(args) == 0
    assert receiver.received[0].event["type"] == "charge.refunded"
    bad = parser.parse_args(
        ["webhook", "send", "--type", "nope", "--url", receiver.url, "--secret", secret]
    )
    with pytest.raises(InputError):  # golive's main turns this into exit code 2
        bad.func(bad)
