"""Structured logs: one JSON object per line in SHOP_LOG_FILE.

    {"ts": "2026-11-26T05:20:01.123Z", "level": "info", "event": "checkout_created", ...}

Every string that reaches the file passes a last safety net: anything shaped like a card
number (13-19 digits, Luhn-valid, spaces or dashes allowed) is masked to its last four.
Callers never hand card data to the logger in the first place; the net is for the case
they forget. (The `logs-card-data` flaw writes its record around the net, as a debug
print of the request body would.)
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PAN = re.compile(r"(?<![\w])\d(?:[ -]?\d){12,18}(?![\w])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2:
            number = number * 2 - 9 if number > 4 else number * 2
        total += number
    return total % 10 == 0


def is_card_number(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return digits.isdigit() and 13 <= len(digits) <= 19 and luhn_ok(digits)


def mask_cards(text: str, replacement: str | None = None) -> str:
    def masked(match: re.Match[str]) -> str:
        if not is_card_number(match[0]):
            return match[0]
        if replacement is not None:
            return replacement
        return "****" + re.sub(r"[ -]", "", match[0])[-4:]

    return PAN.sub(masked, text) if any(c.isdigit() for c in text) else text


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_cards(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class JsonLog:
    """A thread-safe JSON-lines writer; line-buffered so a reader sees records at once."""

    def __init__(self, path: str | None, dropped: frozenset[str] = frozenset()) -> None:
        self._dropped = dropped  # fields never written (the no-payment-event-logs flaw)
        if path is None:
            self._file = sys.stderr
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._lock = threading.Lock()

    def write(self, level: str, event: str, *, raw: bool = False, **fields: Any) -> None:
        record = {"ts": _now(), "level": level, "event": event}
        record.update(fields if raw else _scrub(fields))
        for name in self._dropped:
            record.pop(name, None)
        line = json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":"))
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")

    def info(self, event: str, **fields: Any) -> None:
        self.write("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.write("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.write("error", event, **fields)

    def close(self) -> None:
        with self._lock:
            if self._file is not sys.stderr:
                self._file.close()


_log: JsonLog | None = None


def setup(path: str, dropped: frozenset[str] = frozenset()) -> JsonLog:
    global _log
    _log = JsonLog(path, dropped)
    return _log


def get() -> JsonLog:
    """The shop's log; stderr until `setup` has run."""
    global _log
    if _log is None:
        _log = JsonLog(None)
    return _log


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
