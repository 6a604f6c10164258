"""webhook.fast-ack when signed deliveries are answered 500 (issue #12, case 12).

A real loopback app answers every delivery 500. A correctly signed delivery refused with
a 5xx is the target's failure: the item fails, and its evidence names the status. Before
the fix the check crashed (`_record() got multiple values for argument 'delivery'`) and the
finding was lost.
"""

from __future__ import annotations

from pathlib import Path

from gatekit import gate
from hangingapp import external_app_profile
from receivers import Receiver

ITEM = "webhook-security.fast-ack"


def test_signed_deliveries_answered_500_fail_naming_the_status(tmp_path: Path) -> None:
    with Receiver(default=500) as app:
        profile = external_app_profile(tmp_path, app.url.removesuffix("/webhooks"))
        run = gate(profile, tmp_path / "out", "--item", ITEM)
        deliveries = len(app.requests)
    item = run.item(ITEM)
    assert item["outcome"] == "fail", run.stdout + run.stderr
    assert "500" in item["reason"] and "not acknowledged with a 2xx" in item["reason"]
    assert "TypeError" not in run.stdout + run.stderr
    refused = [e for e in run.evidence(ITEM) if e.get("status") == 500]
    assert refused and deliveries >= len(refused)
    assert all(e["variant"] == "signed" for e in refused)
