"""Sessions without a valid credential, for the checks that prove the app refuses them.

They are UserSessions like any other, so no check builds a credential itself; what they
send follows from the profile's `auth:`:

`anonymous(client)` — a fresh session (an empty cookie jar) whose requests are sent with
`auth=False`: no header, no Basic, no cookie, no login. CSRF is handled as for anyone (a
token is sent only if this session's own answers gave one), so an app with CSRF may refuse
its unsafe requests before it looks for a user.

`invalid(client, user)` — the same requests `user` would send, every credential value
replaced by an invalid one of the same name (`golive-invalid-<name>`), through the
session's own templates:

| `auth:`                         | what the invalid session sends                          |
| ------------------------------- | ------------------------------------------------------- |
| header from {user.…}            | the header, `scheme golive-invalid-token`               |
| basic                           | Basic of `golive-invalid-username:golive-invalid-password` |
| cookie                          | the cookie, `golive-invalid-session`                    |
| login + header/cookie           | the login is not run; the header or cookie templates read its captures as `golive-invalid-<capture>` |
| login alone (its cookies)       | the cookies the login flow captures (`capture: {x: {cookie: name}}`), invalid; none captured: no invalid session (`None`) |
| no `auth:`                      | no invalid session (`None`): there is no credential to spoil |
"""

from __future__ import annotations

from typing import Any

from golive import httpclient
from golive.client.session import UserSession
from golive.redact import excerpt

INVALID = "golive-invalid-{name}"


def _transport(client: Any) -> Any:
    return httpclient.client(base_url=client.base_url, timeout=client.timeout)


def _session(client: Any, name: str, variables: dict[str, Any], auth: Any) -> UserSession:
    transport = _transport(client)
    return UserSession(
        name=name,
        variables=variables,
        auth=auth,
        flows=client.model.flows,
        transport=transport,
        excerpt=lambda text, limit: excerpt(client.redactor, text, limit),
        close=transport.close,
    )


def anonymous(client: Any) -> UserSession:
    """A session that carries no credential: send its requests with `auth=False`."""
    return _session(client, "anonymous", {}, client.model.auth)


def invalid(client: Any, user: str) -> UserSession | None:
    """A session sending what `user` would, each credential value invalid; None when the
    profile's `auth:` has no credential that could be spoiled (see the module's table)."""
    auth = client.model.auth
    if auth is None:
        return None
    variables = {
        name: INVALID.format(name=name) for name in client.user_vars(user) if name != "name"
    }
    variables["name"] = "invalid"
    captured: dict[str, str] = {}
    cookies: dict[str, str] = {}
    if auth.login is not None:
        flow = client.model.flows[auth.login.flow]
        for step in flow.steps:
            for name, spec in step.capture.items():
                captured[name] = INVALID.format(name=name)
                if spec.cookie is not None:
                    cookies[spec.cookie] = INVALID.format(name=name)
        if auth.header is None and auth.basic is None and auth.cookie is None and not cookies:
            return None
    session = _session(client, "invalid", variables, auth.model_copy(update={"login": None}))
    session.session_vars.update(captured)
    for name, value in cookies.items():
        session.transport.cookies.set(name, value)
    return session
