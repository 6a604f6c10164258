"""Attestations (`golive attest`, freshness, expiry) and waivers (applied, expired, reported)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gatekit import demo_copy, edit_yaml, gate, golive_here, set_env

pytestmark = pytest.mark.slow

PRODUCTION_DEPLOYED = "deployment.production-deployed"  # attested blocker, post-deploy
EVIDENCE = "https://deploys.example.com/shop/1842"


def attest(profile: Path, item: str, *args: str):
    return golive_here(
        "attest", item, "--target", str(profile), "--by", "Ann Lee", "--evidence", EVIDENCE, *args
    )


def attestations_file(profile: Path) -> Path:
    return profile.parent / "attestations.yaml"


# --- golive attest ---------------------------------------------------------------------------


def without_demo_signoff(profile: Path, item: str) -> Path:
    """The demo copy with its example sign-off of `item` (signoffs.yaml) taken out."""
    signoffs = profile.parent / "signoffs.yaml"
    data = yaml.safe_load(signoffs.read_text())
    data["attestations"] = [a for a in data["attestations"] if a["item"] != item]
    signoffs.write_text(yaml.safe_dump(data, sort_keys=False))
    return profile


def test_attest_appends_and_the_item_becomes_attested(tmp_path: Path) -> None:
    profile = without_demo_signoff(demo_copy(tmp_path), PRODUCTION_DEPLOYED)
    path = attestations_file(profile)
    before = path.read_text()

    run = gate(profile, tmp_path / "before", "--item", PRODUCTION_DEPLOYED)
    assert run.returncode == 1
    assert run.item(PRODUCTION_DEPLOYED)["outcome"] == "pending"
    assert run.item(PRODUCTION_DEPLOYED)["reason"] == "no attestation on file"
    assert run.results["verdict_reasons"] == [
        f"blocker {PRODUCTION_DEPLOYED} is pending: no attestation on file"
    ]

    done = attest(profile, PRODUCTION_DEPLOYED, "--date", "2026-11-26", "--expires", "2026-12-31")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"attested {PRODUCTION_DEPLOYED} by Ann Lee in {path}"
    after = path.read_text()
    assert after.startswith(before)  # appended: every comment and entry left as it was
    assert after.splitlines()[0].startswith("# The demo's own attestations file")
    entries = yaml.safe_load(after)["attestations"]
    assert len(entries) == len(yaml.safe_load(before)["attestations"] or []) + 1
    assert entries[-1] == {
        "item": PRODUCTION_DEPLOYED,
        "by": "Ann Lee",
        "evidence": EVIDENCE,
        "date": "2026-11-26T00:00:00Z",
        "expires": "2026-12-31T00:00:00Z",
    }

    run = gate(profile, tmp_path / "after", "--item", PRODUCTION_DEPLOYED)
    assert run.returncode == 0, run.stdout + run.stderr
    item = run.item(PRODUCTION_DEPLOYED)
    assert item["outcome"] == "attested"
    assert item["reason"] == "attested by Ann Lee"
    assert item["attestation"]["evidence"] == EVIDENCE
    assert item["attestation"]["valid"] is True
    assert run.results["attestations"] == [item["attestation"]]


def test_attest_without_date_signs_now(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    done = attest(profile, "month-1.customer-satisfaction")
    assert done.returncode == 0, done.stderr
    entry = yaml.safe_load(attestations_file(profile).read_text())["attestations"][-1]
    assert set(entry) == {"item", "by", "evidence", "date"}
    run = gate(profile, tmp_path / "out", "--item", "month-1.customer-satisfaction", now=None)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.item("month-1.customer-satisfaction")["outcome"] == "attested"


def test_attest_into_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    path = tmp_path / "sign-offs.yaml"
    done = golive_here(
        "attest",
        PRODUCTION_DEPLOYED,
        "--target",
        str(profile),
        "--file",
        str(path),
        "--by",
        "Ann Lee",
        "--evidence",
        EVIDENCE,
    )
    assert done.returncode == 0, done.stderr
    [entry] = yaml.safe_load(path.read_text())["attestations"]
    assert entry["item"] == PRODUCTION_DEPLOYED


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("environment.secret-key", "this item is automated"),
        ("environment.secrets-in-vaults", "unknown item"),
    ],
)
def test_attest_refuses_automated_and_unknown_items(
    tmp_path: Path, item: str, message: str
) -> None:
    profile = demo_copy(tmp_path)
    before = attestations_file(profile).read_text()
    done = attest(profile, item)
    assert done.returncode == 2
    assert f"item {item}: {message}" in done.stderr
    assert attestations_file(profile).read_text() == before


def test_attest_refuses_to_append_to_a_broken_file(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    path = attestations_file(profile)
    broken = (
        path.read_text()
        + "  - item: radar.enabeld\n    by: X\n    evidence: Y\n    date: 2026-11-20\n"
    )
    path.write_text(broken)
    done = attest(profile, PRODUCTION_DEPLOYED)
    assert done.returncode == 2
    assert "item radar.enabeld: attestation for an unknown item" in done.stderr
    assert path.read_text() == broken


# --- freshness and expiry ------------------------------------------------------------------


def test_stale_attestation_is_pending_and_blocks(tmp_path: Path) -> None:
    # Both signed 2026-11-20; the release's final check counts for 14 days, the code
    # review's audit for 90. Twenty days later only the second still holds. (The demo's
    # example sign-offs move with the run's time, so this profile uses its own file only.)
    profile = demo_copy(tmp_path)
    edit_yaml(profile, attestations="attestations.yaml")
    for item in ("code-review.security-audit", "final-checks.security-audit"):
        assert attest(profile, item, "--date", "2026-11-20").returncode == 0
    run = gate(
        profile,
        tmp_path / "out",
        "--item",
        "code-review.security-audit",
        "--item",
        "final-checks.security-audit",
        now="2026-12-10T12:00:00Z",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outcomes() == {
        "code-review.security-audit": "attested",
        "final-checks.security-audit": "pending",
    }
    reason = "attestation stale: signed 2026-11-20, older than 14 days"
    stale = run.item("final-checks.security-audit")
    assert stale["reason"] == reason
    assert stale["attestation"]["valid"] is False
    assert run.results["verdict"] == "NO-GO"
    assert run.results["verdict_reasons"] == [
        f"blocker final-checks.security-audit is pending: {reason}"
    ]


def test_expired_attestation_is_pending(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    # Newer than the demo's sign-off of 2026-11-20, so it is the one judged.
    done = attest(
        profile, "incident-response.on-call", "--date", "2026-11-24", "--expires", "2026-11-25"
    )
    assert done.returncode == 0, done.stderr
    run = gate(profile, tmp_path / "out", "--item", "incident-response.on-call")
    assert run.returncode == 1
    item = run.item("incident-response.on-call")
    assert item["outcome"] == "pending"
    assert item["reason"] == "attestation expired on 2026-11-25"
    assert item["attestation"]["by"] == "Ann Lee"
    # Before it expired, the same sign-off counted.
    run = gate(
        profile,
        tmp_path / "earlier",
        "--item",
        "incident-response.on-call",
        now="2026-11-24T18:00:00Z",
    )
    assert run.returncode == 0
    assert run.item("incident-response.on-call")["outcome"] == "attested"


# --- waivers -------------------------------------------------------------------------------

WAIVERS = """# Accepted risks, reviewed like code.
waivers:
  - item: environment.secret-key
    reason: restricted key rollout, tracked in SEC-118
    author: Kim Park
    approver: Lee Chen
    expires: 2026-12-31
  - item: environment.api-version
    reason: pinned by the SDK upgrade, SEC-120
    author: Kim Park
    approver: Rita Gomez
    expires: 2026-12-31T18:00:00Z
