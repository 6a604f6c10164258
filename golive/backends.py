"""The Stripe API a run talks to: the embedded sandbox, stripe-mock, localstripe or test mode.

| backend     | keeps state | sends webhooks | account, endpoints | declines, refunds | how it starts |
| ----------- | ----------- | -------------- | ------------------ | ----------------- | ------------- |
| sandbox     | yes         | yes, and fails them on request | yes  | yes               | in-process on 127.0.0.1 (the default), or the `api_base` URL of `golive sandbox` |
| stripe-mock | no          | no             | no                 | no                | Docker via testcontainers, or `api_base` URL |
| localstripe | yes         | no (golive signs its own) | no      | yes               | `api_base` URL of a running localstripe (it listens on every interface) |
| stripe-test | yes         | yes (to public URLs) | yes          | yes               | Stripe's test mode with an sk_test_ key; read-only unless `allow_writes` |

Each backend declares its capabilities (golive/capabilities.py); a check that needs one
the backend lacks is not-run, blocking GO, with the reason and what would make it run.
Where a backend sends no webhooks, the harness synthesizes and signs them itself.
Only the sandbox can also play a customer paying a Checkout Session
(`complete_checkout_session`): elsewhere that takes a browser on Stripe's page.
A backend that cannot start is invalid input (exit 2): the message names the backend,
why, and what to use instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

import httpx

from golive import capabilities, httpclient
from golive.errors import InputError
from golive.profile import EnvNames, StripeBackend
from golive.redact import DEFAULT, excerpt, redact_key

STRIPE_API = "https://api.stripe.com"
SANDBOX_KEY = "sk_test_golivesandbox0000000000000000"


class BackendError(InputError):
    """A Stripe backend could not start, or cannot do what was asked of it (exit code 2)."""


class CheckoutCompletionError(Exception):
    """The sandbox refused to complete a Checkout Session: `status` 402 for a declined card
    (`error` is Stripe's card error, with the PaymentIntent), 400 for a session that is no
    longer open, 404 for an unknown one."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(f"{status}: {error.get('message', 'the sandbox refused')}")
        self.status = status
        self.error = error


@dataclass
class Backend:
    kind: str
    api_base: str
    secret_key: str = field(repr=False)
    # What it can do (golive/capabilities.py); None: everything its kind can.
    capabilities: frozenset[str] | None = None
    read_only: bool = False
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)
    sandbox: object | None = field(default=None, repr=False)  # the Sandbox, when embedded

    def __post_init__(self) -> None:
        if self.capabilities is None:
            self.capabilities = capabilities.of(self.kind)

    def can(self, capability: str) -> bool:
        assert capability in capabilities.CAPABILITIES, capability
        return capability in (self.capabilities or ())

    def lacking(self, *wanted: str) -> str | None:
        """None when the backend can do all of `wanted`, else why not and what would."""
        return capabilities.lacking(self.kind, frozenset(self.capabilities or ()), wanted)

    @property
    def stateful(self) -> bool:
        return self.can("stateful")

    @property
    def sends_webhooks(self) -> bool:
        return self.can("webhook-delivery")

    def stop(self) -> None:
        self._stop()

    def describe(self) -> dict[str, object]:
        """For evidence and run metadata: never the key itself."""
        return {
            "backend": self.kind,
            "api_base": self.api_base,
            "stateful": self.stateful,
            "sends_webhooks": self.sends_webhooks,
            "capabilities": sorted(self.capabilities or ()),
            "read_only": self.read_only,
            "key": redact_key(self.secret_key),
        }


def backend_answered(backend: Backend | None, exc: Exception) -> str:
    """A Stripe error raised by golive's own call to the backend, told as the backend's
    (never the app's): its HTTP status, kind and message, and what the backend lacks."""
    kind = backend.kind if backend is not None else "the Stripe backend"
    status = getattr(exc, "http_status", None)
    said = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    answered = (
        f"HTTP {status} ({type(exc).__name__}: {said})"
        if status
        else f"{type(exc).__name__}: {said}"
    )
    text = (
        f"backend {kind} answered {answered} to golive's own Stripe request: "
        "the backend's error, not the app's"
    )
    return excerpt(DEFAULT, " ".join(text.split()), 400)


