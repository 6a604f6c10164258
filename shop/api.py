"""What every handler shares: JSON answers, `ApiError` (a 4xx/5xx with a stable code),
strict JSON body parsing and small validators.

Errors always answer `{"error": "<code>", "message": "<text>"}` (plus details such as
`field`), never a stack trace or a framework page.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers: dict[str, str] = {}

    def response(self) -> JSONResponse:
        body = {"error": self.code, "message": self.message, **self.details}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def ok(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def bad_request(message: str, code: str = "invalid_request", **details: Any) -> ApiError:
    return ApiError(400, code, message, **details)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


async def read_json(request: Request, *, verbose_errors: bool = False) -> Any:
    """The request body as JSON; an empty body is None. Malformed JSON, a non-UTF-8 body or
    a non-JSON content type is a 4xx (`verbose_errors`: the parser's exception escapes)."""
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    if not body.strip():
        return None
    if verbose_errors:
        return json.loads(body)
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request("the body is not valid JSON", "malformed_json") from None


MAX_INT = 2**31 - 1  # what every database column here can hold


def require_int(
    value: Any, field: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    # bool is an int in Python; in JSON it is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"{field} must be an integer", "invalid_type", field=field)
    if minimum is not None and value < minimum:
        raise bad_request(f"{field} must be at least {minimum}", "invalid_value", field=field)
    if value > (MAX_INT if maximum is None else maximum):
        raise bad_request(
            f"{field} must be at most {MAX_INT if maximum is None else maximum}",
            "invalid_value",
            field=field,
        )
    if value < -MAX_INT:
        raise bad_request(f"{field} is out of range", "invalid_value", field=field)
    return value


def path_int(request: Request, name: str) -> int:
    raw = str(request.path_params.get(name, ""))
    if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > MAX_INT:
        raise not_found()
    return int(raw)
