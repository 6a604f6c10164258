"""The profile's `api` block: how the API security checks act on the running target.

Who acts is named, not written here: `users` are names under the profile's `users:`, and
every request carries what the profile's `auth:` says (a header with any scheme, Basic, a
cookie, a login flow with CSRF) through golive/client/. Paths are the app's own.

```yaml
api:
  users: {a: alice, b: bob}   # two ordinary users (names under `users:`); B must not reach A's
  endpoints:                  # non-webhook endpoints that must refuse calls without a valid
  - {method: GET, path: /api/v1/me}                                  # credential
  - {method: POST, path: /api/v1/cart/items, json: {food_item_id: 1, quantity: 1}}
  owned:                      # a resource of user A that user B must not read or change
    create: {job: checkout, items: [{id: 2, quantity: 1}]}  # how A gets it (default job:
    id: order_id              # checkout); `id` is the capture of that flow naming the resource
    probes:                   # requests on it; {<capture>} is any capture of that flow
    - {method: GET, path: "/api/v1/orders/{order_id}"}     # GET: A's own must succeed first
    - {method: POST, path: "/api/v1/orders/{order_id}/refund"}   # others: only B sends them
  cors: {foreign_origin: https://evil.example.net, path: /api/v1/menu}
  rate_limit: {method: POST, path: ..., json: {...}, user: carol, burst: 30,
               expect_429_within: 25}   # user: default users.b; one of its own spares the
                                        # others' quota
  malformed:                  # endpoints sent malformed JSON, wrong types, oversized bodies
  - {method: POST, path: /api/v1/stripe/create-payment-intent, json: {...}}
```

`owned.create.job` is a job (golive/profile/flows.py: `checkout`, `fill_cart`, …, done by
the flow `jobs:` names or the flow of its name) or any flow's name; `items` ({id,
quantity}) are its cart lines (required for `checkout`). When the profile loads, the job
must have a flow, `id` must be one of its captures, and every {placeholder} of the probes
too (exit 2 with the line).

`owned` is one resource; api.authorization also replays, as B, every request A's own
flows send on what they created (a step whose path holds a capture of a POST/PUT/PATCH
step: a basket, its lines, the order, its refund; golive/api_probes.py). With no `owned`,
A's checkout for those probes buys `data.probe.items`, else `pricing.carts.single`, else
`smoke.items`. api.malformed-input likewise fuzzes the checkout's and fill_cart's own JSON
bodies besides `malformed`'s endpoints, and sends signed malformed webhook events.

"Without a valid credential" (api.auth-required) means two requests per endpoint, both
built by golive/client/unauthenticated.py from the profile's `auth:`, never by hand: `none`
— a fresh session sending no credential (no header, no Basic, no cookie, no login), and
`invalid` — what user A would send with every credential value replaced by an invalid one.
Refused is 401, 403, or (a login flow's app) a redirect to a path of the login flow. With
`auth.csrf`, an unsafe request without a session's token may be refused by the CSRF check
before authentication is reached (a 403 either way): list GET endpoints too.

Checks read it through `api_config(ctx)`: no block is `not-run` naming the profile key,
an invalid one an error naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from golive.profile.flows import placeholders
from golive.profile.names import UserName
from golive.profile.pricing import CartLine
from golive.validation import NonBlank

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Users(_Strict):
    a: UserName = Field(description="The owner of the resource in the authorization probe")
    b: UserName = Field(description="Another ordinary user, who must not reach A's resources")

    @model_validator(mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key, user in value.items():
                if isinstance(user, dict):
                    raise ValueError(
                        f"api.users.{key} names a user of `users:` (e.g. `a: alice`); the "
                        "credential goes under `users:` and `auth:`"
                    )
        return value

    @model_validator(mode="after")
    def _two(self) -> Users:
        if self.a == self.b:
            raise ValueError("api.users.a and api.users.b must be two users")
        return self


class Request(_Strict):
    method: Method = Field(description="HTTP method")
    path: str = Field(pattern=r"^/", description="Path on the app's base URL")
    json_body: Any = Field(None, alias="json", description="JSON body to send, if any")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def label(self) -> str:
        return f"{self.method} {self.path}"


class Create(_Strict):
    job: NonBlank = Field(
        "checkout", description="The job (checkout, fill_cart, …) or flow that makes the resource"
    )
    items: list[CartLine] = Field(
        default_factory=list, description="Its cart lines ({id, quantity}); checkout needs some"
    )

    @model_validator(mode="after")
    def _items(self) -> Create:
        if self.job == "checkout" and not self.items:
            raise ValueError("the checkout job needs `items` (e.g. [{id: 1, quantity: 1}])")
        return self


class Owned(_Strict):
    create: Create = Field(description="How user A gets a resource of their own")
    id: NonBlank = Field(
        description="The capture of create's flow that names the resource (e.g. order_id)"
    )
    probes: list[Request] = Field(
        min_length=1, description="Requests on that resource, `{<id>}` in the path"
    )

    @model_validator(mode="after")
    def _templated(self) -> Owned:
        for probe in self.probes:
            if f"{{{self.id}}}" not in probe.path:
                raise ValueError(f"probe path {probe.path!r} has no {{{self.id}}} placeholder")
        return self


class Cors(_Strict):
    foreign_origin: str = Field(
        "https://evil.example.net", pattern=r"^https?://", description="An origin not allowed"
    )
    path: str = Field("/", pattern=r"^/", description="Path the preflight and request go to")
    method: Method = Field("GET", description="The simple request's method")
    request_method: Method = Field("POST", description="Access-Control-Request-Method")


class RateLimit(Request):
    user: UserName | None = Field(
        None,
        description="Who sends the burst (default users.b): a user of its own keeps the "
        "burst from using up the other checks' quota",
    )
    burst: int = Field(30, ge=1, le=1000, description="At most this many requests are sent")
    expect_429_within: int = Field(25, ge=1, description="A 429 must come by this request")

    @model_validator(mode="after")
    def _bounded(self) -> RateLimit:
        if self.expect_429_within > self.burst:
            raise ValueError("expect_429_within must not exceed burst")
        return self


class ApiProfile(_Strict):
    """How the API security checks act on the app: its users, endpoints and probes."""

    users: Users = Field(description="Two ordinary users of the app (names under `users:`)")
    endpoints: list[Request] = Field(
        default_factory=list, description="Non-webhook endpoints that must refuse anonymity"
    )
    owned: Owned | None = Field(
        None, description="A resource of user A that user B must not reach (authorization)"
    )
    cors: Cors | None = Field(None, description="The CORS probe: a foreign origin is refused")
    rate_limit: RateLimit | None = Field(
        None, description="The burst that must meet a 429 (rate limiting)"
    )
    malformed: list[Request] = Field(
        default_factory=list, description="Endpoints sent malformed and oversized input"
    )

    def references(self, model: Any) -> list[tuple[tuple[str | int, ...], str]]:
        """What must exist in the profile (checked when it loads): the flow that creates
        the owned resource, and the captures its probes read."""
        from golive.profile.references import flow_for, job_missing, known_names

        if self.owned is None:
            return []
        create = self.owned.create
        flow = flow_for(model, create.job)
        if flow is None:
            return [(("owned", "create", "job"), job_missing(model, create.job))]
        captured = model.flows[flow].captures()
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.owned.id not in captured:
            problems.append(
                (
                    ("owned", "id"),
                    f"flow {flow!r} (the {create.job!r} job) captures no {self.owned.id!r} "
                    f"({known_names(captured)})",
                )
            )
        for index, probe in enumerate(self.owned.probes):
            for part, template in (("path", probe.path), ("json", probe.json_body)):
                for var in sorted(placeholders(template) - captured):
                    problems.append(
                        (
                            ("owned", "probes", index, part),
                            f"{{{var}}} is not a capture of flow {flow!r} "
                            f"({known_names(captured)})",
                        )
                    )
        return problems


class ApiProfileError(ValueError):
    """The profile's `api` block is invalid; the message names the field."""


def parse(block: dict[str, Any]) -> ApiProfile:
    try:
        return ApiProfile.model_validate(block)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in ("api", *error["loc"]))
            problems.append(f"{where}: {error['msg']}")
        raise ApiProfileError("invalid profile block " + "; ".join(problems)) from None


def api_config(ctx: Any) -> ApiProfile:
    """The validated `api` block of the check's profile (not-run when there is none)."""
    block = ctx.profile.model.api
    if block is None:
        ctx.not_run("the target profile has no `api` block (users, endpoints, …): set `api`")
    return parse(block)


def section(ctx: Any, api: ApiProfile, name: str) -> Any:
    """One sub-block of `api`, or not-run naming it."""
    value = getattr(api, name)
    if value is None or value == []:
        ctx.not_run(f"the target profile's `api` block has no `api.{name}`: set it")
    return value
