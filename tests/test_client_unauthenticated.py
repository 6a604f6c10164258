"""Sessions without a valid credential (golive/client/unauthenticated.py), for every kind of
`auth:` the profile may give, against tests/authapp.py: what they send, and that the app
refuses them where the user's own session is let in."""

from __future__ import annotations

import base64
import textwrap
from pathlib import Path

import pytest

from golive import profile
from golive.client import unauthenticated
from golive.client.app import AppClient
from tests import authapp

USERS = "users: {ada: {token: t-ada, username: ada, password: pw-ada, email: ada@example.com}}\n"
JWT_LOGIN = """\
flows:
  login:
    - request: {method: POST, path: /auth/token,
                json: {email: "{user.email}", password: "{user.password}"}}
      capture: {access: data.access}
"""
SESSION_LOGIN = """\
flows:
  login:
    - request: {path: /login/}
      capture: {csrf: {form_field: csrfmiddlewaretoken}}
    - request:
        method: POST
        path: /login/
        form: {username: "{user.username}", password: "{user.password}",
               csrfmiddlewaretoken: "{csrf}"}
      expect: {status: 302}
      capture: {session: {cookie: sessionid}}
"""
INVALID_BASIC = base64.b64encode(b"golive-invalid-username:golive-invalid-password").decode()

KINDS = {
    "token": ("auth: {header: {scheme: Token}}\n", "Token golive-invalid-token", None),
    "basic": ("auth: {basic: {}}\n", f"Basic {INVALID_BASIC}", None),
    "jwt": (
        "auth: {login: {flow: login}, header: {value: '{access}'}}\n" + JWT_LOGIN,
        "Bearer golive-invalid-access",
        None,
    ),
    "session": (
        "auth:\n  login: {flow: login}\n"
        "  csrf: {from: {cookie: csrftoken}, send: {header: X-CSRFToken}}\n" + SESSION_LOGIN,
        None,
        "sessionid=golive-invalid-session",
    ),
}


def _client(tmp_path: Path, app: authapp.AuthApp, text: str) -> AppClient:
    path = tmp_path / "target.yaml"
    path.write_text("name: t\nmode: test\n" + USERS + textwrap.dedent(text))
    return AppClient(profile.load(path).model, app.base_url, base_dir=tmp_path)


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_and_invalid_credentials_are_refused_where_the_user_gets_in(
    tmp_path: Path, kind: str
) -> None:
    text, header, cookie = KINDS[kind]
    with authapp.running() as app:
        client = _client(tmp_path, app, text)
        path = f"/{kind}/me"
        assert client.session("ada").request("GET", path).status_code == 200
        logins = app.state.logins
        anonymous = unauthenticated.anonymous(client)
        invalid = unauthenticated.invalid(client, "ada")
        assert invalid is not None
        assert anonymous.request("GET", path, auth=False).status_code == 401
        anonymous_sent = app.state.requests[-1][2]
        assert invalid.request("GET", path).status_code == 401
        invalid_sent = app.state.requests[-1][2]
        anonymous.close()
        invalid.close()
        client.close()
    assert app.state.logins == logins  # neither logged in
    assert "Authorization" not in anonymous_sent and "Cookie" not in anonymous_sent
    assert invalid_sent.get("Authorization") == header
    if cookie is not None:
        assert cookie in invalid_sent.get("Cookie", "")


def test_without_a_credential_to_spoil_there_is_no_invalid_session(tmp_path: Path) -> None:
    with authapp.running() as app:
        bare = _client(tmp_path, app, "flows: {me: [{request: {path: /token/me}}]}\n")
        assert unauthenticated.invalid(bare, "ada") is None  # no auth: at all
        uncaptured = SESSION_LOGIN.replace("\n      capture: {session: {cookie: sessionid}}", "")
        login_only = _client(tmp_path, app, "auth: {login: {flow: login}}\n" + uncaptured)
        assert unauthenticated.invalid(login_only, "ada") is None  # the cookie is not named
