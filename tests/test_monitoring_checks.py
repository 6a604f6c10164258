"""The monitoring checks (checks/test_monitoring.py) against a real Prometheus
(tests/promkit.py) scraping a real reference shop (tests/shopkit.py) that took payments.

The demo's own rule file (targets/demo/prometheus/rules.yml) and its profile's
`monitoring:` block (targets/demo/target.yaml) are what the checks pass on; the broken
variants are that rule file with one alert missing, a rule over a misspelled metric, a rule
Prometheus fails to evaluate, Prometheus down, and no block at all.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import shopkit
import stripe
import yaml
from gatekit import DEMO, GateRun, demo_copy, gate
from jsonhandler import JsonHandler, serving
from promkit import PrometheusProcess, running
from shopkit import ShopProcess, event_for, free_port

from golive.monitoring.prometheus import PrometheusClient, PrometheusError

sandbox = shopkit.sandbox

RULES = DEMO / "prometheus" / "rules.yml"
CUSTOM = [
    "custom-alerts.intent-creation-failures",
    "custom-alerts.signature-failures",
    "custom-alerts.order-creation-failures",
    "custom-alerts.amount-mismatch",
    "custom-alerts.high-refund-rate",
    "custom-alerts.webhook-delays",
]
STRIPE = [
    "stripe-monitoring.alert-failed-payments",
    "stripe-monitoring.alert-webhook-failures",
    "stripe-monitoring.alert-high-refund-rate",
    "stripe-monitoring.alert-disputes",
]
METRICS = [
    "app-monitoring.webhook-processing-time",
    "app-monitoring.order-success-rate",
    "app-monitoring.payment-failure-rate",
]
ALERT_ITEMS = CUSTOM + STRIPE
POST = ["post-deployment.error-rates", "quarter-1.uptime", "week-1.no-critical-incidents"]


# --- the shop, its traffic, and Prometheus ---------------------------------------------------


@pytest.fixture(scope="module")
def shop(
    request: pytest.FixtureRequest, sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    yield from shopkit.module_shop(request, sandbox, tmp_path_factory)


@pytest.fixture(scope="module")
def busy(
    shop: ShopProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusProcess]:
    """Prometheus with the demo's rules, scraping the shop while it takes payments: two
    paid, one refunded, one failed, one amount mismatch, one forged delivery."""
    client = shopkit.client_for(shop.sandbox)
    with (
        running(tmp_path_factory.mktemp("prom-busy"), [_target(shop)], [RULES]) as prom,
        shopkit.registered_webhook(shop.sandbox, shop),
    ):
        prom.wait_for('up{job="shop"} == 1')
        paid = [shop.pending_order("alice", [(1, 1)]) for _ in range(2)]
        for order in paid:  # the sandbox sends the signed events, as Stripe would
            client.v1.payment_intents.confirm(
                order["payment_intent_id"], params={"payment_method": "pm_card_visa"}
            )
            shop.wait_status(order["order_id"], "paid")
        refund = shop.post(f"/api/v1/orders/{paid[0]['order_id']}/refund", "alice")
        assert refund.status_code == 202, refund.text
        shop.wait_status(paid[0]["order_id"], "refunded")
        failed = shop.pending_order("bob", [(2, 1)])
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.confirm(
                failed["payment_intent_id"], params={"payment_method": "pm_card_chargeDeclined"}
            )
        shop.wait_status(failed["order_id"], "failed", "bob")
        tampered = shop.pending_order("carol", [(3, 2)])
        event = event_for(shop.sandbox, tampered["payment_intent_id"], amount=1, amount_received=1)
        assert shop.send_signed(event).status == 200
        shop.wait_processed(event["id"])
        [forged] = shop.send("wrong-secret", event)
        assert forged.status == 400
        # Every counter moved and was scraped; the rules have been evaluated since.
        prom.wait_for('shop_payments_total{result="succeeded"} >= 2')
        prom.wait_for('shop_payments_total{result="failed"} >= 1')
        prom.wait_for("shop_refunds_total >= 1")
        prom.wait_for("shop_amount_mismatches_total >= 1")
        prom.wait_for("shop_webhook_signature_failures_total >= 1")
        prom.wait_for("increase(shop_orders_created_total[1m]) > 0")
        prom.wait_for('ALERTS{alertname="AmountMismatch", alertstate="firing"}')
        prom.wait_rules_evaluated()
        yield prom


@pytest.fixture(scope="module")
def quiet(
    shop: ShopProcess, busy: PrometheusProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusProcess]:
    """Prometheus with the demo's rules started after the traffic: nothing has fired."""
    with running(tmp_path_factory.mktemp("prom-quiet"), [_target(shop)], [RULES]) as prom:
        prom.wait_for('up{job="shop"} == 1')
        prom.wait_for("count_over_time(shop_orders_created_total[1m]) >= 2")
        prom.wait_rules_evaluated()
        yield prom


