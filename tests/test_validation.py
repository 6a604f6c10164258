"""`golive validate`: every kind of invalid input exits 2 naming the file, the line and the item.

Each test breaks one copy of a real file (the bundled checklist, the demo profile, its
attestations) at a known line and runs the CLI: in this process (gatekit.golive_here) when
the command starts nothing, as a subprocess when it leaves state behind or runs the gate.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from gatekit import ROOT, demo_copy, edit_yaml, gate, golive, golive_here

CHECKLIST = ROOT / "checklist.yaml"


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line that equals `text` (stripped of the newline)."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line == text:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{text!r} not found in {path}")


def edited_checklist(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of checklist.yaml with the first line equal to `old` replaced by `new`."""
    lines = CHECKLIST.read_text(encoding="utf-8").splitlines()
    index = lines.index(old)
    lines[index : index + 1] = new.split("\n")
    path = tmp_path / "checklist.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def validate(*args: str | Path) -> subprocess.CompletedProcess:
    return golive_here("validate", *(str(a) for a in args))


def assert_invalid(
    done: subprocess.CompletedProcess,
    file: Path | None,
    line: int | None,
    item: str | None,
    *texts: str,
) -> None:
    """Exit 2, nothing on stdout, and one stderr line naming file:line, the item and texts."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("golive: error: ")
    where = f"{file}:{line}: " if line else f"{file}:" if file else ""
    wanted = [where, f"item {item}: " if item else "", *texts]
    lines = done.stderr.splitlines()
    assert any(all(w in ln for w in wanted) for ln in lines), (wanted, done.stderr)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return demo_copy(tmp_path)


def test_the_demo_validates(tmp_path: Path, profile: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    done = golive("validate", "--target", str(profile), env={**os.environ, "TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    assert "ok: " in done.stdout
    assert "191 items, 130 automated, 61 attested" in done.stdout
    assert done.stderr == ""
    # validate runs nothing: the demo's setup has not built anything, and no scratch
    # folder is left behind.
    assert not (profile.parent / ".build").exists()
    assert list(scratch.iterdir()) == []


def test_the_bundled_default_validates() -> None:
    done = validate()  # the bundled checklist and the embedded demo profile
    assert done.returncode == 0, done.stderr
    assert str(ROOT / "checklist.yaml") in done.stdout


# --- checklist --------------------------------------------------------------------------


def test_malformed_yaml_names_the_line(tmp_path: Path, profile: Path) -> None:
    old = "    title: All Stripe keys added to production `.env`"
    path = edited_checklist(tmp_path, old, "    title: keys: in .env")
    done = validate("--checklist", path, "--target", profile)
    assert_invalid(done, path, line_of(path, "    title: keys: in .env"), None, "malformed YAML")


def test_unknown_key_in_an_item(tmp_path: Path, profile: Path) -> None:
    old = "  - id: environment.publishable-key"
    path = edited_checklist(tmp_path, old, old + "\n    owner: payments-team")
    done = validate("--checklist", path, "--target", profile)
    line = line_of(path, "    owner: payments-team")
    assert_invalid(done, path, line, "environment.publishable-key", "owner: unknown key")


def test_duplicate_item_id(tmp_path: Path, profile: Path) -> None:
    path = edited_checklist(
        tmp_path, "  - id: environment.secret-key", "  - id: environment.stripe-keys-in-env"
    )
    done = validate("--checklist", path, "--target", profile)
    first = line_of(path, "  - id: environment.stripe-keys-in-env")
    second = line_of(path, "  - id: environment.stripe-keys-in-env", occurrence=2)
    assert_invalid(
        done,
        path,
        second,
        "environment.stripe-keys-in-env",
        f"duplicate item id (first on line {first})",
    )


def test_reference_to_a_check_that_does_not_exist(tmp_path: Path, profile: Path) -> None:
    path = edited_checklist(
        tmp_path, "      - ref: env.vars-present", "      - ref: env.vars-presnet"
    )
    done = validate("--checklist", path, "--target", profile)
    line = line_of(path, "      - ref: env.vars-presnet")
    assert_invalid(
        done,
        path,
        line,
        "environment.stripe-keys-in-env",
        "unknown check 'env.vars-presnet'",
        "golive checks",
    )


def test_malformed_threshold(tmp_path: Path, profile: Path) -> None:
    old = "    thresholds: {refund_rate: rate<0.05, samples: count>=20}"
    new = "    thresholds: {refund_rate: rate<5%, samples: count>=20}"
    path = edited_checklist(tmp_path, old, new)
    done = validate("--checklist", path, "--target", profile)
    line = line_of(path, new)
    assert_invalid(
        done, path, line, "metrics.refund-rate", "threshold 'refund_rate'", "malformed threshold"
    )


def test_bad_check_params(tmp_path: Path, profile: Path) -> None:
    # env.key-prefix without `role` or `var` (the first one: environment.secret-key's).
    role = "          role: secret_key  # STRIPE_SECRET_KEY, or the profile's env.names.secret_key"
    path = edited_checklist(tmp_path, role, "          rloe: secret_key")
    done = validate("--checklist", path, "--target", profile)
    assert_invalid(
        done,
        path,
        line_of(path, "          rloe: secret_key"),
        "environment.secret-key",
        "check 'env.key-prefix' params.rloe: unknown param",
    )
    # Without either, the params as a whole are refused, at their `params:` line.
    path = edited_checklist(tmp_path, role, "")
    assert_invalid(
        validate("--checklist", path, "--target", profile),
        path,
        line_of(path, "      - ref: env.key-prefix") + 1,  # its `params:` line
        "environment.secret-key",
        "check 'env.key-prefix' params: name the variable: role (one of Stripe's settings) or var",
    )


def test_missing_required_key(tmp_path: Path, profile: Path) -> None:
    # The first `severity: blocker` is environment.stripe-keys-in-env's.
    path = edited_checklist(tmp_path, "    severity: blocker", "")
    done = validate("--checklist", path, "--target", profile)
    assert_invalid(
        done,
        path,
        line_of(path, "  - id: environment.stripe-keys-in-env"),
        "environment.stripe-keys-in-env",
        "severity: required key is missing",
    )


def test_duplicate_yaml_key(tmp_path: Path, profile: Path) -> None:
    old = "  - id: environment.webhook-secret"
    path = edited_checklist(tmp_path, old, old + "\n    severity: minor")
    done = validate("--checklist", path, "--target", profile)
    # PyYAML would silently keep the last value; golive refuses, at the second key.
    line = line_of(path, "    severity: blocker", occurrence=4)
    assert line == line_of(path, "    severity: minor") + 2
    assert_invalid(done, path, line, None, "duplicate key 'severity'")


def test_several_errors_are_reported_together(tmp_path: Path, profile: Path) -> None:
    old = "    thresholds: {refund_rate: rate<0.05, samples: count>=20}"
    new = "    thresholds: {refund_rate: rate<<0.05, samples: count>=20}"
    path = edited_checklist(tmp_path, old, new)
    text = path.read_text().replace("      - ref: env.equals", "      - ref: env.equal")
    path.write_text(text)
    done = validate("--checklist", path, "--target", profile)
    assert_invalid(done, path, None, "metrics.refund-rate", "malformed threshold")
    assert_invalid(done, path, None, "environment.api-version", "unknown check 'env.equal'")


def test_missing_checklist_file(tmp_path: Path, profile: Path) -> None:
    path = tmp_path / "nope.yaml"
    done = validate("--checklist", path, "--target", profile)
    assert_invalid(done, path, None, None, "file not found")


# --- profile ----------------------------------------------------------------------------


def test_profile_with_unknown_key(profile: Path) -> None:
    profile.write_text(profile.read_text() + "region: eu-west-1\n")
    done = validate("--target", profile)
    assert_invalid(
        done, profile, line_of(profile, "region: eu-west-1"), None, "region: unknown key"
    )


def test_profile_with_bad_mode(profile: Path) -> None:
    text = profile.read_text()
    profile.write_text(text.replace("mode: test ", "mode: production "))
    done = validate("--target", profile)
    line = next(
        n for n, ln in enumerate(profile.read_text().splitlines(), 1) if ln.startswith("mode:")
    )
    assert_invalid(done, profile, line, None, "mode: Input should be 'live' or 'test'")


def test_profile_whose_env_file_is_missing(profile: Path) -> None:
    # The demo's env file is .build/shop.env, which only its setup writes.
    edit_yaml(profile, setup=[])  # no setup command could write it
    done = validate("--target", profile)
    assert_invalid(
        done,
        profile,
        line_of(profile, "  file: .build/shop.env"),
        None,
        "env file",
        ".build/shop.env not found",
    )


def test_env_file_a_setup_command_should_write_is_checked_after_setup(
    profile: Path, tmp_path: Path
) -> None:
    # With setup commands the file may be theirs to write: validation lets it be, the gate
    # insists once setup has run. Here the setup succeeds without writing it.
    edit_yaml(profile, setup=["{python} -c \"print('built, but no env file')\""])
    assert not (profile.parent / ".build" / "shop.env").exists()
    assert validate("--target", profile).returncode == 0
    run = gate(profile, tmp_path / "out", "--phase", "pre-deploy")
    assert run.returncode == 2
    assert ".build/shop.env not found" in run.stderr and str(profile) in run.stderr
    assert not (tmp_path / "out").exists()


def test_missing_profile(tmp_path: Path) -> None:
    done = validate("--target", tmp_path / "absent.yaml")
    assert_invalid(done, tmp_path / "absent.yaml", None, None, "file not found")


# --- attestations and waivers -----------------------------------------------------------


def append_attestation(profile: Path, item: str) -> int:
    """Add an entry to the copy's attestations file; returns the line of its `item:`."""
    path = profile.parent / "attestations.yaml"
    text = path.read_text()
    line = len(text.splitlines()) + 1
    path.write_text(
        text + f"  - item: {item}\n    by: Sam Doe\n    evidence: https://x.example\n"
        "    date: 2026-11-20\n"
    )
    return line


