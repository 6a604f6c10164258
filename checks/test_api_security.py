"""API security checks against the running app, driven by the profile's `api` block
(golive/profile/api.py): authentication, authorization (IDOR), CORS, HTTPS and HSTS, rate
limiting and malformed input. Requests go to `ctx.target.app.base_url` only. Tokens are
never recorded: evidence names the user (`a`, `b`, `none`, `bad`), and bodies are excerpts,
redacted like all evidence.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from golive import httpclient, redact, thresholds
from golive.context import CheckContext
from golive.loopback import is_loopback_host
from golive.profile.api import ApiProfile, Request, api_config, section
from golive.registry import check

TIMEOUT_S = 10
BAD_TOKEN = "golive-invalid-token-0000"
EXCERPT = 200
HSTS_METRIC = "hsts_max_age_days"
# HSTS preload and common scanners ask for at least half a year.
DEFAULT_HSTS = "value>=180"
OVERSIZED = 1024 * 1024  # 1 MiB
# What a stack trace or a framework's debug page leaves in a body.
DEBUG_MARKERS = (
    "Traceback",
    'File "',
    "Exception",
    "werkzeug",
    "Werkzeug Debugger",
    "django.",
    "Django Version",
    "DEBUG = True",
    "    at ",  # Node/Express stack frames
    "node_modules",
    "starlette.",
    "uvicorn",
)


# --- helpers ----------------------------------------------------------------------------


def _base_url(ctx: CheckContext) -> str:
    app = ctx.target.app
    if app is None:
        ctx.not_run("the target profile names no running app (set app in the profile)")
    return str(app.base_url).rstrip("/")


def _client(base_url: str, **kwargs: Any) -> httpx.Client:
    return httpclient.client(base_url=base_url, timeout=TIMEOUT_S, follow_redirects=False, **kwargs)


def _send(
    web: httpx.Client,
    request: Request,
    headers: dict[str, str] | None = None,
    *,
    path: str | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    headers = dict(headers or {})
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
        return web.request(request.method, path or request.path, content=content, headers=headers)
    if request.json_body is not None:
        return web.request(
            request.method, path or request.path, json=request.json_body, headers=headers
        )
    return web.request(request.method, path or request.path, headers=headers)


def _excerpt(ctx: CheckContext, answer: httpx.Response) -> str:
    return redact.excerpt(ctx.target.redactor, answer.text, EXCERPT)


# --- api.auth-required ------------------------------------------------------------------


@check("api.auth-required", needs={"app"})
def test_auth_required(ctx: CheckContext) -> None:
    """Every listed endpoint refuses calls without a token and with a bad token (401/403)."""
    api = api_config(ctx)
    endpoints = section(ctx, api, "endpoints")
    base = _base_url(ctx)
    wrong = []
    with _client(base) as web:
        for endpoint in endpoints:
            for credential, headers in (("none", {}), ("bad", api.auth(BAD_TOKEN))):
                answer = _send(web, endpoint, headers)
                ctx.record(
                    request=endpoint.label(),
                    token=credential,
                    status=answer.status_code,
                    body_excerpt=_excerpt(ctx, answer),
                )
                if answer.status_code not in (401, 403):
                    wrong.append(
                        f"{endpoint.label()} with {credential} token: {answer.status_code}"
                    )
    if wrong:
        ctx.fail(
            f"{len(wrong)} unauthenticated call(s) not refused with 401/403: " + "; ".join(wrong)
        )


# --- api.authorization ------------------------------------------------------------------


@check("api.authorization", needs={"app"})
def test_authorization(ctx: CheckContext) -> None:
    """User B can neither read nor change user A's resource (403/404)."""
    api = api_config(ctx)
    owned = section(ctx, api, "owned")
    base = _base_url(ctx)
    a, b = api.auth(api.users.a.token), api.auth(api.users.b.token)
    wrong = []
    with _client(base) as web:
        created = _send(web, owned.create, {**a, "Idempotency-Key": "golive-api-authorization"})
        resource_id = None
        with contextlib.suppress(ValueError, AttributeError):
            resource_id = created.json().get(owned.id_field)
        ctx.record(
            request=owned.create.label(),
            user="a",
            status=created.status_code,
            resource_id=resource_id,
        )
        if not created.is_success or resource_id is None:
            raise RuntimeError(
                f"user A could not create a resource: {owned.create.label()} answered "
                f"{created.status_code} without `{owned.id_field}` ({_excerpt(ctx, created)!r})"
            )
        for probe in owned.probes:
            path = probe.path.replace("{id}", str(resource_id))
            if probe.method == "GET":
                own = _send(web, probe, a, path=path)
                ctx.record(request=f"{probe.method} {path}", user="a", status=own.status_code)
                if not own.is_success:
                    raise RuntimeError(
                        f"the owner's own {probe.method} {path} answered {own.status_code}: "
                        "the probe cannot tell refusal from a broken path"
                    )
            other = _send(web, probe, b, path=path)
            ctx.record(
                request=f"{probe.method} {path}",
                user="b",
                status=other.status_code,
                body_excerpt=_excerpt(ctx, other),
            )
            if other.status_code not in (403, 404):
                wrong.append(f"{probe.method} {path} as user B: {other.status_code}")
    if wrong:
        ctx.fail(
            f"user B reached user A's resource {resource_id} (expected 403/404): "
            + "; ".join(wrong)
        )


