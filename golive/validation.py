"""Turning pydantic errors into InputErrors that name file, line and item."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError

from golive.errors import InputError, InputErrors
from golive.timeutil import in_range
from golive.yamlsrc import Located, PathKey

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


# A regular expression, compiled once when the input is read: a broken one is named there.
Regex = Annotated[str, AfterValidator(_regex)]
# Text that names someone or something: empty or only spaces is no name at all.
NonBlank = Annotated[str, AfterValidator(_not_blank)]
# A date or datetime in the range golive's date arithmetic is safe in (timeutil.in_range).
Stamp = Annotated[datetime | date, AfterValidator(in_range)]


def validate(
    model: type[M],
    located: Located,
    *,
    item_at: Callable[[PathKey], str | None] = lambda path: None,
    hint: str | None = None,
    prefix: str = "",
) -> M:
    """Validate YAML data against `model`; every error becomes one InputError. `prefix`
    names where the data sits in its file (`observer`), for the messages."""
    try:
        return model.model_validate(located.data if located.data is not None else {})
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            path = tuple(
                part for part in error["loc"] if not isinstance(part, str) or "[" not in part
            )
            message = _MESSAGES.get(error["type"], error_text(error))
            dotted = ".".join(str(p) for p in ((prefix,) if prefix else ()) + path)
            if dotted:
                message = f"{dotted}: {message}"
            errors.append(
                InputError(
                    message,
                    file=located.file,
                    line=located.line(path),
                    item=item_at(path),
                    hint=hint,
                )
            )
        raise InputErrors(errors) from None


def raise_all(errors: list[InputError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)


def error_text(error: Any) -> str:
    # A validator's own ValueError reads better without pydantic's "Value error, ".
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])
    return error["msg"]
