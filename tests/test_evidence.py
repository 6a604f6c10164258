"""Evidence bundles (`--bundle`) and `golive verdict BUNDLE`, on real demo runs.

Three runs, each made once for the module: the demo's whole gate (GO) with a secret planted
in its env, its setup and its attestations file; a one-item gate made NO-GO by an expired
waiver, on a profile with no git repository; and a short `golive load`. Each fixture
reads what it needs, then deletes the target and the report folder: every verdict
below is recomputed from the bundle alone. (One more one-item gate is interrupted while it
writes its reports.)
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from gatekit import (
    NOW as GATE_NOW,
)
from gatekit import (
    ROOT,
    demo_copy,
    gate,
    golive,
    golive_here,
    golive_process,
    load_yaml,
    replace_in,
    set_env,
)
from sample_results import NOW, make_result

from golive.evidence import archive, layout

pytestmark = pytest.mark.slow

# Neither key- nor card-shaped: only the run's Redactor, which knows the env, can catch it.
CANARY = "canary-" + secrets.token_hex(12)
DEMO_WEBHOOK_SECRET = "whsec_DemoOnlyNotARealSigningSecret000000demo"  # targets/demo/demo.env
LOGO = "business-settings.logo"  # minor, fails under the demo's waiver


@dataclass
class Bundled:
    path: Path  # the bundle, moved out of the run's folders
    returncode: int
    stdout: str
    sources: dict[str, str]  # what the run's files held, read before they were deleted

    def members(self) -> dict[str, bytes]:
        return archive.read(self.path)

    def index(self) -> dict:
        return json.loads(self.members()[layout.INDEX])


def _keep(bundle: Path, keep: Path, *gone: Path) -> Path:
    """Move the bundle to `keep` and delete the run's folders (target, report)."""
    keep.mkdir(parents=True, exist_ok=True)
    moved = keep / bundle.name
    shutil.move(bundle, moved)
    for folder in gone:
        shutil.rmtree(folder)
    return moved


@pytest.fixture(scope="module")
def go(tmp_path_factory: pytest.TempPathFactory) -> Bundled:
    root = tmp_path_factory.mktemp("go")
    profile = demo_copy(root)
    set_env(profile, GOLIVE_CANARY_SECRET=CANARY)  # an env value named like a secret
    data = load_yaml(profile)
    data["setup"].append(f"true --token={CANARY}")  # a setup command's text carries it
    profile.write_text(json.dumps(data), encoding="utf-8")
    attestations = profile.parent / "attestations.yaml"
    attestations.write_text(f"# reviewed with token {CANARY}\n" + attestations.read_text())
    out = root / "golive-report"
    run = gate(profile, out, "--bundle")  # alone: beside the report folder
    bundles = sorted(root.glob("golive-evidence-*.tar.gz"))
    assert run.returncode == 0 and len(bundles) == 1, run.stdout + run.stderr
    sources = {
        "env": (profile.parent / ".build" / "shop.env").read_text(),
        "profile": profile.read_text(),
        "attestations": attestations.read_text(),
        **{f"report/{p.name}": p.read_text() for p in out.iterdir()},
    }
    path = _keep(bundles[0], root / "kept", profile.parent, out)
    return Bundled(path, run.returncode, run.stdout, sources)


@pytest.fixture(scope="module")
def no_go(tmp_path_factory: pytest.TempPathFactory) -> Bundled:
    root = tmp_path_factory.mktemp("nogo")
    profile = demo_copy(root)
    # Expired before the run's day (the demo's setup moves dates by the run's day - 2026-11-26).
    replace_in(profile.parent / "waivers.yaml", "2027-03-31T00:00:00Z", "2026-11-01T00:00:00Z")
    data = load_yaml(profile)
    del data["repository"]  # no git repository: the bundle is named for the run's start
    profile.write_text(json.dumps(data), encoding="utf-8")
    out = root / "report"
    out.mkdir()
    stale = out / "locust_stats.csv"  # an earlier run's file, not this run's
    stale.write_text(f"stale,{CANARY}\n")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    run = gate(profile, out, "--item", LOGO, "--bundle", str(root / "bundles"))
    bundles = sorted((root / "bundles").glob("golive-evidence-*.tar.gz"))
    assert run.returncode == 1 and len(bundles) == 1, run.stdout + run.stderr
    path = _keep(bundles[0], root / "kept", profile.parent, out)
    return Bundled(path, run.returncode, run.stdout, {})