def _target(shop: ShopProcess) -> str:
    return f"127.0.0.1:{shop.port}"


def _rules_variant(tmp_path: Path, edit: Any) -> Path:
    data = yaml.safe_load(RULES.read_text())
    edit(data)
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _rule(data: dict, name: str) -> dict:
    return next(r for g in data["groups"] for r in g["rules"] if r["alert"] == name)


def _without(name: str) -> Any:
    def edit(data: dict) -> None:
        for group in data["groups"]:
            group["rules"] = [r for r in group["rules"] if r["alert"] != name]

    return edit


@pytest.fixture
def prom_with(shop: ShopProcess, busy: PrometheusProcess, tmp_path: Path) -> Iterator[Any]:
    """Start a Prometheus over the same shop with a variant of the demo's rules."""
    started: list[Any] = []

    def start(edit: Any) -> PrometheusProcess:
        rules = _rules_variant(tmp_path, edit)
        context = running(tmp_path / f"prom{len(started)}", [_target(shop)], [rules])
        prom = context.__enter__()
        started.append(context)
        prom.wait_for('up{job="shop"} == 1')
        prom.wait_rules_evaluated(after=datetime.now(UTC))  # over the scraped series
        return prom

    yield start
    for context in started:
        context.__exit__(None, None, None)


# --- the profile and the gate ----------------------------------------------------------------


def demo_monitoring() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((DEMO / "target.yaml").read_text())["monitoring"])


def profile(tmp_path: Path, prom_url: str | None, **extra: Any) -> Path:
    """A profile with only the demo's monitoring block (its URL filled in) and go-live two
    minutes ago: the monitoring checks need no app and no Stripe."""
    data: dict[str, Any] = {"name": "monitored", "mode": "live"}
    if prom_url is not None:
        block = demo_monitoring()
        block["prometheus"].pop("url_env")
        block["prometheus"]["url"] = prom_url
        data["monitoring"] = block
    go_live = datetime.now(UTC) - timedelta(minutes=2)
    data["post_deploy"] = {"go_live": go_live.isoformat()}
    data.update(extra)
    path = tmp_path / "target.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run(target: Path, items: list[str], tmp_path: Path) -> GateRun:
    args = [arg for item in items for arg in ("--item", item)]
    phases = ["--phase", "pre-deploy", "--phase", "post-deploy"]
    # now=None: the run's time is the real now, when Prometheus has its data.
    done = gate(target, tmp_path / "out", *phases, *args, now=None)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return done


def rules_seen(done: GateRun, item: str) -> dict[str, dict]:
    return {e["alert"]: e for e in done.evidence(item) if "expr" in e}


# --- alert rules -----------------------------------------------------------------------------


