"""`golive watch` on the demo: the correct shop's traffic promotes; a shop whose webhook
endpoint has gone silent rolls back on the checklist's own trigger (webhook delivery below
90 %); bad options are exit 2."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from tests import gatekit
from tests.gatekit import demo_copy, load_yaml

PAYMENTS = 30


def small_demo(tmp_path: Path) -> Path:
    """A demo copy playing a short mix without declines (the watch needs 5 samples a rate)."""
    path = demo_copy(tmp_path)
    traffic = load_yaml(path)["traffic"]
    traffic.update({"payments": PAYMENTS, "spread_s": 1, "mix": {"success": 29, "refund": 1}})
    gatekit.edit_yaml(path, traffic=traffic)
    return path


def watch(profile: Path, out: Path, *extra: str, flaws: str = "") -> tuple[int, dict, str]:
    env = {**os.environ, "SHOP_FLAWS": flaws}
    done = gatekit.golive(
        "watch", "--target", str(profile), "--out", str(out), "--duration", "4s",
        "--interval", "2s", "--since", "go-live", *extra, env=env, timeout=240,
    )  # fmt: skip
    data = json.loads((out / "watch.json").read_text()) if (out / "watch.json").exists() else {}
    return done.returncode, data, done.stdout + done.stderr


def test_the_correct_demo_promotes_with_a_report_per_format(tmp_path: Path) -> None:
    code, data, output = watch(small_demo(tmp_path), tmp_path / "out")
    assert code == 0, output
    assert data["verdict"] == "PROMOTE" and data["ticks"] >= 2
    triggers = {m["name"]: m for m in data["metrics"] if m["role"] == "trigger"}
    assert set(triggers) == {"payment_success_rate", "webhook_delivery_rate"}
    success = triggers["payment_success_rate"]
    assert success["threshold"] == "rate>=0.80" and success["counts"]["failed"] == 0
    assert success["measurements"][-1]["observed"] == 1.0
    assert success["measurements"][-1]["samples"] == PAYMENTS
    assert "tick" in output and "PROMOTE" in output
    page = (tmp_path / "out" / "watch.html").read_text()
    assert "PROMOTE" in page and page.count("<svg") >= 2
    suite = ET.fromstring((tmp_path / "out" / "junit.xml").read_text())
    assert suite.get("failures") == "0" and int(suite.get("tests")) >= 2


def test_a_silent_webhook_endpoint_rolls_back(tmp_path: Path) -> None:
    code, data, output = watch(
        small_demo(tmp_path), tmp_path / "out", flaws="silent-webhook-endpoint"
    )
    assert code == 4, output
    assert data["verdict"] == "ROLLBACK" and data["ticks"] == 1  # stopped at once
    assert data["reasons"][0].startswith("webhook_delivery_rate: 1 failed measurement(s)")
    delivery = next(m for m in data["metrics"] if m["name"] == "webhook_delivery_rate")
    assert delivery["measurements"][0]["observed"] < 0.9
    assert "ROLLBACK" in (tmp_path / "out" / "watch.md").read_text()


def test_bad_options_are_exit_2(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    code, _, output = watch(profile, tmp_path / "out", "--since", "the day before")
    assert code == 2 and "--since 'the day before'" in output
    gatekit.edit_yaml(
        profile,
        watch={"metrics": [{"name": "errors", "prometheus": "up", "threshold": "value>0"}]},
        monitoring=None,
    )
    code, _, output = watch(profile, tmp_path / "out2")
    assert code == 2 and "no monitoring.prometheus block" in output


def test_a_bad_duration_is_exit_2_before_anything_starts(tmp_path: Path) -> None:
    code, _, output = watch(demo_copy(tmp_path), tmp_path / "out", "--interval", "often")
    assert code == 2 and "--interval: not a duration: 'often'" in output
    assert "traffic" not in output  # refused before the demo was booted and its traffic played
