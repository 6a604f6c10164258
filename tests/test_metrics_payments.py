"""The payment metrics (payment success, failed payment and refund rates, average order
value) through `golive gate`, on payment histories made in a real sandbox: a healthy one
passes, one with too many declines or refunds fails with the numbers, none is an error,
and a window golive cannot place is an error or not-run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import metricskit
from metricskit import check_of, decline, measured, pay, profile, refund, run

_module_sandbox = metricskit._module_sandbox
sandbox = metricskit.sandbox
client = metricskit.client

RATES = (
    "metrics.payment-success-rate",
    "metrics.failed-payment-rate",
    "week-1.payment-success-rate",
    "month-1.payment-success-rate",
    "quarter-1.payment-success-rate",
    "daily-operations.failed-payments",
)
REFUNDS = ("metrics.refund-rate", "month-1.refund-rate")
AOV = "metrics.average-order-value"


def test_a_healthy_history_passes_every_payment_metric(tmp_path, sandbox, client) -> None:
    pay(client, 60, amount=2500)
    refund(client, pay(client, 1, amount=2500))  # 1 of 61 refunded: 1.6%
    client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})  # abandoned
    done = run(profile(tmp_path, sandbox), tmp_path / "out", *RATES, *REFUNDS, AOV)
    assert done.outcomes() == dict.fromkeys((*RATES, *REFUNDS, AOV), "pass"), done.stdout
    success = measured(done, "week-1.payment-success-rate", "payment_success_rate")
    assert success["attempts"] == 61 and success["succeeded"] == 61 and success["failed"] == 0
    # The PaymentIntent never confirmed is no attempt, so no failure.
    assert success["payment_intents_never_attempted"] == 1
    assert success["window"] == "week-1" and success["open"] is True
    assert success["samples"] == 61
    refunds = measured(done, "month-1.refund-rate", "refund_rate")
    assert refunds["succeeded_charges"] == 61 and refunds["refunded_charges"] == 1
    assert refunds["amount_refunded"] == 2500
    aov = measured(done, AOV, "average_order_value")
    assert aov["value"] == 2500 and aov["currency"] == "usd" and aov["samples"] == 61
    # last-7d is clipped at go-live: the traffic before it is not production's.
    assert aov["window"] == "last-7d" and aov["from"] == success["from"]


def test_too_many_declines_fail_with_the_numbers_and_decline_codes(
    tmp_path, sandbox, client
) -> None:
    pay(client, 18)
    failed = decline(client, 4)  # 18 of 22: 81.8% success, 18.2% failed
    done = run(profile(tmp_path, sandbox), tmp_path / "out", *RATES)
    assert done.outcomes() == dict.fromkeys(RATES, "fail")
    week = check_of(done, "week-1.payment-success-rate")
    assert week["message"].startswith(
        "payment_success_rate rate>0.90 breached: measured 0.8182 over 22 sample(s) (week-1 window"
    )
    assert "still open: judged on the data so far" in week["message"]
    daily = measured(done, "daily-operations.failed-payments", "failed_payment_rate")
    assert daily["failed"] == 4 and daily["attempts"] == 22
    assert daily["decline_codes"] == {"generic_decline": 4}
    assert sorted(f["charge"] for f in daily["failures"]) == sorted(failed)
    assert {f["failure_code"] for f in daily["failures"]} == {"card_declined"}
    failed_rate = check_of(done, "metrics.failed-payment-rate")
    assert (
        "failed_payment_rate rate<0.05 breached: measured 0.1818 over 22"
        in (failed_rate["message"])
    )


def test_too_many_refunds_fail(tmp_path, sandbox, client) -> None:
    charges = pay(client, 20, amount=1000)
    refund(client, charges[:3])  # 15%
    done = run(profile(tmp_path, sandbox), tmp_path / "out", *REFUNDS)
    assert done.outcomes() == dict.fromkeys(REFUNDS, "fail")
    message = check_of(done, "month-1.refund-rate")["message"]
    assert message.startswith("refund_rate rate<0.05 breached: measured 0.15 over 20 sample(s)")
    evidence = measured(done, "month-1.refund-rate", "refund_rate")
    assert sorted(r["charge"] for r in evidence["refunded"]) == sorted(charges[:3])
    assert evidence["amount_refunded"] == 3000 and evidence["amount_charged"] == 20000
    assert {tuple(r["reasons"]) for r in evidence["refunded"]} == {("requested_by_customer",)}


def test_an_average_outside_the_profiles_range_fails(tmp_path, sandbox, client) -> None:
    pay(client, 20, amount=700)
    target = profile(tmp_path, sandbox, params={"metrics.order-value": {"min": 1000, "max": 5000}})
    done = run(target, tmp_path / "out", AOV)
    assert done.outcomes() == {AOV: "fail"}
    assert check_of(done, AOV)["message"].startswith(
        "average order value 700.00 is below the expected minimum 1000"
    )
    assert measured(done, AOV, "average_order_value")["expected_range"] == {
        "min": 1000,
        "max": 5000,
    }


def test_no_payments_is_an_error_never_a_pass(tmp_path, sandbox, client) -> None:
    client.v1.payment_intents.create(params={"amount": 900, "currency": "usd"})  # no attempt
    done = run(profile(tmp_path, sandbox), tmp_path / "out", *RATES[:3], AOV, REFUNDS[0])
    for item in (*RATES[:3], AOV, REFUNDS[0]):
        assert done.item(item)["outcome"] == "error", item
    message = check_of(done, "week-1.payment-success-rate")["message"]
    assert message.startswith(
        "examined nothing: payment_success_rate: no samples in the window (week-1 window"
    )


def test_fewer_samples_than_the_item_asks_for_is_an_error(tmp_path, sandbox, client) -> None:
    pay(client, 5)  # the items ask for count>=20
    done = run(profile(tmp_path, sandbox), tmp_path / "out", "week-1.payment-success-rate")
    assert done.outcomes() == {"week-1.payment-success-rate": "error"}
    assert check_of(done, "week-1.payment-success-rate")["message"].startswith(
        "examined nothing: payment_success_rate: 5 sample(s) in the window, fewer than "
        "`samples: count>=20` asks for"
    )


def test_an_anchored_window_without_go_live_is_an_error_naming_the_key(
    tmp_path, sandbox, client
) -> None:
    pay(client, 20)
    target = profile(tmp_path, sandbox, go_live=None)
    done = run(target, tmp_path / "out", "week-1.payment-success-rate", "metrics.refund-rate")
    assert done.item("week-1.payment-success-rate")["outcome"] == "error"
    assert check_of(done, "week-1.payment-success-rate")["message"] == (
        "the week-1 window needs post_deploy.go_live in the target profile"
    )
    # A rolling window needs no go-live: the last 7 days as they are.
    assert done.item("metrics.refund-rate")["outcome"] == "pass"
    assert measured(done, "metrics.refund-rate", "refund_rate")["succeeded_charges"] == 20


def test_a_window_not_started_is_not_run(tmp_path, sandbox, client) -> None:
    pay(client, 20)
    later = datetime.now(UTC) + timedelta(days=2)
    target = profile(tmp_path, sandbox, go_live=later)
    items = ("week-1.payment-success-rate", "metrics.payment-success-rate")
    done = run(target, tmp_path / "out", *items)
    assert done.outcomes() == dict.fromkeys(items, "not-run")
    reason = done.item("week-1.payment-success-rate")["reason"]
    assert reason.startswith("the week-1 window has not started: go-live (")
    assert "is after the run's time" in reason


def test_a_backend_that_keeps_nothing_is_not_run(tmp_path, sandbox, client) -> None:
    pay(client, 20)
    # The sandbox judged as stripe-mock would be: it keeps nothing to list.
    target = profile(
        tmp_path,
        sandbox,
        stripe={
            "backend": "sandbox",
            "api_base": sandbox.url,
            "capabilities": {"without": ["stateful"]},
        },
    )
    done = run(target, tmp_path / "out", "week-1.payment-success-rate")
    assert done.outcomes() == {"week-1.payment-success-rate": "not-run"}
    assert done.item("week-1.payment-success-rate")["reason"].startswith(
        "backend sandbox cannot keep the objects it creates"
    )


def test_go_live_from_the_targets_env(tmp_path, sandbox, client) -> None:
    pay(client, 20)
    item = "week-1.payment-success-rate"
    target = profile(tmp_path, sandbox, go_live=None, post_deploy={"go_live_env": "DEPLOYED_AT"})
    done = run(target, tmp_path / "out", item)
    assert done.outcomes() == {item: "error"}
    assert check_of(done, item)["message"] == (
        "post_deploy.go_live_env names DEPLOYED_AT, which the target's env does not set"
    )
    live = datetime.now(UTC) - timedelta(hours=2)
    done = run(target, tmp_path / "out2", item, env={"DEPLOYED_AT": live.isoformat()})
    assert done.outcomes() == {item: "pass"}
    assert measured(done, item, "payment_success_rate")["from"] == live.isoformat()