def test_the_demo_rules_cover_every_alert_and_the_metrics_are_exported(
    busy: PrometheusProcess, tmp_path: Path
) -> None:
    done = run(profile(tmp_path, busy.url), ALERT_ITEMS + METRICS, tmp_path)
    outcomes = done.outcomes()
    assert outcomes == {item: "pass" for item in ALERT_ITEMS + METRICS}, done.stdout
    covering = {
        "custom-alerts.intent-creation-failures": "PaymentIntentCreationFailures",
        "custom-alerts.signature-failures": "WebhookSignatureFailures",
        "custom-alerts.order-creation-failures": "OrderCreationFailures",
        "custom-alerts.amount-mismatch": "AmountMismatch",
        "custom-alerts.high-refund-rate": "HighRefundRate",
        "custom-alerts.webhook-delays": "WebhookProcessingSlow",
        "stripe-monitoring.alert-failed-payments": "HighPaymentFailureRate",
        "stripe-monitoring.alert-webhook-failures": "WebhookProcessingErrors",
        "stripe-monitoring.alert-disputes": "DisputeOpened",
    }
    for item, alert in covering.items():
        seen = rules_seen(done, item)
        assert alert in seen, (item, seen.keys())
        assert seen[alert]["health"] == "ok" and seen[alert]["problems"] == []
        assert seen[alert]["file"].endswith("rules.yml")
    mismatch = rules_seen(done, "custom-alerts.amount-mismatch")["AmountMismatch"]
    assert mismatch["metrics"] == ["shop_amount_mismatches_total"]
    assert mismatch["state"] == "firing"  # the tampered payment event made it fire
    [head, *_] = done.evidence("custom-alerts.amount-mismatch")
    assert head["prometheus"] == busy.url
    assert head["matched_by"] == {"default_pattern": "amount.*mismatch|mismatch.*amount"}
    # The metrics items: each metric is scraped from the shop, which is up, and the query
    # evaluates; the order success rate is 1 (every order stored).
    evidence = done.evidence("app-monitoring.order-success-rate")
    sources = [e for e in evidence if "metric" in e]
    assert {e["metric"] for e in sources} == {
        "shop_orders_created_total",
        "shop_order_creation_failures_total",
    }
    for entry in sources:
        [source] = entry["current_sources"]
        assert source == {
            "job": "shop",
            "instance": _target_of(busy),
            "series": 1,
            "target_health": "up",
        }
    [result] = [e for e in evidence if "query" in e]
    assert result["series"] == [{"labels": "{}", "value": 1.0}]
    [result] = [e for e in done.evidence("app-monitoring.payment-failure-rate") if "query" in e]
    assert 0 < result["series"][0]["value"] < 1  # one failed of three payments in the range


def _target_of(prom: PrometheusProcess) -> str:
    return prom.scrape[0]


def test_a_missing_alert_rule_fails_that_item_only(prom_with: Any, tmp_path: Path) -> None:
    # The demo's "missing alert rule" flaw: its rule file without the amount-mismatch alert.
    prom = prom_with(_without("AmountMismatch"))
    done = run(profile(tmp_path, prom.url), CUSTOM, tmp_path)
    outcomes = done.outcomes()
    assert outcomes.pop("custom-alerts.amount-mismatch") == "fail"
    assert set(outcomes.values()) == {"pass"}
    message = done.item("custom-alerts.amount-mismatch")["reason"]
    assert "no loaded alerting rule covers amount-mismatch" in message
    assert prom.url in message and "OrderCreationFailures" in message  # what is loaded
    [head] = done.evidence("custom-alerts.amount-mismatch")
    assert head["loaded_alerting_rules"] == 8


def test_a_rule_over_a_misspelled_metric_fails_naming_it(prom_with: Any, tmp_path: Path) -> None:
    def misspell(data: dict) -> None:
        _rule(data, "OrderCreationFailures")["expr"] = (
            "increase(shop_order_creation_failure_total[5m]) > 0"
        )

    prom = prom_with(misspell)
    done = run(profile(tmp_path, prom.url), ["custom-alerts.order-creation-failures"], tmp_path)
    assert done.outcomes() == {"custom-alerts.order-creation-failures": "fail"}
    message = done.item("custom-alerts.order-creation-failures")["reason"]
    assert "metric shop_order_creation_failure_total does not exist in Prometheus" in message
    assert "closest: shop_order_creation_failures_total" in message
    seen = rules_seen(done, "custom-alerts.order-creation-failures")["OrderCreationFailures"]
    assert seen["health"] == "ok"  # Prometheus itself sees nothing wrong: the rule never fires


def test_a_rule_prometheus_fails_to_evaluate_fails(prom_with: Any, tmp_path: Path) -> None:
    def broken(data: dict) -> None:
        # Many-to-many matching: an evaluation error on every run.
        _rule(data, "HighRefundRate")["expr"] = "shop_payments_total + on() shop_refunds_total > 0"

    prom = prom_with(broken)
    done = run(profile(tmp_path, prom.url), ["custom-alerts.high-refund-rate"], tmp_path)
    assert done.outcomes() == {"custom-alerts.high-refund-rate": "fail"}, done.evidence(
        "custom-alerts.high-refund-rate"
    )
    message = done.item("custom-alerts.high-refund-rate")["reason"]
    assert "HighRefundRate: Prometheus fails to evaluate it" in message
    seen = rules_seen(done, "custom-alerts.high-refund-rate")["HighRefundRate"]
    assert seen["health"] == "err" and seen["last_error"]


