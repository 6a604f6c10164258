"""Malformed copies of a JSON body golive's flows send: one field changed at a time.

A string field gets a NUL character, an over-long string, or a value of another JSON type
(an object, an array, a number); a number gets a string; a list or an object gets another
type. Fields are walked into objects and into the first element of lists (a cart's lines),
so the cart item template's fields are reached inside whatever the checkout body wraps them
in. The app must answer each with a 4xx (or take it), never crash in a way that shows its
insides.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

NUL = "golive\x00nul"
LONG = "x" * 20_000  # longer than any column or form field an app means to take
MAX_DEPTH = 4
MAX_VARIANTS = 16  # per body: the request count stays bounded

Path = tuple[str | int, ...]


def wrong_type(value: Any) -> Any:
    """A value of another JSON type than `value` (what a handler that trusts types trips on)."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "not-a-number"
    if isinstance(value, str):
        return {"unexpected": ["object"]}
    if isinstance(value, list):
        return "not-a-list"
    if isinstance(value, dict):
        return ["not", "an", "object"]
    return 12345


def _changes(value: Any) -> list[tuple[str, Any]]:
    """(kind, replacement) for one field's value."""
    if isinstance(value, bool):
        return [("wrong-type(string)", "yes")]
    if isinstance(value, (int, float)):
        return [("wrong-type(string)", "not-a-number"), ("wrong-type(object)", {"n": value})]
    if isinstance(value, str):
        return [
            ("nul", value[:32] + NUL),
            ("over-long", LONG),
            ("wrong-type(object)", {"unexpected": ["object"]}),
            ("wrong-type(array)", [value]),
            ("wrong-type(number)", 12345),
        ]
    if isinstance(value, list):
        return [("wrong-type(string)", "not-a-list"), ("wrong-type(object)", {"0": value[:1]})]
    if isinstance(value, dict):
        return [("wrong-type(array)", [value]), ("wrong-type(string)", "not-an-object")]
    return []


def _fields(node: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every field under `node`, leaves last: (path, value)."""
    if len(path) >= MAX_DEPTH:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key), value
            yield from _fields(value, (*path, key))
    elif isinstance(node, list) and node and isinstance(node[0], (dict, list)):
        yield from _fields(node[0], (*path, 0))


def _set(body: Any, path: Path, value: Any) -> Any:
    changed = copy.deepcopy(body)
    node = changed
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return changed


def name(path: Path) -> str:
    return ".".join(str(part) for part in path)


def variants(body: Any) -> list[tuple[str, Any]]:
    """(variant name, body) for each change of each field, scalars before containers (a
    leaf is where a handler reads a value), at most MAX_VARIANTS."""
    fields = list(_fields(body))
    fields.sort(key=lambda f: isinstance(f[1], (dict, list)))
    out: list[tuple[str, Any]] = []
    for path, value in fields:
        for kind, replacement in _changes(value):
            out.append((f"{kind}:{name(path)}", _set(body, path, replacement)))
    return _spread(out)[:MAX_VARIANTS]


def _spread(found: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Each field's first change first, then each field's second …: a bound cuts kinds of
    change, never whole fields."""
    by_field: dict[str, list[tuple[str, Any]]] = {}
    for variant in found:
        by_field.setdefault(variant[0].split(":", 1)[1], []).append(variant)
    rounds = max((len(v) for v in by_field.values()), default=0)
    return [v[n] for n in range(rounds) for v in by_field.values() if n < len(v)]
