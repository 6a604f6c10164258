"""The k6-style threshold language: parsing, aggregates, and no vacuous pass on no data."""

from __future__ import annotations

import pytest

from golive.thresholds import NoSamplesError, ThresholdSyntaxError, parse, percentile


@pytest.mark.parametrize(
    ("expression", "aggregate", "pct", "op", "limit"),
    [
        ("p(95)<2000", "p", 95.0, "<", 2000.0),
        ("p(99.9) <= 5000", "p", 99.9, "<=", 5000.0),
        ("avg<5000", "avg", None, "<", 5000.0),
        ("min>=0", "min", None, ">=", 0.0),
        ("max<10", "max", None, "<", 10.0),
        ("med==3", "med", None, "==", 3.0),
        ("rate>0.95", "rate", None, ">", 0.95),
        ("rate<0.05", "rate", None, "<", 0.05),
        ("count>=1", "count", None, ">=", 1.0),
        ("value!=-1.5", "value", None, "!=", -1.5),
        ("  rate >= 0.80  ", "rate", None, ">=", 0.8),
    ],
)
def test_parses_good_expressions(
    expression: str, aggregate: str, pct: float | None, op: str, limit: float
) -> None:
    threshold = parse(expression)
    assert (threshold.aggregate, threshold.percentile, threshold.op, threshold.limit) == (
        aggregate,
        pct,
        op,
        limit,
    )
    assert threshold.expression == expression.strip()


@pytest.mark.parametrize(
    ("expression", "complaint"),
    [
        ("p(95)<<2000", "malformed threshold"),
        ("p95<2000", "malformed threshold"),
        ("p(95)", "malformed threshold"),
        ("<2000", "malformed threshold"),
        ("mean<5", "malformed threshold"),
        ("rate>95%", "malformed threshold"),
        ("count>=one", "malformed threshold"),
        ("", "malformed threshold"),
        ("p(101)<5", "percentile out of range"),
        ("rate>1.5", "a rate is between 0 and 1"),
        ("rate<-0.1", "a rate is between 0 and 1"),
    ],
)
def test_rejects_bad_expressions(expression: str, complaint: str) -> None:
    with pytest.raises(ThresholdSyntaxError, match=complaint):
        parse(expression)


@pytest.mark.parametrize("value", [2000, 0.95, None, ["p(95)<2000"]])
def test_rejects_non_strings(value: object) -> None:
    with pytest.raises(ThresholdSyntaxError, match="must be a string"):
        parse(value)  # type: ignore[arg-type]


def test_percentile_is_nearest_rank() -> None:
    samples = list(range(1, 101))  # 1..100
    assert percentile(samples, 95) == 95
    assert percentile(samples, 50) == 50
    assert percentile(samples, 100) == 100
    assert percentile(samples, 0) == 1
    assert percentile([7.0], 99) == 7.0
    assert percentile([3, 1, 2], 50) == 2  # unsorted input


def test_p95_both_ways() -> None:
    threshold = parse("p(95)<2000")
    fast = [100.0] * 95 + [5000.0] * 5  # the 95th value is still fast
    slow = [100.0] * 94 + [5000.0] * 6  # the 95th value is slow
    assert threshold.evaluate(fast) == (True, 100.0)
    assert threshold.evaluate(slow) == (False, 5000.0)


def test_avg_min_max_med_value() -> None:
    samples = [1.0, 2.0, 3.0, 10.0]
    assert parse("avg<5").evaluate(samples) == (True, 4.0)
    assert parse("avg<4").evaluate(samples) == (False, 4.0)
    assert parse("min>=1").evaluate(samples) == (True, 1.0)
    assert parse("max<10").evaluate(samples) == (False, 10.0)
    assert parse("med<=2").evaluate(samples) == (True, 2.0)
    assert parse("value==10").evaluate(samples) == (True, 10.0)  # the last measurement
    assert parse("value==1").evaluate(samples) == (False, 10.0)


def test_rate_counts_true_samples() -> None:
    outcomes = [True] * 96 + [False] * 4
    assert parse("rate>0.95").evaluate(outcomes) == (True, 0.96)
    assert parse("rate<0.05").evaluate([not o for o in outcomes]) == (True, 0.04)
    failing = [True] * 95 + [False] * 5
    assert parse("rate>0.95").evaluate(failing) == (False, 0.95)  # > is strict
    assert parse("rate>=0.95").evaluate(failing) == (True, 0.95)
    assert parse("rate>0.5").evaluate([1, 0, 1, 1]) == (True, 0.75)  # numbers count too


def test_rollback_triggers() -> None:
    # What must hold to stay deployed: success rate at least 80%, webhook failures at most 10%.
    stay = parse("rate>=0.80")
    assert stay.evaluate([True] * 8 + [False] * 2) == (True, 0.8)
    assert stay.evaluate([True] * 7 + [False] * 3)[0] is False
    failures = parse("rate<=0.10")
    assert failures.evaluate([True] + [False] * 9) == (True, 0.1)
    assert failures.evaluate([True] * 2 + [False] * 8)[0] is False


def test_count() -> None:
    assert parse("count>=50").evaluate([1.0] * 50) == (True, 50.0)
    assert parse("count>=50").evaluate([1.0] * 49) == (False, 49.0)
    assert parse("count>=1").evaluate([False]) == (True, 1.0)  # a sample, whatever its value


@pytest.mark.parametrize(
    "expression", ["p(95)<2000", "avg<1", "min>0", "max<1", "med<1", "rate>0.95", "count>=0"]
)
def test_zero_samples_is_an_error_not_a_pass(expression: str) -> None:
    threshold = parse(expression)
    with pytest.raises(NoSamplesError, match="no samples"):
        threshold.evaluate([])
    with pytest.raises(NoSamplesError):
        threshold.measure(())


def test_holds_applies_the_operator() -> None:
    assert parse("p(95)<2000").holds(1999.9)
    assert not parse("p(95)<2000").holds(2000)
    assert parse("p(95)<=2000").holds(2000)
    assert parse("count!=0").holds(1)
    assert not parse("count!=0").holds(0)
