"""The metric names a PromQL expression reads, from its syntax tree (promql-parser).

    metric_names('sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(up[5m]))')
    -> {"http_requests_total", "up"}

A selector's name is its metric name, or an exact `{__name__="…"}` matcher; a selector
with only a regex on `__name__` names no single metric and is left out. Alert rules that
watch other alerts read `ALERTS` / `ALERTS_FOR_STATE`, which exist only while an alert is
pending or firing: `SYNTHETIC` lists them for the checks to skip.
"""

from __future__ import annotations

from typing import Any

import promql_parser

SYNTHETIC = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


class PromqlError(ValueError):
    """The expression is not PromQL."""


def metric_names(expr: str) -> set[str]:
    try:
        tree = promql_parser.parse(expr)
    except (ValueError, TypeError) as exc:
        raise PromqlError(f"not a PromQL expression ({exc}): {expr!r}") from None
    names: set[str] = set()
    _walk(tree, names)
    return names


def _walk(node: Any, names: set[str]) -> None:
    if isinstance(node, promql_parser.VectorSelector):
        if node.name:
            names.add(node.name)
        for matcher in node.matchers.matchers:
            if matcher.name == "__name__" and matcher.op == promql_parser.MatchOp.Equal:
                names.add(matcher.value)
        return
    if isinstance(node, promql_parser.MatrixSelector):
        _walk(node.vector_selector, names)
    elif isinstance(node, promql_parser.BinaryExpr):
        _walk(node.lhs, names)
        _walk(node.rhs, names)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            _walk(arg, names)
    elif isinstance(node, promql_parser.AggregateExpr):
        _walk(node.expr, names)
        if node.param is not None:
            _walk(node.param, names)
    elif isinstance(
        node, promql_parser.ParenExpr | promql_parser.UnaryExpr | promql_parser.SubqueryExpr
    ):
        _walk(node.expr, names)
