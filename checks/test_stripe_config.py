"""Stripe account configuration: the keys the harness holds and the app's webhook endpoint.

Read-only calls only (list webhook endpoints, list events, retrieve the balance), so these
checks run against the embedded sandbox, localstripe and Stripe's test mode alike.

The webhook checks look for the endpoint registered for the target's own URL: the running
app's (`ctx.target.app.webhook_url`'s origin) or the profile's `app.base_url`, at the
profile's `app.webhook_path` (a `path` param, from the checklist or the profile's
`params:`, wins). On the demo
the harness registers it with the sandbox when it starts the shop (`app.register_webhook`),
which is why those checks also need the app.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import stripe
from pydantic import BaseModel, ConfigDict, Field

from golive import httpclient
from golive.client import stripe_api
from golive.context import CheckContext
from golive.loopback import is_loopback_url
from golive.redact import redact_key
from golive.registry import check

PATH_HELP = "The path the endpoint's URL must have; default: the profile's app.webhook_path"


class EndpointParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = Field(None, pattern=r"^/", description=PATH_HELP)
    scheme: Literal["https"] | None = Field(
        None, description="https: the endpoint's URL must be HTTPS (not checkable on loopback)"
    )
    api_version: str | None = Field(
        None, description="The API version an endpoint that pins one must pin"
    )


class EventsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required: list[str] = Field(min_length=1, description="Events the endpoint must receive")
    recommended: list[str] = Field(
        default_factory=list, description="Events noted (not failed) when missing"
    )
    path: str | None = Field(None, pattern=r"^/", description=PATH_HELP)
    api_version: str | None = Field(
        None, description="The API version an endpoint that pins one must pin"
    )


def _backend(ctx: CheckContext) -> Any:
    backend = ctx.target.stripe
    if backend is None:
        ctx.not_run("the target profile names no Stripe backend (set stripe.backend)")
    return backend


def _client(ctx: CheckContext, *, stateful: bool = True) -> stripe.StripeClient:
    backend = ctx.require_backend("webhook-endpoints") if stateful else _backend(ctx)
    return stripe_api.client(backend)


# --- the app's webhook endpoint ---------------------------------------------------------


def _target_origin(ctx: CheckContext) -> str:
    """scheme://host[:port] of the target: the running app's, else the profile's base_url."""
    running = ctx.target.app
    if running is not None:
        base = running.base_url
    else:
        app = ctx.profile.model.app
        if app is None:
            ctx.not_run("the target profile has no `app` (set app.base_url)")
        base = app.base_url
        if "{" in base:
            ctx.not_run(f"app.base_url {base!r} has a placeholder and the app is not running")
    parts = urlsplit(base.rstrip("/"))
    return f"{parts.scheme}://{parts.netloc}".lower()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/") or "/"


def _endpoints(ctx: CheckContext, client: stripe.StripeClient) -> list[dict[str, Any]]:
    def fetch() -> list[dict[str, Any]]:
        page = client.v1.webhook_endpoints.list(params={"limit": 100})
        return [endpoint.to_dict() for endpoint in page.auto_paging_iter()]

    return ctx.target.cached("stripe.webhook_endpoints", fetch)


def _summary(endpoint: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": endpoint.get("id"),
        "url": endpoint.get("url"),
        "status": endpoint.get("status"),
        "api_version": endpoint.get("api_version"),
        "enabled_events": endpoint.get("enabled_events"),
    }


def _webhook_path(ctx: CheckContext) -> str:
    """The path the endpoint must have: the `path` param, else the profile's app's."""
    if ctx.params.path is not None:
        return ctx.params.path
    app = ctx.profile.model.app
    if app is None:
        ctx.not_run("the target profile has no `app` (set app.base_url and app.webhook_path)")
    return app.webhook_path


def _path_from(ctx: CheckContext) -> str:
    return "params.path" if ctx.params.path is not None else "app.webhook_path"


