"""The profile's `flows:` and `jobs:` blocks: named request sequences, and which one does
each job golive needs (check out, read an order, read or clear the cart, refund, sign up).

```yaml
flows:
  checkout:                         # create a basket, fill it, check it out
    item: {sku: "{item.id}", qty: "{item.quantity}"}    # one cart line, as the app writes it
    steps:
      - request: {method: POST, path: /store/api/baskets/}
        expect: {status: 201}
        capture: {basket: basket.ref}                   # JMESPath into the JSON answer
      - for_each: lines                                 # one request per cart line: {line}
        request: {method: POST, path: "/store/api/baskets/{basket}/lines/", json: "{line}"}
      - request: {method: POST, path: "/store/api/baskets/{basket}/checkout/"}
        capture:
          checkout_session_id: checkout.session_id
          order_id: purchase.ref
  read_order:
    - request: {method: GET, path: "/store/api/purchases/{order_id}/"}
      capture: {status: state}
jobs: {checkout: checkout, read_order: read_order}      # default: the flow of the job's name
```

Templates: "{name}" is a variable (a step's capture, the flow's `vars`, what golive passes
the job, {user.<var>} of the acting user); a string that is only one placeholder keeps the
value's type, so `json: "{line}"` sends an object and `"{item.quantity}"` a number.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# What golive passes each job, beyond the acting user ({user.…}) and the flow's own vars.
JOB_INPUTS: dict[str, tuple[str, ...]] = {
    "checkout": ("items", "lines"),
    "read_order": ("order_id", "payment_intent_id"),
    "read_cart": (),
    "clear_cart": (),
    "fill_cart": ("items", "lines"),
    "checkout_cart": (),
    "refund": ("order_id", "payment_intent_id", "amount"),
    "signup": (),
    "login": (),
}
# What a job's flow must capture for golive to use it (one of each tuple).
JOB_OUTPUTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "checkout": (("payment_intent_id", "client_secret", "checkout_session_id"),),
    "read_order": (("status",),),
    "read_cart": (("lines",),),
    "checkout_cart": (("payment_intent_id", "client_secret", "checkout_session_id"),),
}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)(?::([^{}]*))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RequestSpec(_Strict):
    """One HTTP request to the app; every string may hold {variables}."""

    method: Method = Field("GET", description="HTTP method")
    path: str = Field(pattern=r"^/", description="Path on the app's base URL (with query)")
    json_body: Any = Field(None, alias="json", description="JSON body")
    form: dict[str, Any] | None = Field(None, description="Form-encoded body")
    query: dict[str, Any] | None = Field(None, description="Query parameters")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers")

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        if self.json_body is not None and self.form is not None:
            raise ValueError("a request has either a json or a form body, not both")
        return self

    def label(self) -> str:
        return f"{self.method} {self.path}"


class Capture(_Strict):
    """Where a value is read from an answer: exactly one of these."""

    json_path: str | None = Field(
        None, alias="json", description="JMESPath expression into the JSON answer"
    )
    header: str | None = Field(None, description="An answer header")
    cookie: str | None = Field(None, description="A cookie in the user's jar after the answer")
    form_field: str | None = Field(None, description="The value of an HTML input of that name")
    regex: str | None = Field(None, description="First group (or match) of a regex on the body")
    derive: Literal["payment_intent_id"] | None = Field(
        None,
        description="payment_intent_id: the captured value is a client_secret "
        "(pi_…_secret_…), keep the PaymentIntent id",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"json": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one(self) -> Capture:
        sources = (self.json_path, self.header, self.cookie, self.form_field, self.regex)
        if sum(s is not None for s in sources) != 1:
            raise ValueError(
                "a capture takes exactly one of json, header, cookie, form_field, regex"
            )
        if self.json_path is not None:
            import jmespath
            from jmespath.exceptions import JMESPathError

            try:
                jmespath.compile(self.json_path)
            except JMESPathError as exc:
                raise ValueError(f"json {self.json_path!r} is not JMESPath: {exc}") from None
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r}: {exc}") from None
        return self

    def label(self) -> str:
        for kind in ("json_path", "header", "cookie", "form_field", "regex"):
            if getattr(self, kind) is not None:
                return f"{kind.removesuffix('_path')} {getattr(self, kind)!r}"
        return "?"


class Expect(_Strict):
    """What the answer must be for the flow to go on."""

    status: int | list[int] | None = Field(
        None, description="Status or statuses (default: any below 400)"
    )

    def accepts(self, status: int) -> bool:
        if self.status is None:
            return status < 400
        allowed = self.status if isinstance(self.status, list) else [self.status]
        return status in allowed


class Step(_Strict):
    """One request of a flow, what it must answer and what to keep from the answer."""

    name: str | None = Field(None, description="Shown in evidence (default: method and path)")
    request: RequestSpec = Field(description="The request")
    expect: Expect = Field(default_factory=Expect, description="The answer it must get")
    capture: dict[str, Capture] = Field(
        default_factory=dict,
        description="Variables read from the answer (a string is a JMESPath expression); "
        "later steps and golive read them",
    )
    for_each: str | None = Field(
        None,
        description="Repeat the step for each element of this list variable (lines, items), "
        "the element as {line} / {item} (or {each})",
    )
    auth: bool = Field(True, description="Send the user's credentials (false: anonymous)")
    submit: bool = Field(
        False,
        description="The step that submits the order (default: the last step with a body): "
        "fields a price check adds at the top of the body go here",
    )

    def label(self) -> str:
        return self.name or self.request.label()


class Flow(_Strict):
    """A named sequence of requests (a list of steps is accepted as the steps)."""

    description: str = Field("", description="What the flow does, for people")
    vars: dict[str, Any] = Field(default_factory=dict, description="Default variables")
    inputs: list[str] = Field(
        default_factory=list, description="Variables the caller passes beyond the job's own"
    )
    item: dict[str, Any] | None = Field(
        None,
        description="How one cart line is written ({item.id}, {item.quantity}); {lines} is "
        "the list of them, each step of `for_each: lines` gets one as {line}",
    )
    steps: list[Step] = Field(min_length=1, description="The requests, in order")

    @model_validator(mode="before")
    @classmethod
    def _steps_only(cls, value: Any) -> Any:
        return {"steps": value} if isinstance(value, list) else value

    def captures(self) -> set[str]:
        return {name for step in self.steps for name in step.capture}

    def submit_index(self) -> int | None:
        marked = [i for i, step in enumerate(self.steps) if step.submit]
        if marked:
            return marked[-1]
        with_body = [
            i
            for i, step in enumerate(self.steps)
            if step.request.json_body is not None or step.request.form is not None
        ]
        return with_body[-1] if with_body else None


class Jobs(_Strict):
    """Which flow does each job (default: the flow named like the job, if any)."""

    checkout: str | None = Field(
        None,
        description="Places an order for {lines}; captures payment_intent_id, client_secret "
        "or checkout_session_id (and order_id, amount when the app answers them)",
    )
    read_order: str | None = Field(
        None, description="Reads the order back; captures status (and lines, subtotal)"
    )
    read_cart: str | None = Field(None, description="Reads the cart; captures lines")
    clear_cart: str | None = Field(None, description="Empties the cart")
    fill_cart: str | None = Field(None, description="Puts {lines} in the cart")
    checkout_cart: str | None = Field(
        None, description="Checks out what the cart holds; captures as `checkout` does"
    )
    refund: str | None = Field(None, description="Refunds an order through the app")
    signup: str | None = Field(None, description="Creates a pool user ({user.…})")

    @field_validator("*")
    @classmethod
    def _named(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("name a flow")
        return value


def placeholders(template: Any) -> set[str]:
    """Every variable name a template reads (the part before the first dot)."""
    found: set[str] = set()
    if isinstance(template, dict):
        for value in template.values():
            found |= placeholders(value)
    elif isinstance(template, list):
        for value in template:
            found |= placeholders(value)
    elif isinstance(template, str):
        found |= {m.group(1).split(".")[0] for m in PLACEHOLDER.finditer(template)}
    return found
