"""The demo target: the reference shop behind the sandbox, as `golive gate` runs it.

Also the flaw catalogue, for the flaws whose checks exist today (the database indexes and
the two build flaws): with the flaw on, exactly its catalogued items fail. The full
detection matrix over every flaw comes with the live checks (issue #5).
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
import yaml
from gatekit import ROOT, demo_copy, gate

from golive import registry

CATALOGUE = yaml.safe_load((ROOT / "shop" / "catalogue.yaml").read_text())["flaws"]
CHECKLIST = yaml.safe_load((ROOT / "checklist.yaml").read_text())
ITEMS = {item["id"]: item for section in CHECKLIST["sections"] for item in section["items"]}


def checks_exist(item_id: str) -> bool:
    automated = ITEMS[item_id].get("automated")
    return bool(automated) and all(c["ref"] not in registry.PLANNED for c in automated["checks"])


# Flaws every one of whose catalogued items is proven by a check that exists today.
PROVABLE_NOW = sorted(
    name for name, flaw in CATALOGUE.items() if all(checks_exist(i) for i in flaw["fails"])
)


def test_the_catalogue_has_flaws_provable_now() -> None:
    # The index flaws and the two build flaws; issue #5 turns the rest on.
    assert len(PROVABLE_NOW) == 8, PROVABLE_NOW
    assert {"secret-committed", "test-keys-in-prod"} <= set(PROVABLE_NOW)


def test_default_run_shows_the_outcome_kinds_and_cleans_up(tmp_path: Path) -> None:
    run = gate(demo_copy(tmp_path), tmp_path / "out")
    assert run.returncode == 1, run.stdout + run.stderr  # staging checks are not written yet
    results = run.results
    kinds = set(run.outcomes().values())
    assert {"pass", "attested", "pending", "not-run", "waived"} <= kinds
    assert "fail" not in kinds and "error" not in kinds  # the correct shop fails nothing
    # The one failure, the account's missing logo, is accepted by the demo's waiver.
    [waiver] = results["waivers"]
    assert waiver["item"] == "business-settings.logo" and waiver["applied"] is True
    assert run.outcomes()["business-settings.logo"] == "waived"
    app, backend = results["meta"]["target_app"], results["meta"]["stripe_backend"]
    assert backend["backend"] == "sandbox" and app["webhook_url"].endswith("/api/v1/stripe/webhook")
    # Both were stopped when the run ended.
    for url in (app["base_url"] + "/healthz", backend["api_base"] + "/_golive/health"):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)


@pytest.mark.parametrize("flaw", PROVABLE_NOW)
def test_a_flaw_fails_exactly_its_catalogued_items(tmp_path: Path, flaw: str) -> None:
    expected = set(CATALOGUE[flaw]["fails"])
    run = gate(
        demo_copy(tmp_path),
        tmp_path / "out",
        "--phase",
        "pre-deploy",
        env={**os.environ, "SHOP_FLAWS": flaw},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    failing = {item for item, outcome in run.outcomes().items() if outcome == "fail"}
    assert failing == expected
    for item in expected:
        assert f"fail {item}: " in run.stdout