def _find_endpoint(ctx: CheckContext, client: stripe.StripeClient) -> tuple[str, dict[str, Any]]:
    """The target's endpoint at the webhook path (an enabled one first); fails naming what
    exists."""
    origin = _target_origin(ctx)
    path = _webhook_path(ctx)
    expected = origin + (path.rstrip("/") or "/")
    endpoints = _endpoints(ctx, client)
    ours = [e for e in endpoints if _origin(e.get("url") or "") == origin]
    at_path = [e for e in ours if _path(e.get("url") or "") == _path(expected)]
    if not at_path:
        ctx.record(
            expected_url=expected,
            path_from=_path_from(ctx),
            endpoints_for_target=[_summary(e) for e in ours],
            endpoints_in_account=len(endpoints),
        )
        if ours:
            found = ", ".join(str(e.get("url")) for e in ours)
            ctx.fail(f"no webhook endpoint at {expected}; the target's endpoints: {found}")
        ctx.fail(
            f"no webhook endpoint for {expected} among the account's {len(endpoints)} endpoint(s)"
        )
    at_path.sort(key=lambda e: e.get("status") != "enabled")
    return expected, at_path[0]


def _default_version(ctx: CheckContext) -> str | None:
    """The account's default API version: a request sent without a Stripe-Version header
    is answered in it, and the response's Stripe-Version header names it (Stripe and the
    sandbox alike). None when the backend does not say."""
    backend = ctx.target.stripe
    try:
        with httpclient.client(timeout=10) as web:
            answer = web.get(
                backend.api_base + "/v1/webhook_endpoints",
                params={"limit": 1},
                headers={"Authorization": f"Bearer {backend.secret_key}"},
            )
    except httpx.HTTPError:
        return None
    return answer.headers.get("stripe-version") if answer.is_success else None


def _check_version(ctx: CheckContext, endpoint: dict[str, Any], wanted: str | None) -> str | None:
    """The problem with the endpoint's API version, if any; records what it uses."""
    pinned = endpoint.get("api_version")
    if pinned:
        ctx.record(api_version=pinned, pinned=True, expected=wanted)
        if wanted and pinned != wanted:
            return f"it is pinned to API version {pinned}, not {wanted}"
        return None
    default = _default_version(ctx)
    note = "no version pinned on the endpoint: its events use the account's default API version"
    if not default:
        note += ", which the backend did not name"
    ctx.record(
        api_version=default or "unknown",
        account_default=bool(default),
        pinned=False,
        expected=wanted,
        note=note,
    )
    if default and wanted and default != wanted:
        # Events are rendered in the account's version, not the one the code was written for.
        return (
            f"it pins no API version and the account's default is {default}, not {wanted}: "
            f"pin {wanted} on the endpoint"
        )
    return None


@check("stripe.webhook-endpoint", params=EndpointParams, needs={"stripe", "app"})
def test_webhook_endpoint(ctx: CheckContext) -> None:
    """A webhook endpoint exists for the target's URL at the expected path, enabled.

    `scheme: https` requires an HTTPS URL, except on a loopback target (the demo), where
    HTTPS cannot be checked: recorded, not failed. `api_version`: an endpoint that pins a
    version must pin this one; one that pins none uses the account default (recorded)."""
    client = _client(ctx)
    expected, endpoint = _find_endpoint(ctx, client)
    url = endpoint["url"]
    problems = []
    ctx.record(expected_url=expected, path_from=_path_from(ctx), endpoint=_summary(endpoint))
    if endpoint.get("status") != "enabled":
        problems.append(f"it is {endpoint.get('status')}")
    if ctx.params.scheme == "https":
        if urlsplit(url).scheme == "https":
            ctx.record(scheme="https", required="https")
        elif is_loopback_url(url):
            ctx.record(
                scheme=urlsplit(url).scheme,
                required="https",
                note="HTTPS is not checkable on a loopback target: the URL is a local "
                "address, so it was not failed for it; a deployed target must use https",
            )
        else:
            ctx.record(scheme=urlsplit(url).scheme, required="https")
            problems.append("its URL is not HTTPS")
    version_problem = _check_version(ctx, endpoint, ctx.params.api_version)
    if version_problem:
        problems.append(version_problem)
    if problems:
        ctx.fail(f"webhook endpoint {endpoint['id']} ({url}): {'; '.join(problems)}")