def test_the_profile_names_the_rule_that_covers_an_alert(
    busy: PrometheusProcess, tmp_path: Path
) -> None:
    item = "custom-alerts.intent-creation-failures"
    block = demo_monitoring()
    block["prometheus"].pop("url_env")
    block["prometheus"]["url"] = busy.url
    block["prometheus"]["alerts"] = {"intent-creation-failures": {"name": "NoSuchAlert"}}
    done = run(profile(tmp_path, None, monitoring=block), [item], tmp_path)
    assert done.outcomes() == {item: "fail"}  # the default pattern is not used then
    assert "no loaded alerting rule covers intent-creation-failures" in done.item(item)["reason"]

    block["prometheus"]["alerts"] = {
        "intent-creation-failures": {
            "labels": {"severity": "critical"},
            "expr_matches": "shop_payment_intent_failures_total",
        }
    }
    (tmp_path / "out").rename(tmp_path / "out-1")
    done = run(profile(tmp_path, None, monitoring=block), [item], tmp_path)
    assert done.outcomes() == {item: "pass"}
    assert set(rules_seen(done, item)) == {"PaymentIntentCreationFailures"}


# --- metrics -------------------------------------------------------------------------------


def test_a_query_over_a_metric_that_is_not_exported_fails(
    busy: PrometheusProcess, tmp_path: Path
) -> None:
    block = demo_monitoring()
    block["prometheus"].pop("url_env")
    block["prometheus"]["url"] = busy.url
    queries = block["prometheus"]["queries"]
    queries["order_success_rate"] = "sum(rate(shop_orders_stored_total[{window}]))"
    queries["payment_failure_rate"] = 'shop_payments_total{result="chargeback"}'
    items = ["app-monitoring.order-success-rate", "app-monitoring.payment-failure-rate"]
    done = run(profile(tmp_path, None, monitoring=block), items, tmp_path)
    assert done.outcomes() == {
        "app-monitoring.order-success-rate": "fail",
        "app-monitoring.payment-failure-rate": "error",  # the metric exists; no series match
    }
    message = done.item("app-monitoring.order-success-rate")["reason"]
    assert "metric shop_orders_stored_total does not exist in Prometheus" in message
    assert (
        "examined nothing: the query payment_failure_rate returned no series"
        in done.item("app-monitoring.payment-failure-rate")["reason"]
    )


# --- post-deploy windows ---------------------------------------------------------------------


def test_error_rate_uptime_and_no_critical_alert_pass_on_a_quiet_shop(
    quiet: PrometheusProcess, tmp_path: Path
) -> None:
    done = run(profile(tmp_path, quiet.url), POST, tmp_path)
    assert done.outcomes() == {item: "pass" for item in POST}, done.stdout
    uptime, observed = done.evidence("quarter-1.uptime")
    assert observed == {"observed": [1.0]}
    assert uptime["window"] == "quarter-1" and uptime["open"] is True
    assert uptime["series"] == [
        {"labels": f'{{instance="{_target_of(quiet)}",job="shop"}}', "value": 1.0}
    ]
    assert uptime["threshold"] == "uptime: value>0.999"
    error_rate, _ = done.evidence("post-deployment.error-rates")
    assert error_rate["series"][0]["value"] == 0.0 and error_rate["window"] == "first-day"
    entries = done.evidence("week-1.no-critical-incidents")
    assert "AmountMismatch" in entries[0]["critical_rules"]
    assert entries[-1]["fired"] == []


def test_a_critical_alert_that_fired_fails_week_one(
    busy: PrometheusProcess, tmp_path: Path
) -> None:
    item = "week-1.no-critical-incidents"
    done = run(profile(tmp_path, busy.url), [item], tmp_path)
    assert done.outcomes() == {item: "fail"}
    assert "AmountMismatch" in done.item(item)["reason"]
    assert "AmountMismatch" in done.evidence(item)[-1]["fired"]


def test_uptime_fails_when_a_scraped_instance_is_down(shop: ShopProcess, tmp_path: Path) -> None:
    down = f"127.0.0.1:{free_port()}"  # nothing listens there
    with running(tmp_path / "prom", [_target(shop), down], [RULES]) as prom:
        prom.wait_for(f'up{{instance="{down}"}} == 0')
        done = run(profile(tmp_path, prom.url), ["quarter-1.uptime"], tmp_path)
    assert done.outcomes() == {"quarter-1.uptime": "fail"}
    message = done.item("quarter-1.uptime")["reason"]
    assert (
        "uptime value>0.999 does not hold over the quarter-1 window (open: judged so far)"
        in message
    )
    assert f'instance="{down}"' in message and f'instance="{_target(shop)}"' not in message


