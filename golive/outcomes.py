"""One rule for telling golive's own failure from the app's (README, "What each outcome
means"): a check passes or fails only after a positive control of its own succeeded.

A *control* is a request golive needs to succeed before it can judge anything: the owner
reading their own resource, a plain untampered checkout, the first request of a burst.
Whatever stops a control — no answer, a refusal of golive's credentials, route or method
(401/403/404/405), a 5xx, any other non-2xx — means golive could not establish the
situation it judges: the item is an `error` naming the user, the step, the status and an
excerpt of the body. A *probe* is the request under judgement (a tampered cart, user B on
A's resource): its 5xx is the app's fault and may fail the item.

Checks call these instead of deciding per check, so one root cause (a checkout answering
500) comes out the same in every family.
"""

from __future__ import annotations

from golive.client.errors import SETUP_STATUSES

EXCERPT = 200


def refuses_golive(status: int | None) -> bool:
    """The answer says golive's request was not one the app takes (credentials, route,
    method), or there was none: nothing behind it was reached."""
    return status is None or status in SETUP_STATUSES


def reached(status: int | None) -> bool:
    """The request got past golive's credentials and the app's routing to the resource
    and the app took it up: a 2xx, or a refusal of the request's own content (400, 409,
    422 …). A 5xx is no control: the app could not serve it."""
    return not refuses_golive(status) and status is not None and status < 500


def control_problem(status: int | None) -> str | None:
    """Why an answer to a control request does not establish the control; None for a 2xx."""
    if status is None:
        return "no answer"
    if status in SETUP_STATUSES:
        return (
            f"answered {status}: the app refused golive's credentials, route or method "
            "(check the profile's users, auth and paths)"
        )
    if status >= 500:
        return f"answered {status}: the app failed on golive's plain, untampered request"
    if not 200 <= status < 300:
        return f"answered {status}, not 2xx"
    return None


def control_failed(
    what: str, user: str | None, step: str, status: int | None, excerpt: str = ""
) -> str:
    """The error message for a control that did not succeed: who, which step, what came
    back, and the start of the body."""
    who = f" as {user!r}" if user else ""
    why = control_problem(status) or f"answered {status}"
    body = f"; body: {excerpt[:EXCERPT]!r}" if excerpt else ""
    return f"golive could not {what}{who} ({step}): {why}{body}"
