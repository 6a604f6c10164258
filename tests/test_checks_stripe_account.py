"""stripe.account-settings: read-only, against the profile's Stripe backend (the sandbox)."""

from __future__ import annotations

from pathlib import Path

import yaml
from gatekit import demo_copy, edit_yaml, gate

SECTION = ["--section", "business-settings"]
AUTOMATED = {
    "business-settings.business-name": "business_profile.name",
    "business-settings.logo": "settings.branding.logo",
    "business-settings.statement-descriptor": "settings.payments.statement_descriptor",
    "business-settings.support-email": "business_profile.support_email",
}


def test_demo_account_is_configured_but_for_the_waived_logo(tmp_path: Path) -> None:
    run = gate(demo_copy(tmp_path), tmp_path / "out", *SECTION)
    assert run.returncode == 0, run.stdout + run.stderr
    outcomes = run.outcomes()
    for item in ("business-name", "statement-descriptor", "support-email"):
        assert outcomes[f"business-settings.{item}"] == "pass"
    logo = run.item("business-settings.logo")
    assert logo["outcome"] == "waived"
    assert logo["waiver"]["applied"] is True
    assert "was fail: not set on the Stripe account acct_" in logo["reason"]
    assert "settings.branding.logo" in logo["reason"]
    [evidence] = run.evidence("business-settings.business-name")
    assert evidence["field"] == "business_profile.name"
    assert evidence["value"] == "Golive Demo Eats" and evidence["set"] is True


def test_unset_fields_fail_naming_them(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = yaml.safe_load(profile.read_text())
    data["stripe"]["account"] = {"business_profile": {"name": "Only A Name"}}
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    (profile.parent / "waivers.yaml").write_text("waivers: []\n")
    run = gate(profile, tmp_path / "out", *SECTION)
    assert run.returncode == 0  # these are major and minor items: they do not block
    outcomes = run.outcomes()
    assert outcomes["business-settings.business-name"] == "pass"
    for item, field in AUTOMATED.items():
        if item == "business-settings.business-name":
            continue
        assert outcomes[item] == "fail", item
        [check] = run.item(item)["checks"]
        assert check["message"].endswith(f": {field}")
        assert check["evidence"][0]["set"] is False


def test_without_a_stripe_backend_the_account_is_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = yaml.safe_load(profile.read_text())
    del data["stripe"]
    data["app"].pop("register_webhook")
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    edit_yaml(profile, app={**data["app"], "start": None})
    run = gate(profile, tmp_path / "out", "--item", "business-settings.business-name")
    assert run.outcomes() == {"business-settings.business-name": "not-run"}
    assert "names no Stripe backend" in run.item("business-settings.business-name")["reason"]
