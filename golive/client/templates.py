"""{variables} in the profile's request templates.

A string that is exactly one placeholder keeps the value's type (`"{line}"` sends an
object, `"{item.quantity}"` a number); a placeholder inside longer text is formatted into
it, with an optional format spec (`"tok_{n:02d}"`). Names are dotted paths into the
variables (`user.token`, `item.id`, `lines.0`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from golive.profile.flows import PLACEHOLDER


class TemplateError(Exception):
    """A template names a variable that has no value here."""


_MISSING = object()


def lookup(scope: Mapping[str, Any], dotted: str) -> Any:
    """The value at `a.b.0` in `scope`; TemplateError when a step is missing."""
    value: Any = scope
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            value = _MISSING
            break
    if value is _MISSING:
        raise TemplateError(f"{{{dotted}}} has no value (known: {', '.join(sorted(scope))})")
    return value


def render(template: Any, scope: Mapping[str, Any]) -> Any:
    """`template` with every placeholder replaced from `scope`."""
    if isinstance(template, dict):
        return {render(k, scope): render(v, scope) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, scope) for v in template]
    if not isinstance(template, str):
        return template
    whole = PLACEHOLDER.fullmatch(template)
    if whole and not whole.group(2):
        return lookup(scope, whole.group(1))

    def one(match: Any) -> str:
        value = lookup(scope, match.group(1))
        return format(value, match.group(2) or "")

    return PLACEHOLDER.sub(one, template)
