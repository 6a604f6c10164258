"""data.card-numbers-in-db judges the database only after its card probe worked
(issue #12, case 15).

The probe is the positive control: it puts a card number where a careless app would store
it. If the app answered it 500, or never answered, a clean database proves nothing, so the
item is an error with the probe's status (or timeout) in its evidence, never a pass. The
correct shop passes (tests/test_checks_data_security.py, the shared control run).
"""

from __future__ import annotations

from pathlib import Path

from gatekit import gate
from hangingapp import external_app_profile
from receivers import Receiver
from silentserver import SilentServer

ITEM = "data-security.no-card-storage"  # data.card-numbers-in-db


# The probe is an order placed through the profile's checkout flow as a named user.
ORDERING = {
    "users": {"ada": {"token": "t-ada"}},
    "auth": {"header": {"scheme": "Token"}},
    "flows": {
        "checkout": [
            {
                "request": {"method": "POST", "path": "/orders", "json": {"items": "{lines}"}},
                "capture": {"payment_intent_id": "payment_intent"},
            }
        ]
    },
    "data": {"probe": {"user": "ada", "items": [{"id": 1, "quantity": 1}]}},
}


def test_a_probe_answered_500_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with Receiver(default=500) as app:
        profile = external_app_profile(tmp_path, app.url.removesuffix("/webhooks"), **ORDERING)
        run = gate(profile, tmp_path / "out", "--item", ITEM)
        probed = [r for r in app.requests if r.method == "POST"]
    item = run.item(ITEM)
    assert probed, "the probe never reached the app"
    assert item["outcome"] == "error", run.stdout + run.stderr
    assert "500" in item["reason"] and "probe" in item["reason"]
    assert {"probe": "sent", "status": 500, "user": "ada"}.items() <= run.evidence(ITEM)[0].items()
    assert probed[0].header("Authorization") == "Token t-ada"  # the profile's auth


def test_a_probe_that_timed_out_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with SilentServer(lifetime_s=120) as app:
        profile = external_app_profile(tmp_path, app.url, **ORDERING)
        run = gate(profile, tmp_path / "out", "--item", ITEM)
    item = run.item(ITEM)
    assert item["outcome"] == "error", run.stdout + run.stderr
    assert "no answer" in item["reason"] and "probe" in item["reason"]
    probe = run.evidence(ITEM)[0]
    assert probe["probe"] == "sent" and probe["status"] is None
    assert "got no answer" in probe["error"]