@pytest.fixture(scope="module")
def load(tmp_path_factory: pytest.TempPathFactory) -> Bundled:
    root = tmp_path_factory.mktemp("load")
    profile = demo_copy(root)
    out, bundle = root / "load-out", root / "evidence" / "load.tar.gz"
    done = golive(
        *("load", "--target", str(profile), "--scenario", "race", "--users", "4"),
        *("--spawn-rate", "4", "--duration", "3s", "--out", str(out), "--bundle", str(bundle)),
    )
    assert done.returncode == 0 and bundle.is_file(), done.stdout + done.stderr
    path = _keep(bundle, root / "kept", profile.parent, out)
    return Bundled(path, done.returncode, done.stdout, {})


def verdict(bundle: Path) -> tuple[int, str, str]:
    done = golive_here("verdict", str(bundle))
    return done.returncode, done.stdout, done.stderr


def repack(bundle: Path, target: Path, edits: dict[str, bytes], *, reindex: bool = True) -> Path:
    """A copy of the bundle with members replaced; their sha256 updated in bundle.json too
    (`reindex`), as someone would who meant the edit to pass."""
    members = archive.read(bundle)
    members.update(edits)
    if reindex:
        index = json.loads(members[layout.INDEX])
        for entry in index["members"]:
            entry["sha256"] = hashlib.sha256(members[entry["name"]]).hexdigest()
        members[layout.INDEX] = json.dumps(index).encode()
    archive.write(target, members, 0)
    return target


# --- what a bundle holds ----------------------------------------------------------------------


def test_the_bundle_is_named_for_the_target_commit_and_written_beside_the_report(
    go: Bundled,
) -> None:
    results = json.loads(go.members()[layout.RESULTS])
    sha = results["meta"]["target_git_sha"]
    assert sha and go.path.name == f"golive-evidence-{sha[:12]}.tar.gz"
    said = f"bundle{go.path.parent.parent / go.path.name}"  # the run said where (maybe wrapped)
    assert said in "".join(go.stdout.split())


def test_without_a_git_repository_the_bundle_is_named_for_the_run_start(no_go: Bundled) -> None:
    results = json.loads(no_go.members()[layout.RESULTS])
    assert results["meta"]["target_git_sha"] is None
    started = results["meta"]["started_at"]  # e.g. 2026-12-04T23:45:21.631815Z
    stamp = started[:19].replace("-", "").replace(":", "") + "Z"
    assert no_go.path.name == f"golive-evidence-{stamp}.tar.gz"


def test_the_bundle_holds_the_report_folder_and_the_inputs(go: Bundled) -> None:
    members = go.members()
    reports = {name for name in go.sources if name.startswith("report/")}
    assert reports >= {f"report/{n}" for n in ("results.json", "report.html", "junit.xml")}
    inputs = {
        layout.CHECKLIST,
        layout.PROFILE,
        f"{layout.ATTESTATIONS_DIR}/01-attestations.yaml",
        f"{layout.ATTESTATIONS_DIR}/02-signoffs.yaml",  # written by the setup, read after it
        layout.WAIVERS,
        layout.SETUP,
    }
    assert set(members) == reports | inputs | {layout.INDEX}
    entries = {e["name"]: e for e in go.index()["members"]}
    assert entries[layout.CHECKLIST]["redacted"] is False
    assert entries[layout.PROFILE]["redacted"] is True  # the canary in its setup, users' tokens
    assert entries[f"{layout.ATTESTATIONS_DIR}/01-attestations.yaml"]["redacted"] is True
    assert entries[layout.WAIVERS]["source"].endswith("/.build/waivers.yaml")
    assert entries[layout.PROFILE]["source"].endswith("/demo/target.yaml")
    commands = json.loads(members[layout.SETUP])["commands"]
    assert commands[0] == "{python} -m golive.demo build ." and len(commands) == 2
    # Reports are bundled as the run wrote them (already redacted): byte for byte.
    for name in reports:
        assert members[name].decode() == go.sources[name], name
        assert entries[name]["redacted"] is False


