"""Errors that end a run before it starts (exit code 2) and their one-line rendering."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Invalid input or usage: names the file, the line and the item, and what to do."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        item: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.item = item
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        item = f"item {self.item}: " if self.item else ""
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}{item}{self.message}{hint}"


class InputErrors(InputError):
    """Several validation errors found in one pass, reported together."""

    def __init__(self, errors: list[InputError]) -> None:
        super().__init__(f"{len(errors)} validation error(s)")
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)