def test_attestation_for_an_unknown_item(profile: Path) -> None:
    line = append_attestation(profile, "radar.enabeld")
    done = validate("--target", profile)
    path = profile.parent / "attestations.yaml"
    assert_invalid(done, path, line, "radar.enabeld", "attestation for an unknown item")


def test_attestation_for_an_automated_item(profile: Path) -> None:
    line = append_attestation(profile, "environment.secret-key")
    done = validate("--target", profile)
    path = profile.parent / "attestations.yaml"
    assert_invalid(
        done, path, line, "environment.secret-key", "attestation for an automated item", "waiver"
    )


def write_waivers(profile: Path, body: str) -> Path:
    path = profile.parent / "waivers.yaml"
    path.write_text(body)
    edit_yaml(profile, waivers="waivers.yaml")
    return path


def test_waiver_approved_by_its_author(profile: Path) -> None:
    path = write_waivers(
        profile,
        "waivers:\n"
        "  - item: environment.secret-key\n"
        "    reason: key rotation in progress\n"
        "    author: Kim Park\n"
        "    approver: kim park\n"
        "    expires: 2026-12-31\n",
    )
    done = validate("--target", profile)
    assert_invalid(
        done, path, 5, "environment.secret-key", "approver must be someone other than the author"
    )


def test_waiver_for_an_unknown_item(profile: Path) -> None:
    path = write_waivers(
        profile,
        "waivers:\n"
        "  - item: environment.secret-kee\n"
        "    reason: r\n"
        "    author: Kim Park\n"
        "    approver: Lee Chen\n"
        "    expires: 2026-12-31\n",
    )
    done = validate("--target", profile)
    assert_invalid(done, path, 2, "environment.secret-kee", "waiver for an unknown item")