"""
SELECT = ("--item", "environment.secret-key", "--item", "environment.api-version")


@pytest.fixture
def waived_profile(tmp_path: Path) -> Path:
    """A demo copy whose secret key is wrong (a failing blocker) and that has waivers."""
    profile = demo_copy(tmp_path)
    set_env(profile, STRIPE_SECRET_KEY="pk_test_51DemoOnlyNotARealKey00000000000000000wrong")
    (profile.parent / "waivers.yaml").write_text(WAIVERS)
    edit_yaml(profile, waivers="waivers.yaml")
    return profile


def test_the_failure_is_real_without_the_waiver(tmp_path: Path, waived_profile: Path) -> None:
    edit_yaml(waived_profile, waivers=None)
    run = gate(waived_profile, tmp_path / "out", *SELECT)
    assert run.returncode == 1
    assert run.item("environment.secret-key")["outcome"] == "fail"


def test_valid_waiver_turns_a_failing_blocker_into_waived_and_go(
    tmp_path: Path, waived_profile: Path
) -> None:
    out = tmp_path / "out"
    run = gate(waived_profile, out, *SELECT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.results["verdict"] == "GO"
    assert run.outcomes() == {"environment.secret-key": "waived", "environment.api-version": "pass"}
    item = run.item("environment.secret-key")
    assert item["reason"].startswith(
        "waived (restricted key rollout, tracked in SEC-118); was fail: STRIPE_SECRET_KEY is pk_test_…rong"
    )
    assert item["waiver"]["applied"] is True and item["waiver"]["expired"] is False
    assert item["checks"][0]["outcome"] == "fail"  # the check result itself is kept

    # The report lists every waiver, the one that was not needed too.
    waivers = {w["item"]: w for w in run.results["waivers"]}
    assert waivers["environment.secret-key"]["approver"] == "Lee Chen"
    assert waivers["environment.api-version"]["applied"] is False
    assert waivers["environment.api-version"]["approver"] == "Rita Gomez"
    summary = (out / "summary.md").read_text()
    assert "### Waivers (2)" in summary
    html = (out / "report.html").read_text()
    assert "Waivers (2)" in html
    for text in (summary, html):
        for waiver in yaml.safe_load(WAIVERS)["waivers"]:
            assert waiver["item"] in text
            assert waiver["reason"] in text
            assert waiver["approver"] in text


def test_expired_waiver_is_no_go_naming_it(tmp_path: Path, waived_profile: Path) -> None:
    run = gate(waived_profile, tmp_path / "out", *SELECT, now="2027-01-15T09:00:00Z")
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.results["verdict"] == "NO-GO"
    item = run.item("environment.secret-key")
    assert item["outcome"] == "fail"
    assert item["reason"].startswith("waiver expired 2026-12-31; STRIPE_SECRET_KEY is pk_test_")
    assert item["waiver"]["expired"] is True and item["waiver"]["applied"] is False
    reasons = run.results["verdict_reasons"]
    assert "waiver for environment.secret-key expired on 2026-12-31: renew or remove it" in reasons
    # An expired waiver fails the gate even when its item passes now: renew or remove it.
    assert run.item("environment.api-version")["outcome"] == "pass"
    assert "waiver for environment.api-version expired on 2026-12-31: renew or remove it" in reasons
    assert "waiver for environment.secret-key expired" in run.stdout