def test_error_rate_fails_when_the_shop_answers_5xx(sandbox: Any, tmp_path: Path) -> None:
    broken = shopkit.start_shop(sandbox, tmp_path / "shop", flaws=["rejects-with-500"])
    try:
        with running(tmp_path / "prom", [_target(broken)], [RULES]) as prom:
            prom.wait_for('up{job="shop"} == 1')
            event = shopkit.make_event("payment_intent.succeeded", {"id": "pi_unknown"})
            # In two bursts, each scraped: increase() counts a series' growth, not its start.
            sent = 0
            for burst in (5, 10):
                for _ in range(burst):
                    [delivery] = broken.send("wrong-secret", event)
                    assert delivery.status == 500
                sent += burst
                prom.wait_for(f'sum(http_requests_total{{status="500"}}) >= {sent}')
            done = run(profile(tmp_path, prom.url), ["post-deployment.error-rates"], tmp_path)
    finally:
        broken.stop()
    assert done.outcomes() == {"post-deployment.error-rates": "fail"}
    message = done.item("post-deployment.error-rates")["reason"]
    assert "error_rate value<0.01 does not hold over the first-day window" in message


# --- not-run and error -----------------------------------------------------------------------


def test_without_a_monitoring_block_every_item_is_not_run(tmp_path: Path) -> None:
    done = run(profile(tmp_path, None), ALERT_ITEMS + METRICS + POST, tmp_path)
    assert set(done.outcomes().values()) == {"not-run"}
    for item in ALERT_ITEMS + METRICS + POST:
        assert "no `monitoring.prometheus` block" in done.item(item)["reason"], item


def test_the_demo_without_its_prometheus_variable_is_not_run(tmp_path: Path) -> None:
    block = demo_monitoring()
    assert block["prometheus"]["url_env"] == "GOLIVE_DEMO_PROMETHEUS_URL"
    done = run(profile(tmp_path, None, monitoring=block), CUSTOM, tmp_path)
    assert set(done.outcomes().values()) == {"not-run"}
    assert "GOLIVE_DEMO_PROMETHEUS_URL, which is not set" in done.item(CUSTOM[0])["reason"]


def test_prometheus_down_is_an_error_naming_its_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = run(profile(tmp_path, url), ALERT_ITEMS + METRICS + POST, tmp_path)
    assert set(done.outcomes().values()) == {"error"}
    for item in ALERT_ITEMS + METRICS + POST:
        assert f"Prometheus at {url} did not answer" in done.item(item)["reason"], item


# --- a Prometheus behind a bearer-token proxy ----------------------------------------------

TOKEN = "prom-token-" + "5f1c9a7e3b2d4c6a8e0f"


def _auth_proxy(upstream: str) -> type:
    class Proxy(JsonHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, {"status": "error", "error": "missing or wrong token"})
                return
            answer = httpx.get(upstream + self.path, timeout=10, trust_env=False)
            self._answer(answer.status_code, answer.json())

    return Proxy


def test_a_bearer_token_reaches_prometheus_and_never_the_report(
    quiet: PrometheusProcess, tmp_path: Path
) -> None:
    item = "custom-alerts.amount-mismatch"
    with serving(_auth_proxy(quiet.url)) as proxy:
        block = demo_monitoring()
        block["prometheus"].pop("url_env")
        block["prometheus"]["url"] = proxy
        block["prometheus"]["bearer_token_env"] = "GOLIVE_TEST_PROM_TOKEN"
        target = profile(tmp_path, None, monitoring=block)
        args = ["--item", item, "--item", "app-monitoring.order-success-rate"]
        outcomes = {}
        for name, token in (("right", TOKEN), ("wrong", "not-the-token-at-all"), ("unset", None)):
            env = {k: v for k, v in os.environ.items() if k != "GOLIVE_TEST_PROM_TOKEN"}
            if token is not None:
                env["GOLIVE_TEST_PROM_TOKEN"] = token
            done = gate(target, tmp_path / name, *args, now=None, env=env)
            outcomes[name] = done.outcomes()
            for path, text in done.report_texts().items():
                assert TOKEN not in text, path
            if name == "wrong":
                assert (
                    f"Prometheus at {proxy} refused /api/v1/rules (HTTP 401)"
                    in done.item(item)["reason"]
                )
            if name == "unset":
                assert (
                    "bearer_token_env names GOLIVE_TEST_PROM_TOKEN, which is not set"
                    in (done.item(item)["reason"])
                )
    assert outcomes == {
        "right": {item: "pass", "app-monitoring.order-success-rate": "pass"},
        "wrong": {item: "error", "app-monitoring.order-success-rate": "error"},
        "unset": {item: "error", "app-monitoring.order-success-rate": "error"},
    }