def test_every_member_matches_its_sha256_and_size_in_the_index(go: Bundled) -> None:
    members = go.members()
    entries = go.index()["members"]
    assert [e["name"] for e in entries] == sorted(set(members) - {layout.INDEX})
    for entry in entries:
        data = members[entry["name"]]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)


def test_the_canary_secret_is_in_no_member_and_the_env_file_is_left_out(go: Bundled) -> None:
    # The canary was there to leak: in the env, the profile and the attestations file.
    assert all(CANARY in go.sources[k] for k in ("env", "profile", "attestations"))
    leaks = [name for name, data in go.members().items() if CANARY.encode() in data]
    assert leaks == []
    demo_secret = [n for n, d in go.members().items() if DEMO_WEBHOOK_SECRET.encode() in d]
    assert demo_secret == []
    # …and redacted where it stood, the way golive masks a secret (its last four characters).
    setup = json.loads(go.members()[layout.SETUP])["commands"][1]
    assert setup == f"true --token=…{CANARY[-4:]}"
    left_out = go.index()["left_out"]
    assert [e["path"] for e in left_out if "env file" in e["why"]] == [
        e["path"] for e in left_out if e["path"].endswith("/.build/shop.env")
    ]
    assert any(e["path"].endswith("/.build/shop.env") for e in left_out)


def test_files_older_than_the_run_are_left_out(no_go: Bundled) -> None:
    members = no_go.members()
    assert "report/locust_stats.csv" not in members
    assert all(CANARY.encode() not in data for data in members.values())
    stale = [e for e in no_go.index()["left_out"] if e["path"].endswith("locust_stats.csv")]
    assert [e["why"] for e in stale] == ["older than the run: not written by it"]


def test_a_load_bundle_holds_locusts_files(load: Bundled) -> None:
    members = load.members()
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust.json", "ledger.jsonl"):
        assert f"report/{name}" in members, sorted(members)
    assert members["report/locust_stats.csv"].startswith(b"Type,Name,")


def test_the_archive_is_deterministic(go: Bundled, tmp_path: Path) -> None:
    with tarfile.open(go.path) as tar:
        infos = tar.getmembers()
    results = json.loads(go.members()[layout.RESULTS])
    assert [i.name for i in infos] == sorted(i.name for i in infos)
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos} == {
        (int(_epoch(results["meta"]["started_at"])), 0, 0, "", "", 0o644)
    }
    # The same members make the same bytes, whatever order they come in.
    members = go.members()
    again = tmp_path / "again.tar.gz"
    archive.write(again, dict(reversed(list(members.items()))), int(infos[0].mtime))
    assert again.read_bytes() == go.path.read_bytes()


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# --- golive verdict ---------------------------------------------------------------------------


