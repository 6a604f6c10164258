"""One user's requests to the app, carrying the profile's `auth`.

Every request golive makes to the app goes through a UserSession: the credential header,
Basic authentication or session cookie; a login flow run before the first request and
again once when an answer says the session expired; the anti-forgery token on unsafe
requests. No other module builds credentials (a test greps for it).

The transport is an httpx.Client (checks, smoke) or a Locust HttpSession (load): both
take `request(method, url, json=, data=, params=, headers=)` and keep a cookie jar.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import Any

from golive.client import captures, templates
from golive.client.errors import FlowError, LoginError
from golive.profile.auth import Auth
from golive.profile.flows import Flow


class UserSession:
    def __init__(
        self,
        *,
        name: str,
        variables: Mapping[str, Any],
        auth: Auth | None,
        flows: Mapping[str, Flow],
        transport: Any,
        excerpt: Callable[[str, int], str] = lambda text, limit: text[:limit],
        close: Callable[[], None] | None = None,
        on_login: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.name = name
        self.user = dict(variables)
        self.auth = auth
        self.flows = flows
        self.transport = transport
        self.excerpt = excerpt
        self.session_vars: dict[str, Any] = {}  # what the login flow captured
        self._logged_in = False
        self._csrf_seen: str | None = None  # from an answer's header or page
        self._close = close
        self._on_login = on_login  # told what a login captured (the run masks it)

    # -- requests ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        form: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        **extra: Any,
    ) -> Any:
        """Send one request as this user; logs in first, and once more if the answer says
        the session expired. Transport errors propagate (httpx or requests)."""
        if auth:
            self.log_in()
        answer = self._send(method, path, json, form, query, headers, auth, extra)
        login = self.auth.login if self.auth else None
        if auth and login is not None and answer.status_code in login.expires_on:
            self._logged_in = False
            self.log_in()
            answer = self._send(method, path, json, form, query, headers, auth, extra)
        return answer

    def _send(
        self,
        method: str,
        path: str,
        json: Any,
        form: dict[str, Any] | None,
        query: dict[str, Any] | None,
        headers: dict[str, str] | None,
        auth: bool,
        extra: dict[str, Any],
    ) -> Any:
        sent = dict(headers or {})
        if auth:
            sent.update(self._credentials())
        json, form = self._with_csrf(method, sent, json, form)
        body: dict[str, Any] = {}
        if json is not None:
            body["json"] = json
        if form is not None:
            body["data"] = form
        if query:
            body["params"] = query
        answer = self.transport.request(method, path, headers=sent, **body, **extra)
        self._remember_csrf(answer)
        return answer

    # -- credentials -----------------------------------------------------------------------------

    def scope(self) -> dict[str, Any]:
        """What templates of this user see: {user.…} and the login's captures."""
        return {**self.session_vars, "user": self.user}

    def _credentials(self) -> dict[str, str]:
        auth = self.auth
        if auth is None:
            return {}
        try:
            if auth.header is not None:
                value = str(templates.render(auth.header.value, self.scope()))
                scheme = auth.header.scheme.strip()
                return {auth.header.name: f"{scheme} {value}" if scheme else value}
            if auth.basic is not None:
                user = templates.render(auth.basic.username, self.scope())
                password = templates.render(auth.basic.password, self.scope())
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                return {"Authorization": f"Basic {token}"}
            if auth.cookie is not None:
                value = str(templates.render(auth.cookie.value, self.scope()))
                self.transport.cookies.set(auth.cookie.name, value)
        except templates.TemplateError as exc:
            raise LoginError(self.name, f"auth: {exc}") from None
        return {}

    def log_in(self) -> None:
        """Run the login flow once (again after an expiry); LoginError when it fails."""
        login = self.auth.login if self.auth else None
        if login is None or self._logged_in:
            return
        from golive.client.runner import run_flow  # the runner sends through sessions

        try:
            run = run_flow(self, login.flow, {}, logging_in=True)
        except FlowError as exc:
            raise LoginError(self.name, exc) from None
        self.session_vars.update(run.variables)
        self._logged_in = True
        if self._on_login is not None:
            self._on_login(run.variables)

    # -- CSRF ------------------------------------------------------------------------------------

    def _csrf_token(self) -> str | None:
        csrf = self.auth.csrf if self.auth else None
        if csrf is None:
            return None
        if csrf.source.cookie is not None:
            return captures.cookie(self.transport.cookies, csrf.source.cookie)
        return self._csrf_seen

    def _with_csrf(
        self, method: str, headers: dict[str, str], json: Any, form: dict[str, Any] | None
    ) -> tuple[Any, dict[str, Any] | None]:
        csrf = self.auth.csrf if self.auth else None
        if csrf is None or method.upper() not in csrf.methods:
            return json, form
        token = self._csrf_token()
        if token is None:
            return json, form
        if csrf.send.header is not None:
            headers.setdefault(csrf.send.header, token)
        elif form is not None:
            form = {csrf.send.field: token, **form}
        elif isinstance(json, dict):
            json = {csrf.send.field: token, **json}
        elif json is None:
            form = {csrf.send.field: token}
        return json, form

    def _remember_csrf(self, answer: Any) -> None:
        csrf = self.auth.csrf if self.auth else None
        if csrf is None:
            return
        if csrf.source.header is not None:
            value = answer.headers.get(csrf.source.header)
        elif csrf.source.form_field is not None and "html" in answer.headers.get(
            "content-type", ""
        ):
            value = captures.form_field(answer.text, csrf.source.form_field)
        else:
            return
        if value:
            self._csrf_seen = value

    def close(self) -> None:
        if self._close is not None:
            self._close()