def test_waiver_without_expiry(profile: Path) -> None:
    path = write_waivers(
        profile,
        "waivers:\n"
        "  - item: environment.secret-key\n"
        "    reason: r\n"
        "    author: Kim Park\n"
        "    approver: Lee Chen\n",
    )
    done = validate("--target", profile)
    assert_invalid(done, path, 2, None, "waivers.0.expires: required key is missing")


# --- command-line selection ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--item", "environment.secret-kee"], "item environment.secret-kee: unknown item"),
        (["--phase", "production"], "unknown phase 'production'"),
        (["--section", "enviroment"], "unknown section 'enviroment'"),
        (["--tag", "no-such-tag"], "the selection matches no checklist item"),
    ],
)
def test_unknown_selection_on_the_command_line(profile: Path, args: list[str], text: str) -> None:
    done = validate("--target", profile, *args)
    assert done.returncode == 2, done.stderr
    assert text in done.stderr


def test_gate_refuses_invalid_input_before_running(tmp_path: Path, profile: Path) -> None:
    out = tmp_path / "report"
    run = gate(profile, out, "--phase", "production")
    assert run.returncode == 2
    assert "unknown phase 'production'" in run.stderr
    assert not out.exists()  # nothing ran, nothing was written
    assert not (profile.parent / ".build").exists()  # not even the setup


