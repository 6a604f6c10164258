"""Tamper-evident reports (golive/audit): the inputs a run read, the manifest of the files it
wrote, their Ed25519 signature, and `golive verify`.

Three real runs are shared (gatekit.SharedRuns) and copied before a test changes anything:
a signed demo gate whose static scan writes findings.sarif, a signed `golive load` (Locust's
files), and cheap gates of one attested item (setup, no app) for the inputs and for a
folder holding an earlier run's files. `golive verify` runs as a user runs it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from gatekit import (
    ROOT,
    GateRun,
    SharedRuns,
    demo_copy,
    edit_yaml,
    gate,
    golive,
    load_yaml,
    set_env,
)

from golive import __version__
from golive.audit import manifest, signing

pytestmark = pytest.mark.slow

MANDATORY = "webhook-security.signature-mandatory"  # its static scan writes findings.sarif
VERIFICATION = "api-security.webhook-signature-verification"
ATTESTED = "code-review.security-audit"  # no check: the run is its setup and reports
KEY_VAR = "GOLIVE_SIGN_KEY"
REPORT_KINDS = ("results.json", "report.html", "junit.xml", "summary.md", "findings.sarif")
LOAD_KINDS = ("locust_stats.csv", "locust_stats_history.csv", "locust.json", "locust.html")


def keygen(folder: Path, name: str) -> tuple[Path, Path]:
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    done = golive("keygen", "--private", str(private), "--public", str(public))
    assert done.returncode == 0, done.stderr
    assert oct(private.stat().st_mode & 0o777) == "0o600"
    return private, public


def verify(folder: Path, *args: str) -> tuple[int, list[str], str]:
    """(exit code, the problem lines, the whole output) of `golive verify`."""
    done = golive("verify", str(folder), *args)
    problems = [line.strip()[2:] for line in done.stdout.splitlines() if line.startswith("  ✗")]
    return done.returncode, problems, done.stdout + done.stderr


def flip_byte(path: Path) -> None:
    """Change one ASCII letter or digit near the middle of the file."""
    data = bytearray(path.read_bytes())
    index = next(i for i in range(len(data) // 2, len(data)) if chr(data[i]).isalnum())
    data[index] = ord("x") if data[index] != ord("x") else ord("y")
    path.write_bytes(bytes(data))


def copy_of(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    return copy


def _signed_gate(folder: Path) -> GateRun:
    private, _ = keygen(folder, "signer")
    pem = private.read_text()
    profile = demo_copy(folder)
    # Planted where a run could pick it up: the target's env file, besides the CI secret.
    set_env(profile, SIGNING_KEY=pem.replace("\n", "\\n"))
    return gate(
        profile,
        folder / "out",
        *("--item", MANDATORY, "--item", VERIFICATION),
        *("--sign-key", f"env:{KEY_VAR}"),
        env={**os.environ, KEY_VAR: pem},
    )


def _signed_load(folder: Path) -> GateRun:
    private, _ = keygen(folder, "signer")
    argv = ["load", "--target", str(demo_copy(folder)), "--out", str(folder / "out")]
    argv += ["--scenario", "burst", "--users", "2", "--duration", "2s", "--sign-key", str(private)]
    done = golive(*argv, timeout=150)
    return GateRun(done.returncode, done.stdout, done.stderr, folder / "out")


@pytest.fixture
def signed(shared_runs: SharedRuns) -> GateRun:
    run = shared_runs.get("audit-signed-gate", _signed_gate)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


@pytest.fixture
def loaded(shared_runs: SharedRuns) -> GateRun:
    run = shared_runs.get("audit-signed-load", _signed_load)
    # (Its thresholds may fail on so short a run: the verdict is not what is tested here.)
    assert run.returncode in (0, 1) and (run.out / "manifest.sig").exists(), run.stderr
    return run


def public_key(run: GateRun) -> Path:
    return run.out.parent / "signer.pub.pem"


# --- what a run records ----------------------------------------------------------------------


def test_results_record_every_input_as_read_and_the_files_written(signed: GateRun) -> None:
    results = signed.results
    target = signed.out.parent / "demo"
    by_path = {i["path"]: i for i in results["inputs"] if i["path"]}
    expected = {
        str(ROOT / "checklist.yaml"): "checklist",
        str(target / "target.yaml"): "profile",
        str(target / "attestations.yaml"): "attestations",
        str(target / ".build" / "signoffs.yaml"): "attestations",  # written by the setup
        str(target / ".build" / "waivers.yaml"): "waivers",
    }
    assert {path: i["kind"] for path, i in by_path.items()} == expected
    for path, record in by_path.items():
        assert record["sha256"] == hashlib.sha256(Path(path).read_bytes()).hexdigest(), path
    # Hashed after the setup dated them: not the committed source it copies.
    source = (target / "signoffs.yaml").read_bytes()
    assert by_path[str(target / ".build" / "signoffs.yaml")]["sha256"] != (
        hashlib.sha256(source).hexdigest()
    )
    [setup] = [i for i in results["inputs"] if i["kind"] == "setup-command"]
    assert setup["text"] == "{python} -m golive.demo build ." and setup["path"] is None
    assert setup["sha256"] == hashlib.sha256(setup["text"].encode()).hexdigest()

    meta = results["meta"]
    assert meta["harness_version"] == __version__
    assert re.fullmatch(r"[0-9a-f]{40}", meta["target_git_sha"])
    assert meta["stripe_backend"]["backend"] == "sandbox"

    written = {"report.html", "junit.xml", "summary.md", "findings.sarif"}
    assert set(results["manifest"]) == written
    listed = json.loads((signed.out / "manifest.json").read_text())
    assert set(listed["files"]) == written | {"results.json"}
    assert listed["not_written_by_this_run"] == []
    for name, digest in listed["files"].items():
        assert manifest.sha256_of(signed.out / name) == digest, name
    assert "manifest.json" in signed.stdout and "manifest.sig" in signed.stdout
    html = (signed.out / "report.html").read_text()
    assert by_path[str(target / "target.yaml")]["sha256"] in html and "golive verify" in html


def test_the_private_key_is_written_nowhere(signed: GateRun) -> None:
    pem = (signed.out.parent / "signer.pem").read_text()
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    texts = {**signed.report_texts(), "stdout": signed.stdout, "stderr": signed.stderr}
    assert set(texts) >= {"manifest.sig", "manifest.json", "results.json", "report.html"}
    for name, text in texts.items():
        for secret in (body, raw.hex(), base64.b64encode(raw).decode(), "PRIVATE KEY"):
            assert secret not in text, f"the private key leaked into {name}"


# --- golive verify: a folder as written, then changed ----------------------------------------


def test_the_signed_run_verifies_with_its_public_key(signed: GateRun) -> None:
    code, problems, output = verify(signed.out, "--key", str(public_key(signed)))
    fingerprint = signing.fingerprint(
        signing.load_public_key(public_key(signed))
    )  # as `golive keygen` printed it
    assert (code, problems) == (0, []), output
    assert f"signed by --key {fingerprint}" in output and "5 of 5 files match" in output
    assert "5 recorded inputs re-hashed" in output


@pytest.mark.parametrize("name", [*REPORT_KINDS, "manifest.json"])
def test_editing_a_byte_of_any_report_file_fails_naming_it(
    signed: GateRun, tmp_path: Path, name: str
) -> None:
    folder = copy_of(signed.out, tmp_path)
    flip_byte(folder / name)
    code, problems, output = verify(folder)
    assert code == 1, output
    assert any(p.startswith(f"{name}: changed after the run") for p in problems), output
    assert "NOT VERIFIED" in output


@pytest.mark.parametrize("name", LOAD_KINDS)
def test_editing_a_byte_of_a_load_file_fails_naming_it(
    loaded: GateRun, tmp_path: Path, name: str
) -> None:
    assert name in loaded.results["manifest"]
    assert verify(loaded.out, "--key", str(public_key(loaded)))[0] == 0
    folder = copy_of(loaded.out, tmp_path)
    flip_byte(folder / name)
    code, problems, output = verify(folder)
    assert code == 1 and len(problems) == 1, output
    assert problems[0].startswith(f"{name}: changed after the run"), output


def test_an_added_or_deleted_file_is_named(signed: GateRun, tmp_path: Path) -> None:
    folder = copy_of(signed.out, tmp_path)
    (folder / "extra").mkdir()
    (folder / "extra" / "note.txt").write_text("added later\n")
    (folder / "summary.md").unlink()
    code, problems, _ = verify(folder)
    assert code == 1
    assert problems == [
        "summary.md: missing (deleted after the run)",
        "extra/note.txt: added after the run (not in the manifest)",
    ]

    (folder / "summary.md").write_bytes((signed.out / "summary.md").read_bytes())
    shutil.rmtree(folder / "extra")
    assert verify(folder)[0] == 0
    (folder / "manifest.json").unlink()
    code, problems, _ = verify(folder)
    assert code == 1 and problems[0] == "manifest.json: missing (deleted after the run)"


# --- signatures -------------------------------------------------------------------------------


def test_another_key_is_told_apart_as_re_signed(signed: GateRun, tmp_path: Path) -> None:
    _, other_public = keygen(tmp_path, "other")
    code, problems, output = verify(signed.out, "--key", str(other_public))
    signer_fp = signing.fingerprint(signing.load_public_key(public_key(signed)))
    other_fp = signing.fingerprint(signing.load_public_key(other_public))
    assert code == 1
    assert problems == [
        f"re-signed report: manifest.sig is a valid signature by another key ({signer_fp}), "
        f"not by --key ({other_fp})"
    ], output

    # Re-signed whole: a file changed, the manifest rewritten and signed by the other key.
    folder = copy_of(signed.out, tmp_path)
    flip_byte(folder / "report.html")
    files = json.loads((folder / "manifest.json").read_text())["files"]
    files["report.html"] = manifest.sha256_of(folder / "report.html")
    (folder / "manifest.json").write_text(manifest.render(files, []))
    other = signing.load_signer(str(tmp_path / "other.pem"))
    (folder / "manifest.sig").write_text(
        signing.signature_text(other, (folder / "manifest.json").read_bytes(), "manifest.json")
    )
    code, problems, output = verify(folder, "--key", str(public_key(signed)))
    assert code == 1 and any(p.startswith("re-signed report") for p in problems), output
    # results.json still records the file as the run wrote it.
    assert (
        "manifest.json: changed after the run (its entry for report.html is not the one "
        "results.json records)" in problems
    )


def test_unsigned_and_tampered_after_signing_are_told_apart(
    signed: GateRun, tmp_path: Path
) -> None:
    key = str(public_key(signed))
    unsigned = copy_of(signed.out, tmp_path / "unsigned")
    (unsigned / "manifest.sig").unlink()
    code, problems, output = verify(unsigned, "--key", key)
    assert code == 1 and len(problems) == 1, output
    assert problems[0].startswith("unsigned report: no manifest.sig, but --key sha256:")
    assert verify(unsigned)[0] == 0  # without --key an unsigned report may verify

    # A file changed after signing: named, and the signature still the signer's.
    changed = copy_of(signed.out, tmp_path / "changed")
    flip_byte(changed / "junit.xml")
    code, problems, output = verify(changed, "--key", key)
    assert code == 1 and [p.split(" (")[0] for p in problems] == [
        "junit.xml: changed after the run"
    ]
    assert "signed by --key sha256:" in output

    # The manifest rewritten to match the change, not signed again: the signature says so.
    files = json.loads((changed / "manifest.json").read_text())["files"]
    files["junit.xml"] = manifest.sha256_of(changed / "junit.xml")
    (changed / "manifest.json").write_text(manifest.render(files, []))
    code, problems, output = verify(changed, "--key", key)
    assert code == 1
    assert any(
        p.startswith("manifest.json: changed after signing (the signature by") for p in problems
    )
    assert not any(p.startswith(("re-signed", "unsigned")) for p in problems), output


def test_bad_keys_are_usage_errors_naming_the_file(signed: GateRun, tmp_path: Path) -> None:
    private = signed.out.parent / "signer.pem"
    code, _, output = verify(signed.out, "--key", str(private))
    assert code == 2 and f"{private}: --key: this is a private key" in output
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("not a key\n")
    code, _, output = verify(signed.out, "--key", str(not_a_key))
    assert code == 2 and f"{not_a_key}: --key: not a PEM public key" in output

    profile, out = demo_copy(tmp_path), tmp_path / "out"
    run = gate(profile, out, "--item", ATTESTED, "--sign-key", str(not_a_key))
    assert run.returncode == 2 and f"{not_a_key}: --sign-key: not a PEM private key" in run.stderr
    run = gate(profile, out, "--item", ATTESTED, "--sign-key", "env:GOLIVE_TEST_NO_SUCH_VAR")
    assert run.returncode == 2 and "GOLIVE_TEST_NO_SUCH_VAR is not set" in run.stderr
    assert not out.exists()  # refused before anything ran

    done = golive("keygen", "--private", str(private), "--public", str(tmp_path / "p.pem"))
    assert done.returncode == 2 and "never overwrites a key" in done.stderr
    assert not (tmp_path / "p.pem").exists()


def test_what_is_not_a_report_folder_is_a_usage_error(tmp_path: Path) -> None:
    assert verify(tmp_path / "missing")[0] == 2
    assert verify(tmp_path)[0] == 2  # empty: neither manifest.json nor results.json
    (tmp_path / "manifest.json").write_text("{not json")
    code, _, output = verify(tmp_path)
    assert code == 2 and "unreadable manifest" in output


# --- a folder holding an earlier run's files ---------------------------------------------------


def test_files_of_an_earlier_run_are_not_certified(signed: GateRun, tmp_path: Path) -> None:
    """An unsigned run of one attested item into a copy of the signed gate's folder: it
    writes no findings.sarif, so the earlier one stays, listed as not written by this run;
    the earlier manifest.sig goes (it signed a manifest that is no more)."""
    folder = copy_of(signed.out, tmp_path)
    run = gate(demo_copy(tmp_path), folder, "--item", ATTESTED)
    assert run.returncode in (0, 1), run.stderr
    assert not (folder / "manifest.sig").exists()
    listed = json.loads((folder / "manifest.json").read_text())
    assert listed["not_written_by_this_run"] == ["findings.sarif"]
    assert "findings.sarif" not in listed["files"]
    assert "holds files this run did not write (findings.sarif)" in run.stderr

    code, problems, _ = verify(folder, "--key", str(public_key(signed)))
    assert code == 1
    assert problems[0].startswith("findings.sarif: not written by this run")
    assert problems[1].startswith("unsigned report")
    (folder / "findings.sarif").unlink()
    code, problems, output = verify(folder)
    assert (code, problems) == (0, []) and "unsigned (no manifest.sig)" in output


# --- the inputs, re-hashed where the run read them ---------------------------------------------


@pytest.fixture(scope="module")
def with_inputs(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """One attested item's run whose every input is a file of its own: a checklist copy and
    an extra check module besides the demo copy's profile and sign-offs."""
    folder = tmp_path_factory.mktemp("inputs")
    profile = demo_copy(folder)
    checks = folder / "more_checks"
    checks.mkdir()
    (checks / "test_more.py").write_text('"""No check yet: a module the profile names."""\n')
    edit_yaml(profile, check_paths=[str(checks)])
    the_checklist = folder / "checklist.yaml"
    shutil.copy(ROOT / "checklist.yaml", the_checklist)
    run = gate(profile, folder / "out", "--checklist", str(the_checklist), "--item", ATTESTED)
    assert run.returncode in (0, 1) and (folder / "out" / "manifest.json").exists(), run.stderr
    return run


