"""Load-test pieces that need no server: thresholds on Locust's stats, validation of metric
names and of the profile's load block, safety refusals, the SVG charts."""

from __future__ import annotations

import argparse
from pathlib import Path
from xml.etree import ElementTree

import pytest
from gatekit import ROOT, demo_copy, golive, load_yaml, sandbox_key_apart, set_env
from pydantic import ValidationError

from golive.load_cli import duration_s
from golive.loadtests import invariants, metrics, safety
from golive.profile.loadtest import LoadModel
from golive.reports import svg


def stats(**entries: tuple[int, int, dict[int, int]]) -> dict[str, metrics.Entry]:
    raw = [
        {"name": n, "method": "POST", "num_requests": r, "num_failures": f, "response_times": h}
        for n, (r, f, h) in entries.items()
    ]
    return metrics.entries(raw)


def test_thresholds_are_judged_on_the_requests_their_metric_names() -> None:
    run = stats(
        checkout=(100, 1, {20: 95, 2500: 5}),  # p95 = 20 ms, p99 = 2500 ms
        stripe_confirm=(100, 0, {5: 100}),
        webhook=(10, 0, {30: 10}),
    )
    judged = {
        j.metric: j
        for j in metrics.judge(
            "load.concurrent-intents",
            {"create_intent_ms": "p(95)<2000", "failure_rate": "rate<0.01", "samples": "count>=50"},
            run,
        )
    }
    assert judged["create_intent_ms"].passed and judged["create_intent_ms"].observed == 20
    assert judged["failure_rate"].samples == 200 and judged["failure_rate"].observed == 0.005
    assert judged["samples"].observed == 100 and judged["samples"].requests == ("checkout",)
    [p99] = metrics.judge("load.concurrent-intents", {"create_intent_ms": "p(99)<2000"}, run)
    assert p99.passed is False and p99.observed == 2500


def test_a_threshold_over_zero_samples_is_undecided_never_a_pass() -> None:
    run = stats(checkout=(5, 0, {10: 5}))
    [ack] = metrics.judge("load.webhook-burst", {"webhook_ack_ms": "p(95)<2000"}, run)
    assert ack.passed is None and ack.samples == 0
    [count] = metrics.judge("load.webhook-burst", {"samples": "count>=1"}, run)
    assert count.passed is None


def test_stats_of_one_name_under_several_methods_are_merged() -> None:
    raw = [
        {
            "name": "x",
            "method": "GET",
            "num_requests": 2,
            "num_failures": 1,
            "response_times": {"5": 2},
        },
        {
            "name": "x",
            "method": "POST",
            "num_requests": 3,
            "num_failures": 0,
            "response_times": {"5": 1, "9": 2},
        },
    ]
    [entry] = metrics.entries(raw).values()
    assert (entry.requests, entry.failures, entry.histogram) == (5, 1, {5: 3, 9: 2})


def test_every_load_metric_of_the_checklist_is_known_to_its_check() -> None:
    data = load_yaml(ROOT / "checklist.yaml")
    [section] = [s for s in data["sections"] if s["id"] == "load-testing"]
    for item in section["items"]:
        [ref] = item["automated"]["checks"]
        assert set(item.get("thresholds", {})) <= set(metrics.CHECK_METRICS[ref["ref"]])


def _checklist_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "checklist.yaml").read_text()
    assert old in text
    path = tmp_path / "checklist.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_a_misspelled_metric_name_is_a_validation_error_naming_file_line_item(
    tmp_path: Path,
) -> None:
    checklist = _checklist_with(
        tmp_path, "{webhook_ack_ms: p(95)<2000", "{webhok_ack_ms: p(95)<2000"
    )
    line = (
        checklist.read_text()
        .splitlines()
        .index(next(x for x in checklist.read_text().splitlines() if "webhok_ack_ms" in x))
        + 1
    )
    for args in (("validate",), ("load", "--scenario", "burst", "--duration", "2s")):
        done = golive(*args, "--checklist", str(checklist), timeout=60)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"{checklist}:{line}: item load-testing.webhook-under-load" in done.stderr
        assert "'webhok_ack_ms'" in done.stderr and "webhook_ack_ms" in done.stderr


CARTS = [[{"id": "A", "quantity": 1}]]


