"""Hostile and careless input is refused with exit code 2, naming the file and the line.

An alias bomb, bytes that are not UTF-8, dates past what the date arithmetic can hold,
blank sign-off names and an --out golive cannot write: each one is invalid input, found
before anything runs, never a hang, a traceback or a harness failure (issue #12).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from gatekit import ROOT, demo_copy, edit_yaml, gate, golive, golive_here

CHECKLIST = ROOT / "checklist.yaml"
PRODUCTION_DEPLOYED = "deployment.production-deployed"  # attested blocker, post-deploy
EXTREME = "9999-12-31T23:59:59-12:00"  # one minute to the end of time, in UTC-12

# The "billion laughs" in 342 bytes: nine values, each nine aliases of the one above — 9**9
# strings once expanded (gigabytes in the loader before the fix, and it never ended).
BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
# Merge keys (`<<:`) copy a mapping's pairs: doubling at each level would be the same bomb
# (PyYAML >= 6.0.2 merges a key node once, so it stays small: kept as a guard).
MERGE_BOMB = "m0: &m0 {k: v}\n" + "".join(
    f"m{n}: &m{n} {{<<: [*m{n - 1}, *m{n - 1}]}}\n" for n in range(1, 40)
)
BOMB_SECONDS = 30  # refused in well under a second; the bound only stops a regression
BOMB_MEMORY = 1 << 30  # address space for the child: the bomb's expansion cannot fit


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (BOMB_MEMORY, BOMB_MEMORY))


def golive_limited(*args: str, seconds: float = BOMB_SECONDS) -> subprocess.CompletedProcess:
    """`python -m golive.cli ARGS` with a time and a memory bound, for inputs that grew
    without end before they were refused."""
    return subprocess.run(
        [sys.executable, "-m", "golive.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=seconds,
        preexec_fn=_limited,
    )


def assert_refused(done: subprocess.CompletedProcess, where: str, *texts: str) -> None:
    """Exit 2, one `golive: error:` line naming `where` (file:line) and the texts, no
    traceback and no harness failure."""
    assert done.returncode == 2, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert done.stderr.startswith("golive: error: "), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "harness failure" not in done.stderr
    lines = done.stderr.splitlines()
    assert any(where in line and all(t in line for t in texts) for line in lines), (
        where,
        texts,
        done.stderr,
    )


def attestations_file(profile: Path) -> Path:
    return profile.parent / "attestations.yaml"


def write_attestation(profile: Path, *, by: str = "Ann Lee", date: str = "2026-11-20") -> int:
    """Replace the demo copy's attestations.yaml with one entry; returns the entry's
    `date:` line (its `by:` line is the one before)."""
    attestations_file(profile).write_text(
        "attestations:\n"
        f"  - item: {PRODUCTION_DEPLOYED}\n"
        f'    by: "{by}"\n'
        "    evidence: https://deploys.example.com/shop/1842\n"
        f'    date: "{date}"\n',
        encoding="utf-8",
    )
    return 5


def write_waiver(profile: Path, expires: str) -> Path:
    path = profile.parent / "my-waivers.yaml"
    path.write_text(
        "waivers:\n"
        "  - item: environment.secret-key\n"
        "    reason: key rotation in progress\n"
        "    author: Kim Park\n"
        "    approver: Lee Chen\n"
        f"    expires: {expires}\n",
        encoding="utf-8",
    )
    edit_yaml(profile, waivers="my-waivers.yaml")
    return path


# --- 5: alias bombs ------------------------------------------------------------------------


def test_an_alias_bomb_as_the_checklist_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "checklist.yaml"
    path.write_text(BOMB, encoding="utf-8")
    assert len(BOMB.encode()) < 400
    done = golive_limited("validate", "--checklist", str(path))
    assert_refused(done, f"{path}:", "alias")


def test_an_alias_bomb_in_an_attestations_file_is_refused_at_once(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    path = attestations_file(profile)
    path.write_text(BOMB + "attestations: []\n", encoding="utf-8")
    done = golive_limited("validate", "--target", str(profile))
    assert_refused(done, f"{path}:", "alias")


def test_an_alias_bomb_in_the_demos_example_sign_offs_is_refused(tmp_path: Path) -> None:
    """The demo's setup copies signoffs.yaml with its dates moved: through the same loader."""
    profile = demo_copy(tmp_path)
    path = profile.parent / "signoffs.yaml"
    path.write_text(path.read_text(encoding="utf-8") + BOMB, encoding="utf-8")
    out = tmp_path / "report"
    done = golive_limited(
        "gate",
        "--target",
        str(profile),
        "--out",
        str(out),
        "--item",
        PRODUCTION_DEPLOYED,
        "--phase",
        "post-deploy",
        seconds=120,
    )
    assert_refused(done, f"{path}:", "alias")
    assert not out.exists()