INPUTS = {
    "checklist": "checklist.yaml",
    "check-module": "more_checks/test_more.py",
    "profile": "demo/target.yaml",
    "attestations": "demo/attestations.yaml",
    "setup's attestations": "demo/.build/signoffs.yaml",
    "waivers": "demo/.build/waivers.yaml",
}


@pytest.mark.parametrize("kind", INPUTS)
def test_editing_a_byte_of_any_input_fails_naming_it(with_inputs: GateRun, kind: str) -> None:
    path = with_inputs.out.parent / INPUTS[kind]
    assert str(path) in {i["path"] for i in with_inputs.results["inputs"]}
    assert verify(with_inputs.out)[0] == 0
    original = path.read_bytes()
    try:
        flip_byte(path)
        code, problems, output = verify(with_inputs.out)
    finally:
        path.write_bytes(original)
    assert code == 1, output
    recorded_kind = kind.removeprefix("setup's ")
    assert problems == [f"input {path} ({recorded_kind}): changed since the run"]


def test_an_input_no_longer_here_is_a_warning_unless_required(with_inputs: GateRun) -> None:
    path = with_inputs.out.parent / INPUTS["waivers"]
    moved = path.with_name("moved.yaml")
    path.rename(moved)
    try:
        code, problems, output = verify(with_inputs.out)
        strict = verify(with_inputs.out, "--require-inputs")
    finally:
        moved.rename(path)
    assert (code, problems) == (0, []), output
    assert f"! input {path} (waivers): not on this machine, not checked" in output
    assert strict[0] == 1 and strict[1] == [
        f"input {path} (waivers): not on this machine, not checked"
    ]


def test_the_key_variable_reaches_no_process_golive_starts(tmp_path: Path) -> None:
    """`--sign-key env:VAR` takes VAR out of golive's environment: a setup command (as the
    app and Locust would) finds it unset."""
    private, public = keygen(tmp_path, "signer")
    profile = demo_copy(tmp_path)
    probe = "{python} -c \"import os; open('seen.txt', 'w').write(os.environ.get('%s', 'unset'))\""
    edit_yaml(profile, setup=[*load_yaml(profile)["setup"], probe % KEY_VAR])
    env = {**os.environ, KEY_VAR: private.read_text().replace("\n", "\\n")}  # one line
    run = gate(
        profile, tmp_path / "out", "--item", ATTESTED, "--sign-key", f"env:{KEY_VAR}", env=env
    )
    assert run.returncode in (0, 1), run.stderr
    assert (profile.parent / "seen.txt").read_text() == "unset"
    assert verify(tmp_path / "out", "--key", str(public))[0] == 0