def test_go_live_from_the_targets_env_and_no_go_live_at_all(
    quiet: PrometheusProcess, tmp_path: Path
) -> None:
    deployed = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (tmp_path / "app.env").write_text(f"DEPLOYED_AT={deployed}\n")
    target = profile(tmp_path, quiet.url, env={"file": "app.env"})
    data = yaml.safe_load(target.read_text())
    data["post_deploy"] = {"go_live_env": "DEPLOYED_AT"}
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    done = run(target, ["quarter-1.uptime"], tmp_path)
    assert done.outcomes() == {"quarter-1.uptime": "pass"}
    assert done.evidence("quarter-1.uptime")[0]["from"].startswith(deployed[:16])

    del data["post_deploy"]
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "out").rename(tmp_path / "out-env")
    done = run(target, ["quarter-1.uptime", "week-1.no-critical-incidents"], tmp_path)
    assert set(done.outcomes().values()) == {"not-run"}
    assert "needs post_deploy.go_live" in done.item("quarter-1.uptime")["reason"]


def test_the_demo_profile_with_its_prometheus_passes_its_monitoring_sections(
    busy: PrometheusProcess, tmp_path: Path
) -> None:
    # The demo itself (its setup, sign-offs and block), GOLIVE_DEMO_PROMETHEUS_URL set: the
    # monitoring checks read Prometheus only, so the gate starts no shop for them.
    sections = ["custom-alerts", "stripe-monitoring", "app-monitoring"]
    args = [arg for section in sections for arg in ("--section", section)]
    env = {**os.environ, "GOLIVE_DEMO_PROMETHEUS_URL": busy.url}
    done = gate(demo_copy(tmp_path), tmp_path / "out", *args, now=None, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = done.outcomes()
    for item in ALERT_ITEMS + METRICS:
        assert outcomes[item] == "pass", (item, done.item(item)["reason"])
    # What stays attested says why (Stripe's own emails, Radar, APM, error tracker).
    assert outcomes["stripe-monitoring.email-alerts"] == "attested"
    assert outcomes["stripe-monitoring.alert-unusual-activity"] == "attested"


# --- the client itself -----------------------------------------------------------------------


def test_the_client_reads_the_http_api_and_names_the_url_in_every_error(
    busy: PrometheusProcess, shop: ShopProcess
) -> None:
    now = datetime.now(UTC)
    with PrometheusClient(busy.url) as client:
        [up] = client.query('up{job="shop"}')
        assert up.labels["instance"] == _target(shop) and up.value == 1.0
        [series] = client.query_range('up{job="shop"}', now - timedelta(seconds=5), now, 1)
        assert len(series.samples) >= 2 and {v for _, v in series.samples} == {1.0}
        [scalar] = client.query("scalar(vector(2))")
        assert scalar.value == 2.0
        firing = {a["labels"]["alertname"] for a in client.alerts() if a["state"] == "firing"}
        assert "AmountMismatch" in firing
        [target] = client.targets()
        assert target["health"] == "up" and target["labels"]["job"] == "shop"
        assert {"shop_refunds_total", "http_requests_total", "up"} <= client.metric_names()
        assert len(client.alerting_rules()) == 9
        bad = rf"Prometheus at {busy.url} refused /api/v1/query \(HTTP 400\): .*parse error"
        with pytest.raises(PrometheusError, match=bad):
            client.query("rate(up[5m]")
    refused = rf"Prometheus at {shop.url} refused /api/v1/rules \(HTTP 404\)"
    with PrometheusClient(shop.url) as app, pytest.raises(PrometheusError, match=refused):
        app.alerting_rules()  # an app, not a Prometheus