def test_a_merge_key_bomb_stays_small(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    path = attestations_file(profile)
    path.write_text(MERGE_BOMB + "attestations: []\n", encoding="utf-8")
    done = golive_limited("validate", "--target", str(profile))
    assert_refused(done, f"{path}:1: ", "m0: unknown key")


def test_an_alias_of_its_own_ancestor_is_refused(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    path = attestations_file(profile)
    path.write_text("attestations: []\nloop: &loop {again: *loop}\n", encoding="utf-8")
    done = golive_limited("validate", "--target", str(profile))
    assert_refused(done, f"{path}:2: ", "alias")


def test_a_few_anchors_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    attestations_file(profile).write_text(
        "attestations:\n"
        f"  - &first {{item: {PRODUCTION_DEPLOYED}, by: Ann Lee, evidence: x, date: 2026-11-20}}\n"
        "  - <<: *first\n"
        "    item: code-review.security-audit   # a merged key overridden: no duplicate\n"
        "    date: &signed 2026-11-21\n"
        "  - {item: code-review.integration-reviewed, by: Bo Chan, evidence: y, date: *signed}\n",
        encoding="utf-8",
    )
    done = golive_here("validate", "--target", str(profile))
    assert done.returncode == 0, done.stderr
    assert "3 attestations" in done.stdout


# --- 10: bytes that are not text -------------------------------------------------------------


def test_a_byte_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    lines = CHECKLIST.read_bytes().split(b"\n")
    lines[41] = lines[41] + b" \xff"
    path = tmp_path / "checklist.yaml"
    path.write_bytes(b"\n".join(lines))
    done = golive_here("validate", "--checklist", str(path))
    assert_refused(done, f"{path}:42: ", "UTF-8")


def test_a_nul_byte_in_an_attestations_file_names_its_line(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    write_attestation(profile, by="Ann\x00Lee")
    done = golive_here("validate", "--target", str(profile))
    assert_refused(done, f"{attestations_file(profile)}:3: ", "control character")


def test_a_date_that_does_not_exist_names_its_line(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    attestations_file(profile).write_text(
        "attestations:\n"
        f"  - item: {PRODUCTION_DEPLOYED}\n"
        "    by: Ann Lee\n"
        "    evidence: https://deploys.example.com/shop/1842\n"
        "    date: 2026-02-30\n",
        encoding="utf-8",
    )
    done = golive_here("validate", "--target", str(profile))
    assert_refused(done, f"{attestations_file(profile)}:5: ", "2026-02-30")


# --- 9: dates past what the arithmetic can hold ----------------------------------------------


def test_an_attestation_dated_at_the_end_of_time_fails_validation(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    line = write_attestation(profile, date=EXTREME)
    done = golive_here("validate", "--target", str(profile))
    assert_refused(done, f"{attestations_file(profile)}:{line}: ", "attestations.0.date", "2100")


def test_the_gate_refuses_an_attestation_dated_at_the_end_of_time(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    line = write_attestation(profile, date=EXTREME)
    out = tmp_path / "report"
    run = gate(profile, out, "--phase", "post-deploy", "--item", PRODUCTION_DEPLOYED)
    assert_refused(
        subprocess.CompletedProcess([], run.returncode, run.stdout, run.stderr),
        f"{attestations_file(profile)}:{line}: ",
        "2100",
    )
    assert not out.exists()


def test_a_waiver_expiring_before_the_start_of_time_fails_validation(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    path = write_waiver(profile, "0001-01-01T00:00:00+01:00")
    done = golive_here("validate", "--target", str(profile))
    assert_refused(done, f"{path}:6: ", "waivers.0.expires", "2000")


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--now", EXTREME],  # the gate's --now, on a command that runs nothing
        ["attest", PRODUCTION_DEPLOYED, "--by", "A", "--evidence", "e", "--date", EXTREME],
        ["attest", PRODUCTION_DEPLOYED, "--by", "A", "--evidence", "e", "--expires", "0001-01-01"],
    ],
    ids=["now", "attest-date", "attest-expires"],
)
def test_an_extreme_date_on_the_command_line_is_a_usage_error(
    tmp_path: Path, args: list[str]
) -> None:
    profile = demo_copy(tmp_path)
    if args[0] == "validate":
        args = ["gate", "--target", str(profile), "--out", str(tmp_path / "r"), *args[1:]]
    else:
        args = [*args, "--target", str(profile)]
    before = attestations_file(profile).read_text()
    done = golive_here(*args)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "2000" in done.stderr and "2100" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert attestations_file(profile).read_text() == before
    assert not (tmp_path / "r").exists()


def test_an_enormous_freshness_never_overflows(tmp_path: Path) -> None:
    """A checklist may say an attestation stays fresh for a billion days: then it simply
    never goes stale, and the date arithmetic must not overflow."""
    profile = demo_copy(tmp_path)
    write_attestation(profile, date="2026-11-20")
    text = CHECKLIST.read_text(encoding="utf-8")
    old = "      freshness_days: 2\n      guidance: Deployment id and time (off-peak)."
    assert old in text
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(text.replace(old, old.replace(": 2\n", ": 999999999\n")))
    run = gate(
        profile,
        tmp_path / "out",
        "--checklist",
        str(checklist),
        "--phase",
        "post-deploy",
        "--item",
        PRODUCTION_DEPLOYED,
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert run.item(PRODUCTION_DEPLOYED)["outcome"] == "attested"


# --- 13: blank sign-off names ----------------------------------------------------------------


@pytest.mark.parametrize("by", ["   ", ""], ids=["spaces", "empty"])
def test_attest_refuses_a_blank_name(tmp_path: Path, by: str) -> None:
    profile = demo_copy(tmp_path)
    before = attestations_file(profile).read_text()
    done = golive_here(
        "attest", PRODUCTION_DEPLOYED, "--target", str(profile), "--by", by, "--evidence", "e"
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "--by" in done.stderr and "blank" in done.stderr, done.stderr
    assert "validation error" not in done.stderr and "String should" not in done.stderr
    assert attestations_file(profile).read_text() == before


def test_attest_refuses_blank_evidence(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    done = golive_here(
        "attest", PRODUCTION_DEPLOYED, "--target", str(profile), "--by", "A", "--evidence", " "
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "--evidence" in done.stderr and "blank" in done.stderr, done.stderr


def test_an_attestation_signed_by_nobody_fails_validation(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    line = write_attestation(profile, by="   ") - 2
    done = golive_here("validate", "--target", str(profile))
    assert_refused(done, f"{attestations_file(profile)}:{line}: ", "attestations.0.by", "blank")


def test_a_waiver_approved_by_nobody_fails_validation(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    path = write_waiver(profile, "2026-12-31")
    path.write_text(path.read_text().replace("approver: Lee Chen", 'approver: "\\t"'))
    done = golive_here("validate", "--target", str(profile))
    assert_refused(done, f"{path}:5: ", "waivers.0.approver", "blank")


# --- 11: an --out golive cannot write --------------------------------------------------------


def out_places(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder\n")
    return {"a file": a_file, "under a file": a_file / "report"}


@pytest.mark.parametrize("place", ["a file", "under a file"])
def test_gate_refuses_an_out_it_cannot_write_before_anything_runs(
    tmp_path: Path, place: str
) -> None:
    profile = demo_copy(tmp_path)
    out = out_places(tmp_path)[place]
    run = gate(profile, out, "--phase", "post-deploy", "--item", PRODUCTION_DEPLOYED)
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert run.stderr.startswith(f"golive: error: {out}: "), run.stderr
    assert "--out" in run.stderr
    assert run.stdout == ""  # no banner, no verdict
    assert not (profile.parent / ".build").exists()  # not even the setup ran


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs Linux /proc")
def test_gate_refuses_an_out_in_a_place_nobody_may_write(tmp_path: Path) -> None:
    """/proc refuses new folders even to root (the tests run as root here, for whom
    permission bits do not count, and no read-only mount is at hand)."""
    profile = demo_copy(tmp_path)
    out = Path("/proc/golive-report")
    run = gate(profile, out, "--phase", "post-deploy", "--item", PRODUCTION_DEPLOYED)
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert run.stderr.startswith(f"golive: error: {out}: "), run.stderr
    assert run.stdout == ""
    assert not (profile.parent / ".build").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_gate_refuses_an_out_in_a_read_only_folder(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    out = locked / "report"
    run = gate(profile, out, "--phase", "post-deploy", "--item", PRODUCTION_DEPLOYED)
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert run.stderr.startswith(f"golive: error: {out}: "), run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["smoke", "--flow", "payment-failure"], ["load", "--duration", "1s", "--users", "1"]],
    ids=["smoke", "load"],
)
def test_smoke_and_load_refuse_an_out_they_cannot_write(tmp_path: Path, args: list[str]) -> None:
    profile = demo_copy(tmp_path)
    out = out_places(tmp_path)["under a file"]
    done = golive(*args, "--target", str(profile), "--out", str(out), timeout=300)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.startswith(f"golive: error: {out}: "), done.stderr
    assert not (profile.parent / ".build").exists()
