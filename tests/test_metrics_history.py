"""The metrics over windows anchored on a go-live 100 days ago, on past payments the
sandbox holds at their own dates (POST /_golive/history): fraud and dispute rates, the
platform fee, and what a closed window leaves out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import metricskit
from metricskit import check_of, measured, profile, run

_module_sandbox = metricskit._module_sandbox
sandbox = metricskit.sandbox

NOW = datetime.now(UTC).replace(microsecond=0)
GO_LIVE = NOW - timedelta(days=100)
HOUR = 3600
FRAUD = ("quarter-1.fraud-rate", "weekly-operations.fraud-patterns")


def at(days: float) -> int:
    """Unix seconds, `days` after go-live."""
    return int((GO_LIVE + timedelta(days=days)).timestamp())


def payments(count: int, first_day: float, last_day: float, **fields: Any) -> list[dict]:
    """`count` payments spread evenly between two days after go-live."""
    step = (last_day - first_day) / max(count, 1)
    return [
        {
            "created": at(first_day + i * step),
            "amount": 2000,
            "currency": "usd",
            "outcome": "succeeded",
            **fields,
        }
        for i in range(count)
    ]


def flagged(payment: dict, days_later: float, **what: Any) -> dict:
    """The payment with a dispute or early fraud warning `days_later`."""
    for key, value in what.items():
        payment[key] = {"created": payment["created"] + int(days_later * 86400), **value}
    return payment


def test_few_fraud_reports_pass(tmp_path, sandbox) -> None:
    quarter = payments(300, 0, 89)
    flagged(quarter[10], 20, dispute={"reason": "product_not_received"})  # not fraud
    week = payments(40, 94, 99.5)
    sandbox.add_history(quarter + week)
    done = run(profile(tmp_path, sandbox, go_live=GO_LIVE), tmp_path / "out", *FRAUD, now=NOW)
    assert done.outcomes() == dict.fromkeys(FRAUD, "pass"), done.stdout
    quarter_fraud = measured(done, "quarter-1.fraud-rate", "fraud_rate")
    assert quarter_fraud["succeeded_charges"] == 300 and quarter_fraud["flagged_charges"] == 0
    assert quarter_fraud["disputes"] == 1 and quarter_fraud["fraudulent_disputes"] == 0
    assert quarter_fraud["open"] is False and quarter_fraud["window"] == "quarter-1"
    weekly = measured(done, "weekly-operations.fraud-patterns", "dispute_rate")
    assert weekly["succeeded_charges"] == 40 and weekly["disputes"] == 0


def test_fraudulent_disputes_and_warnings_fail_the_fraud_rate(tmp_path, sandbox) -> None:
    quarter = payments(300, 0, 89)
    flagged(quarter[5], 30, dispute={"reason": "fraudulent"})
    flagged(quarter[6], 2, early_fraud_warning={"fraud_type": "made_with_stolen_card"})
    # Both on one charge count once.
    flagged(
        quarter[7],
        3,
        early_fraud_warning={"fraud_type": "unauthorized_use_of_card"},
        dispute={"reason": "fraudulent"},
    )
    week = payments(40, 94, 99.5)
    flagged(week[0], 0.5, dispute={"reason": "duplicate"})  # a dispute, not fraud
    made = sandbox.add_history(quarter + week)
    done = run(profile(tmp_path, sandbox, go_live=GO_LIVE), tmp_path / "out", *FRAUD, now=NOW)
    assert done.outcomes() == dict.fromkeys(FRAUD, "fail")
    assert check_of(done, "quarter-1.fraud-rate")["message"].startswith(
        "fraud_rate rate<0.005 breached: measured 0.01 over 300 sample(s) (quarter-1 window"
    )
    evidence = measured(done, "quarter-1.fraud-rate", "fraud_rate")
    assert evidence["flagged_charges"] == 3
    assert evidence["fraudulent_disputes"] == 2 and evidence["early_fraud_warnings"] == 2
    assert {f["charge"] for f in evidence["flagged"]} == {made[i]["charge"] for i in (5, 6, 7)}
    # The weekly review: 1 dispute in 40 charges is 2.5%, over Stripe's 0.75%.
    weekly = check_of(done, "weekly-operations.fraud-patterns")["message"]
    assert "dispute_rate rate<0.0075 breached: measured 0.025 over 40 sample(s)" in weekly
    assert "fraud_rate" not in weekly.split("(last-7d")[0]


def test_a_closed_window_is_judged_on_its_own_data(tmp_path, sandbox) -> None:
    week_one = payments(30, 0, 6.9)
    week_one[0]["refunds"] = [{"amount": 2000, "created": at(40)}]  # after month-1 ended
    later = payments(10, 8, 20, outcome="declined", decline_code="insufficient_funds")
    sandbox.add_history(week_one + later)
    items = ("week-1.payment-success-rate", "month-1.payment-success-rate", "month-1.refund-rate")
    done = run(profile(tmp_path, sandbox, go_live=GO_LIVE), tmp_path / "out", *items, now=NOW)
    assert done.outcomes() == {
        "week-1.payment-success-rate": "pass",
        "month-1.payment-success-rate": "fail",  # 30 of 40
        "month-1.refund-rate": "pass",  # the refund came after the month
    }
    week = measured(done, "week-1.payment-success-rate", "payment_success_rate")
    assert week["attempts"] == 30 and week["open"] is False
    month = measured(done, "month-1.payment-success-rate", "payment_success_rate")
    assert month["decline_codes"] == {"insufficient_funds": 10}
    assert check_of(done, "month-1.payment-success-rate")["message"].startswith(
        "payment_success_rate rate>0.95 breached: measured 0.75 over 40 sample(s)"
    )
    refunds = measured(done, "month-1.refund-rate", "refund_rate")
    assert refunds["refunded_charges"] == 0


PRICING = {
    "customers": {"in_state": "a", "out_of_state": "b"},
    "prices": {"1": 2000},
    "rules": {"platform_fee_bps": 1000, "tax_bps": {"default": 0}},
    "carts": {
        "single": [{"id": 1, "quantity": 1}],
        "multi": [{"id": 1, "quantity": 2}, {"id": 1, "quantity": 1}],
    },
}
USERS = {"a": {"token": "t-a", "state": "CA"}, "b": {"token": "t-b", "state": "NY"}}
FEE_ITEMS = ("quarter-1.platform-fee-on-target", "metrics.platform-fee-collected")


def _fee_profile(tmp_path, sandbox, **params: Any):
    extra: dict[str, Any] = {"users": USERS, "pricing": PRICING}
    if params:
        extra["params"] = {"metrics.platform-fee": params}
    return profile(tmp_path, sandbox, go_live=GO_LIVE, **extra)


def test_the_platform_fee_on_target_passes(tmp_path, sandbox) -> None:
    # quarter-1 and the last 7 days: 10% of 2000 as Connect's application fee
    sandbox.add_history(
        payments(40, 1, 80, application_fee_amount=200)
        + payments(20, 95, 99, application_fee_amount=200)
    )
    done = run(_fee_profile(tmp_path, sandbox), tmp_path / "out", *FEE_ITEMS, now=NOW)
    assert done.outcomes() == dict.fromkeys(FEE_ITEMS, "pass"), done.stdout
    target = measured(done, "quarter-1.platform-fee-on-target", "platform_fee_on_target")
    assert target["fee_collected"] == target["fee_expected"] == 8000
    assert target["platform_fee_bps"] == 1000 and target["off_target"] == []


def test_a_fee_off_target_or_missing_fails(tmp_path, sandbox) -> None:
    quarter = payments(40, 1, 80, application_fee_amount=200)
    for payment in quarter[:4]:
        payment["application_fee_amount"] = 150  # 7.5%, not 10%
    week = payments(20, 95, 99, application_fee_amount=200)
    week[0].pop("application_fee_amount")
    made = sandbox.add_history(quarter + week)
    done = run(_fee_profile(tmp_path, sandbox), tmp_path / "out", *FEE_ITEMS, now=NOW)
    assert done.outcomes() == dict.fromkeys(FEE_ITEMS, "fail")
    assert check_of(done, "quarter-1.platform-fee-on-target")["message"].startswith(
        "platform_fee_on_target rate>=0.99 breached: measured 0.9 over 40 sample(s)"
    )
    target = measured(done, "quarter-1.platform-fee-on-target", "platform_fee_on_target")
    assert {o["charge"] for o in target["off_target"]} == {made[i]["charge"] for i in range(4)}
    assert target["off_target"][0]["expected"] == 200 and target["off_target"][0]["fee"] == 150
    collected = measured(done, "metrics.platform-fee-collected", "platform_fee_collected")
    assert collected["without_fee"] == [{"charge": made[40]["charge"], "amount": 2000}]


def test_a_fee_in_metadata_is_read_where_the_profile_says(tmp_path, sandbox) -> None:
    # The fee rides on the amount, its base and share in the charge's metadata.
    fee = {"metadata": {"fee": "200", "subtotal": "2000"}}
    sandbox.add_history(payments(25, 1, 80, **fee))
    target = _fee_profile(tmp_path, sandbox, fee="metadata.fee", base="metadata.subtotal")
    done = run(target, tmp_path / "out", "quarter-1.platform-fee-on-target", now=NOW)
    assert done.outcomes() == {"quarter-1.platform-fee-on-target": "pass"}
    # Read as Connect's application fee (none here), the same history fails.
    done = run(
        _fee_profile(tmp_path, sandbox),
        tmp_path / "out2",
        "quarter-1.platform-fee-on-target",
        now=NOW,
    )
    assert done.outcomes() == {"quarter-1.platform-fee-on-target": "fail"}


def test_without_pricing_rules_the_fee_on_target_is_not_run(tmp_path, sandbox) -> None:
    sandbox.add_history(payments(25, 1, 80, application_fee_amount=200))
    done = run(
        profile(tmp_path, sandbox, go_live=GO_LIVE),
        tmp_path / "out",
        "quarter-1.platform-fee-on-target",
        now=NOW,
    )
    assert done.outcomes() == {"quarter-1.platform-fee-on-target": "not-run"}
    assert (
        "pricing.rules.platform_fee_bps" in done.item("quarter-1.platform-fee-on-target")["reason"]
    )


ANOMALIES = "daily-operations.dashboard-anomalies"


def _days(declined_last_day: int) -> list[dict]:
    # The 7 days before the last day: 95 paid, 5 declined (5%); the last day: 20 charges.
    declined = {"outcome": "declined", "decline_code": "do_not_honor"}
    base = payments(95, 92.5, 98.5) + payments(5, 93, 98, **declined)
    day = payments(20 - declined_last_day, 99.1, 99.9)
    day += payments(declined_last_day, 99.2, 99.8, decline_code="stolen_card", outcome="declined")
    return base + day


def test_a_day_like_the_week_before_shows_no_anomaly(tmp_path, sandbox) -> None:
    sandbox.add_history(_days(declined_last_day=1))  # 5%, as before
    done = run(profile(tmp_path, sandbox, go_live=GO_LIVE), tmp_path / "out", ANOMALIES, now=NOW)
    assert done.outcomes() == {ANOMALIES: "pass"}, done.stdout
    evidence = measured(done, ANOMALIES, "decline_rate_change")
    assert evidence["rate"] == evidence["baseline_rate"] == 0.05
    assert evidence["samples_in_window"] == 20 and evidence["samples_in_baseline"] == 100


def test_a_spike_of_declines_is_an_anomaly(tmp_path, sandbox) -> None:
    sandbox.add_history(_days(declined_last_day=6))  # 30% against 5%
    done = run(profile(tmp_path, sandbox, go_live=GO_LIVE), tmp_path / "out", ANOMALIES, now=NOW)
    assert done.outcomes() == {ANOMALIES: "fail"}
    assert check_of(done, ANOMALIES)["message"].startswith(
        "decline_rate_change value<0.05 breached: measured 0.25 over 20 sample(s)"
    )
    evidence = measured(done, ANOMALIES, "decline_rate_change")
    assert evidence["decline_codes"] == {"stolen_card": 6}


def test_no_baseline_before_a_fresh_go_live_is_not_run(tmp_path, sandbox) -> None:
    sandbox.add_history(_days(declined_last_day=1))
    fresh = NOW - timedelta(hours=20)  # went live within the last day: nothing before it
    done = run(profile(tmp_path, sandbox, go_live=fresh), tmp_path / "out", ANOMALIES, now=NOW)
    assert done.outcomes() == {ANOMALIES: "not-run"}
    assert "no day before it to compare with" in check_of(done, ANOMALIES)["message"]


def test_a_baseline_without_charges_is_an_error(tmp_path, sandbox) -> None:
    # Live for months, but no charge in the week before the last day: nothing to compare.
    sandbox.add_history(payments(20, 99.1, 99.9))
    done = run(profile(tmp_path, sandbox, go_live=GO_LIVE), tmp_path / "out", ANOMALIES, now=NOW)
    assert done.outcomes() == {ANOMALIES: "error"}
    assert check_of(done, ANOMALIES)["message"].startswith(
        "examined nothing: decline_rate_change: no charges in the baseline"
    )


def test_an_average_over_several_currencies_needs_one_chosen(tmp_path, sandbox) -> None:
    sandbox.add_history(payments(20, 95, 99) + payments(5, 95, 99, currency="eur", amount=9000))
    item = "metrics.average-order-value"
    done = run(profile(tmp_path, sandbox, go_live=GO_LIVE), tmp_path / "out", item, now=NOW)
    assert done.outcomes() == {item: "error"}
    assert check_of(done, item)["message"] == (
        "succeeded charges in several currencies (usd: 20, eur: 5): set the check's "
        "`currency` param to average one of them"
    )
    chosen = profile(
        tmp_path, sandbox, go_live=GO_LIVE, params={"metrics.order-value": {"currency": "usd"}}
    )
    done = run(chosen, tmp_path / "out2", item, now=NOW)
    assert done.outcomes() == {item: "pass"}
    evidence = measured(done, item, "average_order_value")
    assert evidence["value"] == 2000 and evidence["other_currencies"] == {"eur": 5}
