"""`observer: {none: reason}`: an app whose webhook has no side effect golive can observe.

Every check that judges a side effect through the observer is not-applicable with the
profile's reason, shown in results.json and summary.md; the other checks run as before.
Without an `observer` block those checks stay not-run, as they always were.
"""

from __future__ import annotations

from pathlib import Path

from gatekit import demo_copy, edit_yaml, gate, load_yaml
from test_validation import assert_invalid, line_of, validate

REASON = "a sample server that only logs the event (no database)"
OBSERVED = {  # item -> the check of it that asks the observer
    "webhook-security.idempotency": "webhook.duplicate-one-order",
    "smoke-tests.order-created": "smoke.order-created",
    "smoke-tests.notification-sent": "smoke.notification-written",
    "e2e-tests.full-checkout": "e2e.full-checkout",
    "metrics.order-creation-latency": "e2e.order-latency",
    "load-testing.race-conditions": "load.race-invariants",
}
SIGNATURE = "webhook-security.signature-mandatory"  # forged-rejected + forged-no-side-effect
UNOBSERVED = ("smoke-tests.create-intent", "smoke-tests.webhook-received")


def _select(*items: str) -> list[str]:
    return [arg for item in items for arg in ("--item", item)]


def test_none_makes_what_needs_the_observer_not_applicable_with_the_reason(
    tmp_path: Path,
) -> None:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, observer={"none": REASON})
    run = gate(profile, tmp_path / "out", *_select(*OBSERVED, SIGNATURE, *UNOBSERVED))
    outcomes = run.outcomes()
    for item, check in OBSERVED.items():
        assert outcomes[item] == "not-applicable", (item, run.item(item))
        assert REASON in run.item(item)["reason"], item
        [result] = [c for c in run.item(item)["checks"] if c["ref"] == check]
        assert result["outcome"] == "not-applicable"
        assert "observer.none" in result["message"] and REASON in result["message"]
    # The forged deliveries are still judged; only their side effects are not.
    assert outcomes[SIGNATURE] == "pass"
    checks = {c["ref"]: c for c in run.item(SIGNATURE)["checks"]}
    rejected, side_effect = (
        checks["webhook.forged-rejected"],
        checks["webhook.forged-no-side-effect"],
    )
    assert rejected["outcome"] == "pass"
    assert side_effect["outcome"] == "not-applicable" and REASON in side_effect["message"]
    # What does not ask the observer runs as before.
    for item in UNOBSERVED:
        assert outcomes[item] == "pass", (item, run.item(item))
    # The flows ran: only the steps that ask the observer were skipped.
    [flow] = [e for e in run.evidence("smoke-tests.order-created") if "timeline" in e]
    steps = {s["step"]: s for s in flow["timeline"]}
    assert steps["webhook"]["ok"] is True
    assert steps["order"]["skipped"] == "not-applicable" and REASON in steps["order"]["seen"]
    assert steps["cart-cleared"]["ok"] is True
    # No load run was started for an item that could not be judged.
    assert "requests" not in str(run.evidence("load-testing.race-conditions"))

    summary = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8")
    section = summary.split("### Not applicable (", 1)[1]
    for item in (*OBSERVED, SIGNATURE):
        assert f"`{item}`" in section, item
    assert "a sample server that only logs the event (no database)" in section
    assert run.returncode == 0, run.stdout  # every blocker judged is accepted


def test_without_an_observer_block_they_stay_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    del data["observer"]
    profile.write_text(__import__("yaml").safe_dump(data, sort_keys=False))
    items = ("webhook-security.idempotency", "smoke-tests.order-created", SIGNATURE)
    run = gate(profile, tmp_path / "out", *_select(*items))
    outcomes = run.outcomes()
    assert outcomes["webhook-security.idempotency"] == "not-run"
    assert outcomes["smoke-tests.order-created"] == "not-run"
    assert "no `observer` block" in run.item("smoke-tests.order-created")["reason"]
    assert outcomes[SIGNATURE] == "not-run"  # forged-no-side-effect could not run
    assert "observer.none" not in (tmp_path / "out" / "results.json").read_text()
    assert run.returncode == 1


def test_a_blank_reason_exits_2_naming_the_line(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, observer={"none": "   "})
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, "  none: '   '"),
        None,
        "observer.none: must not be blank",
    )


def test_none_is_instead_of_a_source(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    observer = load_yaml(profile)["observer"]
    edit_yaml(profile, observer={"none": REASON, **observer})
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, "observer:"),
        None,
        "observer: give exactly one of sql, mongo and http, or none: REASON",
    )