def test_the_load_block_is_validated_with_its_line(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    text = profile.read_text()
    profile.write_text(text.replace("  quota_per_min: 20", "  quota_per_min: many"))
    done = golive("load", "--target", str(profile), "--duration", "2s", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    line = next(i for i, x in enumerate(profile.read_text().splitlines(), 1) if "many" in x)
    assert f"{profile}:{line}: load.quota_per_min" in done.stderr
    assert golive("validate", "--target", str(profile)).returncode == 2
    with pytest.raises(ValidationError):
        LoadModel.model_validate({"users": [], "carts": CARTS})  # nobody to buy
    with pytest.raises(ValidationError):
        LoadModel.model_validate({"users": "shoppers"})  # no carts: the item ids are the app's
    assert LoadModel.model_validate({"users": "shoppers", "carts": CARTS}).users == ["shoppers"]


def test_load_users_must_be_users_of_the_profile_with_the_line(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    text = profile.read_text()
    assert "  users: shoppers" in text
    profile.write_text(text.replace("  users: shoppers", "  users: [shoppers, shopers]"))
    done = golive("validate", "--target", str(profile))
    assert done.returncode == 2, done.stdout + done.stderr
    line = next(i for i, x in enumerate(profile.read_text().splitlines(), 1) if "shopers]" in x)
    assert f"{profile}:{line}: load.users.1: no user named 'shopers'" in done.stderr


def test_the_retired_request_keys_say_what_replaces_them(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    text = profile.read_text()
    profile.write_text(
        text.replace("  users: shoppers", '  customers: {pattern: "tok_load_{n:02d}", count: 5}')
    )
    done = golive("validate", "--target", str(profile))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "`customers` is no longer part of the load block" in done.stderr
    assert "users: shoppers" in done.stderr


def test_loopback_only_unless_allowed_and_never_live_keys() -> None:
    safety.check_hosts(["http://127.0.0.1:8000", "http://localhost:1/x", None], [])
    with pytest.raises(safety.Refused, match="staging.example.com"):
        safety.check_hosts(["https://staging.example.com"], [])
    safety.check_hosts(["https://staging.example.com"], ["staging.example.com"])
    live = "sk_" + "live_" + "x" * 24
    with pytest.raises(safety.Refused, match="live Stripe key") as refused:
        safety.check_keys({"env": live})
    assert live not in str(refused.value)
    safety.check_keys({"env": "sk_test_abc", "none": None})


def test_golive_load_refuses_a_remote_host_before_anything_runs(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    text = profile.read_text()
    profile.write_text(
        text.replace(
            "app:\n  start:", 'app:\n  base_url: "http://shop.example.net:{port}"\n  start:', 1
        )
    )
    done = golive("load", "--target", str(profile), "--duration", "2s", timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to load-test shop.example.net" in done.stderr
    assert not (profile.parent / ".build").exists()  # refused before the setup ran


def test_durations() -> None:
    assert duration_s("60s") == 60 and duration_s("2m") == 120 and duration_s("1m30s") == 90
    assert duration_s("7") == 7
    for bad in ("", "0s", "soon", "5x"):
        with pytest.raises(argparse.ArgumentTypeError):
            duration_s(bad)


def test_invariant_findings_name_the_offending_intents() -> None:
    class Counts:
        def counts(self, pi: str) -> dict[str, int]:
            return {
                "pi_ok": {"orders": 1, "paid_orders": 1, "payments": 1},
                "pi_dup": {"orders": 3, "paid_orders": 1, "payments": 2},
                "pi_stuck": {"orders": 1, "paid_orders": 0, "payments": 0},
                "pi_declined": {"orders": 1, "paid_orders": 0, "payments": 0},
            }[pi]

    status = {"pi_declined": "requires_payment_method"}
    found = invariants.judge(
        ["pi_ok", "pi_dup", "pi_stuck", "pi_declined"],
        lambda pi: status.get(pi, "succeeded"),
        Counts(),  # type: ignore[arg-type]
        settle_s=0.3,
        webhook_5xx=["evt_1 (500, webhook)"],
        poll_s=0.05,
    )
    v = found.violations
    assert v["more_than_one_order"] == ["pi_dup (3 orders)"]
    assert v["more_than_one_payment"] == ["pi_dup (2 payments)"]
    assert v["stuck_payment"] == ["pi_stuck (succeeded, 0 paid orders)"]
    assert v["count_mismatch"] == ["Stripe succeeded 3 intents, the target has 2 paid orders"]
    assert v["webhook_5xx"] == ["evt_1 (500, webhook)"]
    assert "paid_without_success" not in v


def test_charts_are_inline_svg_without_style_attributes() -> None:
    rows = [
        {"t": 100 + i, "users": 5, "rps": 10.0 + i, "fps": 0.0, "p50": 5, "p95": 9, "p99": 12}
        for i in range(5)
    ]
    charts = svg.load_charts(rows)
    assert len(charts) == 3
    for chart in charts:
        assert chart.startswith("<svg") and chart.endswith("</svg>")
        assert "style=" not in chart and "<script" not in chart and "href" not in chart
        ElementTree.fromstring(str(chart))  # well-formed XML
    assert svg.load_charts([]) == []
    assert "&lt;b&gt;" in svg.line_chart("<b>", [1, 2], {"x": [1, 2]}, "")


def test_golive_load_refuses_live_keys(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    live = "sk_" + "live_" + "CANARY" + "x" * 20
    set_env(profile, STRIPE_SECRET_KEY=live)
    sandbox_key_apart(profile)  # the sandbox would refuse it itself; the shop gets it
    done = golive("load", "--target", str(profile), "--duration", "2s", timeout=90)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to load-test with a live Stripe key" in done.stderr
    assert live not in done.stdout + done.stderr
    assert not list(tmp_path.glob("**/locust*"))  # nothing was sent