@check("stripe.webhook-events", params=EventsParams, needs={"stripe", "app"})
def test_webhook_events(ctx: CheckContext) -> None:
    """The target's webhook endpoint is subscribed to every required event (or `*`).

    Missing `recommended` events are recorded as notes, not failures."""
    client = _client(ctx)
    _, endpoint = _find_endpoint(ctx, client)
    enabled = list(endpoint.get("enabled_events") or [])
    everything = "*" in enabled
    missing = [e for e in ctx.params.required if not everything and e not in enabled]
    missing_recommended = [e for e in ctx.params.recommended if not everything and e not in enabled]
    ctx.record(
        endpoint=endpoint.get("id"),
        url=endpoint.get("url"),
        enabled_events=enabled,
        required=ctx.params.required,
        missing=missing,
    )
    if missing_recommended:
        ctx.record(
            recommended_missing=missing_recommended,
            note="recommended events the endpoint does not receive (not a failure)",
        )
    problems = []
    if missing:
        problems.append(f"not subscribed to {', '.join(missing)}")
    if ctx.params.api_version:
        version_problem = _check_version(ctx, endpoint, ctx.params.api_version)
        if version_problem:
            problems.append(version_problem)
    if problems:
        ctx.fail(f"webhook endpoint {endpoint['id']} ({endpoint['url']}): {'; '.join(problems)}")


# --- the harness's key ------------------------------------------------------------------


def _key_mode(key: str) -> tuple[str | None, str | None]:
    """(mode, kind) from a key's prefix: ("live"|"test", "secret"|"restricted")."""
    for prefix, kind in (("sk_", "secret"), ("rk_", "restricted")):
        for mode in ("live", "test"):
            if key.startswith(f"{prefix}{mode}_"):
                return mode, kind
    return None, None


@check("stripe.key-mode", needs={"stripe"})
def test_key_mode(ctx: CheckContext) -> None:
    """The Stripe key the harness uses is of the profile's mode (sk_live_/rk_live_ in live).

    The mode comes from the key's prefix; where the backend answers GET /v1/balance, the
    `livemode` it reports is recorded beside it."""
    backend = _backend(ctx)
    key = backend.secret_key or ""
    mode, kind = _key_mode(key)
    entry: dict[str, Any] = {
        "backend": backend.kind,
        "key": redact_key(key) if key else "not set",
        "key_mode": mode,
        "key_kind": kind,
        "profile_mode": ctx.profile.model.mode,
    }
    client = _client(ctx, stateful=False)
    try:
        entry["api_livemode"] = client.v1.balance.retrieve().to_dict().get("livemode")
    except stripe.StripeError as exc:
        entry["api_livemode"] = f"not read ({type(exc).__name__})"
    ctx.record(**entry)
    if mode is None:
        ctx.fail(f"the {backend.kind} key {entry['key']} is not a Stripe secret or restricted key")
    if mode != ctx.profile.model.mode:
        ctx.fail(
            f"the {backend.kind} key {entry['key']} is a {mode}-mode key; the profile's mode "
            f"is {ctx.profile.model.mode}"
        )
    if isinstance(entry["api_livemode"], bool) and entry["api_livemode"] != (mode == "live"):
        ctx.fail(
            f"the {backend.kind} backend reports livemode={entry['api_livemode']} "
            f"for a {mode}-mode key"
        )


@check("stripe.restricted-key", needs={"stripe"})
def test_restricted_key(ctx: CheckContext) -> None:
    """The harness's Stripe key is a restricted key (rk_…), not a standard secret key.

    A standard secret key (sk_…) fails with the advice to use a restricted key; the item is
    minor, so this does not block. Against the embedded sandbox, stripe-mock and localstripe
    the check is not-run: restricted keys are a Dashboard feature those stand-ins do not
    model (they accept any test key), so the key they are given says nothing about the
    deployed one. It passes or fails only against Stripe itself (stripe-test)."""
    backend = ctx.require_backend("restricted-keys")
    key = backend.secret_key or ""
    mode, kind = _key_mode(key)
    ctx.record(backend=backend.kind, key=redact_key(key) if key else "not set", key_kind=kind)
    if kind != "restricted":
        ctx.fail(
            f"the key {redact_key(key) if key else '(not set)'} is a standard {mode or ''} "
            "secret key with full access; a restricted key (rk_…) limited to the calls the "
            "app makes is better"
        )
