"""The profile's `auth:` block: how every request golive makes to the app carries a user.

One of `header`, `basic` or `cookie` says what each request carries, from the user's
variables or from what a `login` flow captured; `login` alone keeps the cookies the login
set (a session cookie). `csrf` adds the anti-forgery token to unsafe requests. No block:
requests carry no credentials.

```yaml
auth:
  header: {name: Authorization, scheme: Token, value: "{user.token}"}
# auth: {basic: {username: "{user.username}", password: "{user.password}"}}
# auth:                                         # a Django-style session
#   login: {flow: login, expires_on: [401, 403]}
#   csrf: {from: {cookie: csrftoken}, send: {header: X-CSRFToken}}
# auth:                                         # a JWT from a login request
#   login: {flow: login}
#   header: {name: Authorization, scheme: Bearer, value: "{access_token}"}
```
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from golive.validation import NonBlank

UNSAFE = ["POST", "PUT", "PATCH", "DELETE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HeaderAuth(_Strict):
    """A header on every request: `name: scheme value`."""

    name: NonBlank = Field("Authorization", description="Header name")
    scheme: str = Field(
        "Bearer", description='Prefix before the value (Bearer, Token, …); "" sends the bare value'
    )
    value: NonBlank = Field(
        "{user.token}",
        description="The credential: a template of the user's variables ({user.token}) or of "
        "what the login flow captured ({access_token})",
    )


class BasicAuth(_Strict):
    """HTTP Basic authentication."""

    username: NonBlank = Field("{user.username}", description="Template of the user name")
    password: NonBlank = Field("{user.password}", description="Template of the password")


class CookieAuth(_Strict):
    """A session cookie the user already has (set on every request)."""

    name: NonBlank = Field(description="Cookie name")
    value: NonBlank = Field("{user.session}", description="Template of the cookie's value")


class Login(_Strict):
    """A flow that logs a user in; its captures feed `header`/`cookie` templates and the
    cookies it received are kept for the user's later requests."""

    flow: NonBlank = Field(description="Name of the login flow under `flows:`")
    expires_on: list[int] = Field(
        default_factory=lambda: [401],
        description="Statuses that mean the session expired: golive logs in again once "
        "and repeats the request",
    )


class CsrfSource(_Strict):
    """Where the anti-forgery token is read: exactly one of these."""

    cookie: str | None = Field(None, description="A cookie the app sets (csrftoken)")
    header: str | None = Field(None, description="A header of the app's last answer")
    form_field: str | None = Field(
        None, description="A hidden input of the last HTML page (csrfmiddlewaretoken)"
    )

    @model_validator(mode="after")
    def _one(self) -> CsrfSource:
        if sum(v is not None for v in (self.cookie, self.header, self.form_field)) != 1:
            raise ValueError("csrf.from takes exactly one of cookie, header, form_field")
        return self


class CsrfSend(_Strict):
    """How the token goes back: as a header, or as a field of a form or JSON body."""

    header: str | None = Field(None, description="Header name (X-CSRFToken)")
    field: str | None = Field(None, description="Body field name (csrfmiddlewaretoken)")

    @model_validator(mode="after")
    def _one(self) -> CsrfSend:
        if (self.header is None) == (self.field is None):
            raise ValueError("csrf.send takes exactly one of header, field")
        return self


class Csrf(_Strict):
    """Anti-forgery tokens: read from the app's answers, sent with unsafe requests."""

    source: CsrfSource = Field(alias="from", description="Where the token is read")
    send: CsrfSend = Field(description="How it is sent back")
    methods: list[str] = Field(
        default_factory=lambda: list(UNSAFE), description="Methods that carry the token"
    )


class Auth(_Strict):
    """How every request golive makes to the app is authenticated."""

    header: HeaderAuth | None = Field(None, description="A credential header")
    basic: BasicAuth | None = Field(None, description="HTTP Basic")
    cookie: CookieAuth | None = Field(None, description="A pre-set session cookie")
    login: Login | None = Field(None, description="Log each user in with a flow first")
    csrf: Csrf | None = Field(None, description="Anti-forgery token handling")

    @model_validator(mode="after")
    def _one_credential(self) -> Auth:
        given = [n for n in ("header", "basic", "cookie") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"auth takes one of header, basic, cookie (got {', '.join(given)})")
        if not given and self.login is None:
            raise ValueError("auth needs header, basic, cookie or login")
        return self
