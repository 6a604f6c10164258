"""The profile's `api` block: how the API security checks act on the running target.

```yaml
api:
  users:                      # two ordinary users of the app
    a: {token: tok_alice_ca}
    b: {token: tok_bob_ny}
  auth_header: Authorization  # default
  auth_scheme: Bearer         # default; "" sends the bare token
  endpoints:                  # non-webhook endpoints that must refuse unauthenticated calls
  - {method: GET, path: /api/v1/me}
  - {method: POST, path: /api/v1/cart/items, json: {food_item_id: 1, quantity: 1}}
  owned:                      # a resource of user A that user B must not read or change
    create: {method: POST, path: /api/v1/stripe/create-payment-intent, json: {...}}
    id_field: order_id        # where the new resource's id is in create's JSON answer
    probes:                   # {id} is replaced by that id
    - {method: GET, path: "/api/v1/orders/{id}"}
    - {method: POST, path: "/api/v1/orders/{id}/refund"}
  cors: {foreign_origin: https://evil.example.net, path: /api/v1/menu}
  rate_limit: {method: POST, path: ..., json: {...}, burst: 30, expect_429_within: 25}
  malformed:                  # endpoints sent malformed JSON, wrong types, oversized bodies
  - {method: POST, path: /api/v1/stripe/create-payment-intent, json: {...}}
```

Checks read it through `api_config(ctx)`: no block is `not-run` naming the profile key,
an invalid one an error naming the field.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class User(_Strict):
    token: str = Field(min_length=1, description="The user's credential, sent in auth_header")


class Users(_Strict):
    a: User = Field(description="The owner of the resource in the authorization probe")
    b: User = Field(description="Another ordinary user, who must not reach A's resources")


class Request(_Strict):
    method: Method = Field(description="HTTP method")
    path: str = Field(pattern=r"^/", description="Path on the app's base URL")
    json_body: Any = Field(None, alias="json", description="JSON body to send, if any")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def label(self) -> str:
        return f"{self.method} {self.path}"


class Owned(_Strict):
    create: Request = Field(description="How user A gets a resource of their own")
    id_field: str = Field("id", description="The new resource's id in create's JSON answer")
    probes: list[Request] = Field(
        min_length=1, description="Requests on that resource, `{id}` in the path"
    )

    @model_validator(mode="after")
    def _templated(self) -> Owned:
        for probe in self.probes:
            if "{id}" not in probe.path:
                raise ValueError(f"probe path {probe.path!r} has no {{id}} placeholder")
        return self


class Cors(_Strict):
    foreign_origin: str = Field(
        "https://evil.example.net", pattern=r"^https?://", description="An origin not allowed"
    )
    path: str = Field("/", pattern=r"^/", description="Path the preflight and request go to")
    method: Method = Field("GET", description="The simple request's method")
    request_method: Method = Field("POST", description="Access-Control-Request-Method")


class RateLimit(Request):
    token: str | None = Field(
        None,
        description="Token the burst is sent with (default user b's): a user of its own "
        "keeps the burst from using up the other checks' quota",
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

    users: Users = Field(description="Two ordinary users of the app")
    auth_header: str = Field(
        "Authorization", min_length=1, description="The header a user's credential is sent in"
    )
    auth_scheme: str = Field("Bearer", description="Prefix of the token; '' for none")
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

    def auth(self, token: str) -> dict[str, str]:
        value = f"{self.auth_scheme} {token}" if self.auth_scheme else token
        return {self.auth_header: value}


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