def test_verdict_from_a_go_bundle_agrees(go: Bundled) -> None:
    # As a user runs it, in a process of its own, the target and report folder gone.
    done = golive_process("verdict", str(go.path), cwd=go.path.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split()[:2] == ["recorded", "GO"]
    assert lines[2].split()[:2] == ["recomputed", "GO"]
    assert "as of 2026-11-26T12:00:00Z" in lines[2]  # the run's --now
    assert lines[-1].startswith("agree:")


def test_verdict_from_a_no_go_bundle_agrees(no_go: Bundled) -> None:
    code, out, err = verdict(no_go.path)
    assert code == 0, out + err
    assert "recorded    NO-GO (exit code 1)" in out
    assert "recomputed  NO-GO from 1 item folded again" in out


def test_verdict_from_a_load_bundle_agrees(load: Bundled) -> None:
    code, out, err = verdict(load.path)
    assert code == 0 and "recomputed  GO" in out, out + err


def test_an_edited_results_json_claiming_go_is_caught(no_go: Bundled, tmp_path: Path) -> None:
    results = json.loads(no_go.members()[layout.RESULTS])
    assert results["verdict"] == "NO-GO"
    item = next(i for i in results["items"] if i["id"] == LOGO)
    assert item["outcome"] == "fail"
    item["outcome"], results["verdict"], results["exit_code"] = "waived", "GO", 0
    results["verdict_reasons"] = []
    edited = repack(
        no_go.path, tmp_path / "edited.tar.gz", {layout.RESULTS: json.dumps(results).encode()}
    )
    code, out, _ = verdict(edited)
    assert code == 1, out
    assert "recorded    GO (exit code 0)" in out and "recomputed  NO-GO" in out
    assert f"item {LOGO}: recorded waived, recomputed fail" in out
    assert "verdict: recorded GO, recomputed NO-GO" in out


def test_a_renewed_waiver_in_the_bundle_disagrees(no_go: Bundled, tmp_path: Path) -> None:
    """The inputs count as much as the results: a waiver edited to expire later gives GO."""
    waivers = no_go.members()[layout.WAIVERS].decode()
    expires = json.loads(no_go.members()[layout.RESULTS])["waivers"][0]["expires"][:10]
    assert expires in waivers
    renewed = waivers.replace(expires, "2099-01-01")
    edited = repack(no_go.path, tmp_path / "renewed.tar.gz", {layout.WAIVERS: renewed.encode()})
    code, out, _ = verdict(edited)
    assert code == 1 and f"item {LOGO}: recorded fail, recomputed waived" in out, out


def test_a_member_that_no_longer_matches_the_index_is_a_bad_bundle(
    go: Bundled, tmp_path: Path
) -> None:
    results = go.members()[layout.RESULTS].replace(b'"verdict": "GO"', b'"verdict": "NO-GO"')
    edited = repack(go.path, tmp_path / "e.tar.gz", {layout.RESULTS: results}, reindex=False)
    code, out, err = verdict(edited)
    assert code == 2 and out == ""
    assert f"member {layout.RESULTS} does not match its sha256 in bundle.json" in err


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("not-gzip", "not a readable tar.gz"),
        ("no-index", "member bundle.json is missing"),
        ("no-results", "member report/results.json is listed in bundle.json but missing"),
        ("no-checklist", "member inputs/checklist.yaml is listed in bundle.json but missing"),
        ("bad-results", "member report/results.json is not a golive results.json"),
        ("unsafe-name", "member '../escape.txt' is not a plain file with a safe name"),
        ("other-checklist", "member inputs/checklist.yaml has sha256"),
        ("bad-waivers", "inputs/waivers.yaml"),
    ],
)
def test_a_bad_bundle_exits_2_naming_the_member(
    no_go: Bundled, tmp_path: Path, damage: str, message: str
) -> None:
    target = tmp_path / "damaged.tar.gz"
    members = no_go.members()
    if damage == "not-gzip":
        target.write_bytes(b"PK\x03\x04 not a tarball")
    elif damage == "unsafe-name":
        with tarfile.open(target, "w:gz") as tar:
            info = tarfile.TarInfo("../escape.txt")
            tar.addfile(info)
    elif damage.startswith("no-"):
        gone = {"no-index": layout.INDEX, "no-results": layout.RESULTS}.get(
            damage, layout.CHECKLIST
        )
        archive.write(target, {n: d for n, d in members.items() if n != gone}, 0)
    elif damage == "bad-results":
        repack(no_go.path, target, {layout.RESULTS: b'{"verdict": "GO"}'})
    elif damage == "other-checklist":
        text = members[layout.CHECKLIST] + b"\n# edited\n"
        repack(no_go.path, target, {layout.CHECKLIST: text})
    else:
        repack(no_go.path, target, {layout.WAIVERS: b"waivers:\n  - item: nope.nope\n"})
    code, out, err = verdict(target)
    assert code == 2 and out == "", out
    assert message in err and str(target) in err, err


