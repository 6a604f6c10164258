"""Event fixtures: Stripe-shaped events with `${…}` placeholders, and `--set` edits.

A fixture is a whole event as Stripe would send it (API version 2024-11-20.acacia), kept
as JSON under `golive/webhooks/fixtures/<type>.json`. String values may hold
placeholders: a value that is exactly `"${amount}"` becomes the value itself (an
integer stays an integer), one embedded in a longer string is spliced in as text.
Every render draws fresh ids (`evt_…`, `pi_…`, …) unless the caller supplies them, so
each delivery looks like a new event to an idempotent receiver.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from golive.errors import InputError

FIXTURE_DIR = Path(__file__).parent / "fixtures"
API_VERSION = "2024-11-20.acacia"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.\-]*)\}")
DEFAULT_AMOUNT = 2000
DEFAULT_CURRENCY = "usd"

_ALPHABET = string.ascii_letters + string.digits


def _token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def fresh_values(now: int | None = None) -> dict[str, Any]:
    """Default placeholder values: new ids every call, shaped like Stripe's."""
    created = int(time.time()) if now is None else now
    return {
        "event_id": "evt_" + _token(24),
        "request_id": "req_" + _token(14),
        "idempotency_key": str(uuid.uuid4()),
        "payment_intent_id": "pi_" + _token(24),
        "charge_id": "ch_" + _token(24),
        "refund_id": "re_" + _token(24),
        "checkout_session_id": "cs_test_" + _token(58),
        "customer_id": "cus_" + _token(14),
        "payment_method_id": "pm_" + _token(24),
        "balance_transaction_id": "txn_" + _token(24),
        "refund_balance_transaction_id": "txn_" + _token(24),
        "client_secret_suffix": _token(25),
        "amount": DEFAULT_AMOUNT,
        "currency": DEFAULT_CURRENCY,
        "created": created,
        "expires_at": created + 24 * 3600,
        "metadata.order_id": "order_" + _token(10),
    }


@dataclass(frozen=True)
class Fixture:
    """A parsed fixture file; `text` is kept to point errors at a line."""

    source: Path
    template: dict[str, Any]
    text: str

    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.text))

    def render(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        sets: Iterable[Assignment] = (),
        now: int | None = None,
    ) -> dict[str, Any]:
        """The event with placeholders filled (fresh defaults under `values`) and `sets` applied."""
        merged = {**fresh_values(now), **(values or {})}
        missing = sorted(self.placeholders() - merged.keys())
        if missing:
            name = missing[0]
            raise InputError(
                f"placeholder ${{{name}}} has no value",
                file=self.source,
                line=_line_of(self.text, "${" + name + "}"),
                hint=f"give it one with --var {name}=VALUE",
            )
        event = _fill(self.template, merged)
        for assignment in sets:
            assignment.apply(event)
        return event


def event_types() -> list[str]:
    """The event types that have a built-in fixture."""
    return sorted(path.name.removesuffix(".json") for path in FIXTURE_DIR.glob("*.json"))


def builtin(event_type: str) -> Fixture:
    path = FIXTURE_DIR / f"{event_type}.json"
    if event_type not in event_types():
        raise InputError(
            f"no built-in fixture for event type {event_type!r}",
            hint="known types: " + ", ".join(event_types()) + "; or pass --fixture FILE",
        )
    return load_file(path)


def load_file(path: Path) -> Fixture:
    """A fixture from a JSON file; InputError names the file and the line of any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("fixture file not found", file=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the fixture file: {exc}", file=path) from None
    try:
        template = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg} (column {exc.colno})",
            file=path,
            line=exc.lineno,
            hint="a fixture is one JSON object: a whole Stripe event",
        ) from None
    if not isinstance(template, dict):
        raise InputError(
            f"a fixture must be a JSON object (an event), not {type(template).__name__}",
            file=path,
            line=1,
        )
    return Fixture(path, template, text)


def render_event(
    event_type: str,
    values: Mapping[str, Any] | None = None,
    *,
    sets: Iterable[Assignment] = (),
    now: int | None = None,
) -> dict[str, Any]:
    """A built-in event of `event_type`, ready to sign."""
    return builtin(event_type).render(values, sets=sets, now=now)


def _fill(node: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, values) for value in node]
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:  # keep the value's JSON type: "${amount}" -> 2000, not "2000"
            return values[whole[1]]
        return PLACEHOLDER.sub(lambda m: _as_text(values[m[1]]), node)
    return node


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


# --- `--set path=value` -------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """`data.object.metadata.order_id=42`: a dotted path (digits index lists) and a value."""

    text: str
    path: tuple[str, ...]
    value: Any

    def apply(self, event: dict[str, Any]) -> None:
        node: Any = event
        for depth, segment in enumerate(self.path):
            last = depth == len(self.path) - 1
            where = ".".join(self.path[: depth + 1])
            if isinstance(node, list):
                if not segment.isdigit() or int(segment) >= len(node):
                    raise InputError(
                        f"--set {self.text}: {where} is not an index of a list of {len(node)}"
                    )
                if last:
                    node[int(segment)] = self.value
                else:
                    node = node[int(segment)]
            elif isinstance(node, dict):
                if last:
                    node[segment] = self.value
                else:
                    # Missing levels are created, so new metadata keys need no template.
                    node = node.setdefault(segment, {})
            else:
                parent = ".".join(self.path[:depth]) or "the event"
                raise InputError(f"--set {self.text}: {parent} is not an object or a list")


def parse_value(text: str) -> Any:
    """JSON when it parses (`42`, `true`, `"42"`, `{…}`), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_assignment(text: str) -> Assignment:
    path, sep, value = text.partition("=")
    segments = tuple(path.strip().split("."))
    if not sep or not path.strip() or any(not s for s in segments):
        raise InputError(
            f"malformed --set {text!r}",
            hint="write PATH=VALUE with a dotted path, e.g. data.object.metadata.order_id=42",
        )
    return Assignment(text, segments, parse_value(value))


def parse_var(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` for a `${NAME}` placeholder."""
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name):
        raise InputError(
            f"malformed --var {text!r}", hint="write NAME=VALUE, e.g. metadata.order_id=42"
        )
    return name, parse_value(value)
