"""UTC time handling shared by attestations, waivers and run metadata."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TypeVar

# Dates golive accepts (sign-offs, expiries, --now): far enough from year 1 and 9999 that
# moving one to UTC and adding a freshness window can never leave what Python can hold.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
RANGE_HINT = f"dates must fall within the years {EARLIEST_YEAR}–{LATEST_YEAR}"
D = TypeVar("D", datetime, date)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | date) -> datetime:
    """Dates count as midnight UTC; naive datetimes are taken as UTC."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def in_range(value: D) -> D:
    """`value` itself, if its year is one golive accepts; else ValueError saying the range
    (pydantic turns it into the field's error)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"{value.isoformat()} is out of range: {RANGE_HINT}")
    return value


def parse_utc(text: str) -> datetime:
    """ISO 8601 date or datetime (a trailing Z allowed), as UTC; ValueError saying what is
    wrong if it is not one, or out of range."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or time: {text!r}") from None
    return as_utc(in_range(value))
