"""Behind a TLS-terminating proxy: a request the proxy says came over plain HTTP
(`X-Forwarded-Proto: http`) is redirected to https. Requests without the header reach the
app directly (the proxy's health checks, the host itself) and are served as they are;
Django's SecurityMiddleware adds HSTS to those the proxy says came over https."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect


class ForwardedHttpRedirect:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        if settings.SHOP_BEHIND_PROXY and forwarded == "http":
            return HttpResponsePermanentRedirect(
                f"https://{request.get_host()}{request.get_full_path()}"
            )
        return self.get_response(request)
