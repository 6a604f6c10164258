"""Reading a value out of an answer, as a flow step's `capture` says."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any, Protocol

import jmespath

from golive.profile.flows import Capture


class Answer(Protocol):
    """What httpx and requests responses both offer."""

    status_code: int
    headers: Any
    text: str

    def json(self) -> Any: ...


class CaptureError(Exception):
    """The answer does not hold the value."""


def capture(spec: Capture, answer: Answer, cookies: Any) -> Any:
    """The value `spec` names in `answer` (or in the jar after it); CaptureError if none."""
    value = _read(spec, answer, cookies)
    if value is None or value == "":
        raise CaptureError(f"the answer has no {spec.label()}")
    if spec.derive == "payment_intent_id":
        value = intent_from_client_secret(value)
    return value


def intent_from_client_secret(value: Any) -> str:
    """pi_123_secret_abc -> pi_123 (a client_secret names its PaymentIntent)."""
    text = str(value)
    if not text.startswith("pi_") or "_secret_" not in text:
        raise CaptureError(f"{text[:12]}… is not a PaymentIntent client_secret")
    return text.split("_secret_", 1)[0]


def _read(spec: Capture, answer: Answer, cookies: Any) -> Any:
    if spec.json_path is not None:
        try:
            data = answer.json()
        except ValueError:
            raise CaptureError(f"the answer is not JSON (wanted {spec.label()})") from None
        return jmespath.search(spec.json_path, data)
    if spec.header is not None:
        return answer.headers.get(spec.header)
    if spec.cookie is not None:
        return cookie(cookies, spec.cookie)
    if spec.form_field is not None:
        return form_field(answer.text, spec.form_field)
    assert spec.regex is not None
    match = re.search(spec.regex, answer.text)
    if match is None:
        return None
    return match.group(1) if match.groups() else match.group(0)


def cookie(jar: Any, name: str) -> str | None:
    """A cookie's value from an httpx or requests jar (the newest when domains differ)."""
    found = None
    for item in jar.jar if hasattr(jar, "jar") else jar:
        if item.name == name:
            found = item.value
    return found


class _Inputs(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        fields = dict(attrs)
        if self.value is None and tag in ("input", "meta") and fields.get("name") == self.name:
            self.value = fields.get("value") if tag == "input" else fields.get("content")


def form_field(html: str, name: str) -> str | None:
    """The value of the first <input name=…> (or <meta name=… content=…>) in a page."""
    parser = _Inputs(name)
    parser.feed(html)
    return parser.value
