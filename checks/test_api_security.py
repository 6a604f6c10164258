"""API security checks against the running app, driven by the profile's `api` block
(golive/profile/api.py): authentication, authorization (IDOR), CORS, HTTPS and HSTS, rate
limiting and malformed input.

Every request goes to the app through a UserSession (golive/client/): as a named user of
the profile's `users:`, carrying what its `auth:` says (a header of any scheme, Basic, a
cookie, a login flow with CSRF); the "no credential" and "invalid credential" requests
through golive/client/unauthenticated.py. No credential is built here. Evidence names the
user (`alice`, or `none` / `invalid`); bodies are excerpts, redacted like all evidence.

golive's own requests that must succeed are positive controls: user A creating and
reading A's own resource, the CORS path as user A, the first answer of the rate-limit
burst, an endpoint golive sends malformed input to. Answered 401/403/404/405 (golive's
credentials, route or method are wrong), or not followed at all (a login that failed, a
capture missing), they make the item an error — "golive could not …" — never a fail.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from golive import api_probes, fuzz, httpclient, leaks, outcomes, redact, thresholds, webhook_fuzz
from golive.client import templates, unauthenticated
from golive.client.app import AppClient, Placed
from golive.client.errors import SETUP_STATUSES, FlowError
from golive.client.session import UserSession
from golive.context import CheckContext
from golive.loopback import is_loopback_host
from golive.profile.api import Owned, Request, api_config, section
from golive.profile.flows import Step
from golive.registry import check
from golive.webhooks import sender
from golive.webhooks.forge import SIGNATURE_HEADER
from golive.webhooks.signing import encode_event, sign_header

TIMEOUT_S = 10
EXCERPT = 200
HSTS_METRIC = "hsts_max_age_days"
# HSTS preload and common scanners ask for at least half a year.
DEFAULT_HSTS = "value>=180"
OVERSIZED = 1024 * 1024  # 1 MiB
REDIRECTS = (301, 302, 303, 307, 308)
SAFE_METHODS = ("GET", "HEAD")
# The jobs whose JSON bodies api.malformed-input fuzzes (they only fill and check out A's
# own cart).
FUZZED_JOBS = ("checkout", "fill_cart")


# --- helpers ----------------------------------------------------------------------------


def _send(
    session: UserSession,
    request: Request,
    *,
    auth: bool = True,
    headers: dict[str, str] | None = None,
    path: str | None = None,
    body: Any = None,
    content: bytes | None = None,
) -> httpx.Response:
    """One request of the profile through `session` (its credentials unless auth=False)."""
    headers = dict(headers or {})
    extra: dict[str, Any] = {}
    json_body = request.json_body if body is None else body
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
        extra["content"], json_body = content, None
    return session.request(
        request.method, path or request.path, json=json_body, headers=headers, auth=auth, **extra
    )


def _excerpt(ctx: CheckContext, answer: httpx.Response) -> str:
    return redact.excerpt(ctx.target.redactor, answer.text, EXCERPT)


def _login_paths(client: AppClient) -> set[str]:
    """The paths of the login flow's requests (without their query): where an app that
    logs users in through a form sends the anonymous (a redirect there is a refusal)."""
    auth = client.model.auth
    if auth is None or auth.login is None:
        return set()
    flow = client.model.flows[auth.login.flow]
    return {step.request.path.split("?", 1)[0] for step in flow.steps}


def _refused(answer: httpx.Response, login_paths: set[str]) -> bool:
    if answer.status_code in (401, 403):
        return True
    if answer.status_code in REDIRECTS and login_paths:
        target = urlsplit(answer.headers.get("location", "")).path
        return target in login_paths
    return False


def _closing(*sessions: UserSession | None) -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    for session in sessions:
        if session is not None:
            stack.callback(session.close)
    return stack


# --- api.auth-required ------------------------------------------------------------------


@check("api.auth-required", needs={"app"})
def test_auth_required(ctx: CheckContext) -> None:
    """Every listed endpoint refuses calls with no credential and with an invalid one
    (401/403, or a redirect to the login flow's page).

    The control: user A's own request to each safe (GET/HEAD) endpoint gets past the
    credentials check, so the refusals are the auth layer's, not a wrong route's. Unsafe
    endpoints are never sent with credentials (that would change the app's data): there,
    an unauthenticated 404/405 cannot be told from a route that does not exist."""
    api = api_config(ctx)
    endpoints = section(ctx, api, "endpoints")
    client = ctx.app_client()
    login_paths = _login_paths(client)
    user = api.users.a
    none, invalid = unauthenticated.anonymous(client), unauthenticated.invalid(client, user)
    callers: list[tuple[str, UserSession, bool]] = [("none", none, False)]
    if invalid is None:
        ctx.record(
            credentials="invalid",
            skipped="the profile's `auth:` gives no credential golive could send invalid "
            "(golive/client/unauthenticated.py): only requests with none are sent",
        )
    else:
        callers.append(("invalid", invalid, True))
    wrong, unjudged = [], []
    with _closing(none, invalid):
        for endpoint in endpoints:
            own = _auth_control(ctx, client, endpoint, user, login_paths)
            for credentials, session, auth in callers:
                answer = _send(session, endpoint, auth=auth)
                entry: dict[str, Any] = {
                    "request": endpoint.label(),
                    "credentials": credentials,
                    "status": answer.status_code,
                    "body_excerpt": _excerpt(ctx, answer),
                }
                if answer.status_code in REDIRECTS:
                    entry["location"] = answer.headers.get("location")
                ctx.record(**entry)
                if _refused(answer, login_paths):
                    continue
                what = f"{endpoint.label()} with {'no' if credentials == 'none' else 'invalid'}"
                if answer.status_code in (404, 405) and (own is None or own in (404, 405)):
                    unjudged.append(f"{what} credentials: {answer.status_code}")
                else:
                    wrong.append(f"{what} credentials: {answer.status_code}")
    if wrong:
        ctx.fail(
            f"{len(wrong)} unauthenticated call(s) not refused with 401/403: " + "; ".join(wrong)
        )
    if unjudged:
        ctx.error(
            "golive could not tell a refusal from a missing route: "
            + "; ".join(unjudged)
            + f" (and {user!r}'s own request found no route either, or is not sent for an "
            "unsafe method): check api.endpoints' paths and methods"
        )


def _auth_control(
    ctx: CheckContext, client: AppClient, endpoint: Request, user: str, login_paths: set[str]
) -> int | None:
    """User A's own answer to a safe endpoint (None for an unsafe one, never sent): an
    error when A's credentials do not get past the app's auth layer."""
    if endpoint.method not in SAFE_METHODS:
        return None
    try:
        answer = _send(client.session(user), endpoint)
    except FlowError as exc:  # the user could not be logged in
        ctx.flow_error(exc)
    ctx.record(
        request=endpoint.label(), credentials=user, kind="control", status=answer.status_code
    )
    if answer.status_code in (401, 403) or _refused(answer, login_paths):
        ctx.error(
            outcomes.control_failed(
                "get past the credentials check",
                user,
                endpoint.label(),
                answer.status_code,
                _excerpt(ctx, answer),
            )
        )
    return answer.status_code


# --- api.authorization ------------------------------------------------------------------


def _create(
    ctx: CheckContext, a: str, job: str, items: list[dict[str, Any]], id_name: str | None
) -> Placed:
    """User A's own resource, made by `job`'s flow: what it sent and captured."""
    ctx.require_job(job)
    try:
        placed = ctx.app_client().checkout(
            a, items, job=job, idempotency_key=f"golive-api-authorization-{uuid.uuid4().hex[:12]}"
        )
    except FlowError as exc:
        ctx.record(**exc.evidence())
        last = exc.steps[-1].excerpt if exc.steps else ""
        ctx.error(
            f"golive could not create user A's resource as {a!r} through the `{job}` job: "
            f"{exc.reason}" + (f" ({last[:EXCERPT]!r})" if last else "")
        )
    resource_id = placed.variables.get(id_name) if id_name else None
    last = placed.steps[-1] if placed.steps else None
    ctx.record(
        request=f"{last.method} {last.path}" if last else f"the `{job}` job",
        user=a,
        status=placed.status,
        resource_id=resource_id,
        **({"flow_steps": [s.evidence() for s in placed.steps]} if len(placed.steps) > 1 else {}),
    )
    if placed.refused is not None or (id_name and resource_id in (None, "")):
        why = placed.refused.reason if placed.refused else f"its flow captured no `{id_name}`"
        ctx.error(
            f"golive could not create user A's resource as {a!r} through the `{job}` job: "
            f"{why} ({placed.body_excerpt[:EXCERPT]!r})"
        )
    return placed


def _owned_probes(
    ctx: CheckContext,
    owned: Owned,
    variables: dict[str, Any],
    sessions: tuple[UserSession, UserSession],
    login_paths: set[str],
    verdicts: _Verdicts,
) -> None:
    """api.owned's probes: B first, then A's same request as the control."""
    owner, other = sessions
    for probe in owned.probes:
        path = str(templates.render(probe.path, variables))
        body = templates.render(probe.json_body, variables)
        label = f"{probe.method} {path}"
        theirs = _send(other, probe, path=path, body=body)
        ctx.record(
            request=label, user=other.name, status=theirs.status_code,
            body_excerpt=_excerpt(ctx, theirs),
        )  # fmt: skip
        if theirs.is_success:
            verdicts.wrong.append(f"{label} as user B ({other.name}): {theirs.status_code}")
            continue
        verdicts.b_refused(label, theirs, login_paths)
        own = _send(owner, probe, path=path, body=body)
        ctx.record(request=label, user=owner.name, kind="control", status=own.status_code)
        verdicts.judge(
            label, theirs.status_code, own.status_code, _refused(own, login_paths),
            _excerpt(ctx, own), "api.owned.probes",
        )  # fmt: skip


class _Verdicts:
    """What the probes of api.authorization found: B reaching A's resource (wrong), and
    probes whose owner control failed (nothing judged there)."""

    def __init__(self, ctx: CheckContext, a: str, b: str) -> None:
        self.ctx, self.a, self.b = ctx, a, b
        self.wrong: list[str] = []
        self.unestablished: list[str] = []
        self.judged = 0

    def b_refused(self, label: str, theirs: httpx.Response, login_paths: set[str]) -> None:
        """B's own credentials refused: authorization was never reached (an error now)."""
        if theirs.status_code == 401 or (
            theirs.status_code in REDIRECTS and _refused(theirs, login_paths)
        ):
            self.ctx.error(
                f"golive could not act as user B: {label} as {self.b!r} answered "
                f"{theirs.status_code} (B's credentials were refused, so authorization "
                "was not reached)"
            )

    def judge(
        self,
        label: str,
        theirs: int,
        own: int | None,
        own_refused: bool,
        own_excerpt: str,
        where: str,
    ) -> None:
        if theirs == 429:
            self.unestablished.append(f"{label} as {self.b!r} answered 429 (rate limited)")
        elif not outcomes.reached(own) or own_refused:
            self.unestablished.append(
                outcomes.control_failed(
                    "act on user A's own resource", self.a, label, own, own_excerpt
                )
                + f"; B's {theirs} cannot tell a refusal from a broken path, method or "
                f"credential (check {where})"
            )
        elif theirs not in (403, 404):
            self.wrong.append(f"{label} as user B ({self.b}): {theirs}")
        else:
            self.judged += 1


def _flow_probes(
    ctx: CheckContext,
    client: AppClient,
    plan: dict[str, list[Step]],
    creating: tuple[str, Placed],
    owned: set[str],
    known: set[tuple[str, str]],
    sessions: tuple[UserSession, UserSession],
    login_paths: set[str],
    verdicts: _Verdicts,
) -> None:
    """The requests A's flows sent on what A created, replayed by B (golive/api_probes.py):
    A's reads first, then B's replays (safe methods first), then the one-way jobs: B's
    attempt, A's own run as the control."""
    owner, other = sessions
    job, placed = creating
    flows = client.model.flows
    probes = api_probes.from_records(
        job, flows[client.flow_for(job)], placed.steps, owned, submit_headers=True
    )
    inputs = {**placed.variables}
    if placed.payment_intent_id:
        inputs.setdefault("payment_intent_id", placed.payment_intent_id)
    for read in api_probes.READ_JOBS:
        if read not in plan:
            continue
        try:
            records = client.run(read, owner, inputs).steps
        except FlowError as exc:  # A's answers are still A's controls (a 404 fails one)
            records = exc.steps
            if exc.kind == "template":
                ctx.record(job=read, user=owner.name, skipped=f"A's `{read}` job: {exc.reason}")
        probes += api_probes.from_records(read, flows[client.flow_for(read)], records, owned)
    for one_way in api_probes.ONE_WAY_JOBS:
        if one_way in plan:
            flow = flows[client.flow_for(one_way)]
            scope = {**flow.vars, **inputs, **owner.scope()}
            probes += api_probes.rendered(one_way, flow, scope, owned)
    chosen = api_probes.select(probes, known)
    answers: dict[int, httpx.Response] = {}
    for index, probe in enumerate(chosen):
        answers[index] = theirs = api_probes.replay(other, probe)
        verdicts.b_refused(f"{probe.method} {probe.path}", theirs, login_paths)
    for one_way in {p.job for p in chosen if p.one_way}:
        try:
            records = client.run(one_way, owner, inputs).steps
        except FlowError as exc:  # a 409 "not refundable" still reached the order
            records = exc.steps
        api_probes.record_owner(chosen, flows[client.flow_for(one_way)], records)
    for index, probe in enumerate(chosen):
        theirs = answers[index]
        label = f"{probe.method} {probe.path}"
        ctx.record(
            probe="from flows", job=probe.job, template=probe.label(), request=label,
            owner=owner.name, owner_status=probe.owner_status, user=other.name,
            status=theirs.status_code, body_excerpt=_excerpt(ctx, theirs),
        )  # fmt: skip
        if theirs.is_success:
            verdicts.wrong.append(
                f"{label} (the `{probe.job}` job's {probe.label()}) as user B "
                f"({other.name}): {theirs.status_code}"
            )
            continue
        verdicts.judge(
            f"{label} (the `{probe.job}` job's {probe.label()})", theirs.status_code,
            probe.owner_status, False, "", f"the `{probe.job}` flow",
        )  # fmt: skip


@check("api.authorization", needs={"app"})
def test_authorization(ctx: CheckContext) -> None:
    """User B can neither read nor change user A's resources (403/404): the one api.owned
    names, and every request A's own flows send on what A's flows created (a basket, its
    lines, the order, its refund: golive/api_probes.py), replayed by B.

    The control, for every probe B was refused: A's own same request reached the resource
    — a 2xx, or a refusal of A's own kind such as 409 "not refundable" on an unpaid order;
    never 401/403/404/405, a 5xx or the login page. api.owned's probes are sent by A right
    after B's attempt; a flow's are A's answers in A's own flow (a refund-like job's: A
    runs it after B's attempt). When A could not either, golive could not establish that
    the path and method exist: an error. B's own 2xx needs no control: it reached the
    resource."""
    api = api_config(ctx)
    client = ctx.app_client()
    login_paths = _login_paths(client)
    a, b = api.users.a, api.users.b
    owned = api.owned
    known = {(p.method, p.path) for p in owned.probes} if owned else set()
    job = owned.create.job if owned else "checkout"
    items = (
        [line.model_dump() for line in owned.create.items]
        if owned
        else api_probes.cart(client.model)
    )
    jobs = {name: flow for name in ("checkout", *api_probes.READ_JOBS, *api_probes.ONE_WAY_JOBS,
            job) if (flow := client.flow_for(name))}  # fmt: skip
    creating_flow = client.model.flows.get(client.flow_for(job) or "")
    names = api_probes.owned_names(creating_flow) if creating_flow else set()
    names |= {owned.id} if owned else set()
    plan = api_probes.planned(client.model.flows, jobs, job, names, known)
    if owned is None and (not plan or not items):
        ctx.not_run(
            "the target profile's `api` block has no `api.owned`, and "
            + (
                "no cart for user A's checkout (data.probe.items, pricing.carts.single or "
                "smoke.items)"
                if plan
                else "no step of its flows acts on a value user A's checkout created (a "
                "path with a capture of a POST)"
            )
            + ": set api.owned"
        )
    placed = _create(ctx, a, job, items or [], owned.id if owned else None)
    verdicts = _Verdicts(ctx, a, b)
    try:
        sessions = client.session(a), client.session(b)
        if owned is not None:
            _owned_probes(ctx, owned, placed.variables, sessions, login_paths, verdicts)
        if plan:
            _flow_probes(
                ctx, client, plan, (job, placed), names, known, sessions, login_paths, verdicts
            )
    except FlowError as exc:  # a user could not be logged in
        ctx.flow_error(exc)
    except templates.TemplateError as exc:
        ctx.error(f"golive could not fill in a probe of api.owned: {exc}")
    if verdicts.wrong:  # B's answers are evidence of their own: they fail whatever else
        ctx.fail(
            "user B reached user A's resource"
            + (f" {placed.variables.get(owned.id)}" if owned else "s")
            + " (expected 403/404): "
            + "; ".join(verdicts.wrong)
        )
    if verdicts.unestablished:
        ctx.error("; ".join(verdicts.unestablished))


# --- api.cors ---------------------------------------------------------------------------


@check("api.cors", needs={"app"})
def test_cors(ctx: CheckContext) -> None:
    """A foreign origin gets no Access-Control-Allow-Origin, preflight or simple request.

    The control: the path exists for CORS to matter — user A's own request, without an
    Origin, answers 2xx, or the preflight OPTIONS is not a 404/405. A header granting the
    foreign origin fails the item whatever the control (it is there); its absence passes
    only after the control."""
    api = api_config(ctx)
    cors = section(ctx, api, "cors")
    client = ctx.app_client()
    origin, user = cors.foreign_origin, api.users.a
    auth = client.model.auth
    asked = ["content-type"]
    if auth is not None and auth.header is not None:
        asked.insert(0, auth.header.name.lower())
    label = f"{cors.method} {cors.path}"
    anonymous = unauthenticated.anonymous(client)
    try:
        with _closing(anonymous):
            session = client.session(user)
            control = session.request(cors.method, cors.path)
            ctx.record(request=label, kind="control", user=user, status=control.status_code)
            if control.status_code in SETUP_STATUSES or _refused(control, _login_paths(client)):
                ctx.error(
                    f"golive could not check CORS on {label}: as {user!r}, without an Origin, "
                    f"it answered {control.status_code} (api.cors.path or method, or golive's "
                    "credentials, are wrong)"
                )
            preflight = anonymous.request(
                "OPTIONS",
                cors.path,
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": cors.request_method,
                    "Access-Control-Request-Headers": ", ".join(asked),
                },
                auth=False,
            )
            simple = session.request(cors.method, cors.path, headers={"Origin": origin})
    except FlowError as exc:
        ctx.flow_error(exc)
    wrong = []
    for kind, answer in (("preflight", preflight), ("simple request", simple)):
        allow = answer.headers.get("access-control-allow-origin")
        credentials = answer.headers.get("access-control-allow-credentials")
        ctx.record(
            request=f"OPTIONS {cors.path}" if kind == "preflight" else label,
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
    if not control.is_success and preflight.status_code in (404, 405):
        ctx.error(
            outcomes.control_failed(
                f"find the CORS path {label}",
                user,
                label,
                control.status_code,
                _excerpt(ctx, control),
            )
            + f"; the preflight OPTIONS answered {preflight.status_code}: no header's absence "
            "can be judged on a path that does not answer (check api.cors.path and method)"
        )


# --- api.https-hsts ---------------------------------------------------------------------


def _max_age(value: str | None) -> int | None:
    if not value:
        return None
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    return int(match[1]) if match else None


def _session_at(
    client: AppClient, user: str, base: str, stack: contextlib.ExitStack
) -> UserSession:
    """`user`'s session on `base` (the profile's base URL or its http/https twin)."""
    if base.rstrip("/") == str(client.base_url).rstrip("/"):
        return client.session(user)
    transport = stack.enter_context(httpclient.client(base_url=base, timeout=TIMEOUT_S))
    return client.open_session(user, client.user_vars(user), transport)


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
    client = ctx.app_client()
    base = str(client.base_url).rstrip("/")
    parts = urlsplit(base)
    user = api.users.a
    paths = [ctx.profile.model.app.health if ctx.profile.model.app else "/"]
    paths += [e.path for e in api.endpoints if e.method == "GET" and e.path not in paths][:3]
    wrong: list[str] = []
    days: list[float] = []
    served: list[int] = []  # the HTTPS answers' statuses: the control is one below 400
    loopback = is_loopback_host(parts.hostname)
    if parts.scheme == "https":
        http_base, https_base, proxy = "http://" + parts.netloc, base, False
        how = "direct: plain http:// and https:// requests to the target"
    elif loopback:
        http_base = https_base = base
        proxy = True
        how = (
            "loopback target served without TLS: checked as behind a TLS-terminating proxy, "
            "with X-Forwarded-Proto: http and X-Forwarded-Proto: https"
        )
    else:
        http_base, https_base, proxy = base, "https://" + parts.netloc, False
        how = "the profile's base_url is plain http: checked directly, and its https:// twin"
    # Credentials go over plain HTTP only to a loopback host: elsewhere the plain request
    # is anonymous (it must be redirected or refused whoever sends it).
    plain_auth = loopback
    ctx.record(method=how, plain_http_as=user if plain_auth else "none")
    try:
        with contextlib.ExitStack() as stack:
            plain_session = _session_at(client, user, http_base, stack)
            secure_session = _session_at(client, user, https_base, stack)
            for path in paths:
                headers = {"X-Forwarded-Proto": "http"} if proxy else {}
                try:
                    plain = plain_session.request("GET", path, headers=headers, auth=plain_auth)
                except httpx.ConnectError:
                    ctx.record(request=f"GET {path}", scheme="http", outcome="connection refused")
                    plain = None
                if plain is not None:
                    location = plain.headers.get("location", "")
                    ctx.record(
                        request=f"GET {path}",
                        scheme="http",
                        status=plain.status_code,
                        location=location,
                    )
                    redirected = plain.is_redirect and location.lower().startswith("https://")
                    refused = plain.status_code in (400, 403, 421, 426)
                    if not (redirected or refused):
                        wrong.append(
                            f"plain HTTP GET {path} answered {plain.status_code}"
                            + (f" to {location}" if location else "")
                            + " (expected a 3xx to https:// or a refusal)"
                        )
                headers = {"X-Forwarded-Proto": "https"} if proxy else {}
                secure = secure_session.request("GET", path, headers=headers)
                served.append(secure.status_code)
                hsts = secure.headers.get("strict-transport-security")
                age = _max_age(hsts)
                ctx.record(
                    request=f"GET {path}", scheme="https", status=secure.status_code, hsts=hsts
                )
                if age is None:
                    wrong.append(f"HTTPS GET {path} ({secure.status_code}) has no HSTS max-age")
                    continue
                days.append(age / 86400)
                if not threshold.holds(age / 86400):
                    wrong.append(
                        f"HTTPS GET {path}: HSTS max-age {age} s = {age / 86400:g} days; the "
                        f"threshold is {HSTS_METRIC} {threshold.expression}"
                    )
    except FlowError as exc:
        ctx.flow_error(exc)
    if days:
        ctx.record(threshold=threshold.expression, observed_days=min(days))
    if not any(status < 400 for status in served):
        # No page was served over HTTPS: a missing header on error pages alone says
        # nothing about the pages a browser would get.
        ctx.error(
            f"golive could not get a page over HTTPS as {user!r}: {', '.join(paths)} answered "
            f"{served} (check app.health, api.endpoints and golive's credentials)"
        )
    if wrong:
        ctx.fail("; ".join(wrong))


# --- api.rate-limit ---------------------------------------------------------------------


def _burst(ctx: CheckContext, client: AppClient, limit: Any, user: str) -> tuple[list[int], str]:
    """The burst's statuses, and an excerpt of its first answer (the control's)."""
    session = client.session(user)
    statuses: list[int] = []
    first = ""
    for _ in range(limit.burst):
        answer = _send(session, limit)
        statuses.append(answer.status_code)
        if len(statuses) == 1:
            first = _excerpt(ctx, answer)
        if answer.status_code == 429 or len(statuses) >= limit.expect_429_within:
            break
    return statuses, first


@check("api.rate-limit", needs={"app"})
def test_rate_limit(ctx: CheckContext) -> None:
    """A bounded burst on the payment endpoint meets a 429 within expect_429_within."""
    api = api_config(ctx)
    limit = section(ctx, api, "rate_limit")
    client = ctx.app_client()
    user = limit.user or api.users.b
    # Items sharing the check share one burst per run (a second would start limited).
    key = "api.rate-limit:" + limit.model_dump_json() + ":" + user
    try:
        statuses, first_excerpt = ctx.target.cached(key, lambda: _burst(ctx, client, limit, user))
    except FlowError as exc:  # the user could not be logged in
        ctx.flow_error(exc)
    first = statuses.index(429) + 1 if 429 in statuses else None
    counts: dict[str, int] = {}
    for status in statuses:
        counts[str(status)] = counts.get(str(status), 0) + 1
    ctx.record(
        request=limit.label(),
        user=user,
        sent=len(statuses),
        statuses=counts,
        first_429_at=first,
        expect_429_within=limit.expect_429_within,
    )
    # The control: the burst's first request is one the app takes (2xx), or already
    # limited (429). A first 4xx means golive's body or route is wrong (an app that
    # counts only valid requests would never limit it), a 5xx that the app cannot serve
    # even one: either way no 429 could be judged.
    if statuses and statuses[0] in SETUP_STATUSES:
        ctx.error(
            f"golive could not send the burst: {limit.label()} as {user!r} answered "
            f"{statuses[0]} to its first request (api.rate_limit's path, method or body, or "
            "golive's credentials, are wrong)"
        )
    if statuses and statuses[0] != 429 and outcomes.control_problem(statuses[0]):
        ctx.error(
            "golive could not send the burst: "
            + outcomes.control_failed(
                "have its first request accepted",
                user,
                limit.label(),
                statuses[0],
                first_excerpt,
            )
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


def wrong_types(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The body with one top-level field of another JSON type, for each field."""
    return [(field, {**body, field: fuzz.wrong_type(value)}) for field, value in body.items()]


def _variants(request: Request) -> list[tuple[str, bytes]]:
    body = request.json_body if isinstance(request.json_body, dict) else {}
    variants: list[tuple[str, bytes]] = [
        ("malformed-json", b'{"golive": [{"id": 1,,}'),
        ("truncated-json", b'{"a": '),
        ("not-an-object", json.dumps([1, 2, 3]).encode()),
    ]
    for field, changed in wrong_types(body):
        variants.append((f"wrong-type:{field}", json.dumps(changed).encode()))
    variants.append(("unknown-field", json.dumps({**body, "golive_unknown_field": "x"}).encode()))
    variants.append(("oversized-1MiB", json.dumps({**body, "pad": "x" * OVERSIZED}).encode()))
    return variants


class _Judged:
    """What api.malformed-input found: answers that were wrong or leaked (fail), and the
    groups of requests golive could not get to the app's handler (error)."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.wrong: list[str] = []
        self.errors: list[str] = []
        backend = ctx.target.stripe
        key = getattr(backend, "secret_key", None)
        self.secrets = [*ctx.profile.secrets(), *([key] if key else [])]

    def leaks(self, label: str, body: str | bytes, headers: Any) -> list[str]:
        """The kinds of leak in one answer; each is a wrong answer naming the request."""
        found = leaks.find(body, headers, self.secrets)
        for leak in found:
            self.wrong.append(f"{label}: {leak.kind} in the {leak.where} ({leak.excerpt!r})")
        return leaks.kinds(found)


def _reached(status: int, where: str, login: set[str]) -> bool:
    """The answer came from past the app's routing and golive's credentials."""
    return status not in (401, 404, 405, 429) and not (where and where in login)


def _malformed_endpoint(
    ctx: CheckContext,
    session: UserSession,
    endpoint: Request,
    login: set[str],
    judged: _Judged,
) -> None:
    """api.malformed's endpoint: malformed JSON, wrong types, an unknown field, an
    oversized body; every answer a 4xx without a leak."""
    user = session.name
    statuses: list[int] = []
    seen: list[tuple[str, int, str]] = []  # variant, status, redirect path
    # Each request on a connection of its own: an app that crashes may drop the connection
    # after its answer, and a reused one would then fail the next variant for the wrong
    # reason.
    headers = {"Connection": "close"}
    for variant, content in _variants(endpoint):
        try:
            answer = _send(session, endpoint, headers=headers, content=content)
        except httpx.TransportError as exc:
            ctx.record(request=endpoint.label(), variant=variant, error=repr(exc))
            if variant.startswith("oversized"):
                continue  # the connection closed on a too-large body: a refusal
            judged.wrong.append(f"{endpoint.label()} {variant}: {type(exc).__name__}")
            continue
        statuses.append(answer.status_code)
        where = answer.headers.get("location", "") if answer.is_redirect else ""
        seen.append((variant, answer.status_code, urlsplit(where).path if where else ""))
        found = judged.leaks(f"{endpoint.label()} {variant}", answer.text, answer.headers)
        ctx.record(
            request=endpoint.label(), variant=variant, user=user, status=answer.status_code,
            leaks=found, body_excerpt=_excerpt(ctx, answer),
        )  # fmt: skip
        if answer.status_code == 429:
            judged.errors.append(
                f"{endpoint.label()} answered 429 (rate limited): malformed input could not "
                "be judged"
            )
        elif not 400 <= answer.status_code < 500:
            judged.wrong.append(f"{endpoint.label()} {variant}: {answer.status_code}")
    unreached = [v for v, status, where in seen if status in (401, 404, 405) or where in login]
    if statuses and all(s in SETUP_STATUSES for s in statuses):
        judged.errors.append(
            f"golive could not reach {endpoint.label()} as {user!r}: every variant was "
            f"answered {sorted(set(statuses))} before the app looked at the body (the path "
            "or method, or golive's credentials, are wrong)"
        )
    elif unreached:
        judged.errors.append(
            f"golive could not reach {endpoint.label()} as {user!r} with "
            f"{', '.join(unreached)}: answered 401/404/405 or sent to the login page before "
            "the app looked at the body (the path or method, or golive's credentials, are "
            "wrong)"
        )


def _fuzzed_steps(client: AppClient) -> list[tuple[str, int]]:
    """(job, step index) of the checkout's and fill_cart's steps that send a JSON body
    with fields: the requests the app's own clients make, fuzzed field by field."""
    found = []
    for job in FUZZED_JOBS:
        flow = client.flow_for(job)
        if flow is None:
            continue
        for index, step in enumerate(client.model.flows[flow].steps):
            body = step.request.json_body
            if step.auth and body not in (None, {}, []) and step.request.form is None:
                found.append((job, index))
    return found


def _fuzz_step(
    ctx: CheckContext,
    client: AppClient,
    session: UserSession,
    job: str,
    index: int,
    items: list[dict[str, Any]],
    login: set[str],
    judged: _Judged,
) -> None:
    """One flow step's body, field by field (golive/fuzz.py), sent as user A where A's
    flow stands just before that step (a basket made and filled, when the step needs one):
    a 4xx, or a 5xx without a leak, for each."""
    flow = client.model.flows[client.flow_for(job) or ""]
    step = flow.steps[index]
    name = f"the `{job}` flow's {step.label()}"
    try:
        session, prepared = client.prepare(job, session, {"items": items})
    except FlowError as exc:
        if exc.setup_problem:
            ctx.flow_error(exc)
        judged.errors.append(f"golive could not prepare {name}: {exc}")
        return
    if index > prepared.start:
        ctx.record(request=step.label(), skipped="after the flow's submitting step")
        return
    scope = dict(prepared.scope)
    if step.for_each is not None:
        elements = templates.lookup(scope, step.for_each)
        if not isinstance(elements, list) or not elements:
            return
        leaf = step.for_each.split(".")[-1]  # as the runner binds it: lines -> {line}
        singular = leaf[:-1] if leaf.endswith("s") and len(leaf) > 1 else leaf
        scope.update({"each": elements[0], singular: elements[0]})
    spec = step.request
    path = str(templates.render(spec.path, scope))
    body = templates.render(spec.json_body, scope)
    extra = {str(k): str(v) for k, v in templates.render(dict(spec.headers), scope).items()}
    statuses: list[int] = []
    for variant, changed in fuzz.variants(body):
        headers = {**extra, "Connection": "close"}
        if index == flow.submit_index():
            headers["Idempotency-Key"] = f"golive-fuzz-{uuid.uuid4().hex[:12]}"
        label = f"{spec.method} {path} {variant}"
        try:
            answer = session.request(spec.method, path, json=changed, headers=headers)
        except httpx.TransportError as exc:  # a crash without a word: nothing leaked
            ctx.record(request=f"{spec.method} {path}", flow_step=name, variant=variant,
                       user=session.name, error=repr(exc))  # fmt: skip
            if isinstance(exc, httpx.TimeoutException):
                break  # a silent app answers no other variant either
            continue
        where = answer.headers.get("location", "") if answer.is_redirect else ""
        if _reached(answer.status_code, urlsplit(where).path if where else "", login):
            statuses.append(answer.status_code)
        found = judged.leaks(label, answer.text, answer.headers)
        ctx.record(
            request=f"{spec.method} {path}", flow_step=name, variant=variant,
            user=session.name, status=answer.status_code, leaks=found,
            body_excerpt=_excerpt(ctx, answer),
        )  # fmt: skip
    if not statuses:
        judged.errors.append(
            f"golive could not reach {name} ({spec.method} {path}) as {session.name!r}: "
            "every fuzzed body was answered 401/404/405/429 or sent to the login page before "
            "the app looked at it"
        )


def _fuzz_webhooks(ctx: CheckContext, judged: _Judged) -> None:
    """Correctly signed events with malformed objects (golive/webhook_fuzz.py): any
    answer, a 5xx too (Stripe retries it), but none that leaks the app's insides."""
    app = ctx.target.app
    secret = ctx.profile.env.get(ctx.profile.var("webhook_secret"))
    if app is None or not secret:
        ctx.record(webhooks="not sent: no webhook URL or no webhook secret in the env")
        return
    registered = (ctx.profile.model.app.register_webhook or []) if ctx.profile.model.app else []
    url = app.webhook_url
    host = urlsplit(app.base_url).hostname
    sender.check_url(url, (host,) if host else ())  # loopback or the app's own host only
    handled = False
    answered: list[int] = []
    sends = [
        (variant, event)
        for event_type in webhook_fuzz.types(registered)
        for variant, event in webhook_fuzz.variants(event_type)
    ]
    with httpclient.client(timeout=TIMEOUT_S) as transport:
        for variant, event in sends:
            payload = encode_event(event)
            headers = {**sender.STRIPE_HEADERS, SIGNATURE_HEADER: sign_header(payload, secret)}
            try:
                answer = transport.post(url, content=payload, headers=headers)
            except httpx.TransportError as exc:
                ctx.record(webhook=variant, error=repr(exc))
                if isinstance(exc, httpx.TimeoutException):
                    break  # a silent app answers no other variant either
                continue
            status = answer.status_code
            answered.append(status)
            handled |= 200 <= status < 300 or status >= 500 or status == 422
            found = judged.leaks(f"webhook {variant}", answer.text, answer.headers)
            ctx.record(webhook=variant, status=status, leaks=found,
                       body_excerpt=_excerpt(ctx, answer))  # fmt: skip
    if not handled:
        judged.errors.append(
            "golive could not get a signed event to the webhook handler: the malformed "
            f"events were answered {sorted(set(answered)) or 'nothing'} and none was taken "
            "(2xx) or handled (422/5xx) — check app.webhook_path and the env's webhook secret"
        )


@check("api.malformed-input", needs={"app"})
def test_malformed_input(ctx: CheckContext) -> None:
    """Malformed input never makes the app show its insides, and the profile's endpoints
    refuse it cleanly:

    - api.malformed's endpoints get malformed JSON, wrong types, an oversized body and an
      unknown field: each a 4xx;
    - the checkout's and fill_cart's own JSON bodies (the cart item template within) get
      each field changed (a NUL, an over-long string, another type): a 4xx, or a 5xx;
    - correctly signed webhook events with malformed objects: any answer (Stripe retries a
      5xx).

    No answer's body or headers may show a stack trace, SQL or a driver's error, settings,
    a connection string, the environment or a secret (golive/leaks.py). The control, per
    endpoint, flow step and the webhook: some answer came from past the app's routing and
    golive's credentials (not all 401/404/405, nor the login page), else an error."""
    api = api_config(ctx)
    client = ctx.app_client()
    user = api.users.a
    steps = _fuzzed_steps(client)
    items = (
        [line.model_dump() for line in api.owned.create.items]
        if api.owned and api.owned.create.items
        else api_probes.cart(client.model)
    )
    if not items:
        steps = []  # the flows' bodies need a cart to be rendered
    if not api.malformed and not steps:
        ctx.not_run(
            "the target profile's `api` block has no `api.malformed`, and no checkout or "
            "fill_cart flow with a JSON body (with a cart to fill it) to fuzz: set it"
        )
    judged = _Judged(ctx)
    try:
        session = client.session(user)
        login = _login_paths(client)
        for endpoint in api.malformed:
            _malformed_endpoint(ctx, session, endpoint, login, judged)
        for job, index in steps:
            _fuzz_step(ctx, client, session, job, index, items or [], login, judged)
    except FlowError as exc:  # the user could not be logged in
        ctx.flow_error(exc)
    except templates.TemplateError as exc:
        judged.errors.append(f"golive could not fill in a flow's body to fuzz: {exc}")
    _fuzz_webhooks(ctx, judged)
    if judged.wrong:
        ctx.fail(
            "malformed input not refused cleanly (expected a 4xx, and no internals shown): "
            + "; ".join(judged.wrong)
        )
    if judged.errors:
        ctx.error("; ".join(judged.errors))
