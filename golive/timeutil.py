"""UTC time handling shared by attestations, waivers and run metadata."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | date) -> datetime:
    """Dates count as midnight UTC; naive datetimes are taken as UTC."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_utc(text: str) -> datetime:
    """ISO 8601 date or datetime (a trailing Z allowed), as UTC."""
    return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