def start_backend(spec: StripeBackend, env: dict[str, str]) -> Backend:
    starters = {
        "sandbox": _start_sandbox,
        "stripe-mock": _start_stripe_mock,
        "localstripe": _start_localstripe,
        "stripe-test": _stripe_test,
    }
    backend = starters[spec.backend](spec, env)
    # The profile may take capabilities away (a stand-in that lacks something).
    without = spec.capabilities.without if spec.capabilities else []
    backend.capabilities = capabilities.of(backend.kind, without)
    return backend


def _key_var(spec: StripeBackend) -> str:
    """The env variable of the harness's key (the profile fills in env.names.secret_key)."""
    return spec.secret_key_env or EnvNames().secret_key


def _test_key(spec: StripeBackend, env: dict[str, str], backend: str) -> str:
    key = env.get(_key_var(spec)) or ""
    if key.startswith(("sk_live_", "rk_live_")):
        raise BackendError(
            f"backend {backend}: {_key_var(spec)} is a live key ({redact_key(key)}); "
            "smoke and load runs never use live keys against a stand-in or test mode",
            hint="give the profile a test-mode key (sk_test_…)",
        )
    return key if key.startswith(("sk_test_", "rk_test_")) else SANDBOX_KEY


def complete_checkout_session(
    backend: Backend,
    session_id: str,
    payment_method: str = "pm_card_visa",
    *,
    deliver: bool = True,
) -> dict[str, Any]:
    """Pay Checkout Session `session_id` as its customer would on Stripe's hosted page, with
    a test card (`pm_card_visa`, `pm_card_chargeDeclined`, …); returns the session, complete.

    Through the sandbox's admin route, so the PaymentIntent and charge events and
    `checkout.session.completed` reach the app's webhook endpoint as they would on Stripe
    (`deliver=False`: recorded, sent to no endpoint).
    """
    path = f"/_golive/checkout/sessions/{quote(session_id, safe='')}/complete"
    what = "complete a Checkout Session without a browser"
    return _admin_payment(backend, path, payment_method, deliver, what)


def pay_payment_intent(
    backend: Backend,
    intent_id: str,
    payment_method: str = "pm_card_visa",
    *,
    deliver: bool = True,
) -> dict[str, Any]:
    """Pay PaymentIntent `intent_id` with a test card as its customer would (3-D Secure
    passed); returns the intent. `deliver=False`: its events are recorded and sent to no
    endpoint — golive then sends the app its own signed copies of a real payment."""
    path = f"/_golive/payment_intents/{quote(intent_id, safe='')}/pay"
    return _admin_payment(backend, path, payment_method, deliver, "pay a PaymentIntent quietly")


def _admin_payment(
    backend: Backend, path: str, payment_method: str, deliver: bool, what: str
) -> dict[str, Any]:
    if not backend.can("admin-payments"):
        raise BackendError(
            f"backend {backend.kind}: only the sandbox can {what}",
            hint="use backend: sandbox for checks that pay through golive's own steps",
        )
    with httpclient.client() as web:
        response = web.post(
            backend.api_base + path, json={"payment_method": payment_method, "deliver": deliver}
        )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.is_error:
        error = body.get("error") if isinstance(body, dict) else None
        raise CheckoutCompletionError(
            response.status_code, error if isinstance(error, dict) else {"message": response.text}
        )
    return body


def _start_sandbox(spec: StripeBackend, env: dict[str, str]) -> Backend:
    from golive.sandbox import Sandbox

    if spec.api_base:
        # A sandbox already running as its own process (`golive sandbox --port N`): the
        # same API, admin routes included, reached over HTTP.
        _probe(
            "sandbox",
            spec.api_base,
            "start it with `golive sandbox --port 12111`",
            instead="remove stripe.api_base to run one in-process",
        )
        key = _test_key(spec, env, "sandbox")
        return Backend("sandbox", spec.api_base.rstrip("/"), key)
    caps = {"max_objects": spec.max_objects} if spec.max_objects else {}
    if spec.max_body_bytes:
        caps["max_body_bytes"] = spec.max_body_bytes
    sandbox = Sandbox(port=spec.port, account=spec.account, **caps)
    try:
        sandbox.start()
    except OSError as exc:
        raise BackendError(
            f"backend sandbox: cannot listen on 127.0.0.1:{spec.port} ({exc.strerror or exc})",
            hint="set stripe.port: 0 to take a free port, or stop what listens there",
        ) from None
    return Backend(
        kind="sandbox",
        api_base=sandbox.url,
        secret_key=_test_key(spec, env, "sandbox"),
        _stop=sandbox.stop,
        sandbox=sandbox,
    )


