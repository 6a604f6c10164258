"""What every JSON endpoint under /store/api/ shares.

- Authentication is Django's session cookie (`sessionid`); an anonymous call is a 401 JSON
  answer, never a redirect to the login page.
- CSRF is checked for unsafe methods AFTER authentication (so anonymous callers learn
  "401", not "403"): the `X-CSRFToken` header must carry the `csrftoken` cookie's value,
  as Django's CsrfViewMiddleware checks it (the check is the middleware's own code).
- Errors are `{"error": "<message>"}` with the status; nothing of Django's debug pages.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from store import flaws

log = logging.getLogger("store.api")

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> str:  # type: ignore[override]
        return reason


def csrf_failure_reason(request: HttpRequest) -> str | None:
    """None if the request passes Django's CSRF check, else the reason it fails."""
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)  # reads the csrftoken cookie
    return check.process_view(request, lambda _request: HttpResponse(), (), {})


def endpoint(*methods: str, login: bool = True) -> Callable:
    allowed = tuple(methods) + (("HEAD",) if "GET" in methods else ())

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt  # checked below, after authentication
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in allowed:
                response = error(405, f"{request.method} is not allowed here")
                response["Allow"] = ", ".join(allowed)
                return response
            if login and not request.user.is_authenticated:
                response = error(401, "authentication required: sign in at /accounts/login/")
                response["WWW-Authenticate"] = 'Session realm="store"'
                return response
            if request.method not in SAFE_METHODS:
                reason = csrf_failure_reason(request)
                if reason:
                    return error(403, f"CSRF check failed: {reason}")
            try:
                return view(request, *args, **kwargs)
            except ApiError as exc:
                response = error(exc.status, exc.message)
                for name, value in exc.headers.items():
                    response[name] = value
                return response
            except Exception as exc:
                if not flaws.on("api-diagnostics"):
                    raise
                log.exception("unhandled error in %s", request.path)
                return JsonResponse(_diagnostics(request, exc), status=500)

        return wrapper

    return decorate


def _diagnostics(request: HttpRequest, exc: Exception) -> dict[str, Any]:
    """An unexpected error, explained to the front-end team's error reporter."""
    db = connection.settings_dict
    return {
        "error": "internal error",
        "exception": f"{type(exc).__module__}.{type(exc).__name__}: {exc}",
        "traceback": traceback.format_exc().splitlines(),
        "request": {"method": request.method, "path": request.path, "user": request.user.pk},
        "database": {k: db.get(k) for k in ("ENGINE", "HOST", "PORT", "NAME", "USER", "PASSWORD")},
        "stripe": {
            name: getattr(settings, name)
            for name in ("STRIPE_API_BASE", "STRIPE_API_VERSION", "STRIPE_SECRET_KEY")
        },
    }


def read_json(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object ({} for an empty body)."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(413, "request body too large") from None
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    return body


def whole_number(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{name} must be a whole number")
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return value
