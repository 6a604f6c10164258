"""Decoding Stripe's form-encoded parameters into nested dicts and lists.

    metadata[order]=42              -> {"metadata": {"order": "42"}}
    payment_method_types[]=card     -> {"payment_method_types": ["card"]}
    expand[0]=latest_charge         -> {"expand": ["latest_charge"]}   (stripe-python's style)
    a[0][b]=1&a[1][b]=2             -> {"a": [{"b": "1"}, {"b": "2"}]}

Values stay strings: each endpoint converts and validates the ones it reads, the way Stripe
names the offending parameter in its error. An empty value is kept ("" means "unset" in
Stripe's updates).

Keys nest at most MAX_PARAM_DEPTH bracket levels (defaults.py); deeper is Stripe's 400
`invalid_request_error`, refused before anything recursive sees the key.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from golive.sandbox.defaults import MAX_PARAM_DEPTH
from golive.sandbox.errors import StripeError, invalid_request

_SEGMENTS = re.compile(r"(?:\[[^\[\]]*\])+$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
# Hashes whose keys are the caller's own: numeric keys there are not list indexes.
_FREE_FORM = frozenset({"metadata"})


def decode(raw: bytes | str) -> dict[str, Any]:
    if not raw:
        return {}
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        bracket = key.find("[")
        if bracket <= 0 or not _SEGMENTS.fullmatch(key, bracket):
            if key:
                root[key] = value
            continue
        segments = _SEGMENT.findall(key, bracket)
        if len(segments) > MAX_PARAM_DEPTH:
            raise _too_deep(key[:bracket], len(segments))
        _insert(root, [key[:bracket], *segments], value)
    return _listify(root, None)


def _too_deep(name: str, levels: int) -> StripeError:
    return invalid_request(
        f"Invalid {name}: parameters can be nested at most {MAX_PARAM_DEPTH} levels deep, "
        f"and this one is nested {levels:,} levels ({name}[…][…]…).",
        param=name,
    )


def _insert(root: dict[str, Any], path: list[str], value: str) -> None:
    node = root
    for i, segment in enumerate(path):
        last = i == len(path) - 1
        if segment == "":  # "[]": the next free index
            segment = str(len(node))
        if last:
            node[segment] = value
            return
        child = node.get(segment)
        if not isinstance(child, dict):
            # "expand=a&expand[]=b": a scalar becomes the first element
            child = {} if child is None else {"0": child}
            node[segment] = child
        node = child


def _listify(node: dict[str, Any], name: str | None) -> Any:
    for key, value in node.items():
        if isinstance(value, dict):
            node[key] = _listify(value, key)
    if name not in _FREE_FORM and node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node