def test_failing_setup_is_invalid_input(tmp_path: Path, profile: Path) -> None:
    edit_yaml(profile, setup=["{python} -c 'import sys; sys.exit(7)'"])
    out = tmp_path / "report"
    run = gate(profile, out, "--phase", "pre-deploy")
    assert run.returncode == 2
    assert f"{profile}" in run.stderr
    assert "failed with exit code 7" in run.stderr
    assert not out.exists()


def test_unimportable_check_module(tmp_path: Path, profile: Path) -> None:
    extra = tmp_path / "more_checks"
    extra.mkdir()
    (extra / "test_broken_import.py").write_text("raise ImportError('no module named shop_sdk')\n")
    edit_yaml(profile, check_paths=[str(extra)])
    # A subprocess each: the failed import is remembered by the process (registry).
    # Nothing references its checks: valid, with a warning that the gate will stop.
    done = golive("validate", "--target", str(profile))
    assert done.returncode == 0, done.stderr
    assert "test_broken_import.py cannot be imported" in done.stderr
    assert "no module named shop_sdk" in done.stderr
    # An item that references a check of that module: the error says why it is unknown.
    path = edited_checklist(tmp_path, "      - ref: env.equals", "      - ref: shop.sdk-version")
    done = golive("validate", "--checklist", str(path), "--target", str(profile))
    assert_invalid(
        done,
        path,
        line_of(path, "      - ref: shop.sdk-version"),
        "environment.api-version",
        "unknown check 'shop.sdk-version'",
        "a check module failed to import",
        "no module named shop_sdk",
    )


def test_live_check_blocks_are_validated_when_the_profile_loads(profile: Path) -> None:
    # api, pricing and observer belong to their checks' models, but a typo in any of them
    # is exit 2 naming the line before anything runs — every block's problems at once.
    text = profile.read_text()
    text = text.replace("    platform_fee_bps: 1000\n", "    platform_fee_bps: lots\n")
    text = text.replace(
        "      payments: SELECT count(*) FROM payments WHERE stripe_payment_intent_id"
        " = :payment_intent\n",
        "",
    )
    text = text.replace("    burst: 30\n", "    burst: 30\n    bursts: 31\n")
    profile.write_text(text)
    done = validate("--target", profile)
    assert_invalid(
        done,
        profile,
        line_of(profile, "    platform_fee_bps: lots"),
        None,
        "pricing.rules.platform_fee_bps: Input should be a valid integer",
    )
    assert_invalid(done, profile, None, None, "observer.sql: counts needs payments")
    assert_invalid(
        done,
        profile,
        line_of(profile, "    bursts: 31"),
        None,
        "api.rate_limit.bursts: unknown key",
    )