def _start_stripe_mock(spec: StripeBackend, env: dict[str, str]) -> Backend:
    key = _test_key(spec, env, "stripe-mock")
    if spec.api_base:
        _probe("stripe-mock", spec.api_base, "run `docker run -p 12111:12111 stripe/stripe-mock`")
        return Backend("stripe-mock", spec.api_base.rstrip("/"), key)
    reason = _docker_unavailable()
    if reason:
        raise BackendError(
            f"backend stripe-mock: no Docker engine answers ({reason}), so it cannot be "
            "started through testcontainers",
            hint="set stripe.api_base to a running stripe-mock, or use backend: sandbox "
            "(stateful, no Docker needed)",
        )
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    container = DockerContainer(spec.image).with_exposed_ports(12111)
    try:
        container.start()
        wait_for_logs(container, "Listening for HTTP", timeout=60)
    except Exception as exc:  # noqa: BLE001 - any Docker failure is the same advice
        container.stop()
        raise BackendError(
            f"backend stripe-mock: the container {spec.image} did not start ({exc})",
            hint="check `docker pull stripe/stripe-mock`, or use backend: sandbox",
        ) from None
    except BaseException:  # Ctrl-C or SIGTERM while it starts: the run never gets it
        with contextlib.suppress(Exception):
            container.stop()
        raise
    url = f"http://{container.get_container_host_ip()}:{container.get_exposed_port(12111)}"
    return Backend("stripe-mock", url, key, _stop=container.stop)


def _start_localstripe(spec: StripeBackend, env: dict[str, str]) -> Backend:
    if not spec.api_base:
        raise BackendError(
            "backend localstripe: stripe.api_base is not set",
            hint="start it with `localstripe --port 8420` and set api_base: http://127.0.0.1:8420",
        )
    _probe("localstripe", spec.api_base, "start it with `localstripe --port 8420`")
    key = _test_key(spec, env, "localstripe")
    return Backend("localstripe", spec.api_base.rstrip("/"), key)


def _stripe_test(spec: StripeBackend, env: dict[str, str]) -> Backend:
    key = env.get(_key_var(spec)) or ""
    if not key.startswith(("sk_test_", "rk_test_")):
        shown = redact_key(key) if key else "not set"
        raise BackendError(
            f"backend stripe-test: {_key_var(spec)} must be a test-mode key (sk_test_… or "
            f"rk_test_…), it is {shown}",
            hint="put a test key in the profile's env, or use backend: sandbox",
        )
    # No probe: reaching Stripe is the first real call, made by whoever needs it.
    return Backend(
        "stripe-test",
        (spec.api_base or STRIPE_API).rstrip("/"),
        secret_key=key,
        read_only=not spec.allow_writes,
    )


def _probe(backend: str, url: str, how: str, instead: str = "use backend: sandbox") -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise BackendError(f"backend {backend}: api_base {url!r} is not an http(s) URL", hint=how)
    try:
        with httpclient.client(timeout=3) as web:
            web.get(
                url.rstrip("/") + "/v1/balance", headers={"Authorization": f"Bearer {SANDBOX_KEY}"}
            )
    except httpx.HTTPError as exc:
        raise BackendError(
            f"backend {backend}: nothing answers at {parsed.hostname}:{parsed.port or ''} "
            f"({type(exc).__name__})",
            hint=f"{how}, or {instead}",
        ) from None


def _docker_unavailable() -> str | None:
    """None when a Docker engine answers, else why not."""
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - docker raises many kinds
        text = " ".join(str(exc).split()) or type(exc).__name__
        return excerpt(DEFAULT, text, 200)
    return None
