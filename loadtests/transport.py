"""A Locust FastHttpSession as the transport of golive's UserSession (golive/client/session.py).

Every request the load scenarios send to the app goes through the profile's users, auth and
flows (a UserSession running the profile's jobs); this adapter puts those requests on
Locust's own HTTP client, so Locust times them and counts them under the scenario's names
(`cart_add`, `checkout`, …; loadtests/metrics.py), and gives the session what it needs of a
transport:

- `request(method, url, json=, data=, params=, headers=)` returning an answer with
  `status_code`, `headers`, `text` and `json()`: form bodies are encoded here, redirects are
  not followed (as golive's httpx client), and an answer that never came (status 0) is raised
  as an `httpx.TransportError`, which the flow runner reports as "got no answer";
- `cookies`: the session's cookie jar (iterable Cookie items, `.set(name, value)`), for cookie
  auth, login sessions and CSRF tokens.

Counting: the requests of one job (`with transport.job(m.CHECKOUT): …`) carry its name and
are reported to Locust when the job ends: every one a success, except the one the flow
stopped at (an unexpected status, a missing capture, no answer), which is the failure with
the flow's reason. So Locust's verdict is the flow's own `expect:` and captures, as the
checks judge them. Job names and pending answers are per greenlet: the race's concurrent
copies, and Locust users acting as the same member, each count their own.

No locust import here: the adapter works on anything shaped like FastHttpSession (`request`
with Locust's `name=` and `catch_response=`, a `cookiejar`), and the tests drive it with one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import urlencode

import httpx

from golive.client.errors import FlowError

# What the flow runner raises for a request the app did answer, but not as the flow expects;
# a template error stops a flow before its request is sent (nothing to count as failed).
_ANSWERED_WRONG = ("status", "capture", "transport")


class Cookies:
    """The FastHttpSession's cookie jar as golive's session reads and writes it."""

    def __init__(self, jar: CookieJar) -> None:
        self.jar = jar

    def __iter__(self) -> Iterator[Cookie]:
        return iter(self.jar)

    def set(self, name: str, value: str) -> None:
        """A cookie sent to every host and path (as httpx's and requests' `set` make it)."""
        self.jar.set_cookie(
            Cookie(
                version=0,
                name=name,
                value=value,
                port=None,
                port_specified=False,
                domain="",
                domain_specified=False,
                domain_initial_dot=False,
                path="/",
                path_specified=True,
                secure=False,
                expires=None,
                discard=True,
                comment=None,
                comment_url=None,
                rest={},
            )
        )


class Answer:
    """One of Locust's answers as golive reads it: `text` is always a string and `json()`
    raises ValueError on anything that is not JSON. Both are worked out once: a flow step
    reads the answer once per capture."""

    _UNREAD = object()

    def __init__(self, response: Any) -> None:
        self.response = response
        self.status_code: int = response.status_code
        self.headers: Any = response.headers if response.headers is not None else {}
        self._text: str | None = None
        self._json: Any = self._UNREAD

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.response.text or ""
        return self._text

    def json(self) -> Any:
        if self._json is self._UNREAD:
            try:
                self._json = json.loads(self.text)
            except ValueError as exc:
                self._json = ValueError(f"not JSON: {exc}")
        if isinstance(self._json, ValueError):
            raise self._json
        return self._json


class LocustTransport:
    """golive's transport over a Locust FastHttpSession (see the module's docstring)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies = Cookies(client.cookiejar)
        # Not followed, as golive's own client does not: a login that answers 302 is one.
        client.client.redirect_response_codes = frozenset()
        # This greenlet's job: the name its requests count under, the answers not reported
        # yet (made here, once Locust's gevent has made threading.local greenlet-local).
        self._job = threading.local()

    @contextmanager
    def job(self, name: str) -> Iterator[None]:
        """Count the requests sent inside under `name`; report them when the block ends."""
        outer = (getattr(self._job, "name", None), getattr(self._job, "pending", None))
        pending: list[Any] = []
        self._job.name, self._job.pending = name, pending
        try:
            yield
        except FlowError as exc:
            _settle(pending, exc.reason if exc.kind in _ANSWERED_WRONG else None)
            raise
        except BaseException as exc:
            _settle(pending, f"{type(exc).__name__}: {exc}")
            raise
        else:
            _settle(pending, None)
        finally:
            self._job.name, self._job.pending = outer

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Answer:
        sent = dict(headers or {})
        if isinstance(data, dict):
            data = urlencode({k: "" if v is None else v for k, v in data.items()}, doseq=True)
            if not any(k.lower() == "content-type" for k in sent):
                sent["Content-Type"] = "application/x-www-form-urlencoded"
        name = getattr(self._job, "name", None)
        response = self.client.request(
            method,
            url,
            name=name,
            json=json,
            data=data,
            params=params,
            headers=sent,
            catch_response=True,
            **extra,
        )
        pending = getattr(self._job, "pending", None)
        if pending is not None:
            pending.append(response)
        else:  # outside a job: reported now, on its status alone
            _settle([response], None if 0 < response.status_code < 400 else "")
        if not response.status_code:
            error = getattr(response, "error", None) or "no answer"
            raise httpx.TransportError(str(error))
        return Answer(response)


def _settle(pending: list[Any], failure: str | None) -> None:
    """Report a job's answers to Locust: the last one failed when `failure` is a reason
    ("" for its status alone), every other one succeeded."""
    for index, response in enumerate(pending):
        with response:
            if failure is not None and index == len(pending) - 1:
                response.failure(failure or f"HTTP {response.status_code}")
            else:
                response.success()
    pending.clear()
