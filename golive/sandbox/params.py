"""Checking and converting request parameters, with Stripe's error for each mistake.

Form values arrive as strings (see forms.py); these helpers turn them into ints, bools,
lists and hashes, naming the parameter the way Stripe does (`payment_method_data[card][number]`)
so an integration's error handling sees what production would send it.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from golive.sandbox.errors import (
    StripeError,
    invalid_request,
    parameter_missing,
    parameter_unknown,
)

# A schema maps each accepted name to the schema of its value: a dict is checked key by key,
# None accepts anything below (parameters the sandbox stores or ignores without reading).
Schema = dict[str, "Schema | None"]

_INTEGER = re.compile(r"-?\d+")
METADATA_MAX_KEYS = 50
METADATA_KEY_MAX = 40
METADATA_VALUE_MAX = 500


def name(prefix: str, key: str | int) -> str:
    return f"{prefix}[{key}]" if prefix else str(key)


def check_known(params: dict[str, Any], schema: Schema, prefix: str = "") -> None:
    """Stripe refuses any parameter it does not know, naming the first one."""
    for key, value in params.items():
        if key not in schema:
            raise parameter_unknown(name(prefix, key))
        sub = schema[key]
        if sub is not None and isinstance(value, dict):
            check_known(value, sub, name(prefix, key))


def require(params: dict[str, Any], *names: str, prefix: str = "") -> None:
    for key in names:
        if key not in params:
            raise parameter_missing(name(prefix, key))


def not_empty(value: Any, param: str) -> None:
    if value == "":
        raise invalid_request(
            f"You passed an empty string for '{param}'. We assume empty values are an attempt to unset a parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or supply a non-empty value.",
            param=param,
            code="parameter_invalid_empty",
        )


def integer(
    value: Any, param: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        not_empty(value, param)
        raise invalid_request(
            f"Invalid integer: {value}", param=param, code="parameter_invalid_integer"
        )
    if minimum is not None and number < minimum:
        raise invalid_request(
            f"This value must be greater than or equal to {minimum}.",
            param=param,
            code="parameter_invalid_integer",
        )
    if maximum is not None and number > maximum:
        raise invalid_request(
            f"This value must be less than or equal to {maximum}.",
            param=param,
            code="parameter_invalid_integer",
        )
    return number


def boolean(value: Any, param: str) -> bool:
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    not_empty(value, param)
    raise invalid_request(f"Invalid boolean: {value}", param=param)


def string(value: Any, param: str, *, max_length: int | None = None) -> str:
    if not isinstance(value, str):
        raise invalid_request(f"Invalid string: {value}", param=param)
    if max_length is not None and len(value) > max_length:
        raise invalid_request(
            f"Invalid string: {value[:20]}...; must be at most {max_length} characters",
            param=param,
        )
    return value


def optional_string(value: Any, param: str, *, max_length: int | None = None) -> str | None:
    """For updates: "" unsets the field (None)."""
    if value == "":
        return None
    return string(value, param, max_length=max_length)


def choice(value: Any, param: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        not_empty(value, param)
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}" if len(choices) > 1 else choices[0]
        raise invalid_request(f"Invalid {param}: must be one of {listed}", param=param)
    return choices[choices.index(value)]  # the constant, not the request's copy: stored once


def string_list(value: Any, param: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_request("Invalid array", param=param)
    return value


def hash_(value: Any, param: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_request("Invalid object", param=param)
    return value


def metadata(value: Any, current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's merge semantics: `metadata=` clears, `metadata[k]=` removes k, others set."""
    if value == "":
        return {}
    value = hash_(value, "metadata")
    merged = dict(current or {})
    for key, item in value.items():
        if len(key) > METADATA_KEY_MAX:
            raise invalid_request(
                f"Metadata keys can have up to {METADATA_KEY_MAX} characters, but key '{key}' has {len(key)}.",
                param=f"metadata[{key}]",
            )
        if not isinstance(item, str):
            raise invalid_request(
                "Invalid string: metadata values must be strings", param=f"metadata[{key}]"
            )
        if len(item) > METADATA_VALUE_MAX:
            raise invalid_request(
                f"Metadata values can have up to {METADATA_VALUE_MAX} characters, but the value for key '{key}' has {len(item)}.",
                param=f"metadata[{key}]",
            )
        if item == "":
            merged.pop(key, None)
        else:
            merged[sys.intern(key)] = item  # keys repeat across objects ("order_id"): one copy
    if len(merged) > METADATA_MAX_KEYS:
        raise invalid_request(
            f"Metadata can have up to {METADATA_MAX_KEYS} keys, but this object would have {len(merged)}.",
            param="metadata",
        )
    return merged


def nested_metadata(value: Any, prefix: str) -> dict[str, str]:
    """`metadata` inside a hash (`line_items[0][metadata]`): the same checks, the parameter
    named in full."""
    try:
        return metadata(value)
    except StripeError as exc:
        head, bracket, rest = (exc.param or "metadata").partition("[")
        exc.param = f"{prefix}[{head}]" + (f"[{rest}" if bracket else "")
        raise


def expand_paths(params: dict[str, Any]) -> list[str]:
    if "expand" not in params:
        return []
    return string_list(params["expand"], "expand")


def created_bounds(value: Any, param: str) -> tuple[int | None, int | None]:
    """`created=123` or `created[gte]=…&created[lt]=…` as inclusive bounds (None: open)."""
    if isinstance(value, str):
        exact = integer(value, param)
        return exact, exact
    value = hash_(value, param)
    check_known(value, {"gt": None, "gte": None, "lt": None, "lte": None}, param)
    low = high = None
    for op, raw in value.items():
        bound = integer(raw, name(param, op))
        if op in ("gt", "gte"):
            bound += op == "gt"
            low = bound if low is None else max(low, bound)
        else:
            bound -= op == "lt"
            high = bound if high is None else min(high, bound)
    return low, high
