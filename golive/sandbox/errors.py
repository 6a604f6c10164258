"""Stripe's error responses: `{"error": {"type", "code", "param", "message", ...}}` and their statuses.

The official libraries pick the exception class from the HTTP status and `type`
(400/404 -> InvalidRequestError or IdempotencyError, 401 -> AuthenticationError,
402 -> CardError, 403 -> PermissionError, 429 -> RateLimitError, 5xx -> APIError), so both
must match Stripe's for an integration's error handling to be tested for real.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An API error. `saved` is False for errors raised while validating the request:
    Stripe saves no idempotent result for those, so a corrected retry with the same
    Idempotency-Key is executed, not refused."""

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: dict[str, Any] | None = None,
        saved: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = extra or {}
        self.saved = saved

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {}
        if self.code:
            error["code"] = self.code
        if self.decline_code:
            error["decline_code"] = self.decline_code
        if self.code:
            error["doc_url"] = DOCS + self.code.replace("_", "-")
        error["message"] = self.message
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        error["type"] = self.type
        return {"error": error}


def invalid_request(
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    status: int = 400,
    saved: bool = False,
    extra: dict[str, Any] | None = None,
) -> StripeError:
    return StripeError(
        status,
        "invalid_request_error",
        message,
        code=code,
        param=param,
        saved=saved,
        extra=extra,
    )


def parameter_unknown(param: str) -> StripeError:
    return invalid_request(
        f"Received unknown parameter: {param}", param=param, code="parameter_unknown"
    )


def parameter_missing(param: str) -> StripeError:
    return invalid_request(
        f"Missing required param: {param}.", param=param, code="parameter_missing"
    )


def resource_missing(
    noun: str,
    object_id: str,
    *,
    param: str = "id",
    status: int = 404,
    evicted_by_cap: int | None = None,
) -> StripeError:
    message = f"No such {noun}: '{object_id}'"
    if evicted_by_cap is not None:
        # Still "No such …" first, as code matching Stripe's message expects.
        message += f"; it was evicted: the golive sandbox keeps only the newest {evicted_by_cap:,} objects (raise the cap with `golive sandbox --max-objects N` or the profile's `stripe.max_objects`)"
    return invalid_request(message, param=param, code="resource_missing", status=status)


def unexpected_state(message: str, payment_intent: dict[str, Any] | None = None) -> StripeError:
    # Raised once the request is being executed: Stripe saves it for idempotent replay.
    extra = {"payment_intent": payment_intent} if payment_intent is not None else None
    return invalid_request(message, code="payment_intent_unexpected_state", saved=True, extra=extra)


def authentication(message: str, *, code: str | None = None) -> StripeError:
    # Stripe answers a bad or missing key with 401 and type invalid_request_error.
    return invalid_request(message, code=code, status=401)


def card_error(
    message: str,
    *,
    code: str,
    decline_code: str | None = None,
    param: str | None = None,
    extra: dict[str, Any] | None = None,
) -> StripeError:
    return StripeError(
        402,
        "card_error",
        message,
        code=code,
        decline_code=decline_code,
        param=param,
        extra=extra,
        saved=True,
    )


def idempotency_error(message: str) -> StripeError:
    return StripeError(400, "idempotency_error", message, saved=False)


def api_error() -> StripeError:
    return StripeError(500, "api_error", "An unknown error occurred", saved=True)