# --- api.cors ---------------------------------------------------------------------------


@check("api.cors", needs={"app"})
def test_cors(ctx: CheckContext) -> None:
    """A foreign origin gets no Access-Control-Allow-Origin, preflight or simple request."""
    api = api_config(ctx)
    cors = section(ctx, api, "cors")
    base = _base_url(ctx)
    origin = cors.foreign_origin
    wrong = []
    with _client(base) as web:
        preflight = web.request(
            "OPTIONS",
            cors.path,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": cors.request_method,
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        simple = web.request(
            cors.method, cors.path, headers={"Origin": origin, **api.auth(api.users.a.token)}
        )
    for kind, answer in (("preflight", preflight), ("simple request", simple)):
        allow = answer.headers.get("access-control-allow-origin")
        credentials = answer.headers.get("access-control-allow-credentials")
        ctx.record(
            request=f"{'OPTIONS' if kind == 'preflight' else cors.method} {cors.path}",
            kind=kind,
            origin=origin,
            status=answer.status_code,
            allow_origin=allow,
            allow_credentials=credentials,
        )
        if allow is None:
            continue
        if allow.strip() == "*" and (credentials or "").strip().lower() == "true":
            wrong.append(
                f"{kind}: Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: "
                "true"
            )
        elif allow.strip() in ("*", origin, "null"):
            wrong.append(f"{kind}: Access-Control-Allow-Origin: {allow} for {origin}")
    if wrong:
        ctx.fail("a foreign origin is allowed by CORS: " + "; ".join(wrong))


# --- api.https-hsts ---------------------------------------------------------------------


def _max_age(value: str | None) -> int | None:
    if not value:
        return None
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    return int(match[1]) if match else None


@check("api.https-hsts", needs={"app"})
def test_https_hsts(ctx: CheckContext) -> None:
    """Plain HTTP is redirected to https or refused; HTTPS answers carry HSTS (max-age)."""
    expression = ctx.item.thresholds.get(HSTS_METRIC)
    source = "the item's threshold"
    if expression is None:
        expression, source = DEFAULT_HSTS, "default (the item sets no threshold)"
    threshold = thresholds.parse(expression)
    ctx.record(threshold=f"{HSTS_METRIC} {threshold.expression}", threshold_source=source)
    api = api_config(ctx)
    base = _base_url(ctx)
    parts = urlsplit(base)
    auth = api.auth(api.users.a.token)
    paths = [ctx.profile.model.app.health if ctx.profile.model.app else "/"]
    paths += [e.path for e in api.endpoints if e.method == "GET" and e.path not in paths][:3]
    wrong: list[str] = []
    days: list[float] = []
    if parts.scheme == "https":
        http_base, https_base, proxy = "http://" + parts.netloc, base, False
        how = "direct: plain http:// and https:// requests to the target"
    elif is_loopback_host(parts.hostname):
        http_base = https_base = base
        proxy = True
        how = (
            "loopback target served without TLS: checked as behind a TLS-terminating proxy, "
            "with X-Forwarded-Proto: http and X-Forwarded-Proto: https"
        )
    else:
        http_base, https_base, proxy = base, "https://" + parts.netloc, False
        how = "the profile's base_url is plain http: checked directly, and its https:// twin"
    ctx.record(method=how)
    for path in paths:
        headers = {**auth, **({"X-Forwarded-Proto": "http"} if proxy else {})}
        try:
            with _client(http_base) as web:
                plain = web.get(path, headers=headers)
        except httpx.ConnectError:
            ctx.record(request=f"GET {path}", scheme="http", outcome="connection refused")
            plain = None
        if plain is not None:
            location = plain.headers.get("location", "")
            ctx.record(
                request=f"GET {path}", scheme="http", status=plain.status_code, location=location
            )
            redirected = plain.is_redirect and location.lower().startswith("https://")
            refused = plain.status_code in (400, 403, 421, 426)
            if not (redirected or refused):
                wrong.append(
                    f"plain HTTP GET {path} answered {plain.status_code}"
                    + (f" to {location}" if location else "")
                    + " (expected a 3xx to https:// or a refusal)"
                )
        headers = {**auth, **({"X-Forwarded-Proto": "https"} if proxy else {})}
        with _client(https_base) as web:
            secure = web.get(path, headers=headers)
        hsts = secure.headers.get("strict-transport-security")
        age = _max_age(hsts)
        ctx.record(request=f"GET {path}", scheme="https", status=secure.status_code, hsts=hsts)
        if age is None:
            wrong.append(f"HTTPS GET {path} ({secure.status_code}) has no HSTS max-age")
            continue
        days.append(age / 86400)
        if not threshold.holds(age / 86400):
            wrong.append(
                f"HTTPS GET {path}: HSTS max-age {age} s = {age / 86400:g} days; the threshold "
                f"is {HSTS_METRIC} {threshold.expression}"
            )
    if days:
        ctx.record(threshold=threshold.expression, observed_days=min(days))
    if wrong:
        ctx.fail("; ".join(wrong))


# --- api.rate-limit ---------------------------------------------------------------------


def _burst(base: str, api: ApiProfile) -> list[int]:
    limit = api.rate_limit
    assert limit is not None
    headers = api.auth(limit.token or api.users.b.token)
    statuses: list[int] = []
    with _client(base) as web:
        for _ in range(limit.burst):
            answer = _send(web, limit, headers)
            statuses.append(answer.status_code)
            if answer.status_code == 429 or len(statuses) >= limit.expect_429_within:
                break
    return statuses


@check("api.rate-limit", needs={"app"})
def test_rate_limit(ctx: CheckContext) -> None:
    """A bounded burst on the payment endpoint meets a 429 within expect_429_within."""
    api = api_config(ctx)
    limit = section(ctx, api, "rate_limit")
    base = _base_url(ctx)
    # Items sharing the check share one burst per run (a second would start limited).
    key = "api.rate-limit:" + limit.model_dump_json()
    statuses: list[int] = ctx.target.cached(key, lambda: _burst(base, api))
    first = statuses.index(429) + 1 if 429 in statuses else None
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    ctx.record(
        request=limit.label(),
        sent=len(statuses),
        statuses=counts,
        first_429_at=first,
        expect_429_within=limit.expect_429_within,
    )
    errors = [s for s in statuses if s >= 500]
    if errors:
        ctx.fail(f"{limit.label()}: {len(errors)} answer(s) of the burst were 5xx: {errors[:5]}")
    if first is None:
        ctx.fail(
            f"{limit.label()}: no 429 within {len(statuses)} requests (expected one within "
            f"{limit.expect_429_within}); answers: {counts}"
        )


# --- api.malformed-input ----------------------------------------------------------------


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "not-a-number"
    if isinstance(value, str):
        return {"unexpected": ["object"]}
    if isinstance(value, list):
        return "not-a-list"
    if isinstance(value, dict):
        return ["not", "an", "object"]
    return 12345


def _variants(request: Request) -> list[tuple[str, bytes]]:
    body = request.json_body if isinstance(request.json_body, dict) else {}
    variants: list[tuple[str, bytes]] = [
        ("malformed-json", b'{"items": [{"food_item_id": 1,,}'),
        ("truncated-json", b'{"a": '),
        ("not-an-object", json.dumps([1, 2, 3]).encode()),
    ]
    for field, value in body.items():
        variants.append(
            (f"wrong-type:{field}", json.dumps({**body, field: _wrong_type(value)}).encode())
        )
    variants.append(("unknown-field", json.dumps({**body, "golive_unknown_field": "x"}).encode()))
    variants.append(("oversized-1MiB", json.dumps({**body, "pad": "x" * OVERSIZED}).encode()))
    return variants


@check("api.malformed-input", needs={"app"})
def test_malformed_input(ctx: CheckContext) -> None:
    """Malformed JSON, wrong types, oversized bodies and unknown fields get a 4xx, never a
    5xx, and no body shows a stack trace or a debug page."""
    api = api_config(ctx)
    endpoints = section(ctx, api, "malformed")
    base = _base_url(ctx)
    auth = api.auth(api.users.a.token)
    wrong = []
    # One connection per request: an app that crashes may drop the connection after its
    # answer, and a reused one would then fail the next variant for the wrong reason.
    headers = {**auth, "Connection": "close"}
    for endpoint in endpoints:
        for variant, content in _variants(endpoint):
            with _client(base) as web:
                try:
                    answer = _send(web, endpoint, headers, content=content)
                except httpx.TransportError as exc:
                    ctx.record(request=endpoint.label(), variant=variant, error=repr(exc))
                    if variant.startswith("oversized"):
                        continue  # the connection closed on a too-large body: a refusal
                    wrong.append(f"{endpoint.label()} {variant}: {type(exc).__name__}")
                    continue
                markers = [m for m in DEBUG_MARKERS if m in answer.text]
                ctx.record(
                    request=endpoint.label(),
                    variant=variant,
                    status=answer.status_code,
                    debug_markers=markers,
                    body_excerpt=_excerpt(ctx, answer),
                )
                if answer.status_code == 429:
                    raise RuntimeError(
                        f"{endpoint.label()} answered 429 (rate limited): malformed input "
                        "could not be judged"
                    )
                if not 400 <= answer.status_code < 500:
                    wrong.append(f"{endpoint.label()} {variant}: {answer.status_code}")
                if markers:
                    wrong.append(f"{endpoint.label()} {variant}: body shows {markers}")
    if wrong:
        ctx.fail("malformed input not refused cleanly (expected 4xx): " + "; ".join(wrong))
