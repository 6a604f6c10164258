"""Turning pydantic errors into InputErrors that name file, line and item."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from golive.errors import InputError, InputErrors
from golive.yamlsrc import Located, PathKey

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


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
            message = _MESSAGES.get(error["type"], error["msg"])
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
