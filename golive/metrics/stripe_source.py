"""Reading a Stripe account's objects created in a window, with stripe-python's
auto-pagination.

    data = StripeData(stripe_api.client(backend))
    charges = data.created_in("charges", window)    # dicts, newest first

Each list is asked with `created={"gte": start, "lt": end}` (whole unix seconds: an
object's `created` is an integer, so [start, end) becomes [ceil(start), ceil(end))) and
`limit=100`, then walked page by page. A list longer than `max_objects` stops the walk
(TooManyObjects): golive never judges part of a window as if it were all of it. Lists are
kept per (resource, window), so several metrics of one run read each page once.

A backend that answers 404 to a list route does not serve that resource (the sandbox
before disputes, localstripe's missing routes): Unlisted, which a check turns into
not-run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import stripe

from golive.profile.postdeploy import Window

MAX_OBJECTS = 200_000  # per list and window: the bound of one walk
PAGE = 100

# resource -> (the service of the client, the list's path for messages)
RESOURCES: dict[str, tuple[Callable[[stripe.StripeClient], Any], str]] = {
    "payment_intents": (lambda c: c.v1.payment_intents, "/v1/payment_intents"),
    "charges": (lambda c: c.v1.charges, "/v1/charges"),
    "refunds": (lambda c: c.v1.refunds, "/v1/refunds"),
    "disputes": (lambda c: c.v1.disputes, "/v1/disputes"),
    "early_fraud_warnings": (
        lambda c: c.v1.radar.early_fraud_warnings,
        "/v1/radar/early_fraud_warnings",
    ),
    "events": (lambda c: c.v1.events, "/v1/events"),
}


class Unlisted(Exception):
    """The backend does not serve this list (HTTP 404 on its route)."""

    def __init__(self, resource: str, path: str, exc: stripe.StripeError) -> None:
        super().__init__(
            f"the Stripe backend answered HTTP 404 to GET {path}: it does not list "
            f"{resource.replace('_', ' ')}"
        )
        self.resource = resource
        self.path = path
        self.cause = exc


class TooManyObjects(Exception):
    """More objects in the window than one walk reads."""


def created_range(window: Window) -> dict[str, int]:
    return {"gte": math.ceil(window.start.timestamp()), "lt": math.ceil(window.end.timestamp())}


class StripeData:
    """The objects of one Stripe account, by resource and creation window, read once."""

    def __init__(self, client: stripe.StripeClient, *, max_objects: int = MAX_OBJECTS) -> None:
        self.client = client
        self.max_objects = max_objects
        self._lists: dict[tuple[str, int, int], list[dict[str, Any]]] = {}

    def created_in(self, resource: str, window: Window) -> list[dict[str, Any]]:
        """Every `resource` object created in `window` (newest first), as plain dicts.

        stripe.StripeError from the backend propagates (golive's own request failed);
        Unlisted for a 404; TooManyObjects past `max_objects`."""
        span = created_range(window)
        key = (resource, span["gte"], span["lt"])
        if key not in self._lists:
            self._lists[key] = self._walk(resource, span)
        return self._lists[key]

    def webhook_endpoints(self) -> list[dict[str, Any]]:
        key = ("webhook_endpoints", 0, 0)
        if key not in self._lists:
            self._lists[key] = self._collect(
                "webhook_endpoints",
                "/v1/webhook_endpoints",
                lambda: self.client.v1.webhook_endpoints.list(params={"limit": PAGE}),
            )
        return self._lists[key]

    def _walk(self, resource: str, span: dict[str, int]) -> list[dict[str, Any]]:
        service, path = RESOURCES[resource]
        return self._collect(
            resource,
            path,
            lambda: service(self.client).list(params={"created": span, "limit": PAGE}),
        )

    def _collect(
        self, resource: str, path: str, first_page: Callable[[], Any]
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        try:
            page = first_page()
            # auto_paging_iter asks for the next page (starting_after) while has_more.
            for obj in page.auto_paging_iter():
                if len(found) >= self.max_objects:
                    raise TooManyObjects(
                        f"more than {self.max_objects} {resource.replace('_', ' ')} in the "
                        "window: golive does not judge part of a window; choose a shorter one"
                    )
                found.append(obj.to_dict())
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                raise Unlisted(resource, path, exc) from None
            raise
        return found
