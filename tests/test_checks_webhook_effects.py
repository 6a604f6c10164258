"""webhook.forged-no-side-effect / duplicate-one-order / amount-mismatch: real orders on the
demo shop behind the sandbox, paid (or not) by events golive sends, counted through the
profile's observer (SQL on the shop's database). Each check both ways, and the observer's
own failure modes: no block, queries that see nothing, an unreachable source. The correct
shop's and the flaws' runs are the detection matrix's (gatekit.SharedRuns)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mongomock
import pytest
from gatekit import GateRun, SharedRuns, demo_copy, edit_yaml, gate, load_yaml

from golive.client.app import AppClient
from golive.observer import ObserverError, ObserverModel, mongo_observer, open_observer
from golive.profile import ProfileModel

FORGED_ITEM = "webhook-security.signature-mandatory"  # forged-rejected, forged-no-side-effect
IDEMPOTENCY = "webhook-security.idempotency"  # duplicate-one-order, default 5 copies
DEDUP = "webhook-security.event-deduplication"  # duplicate-one-order, 20 copies
AMOUNT = "price-integrity.intent-amount-verified"  # intent-amount-matches, amount-mismatch
ITEMS = ["--item", FORGED_ITEM, "--item", IDEMPOTENCY, "--item", DEDUP, "--item", AMOUNT]


def run_gate(tmp_path: Path, profile: Path) -> GateRun:
    return gate(profile, tmp_path / "out", *ITEMS)


def check_of(run: GateRun, item: str, ref: str) -> dict:
    return next(c for c in run.item(item)["checks"] if c["ref"] == ref)


def steps(check: dict) -> dict[str, dict]:
    return {e["step"]: e for e in check["evidence"] if "step" in e}


def test_the_correct_shop_passes_with_one_of_each(shared_runs: SharedRuns) -> None:
    run = shared_runs.control()
    assert run.returncode == 0, run.stdout + run.stderr
    forged = check_of(run, FORGED_ITEM, "webhook.forged-no-side-effect")
    assert forged["outcome"] == "pass"
    answers = next(e["forged_answers"] for e in forged["evidence"] if "forged_answers" in e)
    battery = answers.pop("bypass-battery")
    assert battery.endswith(" 0 accepted")
    assert len(answers) == 6 and all(400 <= status < 500 for status in answers.values())
    seen = steps(forged)
    assert seen["during the forged deliveries"]["counts"]["paid_orders"] == 0
    paid = seen["after the correctly signed delivery"]["counts"]
    assert paid == {"orders": 1, "paid_orders": 1, "payments": 1, "notifications": 1}

    for item, copies in ((IDEMPOTENCY, 5), (DEDUP, 20)):
        check = check_of(run, item, "webhook.duplicate-one-order")
        assert check["outcome"] == "pass"
        seen = steps(check)
        assert f"after {copies} concurrent copies" in seen
        for settled in (
            "during the concurrent copies settling",
            "during the redeliveries settling",
        ):
            assert set(seen[settled]["counts"].values()) == {1}, seen[settled]

    mismatch = check_of(run, AMOUNT, "webhook.amount-mismatch")
    assert mismatch["outcome"] == "pass"
    seen = steps(mismatch)
    assert seen["during the mismatched payment"]["counts"]["paid_orders"] == 0
    assert seen["after the payment of the right amount"]["counts"]["paid_orders"] == 1


def test_unsigned_webhooks_pay_forged_orders(shared_runs: SharedRuns) -> None:
    run = shared_runs.flaw("unsigned-webhooks")
    check = check_of(run, FORGED_ITEM, "webhook.forged-no-side-effect")
    assert check["outcome"] == "fail"
    assert check["message"].startswith("forged deliveries paid order of PaymentIntent pi_")
    assert "before any correctly signed event was sent" in check["message"]


def test_a_debug_bypass_header_pays_a_forged_order(shared_runs: SharedRuns) -> None:
    run = shared_runs.flaw("signature-bypass-header")
    check = check_of(run, FORGED_ITEM, "webhook.forged-no-side-effect")
    assert check["outcome"] == "fail"
    accepted = next(e["accepted"] for e in check["evidence"] if "accepted" in e)
    assert accepted == ["header X-Skip-Signature: true (built-in battery)"]
    assert "accepted: header X-Skip-Signature: true (built-in battery)" in check["message"]


def test_without_event_dedup_a_redelivery_notifies_twice(shared_runs: SharedRuns) -> None:
    run = shared_runs.flaw("no-event-dedup")
    for item in (IDEMPOTENCY, DEDUP):
        check = check_of(run, item, "webhook.duplicate-one-order")
        assert check["outcome"] == "fail", check
        assert (
            "notifications" in check["message"]
            and "expected exactly one of each" in check["message"]
        )
        # Payments stay unique (the index), so only the notifications are doubled.
        assert " payments" not in check["message"]


def test_a_check_then_insert_race_doubles_the_payment(shared_runs: SharedRuns) -> None:
    run = shared_runs.flaw("double-order-on-race")
    check = check_of(run, DEDUP, "webhook.duplicate-one-order")
    assert check["outcome"] == "fail"
    assert check["message"].startswith("20 concurrent copies of event evt_")
    assert " left 20 payments, 20 notifications for PaymentIntent pi_" in check["message"]


def test_a_webhook_that_ignores_the_amount_pays_a_mismatch(shared_runs: SharedRuns) -> None:
    run = shared_runs.flaw("no-amount-check-in-webhook")
    check = check_of(run, AMOUNT, "webhook.amount-mismatch")
    assert check["outcome"] == "fail"
    assert "marked the order of PaymentIntent pi_" in check["message"]
    assert "the webhook does not compare the amount with the order" in check["message"]
    # The checkout's own amount is right: only the webhook's side is wrong.
    assert check_of(run, AMOUNT, "price.intent-amount-matches")["outcome"] == "pass"


def test_without_an_observer_the_checks_do_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    del data["observer"]
    profile.write_text(__import__("yaml").safe_dump(data, sort_keys=False))
    run = run_gate(tmp_path, profile)
    check = check_of(run, IDEMPOTENCY, "webhook.duplicate-one-order")
    assert check["outcome"] == "not-run"
    assert "no `observer` block" in check["message"]
    assert run.returncode == 1  # a blocker that did not run is no GO


def test_an_observer_that_sees_nothing_is_an_error_not_a_pass(tmp_path: Path) -> None:
    # Queries on the wrong column value: every count is 0, whatever the shop does. The
    # positive control (a correct payment must show as paid) catches it.
    profile = demo_copy(tmp_path)
    observer = load_yaml(profile)["observer"]
    observer["sql"]["counts"] = {
        name: query.replace(":payment_intent", "'pi_' || :payment_intent")
        for name, query in observer["sql"]["counts"].items()
    }
    observer["deadline_s"] = 2
    edit_yaml(profile, observer=observer)
    run = run_gate(tmp_path, profile)
    for item, ref in (
        (FORGED_ITEM, "webhook.forged-no-side-effect"),
        (IDEMPOTENCY, "webhook.duplicate-one-order"),
        (AMOUNT, "webhook.amount-mismatch"),
    ):
        check = check_of(run, item, ref)
        assert check["outcome"] == "error", check
        assert "examined nothing" in check["message"]
        assert "shows no paid order and payment within 2.0 s" in check["message"]
        assert "the app did not take the event as a payment" in check["message"]


def test_an_observer_counting_paid_orders_before_any_payment_is_an_error(tmp_path: Path) -> None:
    # A query that counts every paid order of the shop, not this PaymentIntent's.
    profile = demo_copy(tmp_path)
    observer = load_yaml(profile)["observer"]
    observer["sql"]["counts"]["payments"] = (
        "SELECT count(*) + 1 FROM payments WHERE :payment_intent IS NOT NULL"
    )
    edit_yaml(profile, observer=observer)
    run = run_gate(tmp_path, profile)
    check = check_of(run, IDEMPOTENCY, "webhook.duplicate-one-order")
    assert check["outcome"] == "error", check
    assert "right after checkout, before any payment" in check["message"]


# --- the observer's sources, directly -------------------------------------------------------


def _model(**source: object) -> ObserverModel:
    return ObserverModel.model_validate({**source, "deadline_s": 0.5, "poll_s": 0.05})


def test_sql_counts_on_sqlite(tmp_path: Path) -> None:
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'o.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (pi TEXT, status TEXT)")
        conn.exec_driver_sql("INSERT INTO orders VALUES ('pi_1', 'paid'), ('pi_1', 'pending')")
    counts = {
        "orders": "SELECT count(*) FROM orders WHERE pi = :payment_intent",
        "paid_orders": "SELECT count(*) FROM orders WHERE pi = :payment_intent AND status='paid'",
        "payments": "SELECT 0 WHERE :payment_intent IS NOT NULL",
    }
    observer = open_observer(_model(sql={"counts": counts}), database_url=url, app_base_url=None)
    assert observer.counts("pi_1") == {"orders": 2, "paid_orders": 1, "payments": 0}
    reached, seen = observer.wait_until("pi_1", lambda c: c["payments"] > 0)
    assert not reached and seen.polls >= 2 and seen.waited_s >= 0.5
    observer.close()


def test_sql_errors_name_the_query_problem(tmp_path: Path) -> None:
    counts = {
        n: "SELECT count(*) FROM nowhere WHERE x = :payment_intent"
        for n in ("orders", "paid_orders", "payments")
    }
    observer = open_observer(
        _model(sql={"counts": counts}),
        database_url=f"sqlite:///{tmp_path / 'empty.db'}",
        app_base_url=None,
    )
    with pytest.raises(ObserverError, match="no such table: nowhere"):
        observer.counts("pi_1")


def test_the_block_needs_the_required_counts_and_one_source() -> None:
    with pytest.raises(ValueError, match="counts needs paid_orders, payments"):
        _model(sql={"counts": {"orders": "SELECT :payment_intent"}})
    with pytest.raises(ValueError, match="must use the parameter :payment_intent"):
        _model(sql={"counts": {n: "SELECT 1" for n in ("orders", "paid_orders", "payments")}})
    with pytest.raises(ValueError, match="exactly one of sql, mongo and http"):
        _model()


def test_mongo_counts_fill_the_payment_intent() -> None:
    db = mongomock.MongoClient().shop
    db.orders.insert_many(
        [
            {"stripePaymentIntentId": "pi_9", "paymentStatus": "paid"},
            {"stripePaymentIntentId": "pi_8", "paymentStatus": "paid"},
        ]
    )
    db.payments.insert_one({"stripePaymentIntentId": "pi_9"})
    spec = {
        "counts": {
            "orders": {
                "collection": "orders",
                "filter": {"stripePaymentIntentId": "{payment_intent}"},
            },
            "paid_orders": {
                "collection": "orders",
                "filter": {"stripePaymentIntentId": "{payment_intent}", "paymentStatus": "paid"},
            },
            "payments": {
                "collection": "payments",
                "filter": {"stripePaymentIntentId": "{payment_intent}"},
            },
        }
    }
    observer = mongo_observer(_model(mongo=spec), db)
    assert observer.counts("pi_9") == {"orders": 1, "paid_orders": 1, "payments": 1}
    assert observer.counts("pi_7") == {"orders": 0, "paid_orders": 0, "payments": 0}


@pytest.fixture
def counts_endpoint() -> Iterator[str]:
    """A real HTTP endpoint answering counts for pi_ok, 404 otherwise, 200 non-JSON for pi_bad."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.headers.get("Authorization") != "Bearer tok_ops":
                self.send_response(401)
                self.end_headers()
                return
            if self.path == "/ops/pi_ok":
                body = b'{"orders": 1, "paid_orders": 1, "payments": 1, "other": 7}'
            elif self.path == "/ops/pi_bad":
                body = b"<html>oops</html>"
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_http_counts_from_the_app(counts_endpoint: str) -> None:
    model = _model(http={"path": "/ops/{payment_intent}", "user": "ops"})
    ops = AppClient(
        ProfileModel.model_validate(
            {
                "name": "t",
                "mode": "test",
                "users": {"ops": {"token": "tok_ops"}},
                "auth": {"header": {"scheme": "Bearer"}},
            }
        ),
        counts_endpoint,
        base_dir=Path("."),
    )
    observer = open_observer(model, database_url=None, app_base_url=counts_endpoint, app_client=ops)
    assert observer.counts("pi_ok") == {"orders": 1, "paid_orders": 1, "payments": 1}
    with pytest.raises(ObserverError, match="answered 404"):
        observer.counts("pi_missing")
    with pytest.raises(ObserverError, match="did not answer a JSON object of integer counts"):
        observer.counts("pi_bad")
    observer.close()
    anonymous = open_observer(
        _model(http={"path": "/ops/{payment_intent}"}),
        database_url=None,
        app_base_url=counts_endpoint,
    )
    with pytest.raises(ObserverError, match="answered 401"):
        anonymous.counts("pi_ok")