def test_verdict_needs_a_bundle_that_exists(tmp_path: Path) -> None:
    code, _, err = verdict(tmp_path / "nothing.tar.gz")
    assert code == 2 and "no such bundle" in err


def test_verdict_help_lists_its_exit_codes() -> None:
    done = golive_here("verdict", "--help")
    assert done.returncode == 0
    assert "0  the verdict recomputed from the bundle agrees" in done.stdout
    assert "2  a bad or unreadable bundle" in done.stdout


def test_a_bundle_path_golive_cannot_write_is_refused_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    done = golive_here("gate", "--bundle", str(blocker / "x.tar.gz"))
    assert done.returncode == 2
    assert f"{blocker}: --bundle names a file, not a folder" in done.stderr


def test_the_fallback_name_of_a_run_without_a_commit() -> None:
    meta = make_result(2).meta
    meta = meta.model_copy(update={"target_git_sha": None, "started_at": NOW})
    assert layout.bundle_name(meta) == "golive-evidence-20251126T043000Z.tar.gz"
    meta = meta.model_copy(update={"target_git_sha": "0123456789abcdef0123"})
    assert layout.bundle_name(meta) == "golive-evidence-0123456789ab.tar.gz"


def test_an_interrupted_runs_bundle_records_and_recomputes_incomplete(tmp_path: Path) -> None:
    """SIGTERM while the reports are written (golive/reported.py's test hook holds them):
    the bundle is still written last, from the reports that say so, and agrees."""
    profile, writing, bundle = demo_copy(tmp_path), tmp_path / "writing", tmp_path / "b.tgz"
    command = [sys.executable, "-m", "golive.cli", "gate", "--target", str(profile)]
    command += ["--item", LOGO, "--out", str(tmp_path / "out"), "--now", GATE_NOW]
    proc = subprocess.Popen(
        [*command, "--bundle", str(bundle)],
        cwd=ROOT,
        env={**os.environ, "GOLIVE_TEST_HOLD_REPORT": str(writing)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not writing.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3 and bundle.is_file(), stdout + stderr
    code, out, _ = verdict(bundle)
    assert code == 0, out
    assert "recorded    INCOMPLETE (exit code 3)" in out and "recomputed  INCOMPLETE" in out


@pytest.mark.parametrize("inside", ["out", "out/evidence", "out/evidence.tar.gz"])
def test_a_bundle_inside_the_report_folder_is_refused_before_the_run(
    tmp_path: Path, inside: str
) -> None:
    out = tmp_path / "out"
    done = golive("gate", "--out", str(out), "--bundle", str(tmp_path / inside))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--bundle {tmp_path / inside} is inside the report folder {out}" in done.stderr
    assert not out.exists() or list(out.iterdir()) == []  # nothing ran


def test_a_bundle_beside_the_report_folder_is_accepted(tmp_path: Path) -> None:
    # The control: a folder next to the report's passes the same check (the run is then
    # refused for its unknown item, before any check, so this stays fast).
    out = tmp_path / "out"
    done = golive("gate", "--out", str(out), "--bundle", str(tmp_path / "evidence"),
                  "--item", "no.such-item")  # fmt: skip
    assert done.returncode == 2
    assert "inside the report folder" not in done.stderr
    assert "unknown item" in done.stderr
