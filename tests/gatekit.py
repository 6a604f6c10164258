"""Helpers for tests that run `golive` as a user would: a subprocess, real files."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
import zygote

from golive import cli

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "targets" / "demo"
# The demo's attestations are dated 2026-11-20; judge them as of a fixed day so the
# tests do not depend on the calendar (freshness is tested on its own).
NOW = "2026-11-26T12:00:00Z"


def monitoring_items() -> set[str]:
    """The automated items whose checks read the target's Prometheus."""
    data = yaml.safe_load((ROOT / "checklist.yaml").read_text(encoding="utf-8"))
    return {
        item["id"]
        for section in data["sections"]
        for item in section["items"]
        if any(
            c["ref"].startswith("monitoring.")
            for c in (item.get("automated") or {}).get("checks", [])
        )
    }


# What `golive gate` writes into --out.
REPORT_FILES = ("results.json", "report.html", "junit.xml", "summary.md", "manifest.json")


@dataclass
class GateRun:
    returncode: int
    stdout: str
    stderr: str
    out: Path
    # A matrix run's other gates (its post-deploy gate): their items join `results`.
    extra: tuple[Path, ...] = ()

    @property
    def results(self) -> dict[str, Any]:
        data = json.loads((self.out / "results.json").read_text(encoding="utf-8"))
        for folder in self.extra:
            more = json.loads((folder / "results.json").read_text(encoding="utf-8"))
            data["items"] = data["items"] + more["items"]
        return data

    def item(self, item_id: str) -> dict[str, Any]:
        return next(i for i in self.results["items"] if i["id"] == item_id)

    def outcomes(self) -> dict[str, str]:
        return {i["id"]: i["outcome"] for i in self.results["items"]}

    def evidence(self, item_id: str, check: int = 0) -> list[dict[str, Any]]:
        """The evidence of one check of an item (by its index in the item's list)."""
        return self.item(item_id)["checks"][check]["evidence"]

    def report_texts(self) -> dict[str, str]:
        """Every file under --out by relative path: what a leak test must search."""
        return {
            str(path.relative_to(self.out)): path.read_text(encoding="utf-8", errors="replace")
            for path in sorted(self.out.rglob("*"))
            if path.is_file()
        }


def golive(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the CLI in a process of its own, forked from one with golive already imported
    (tests/zygote.py); `env` is the whole environment of the process (default: inherited)."""
    return zygote.run(
        args, cwd=cwd or ROOT, env=os.environ if env is None else env, timeout=timeout
    )


def golive_process(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """`python -m golive.cli ARGS`: the entry point exactly as a user's shell starts it."""
    return subprocess.run(
        [sys.executable, "-m", "golive.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        timeout=timeout,
        env=env,
    )


def golive_here(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The CLI's own entry point in this process, for commands that start nothing and need
    no environment of their own (validate, items, attest, init): the same code and exit
    codes as `golive()` without paying a Python start-up and golive's imports per call."""
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    try:
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess(
        ["golive", *args], code, stdout.getvalue(), stderr.getvalue()
    )


def gate(
    profile: Path,
    out: Path,
    *args: str,
    now: str | None = NOW,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> GateRun:
    extra = ["--now", now] if now else []
    done = golive(
        "gate",
        "--target",
        str(profile),
        "--out",
        str(out),
        *extra,
        *args,
        env=env,
        timeout=timeout,
    )
    return GateRun(done.returncode, done.stdout, done.stderr, out)


def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the demo target whose files a test may break."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns(".build"))
    return target / "target.yaml"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def edit_yaml(path: Path, **changes: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def custom_section(check_id: str, title: str = "A check that takes a while") -> str:
    """A checklist section holding one blocker item of that id, run by the check of that id
    (pre-deploy), to insert before the database section (with_custom_checks)."""
    return f"""- id: custom
  title: Custom Checks
  group: Pre-Deployment
  items:
  - id: {check_id}
    title: {title}
    severity: blocker
    phase: pre-deploy
    automated:
      checks:
      - {{ref: {check_id}}}

- id: database
"""


def with_custom_checks(tmp_path: Path, module: str, section: str) -> tuple[Path, Path]:
    """A demo copy whose profile adds a check folder holding `module`, and a checklist with
    `section` inserted before the database section. Returns (profile, checklist)."""
    extra = tmp_path / "custom_checks"
    extra.mkdir()
    (extra / "test_custom_checks.py").write_text(module)
    the_checklist = tmp_path / "checklist.yaml"
    text = (ROOT / "checklist.yaml").read_text(encoding="utf-8")
    assert "\n- id: database\n" in text
    the_checklist.write_text(text.replace("\n- id: database\n", "\n" + section, 1))
    profile = demo_copy(tmp_path)
    edit_yaml(profile, check_paths=[str(extra)])
    return profile, the_checklist


def env_source(profile: Path) -> Path:
    """The file to edit to change a target's env: the profile's env file, or, when that
    file is built under .build/ by the setup (the demo's .build/shop.env), the demo.env
    the build copies it from (.build/ is made afresh on every run)."""
    relative = Path(yaml.safe_load(profile.read_text())["env"]["file"])
    if ".build" in relative.parts:
        return profile.parent / "demo.env"
    return profile.parent / relative


def set_env(profile: Path, **values: str) -> None:
    """Replace or add variables in the target's env (see env_source)."""
    env_file = env_source(profile)
    lines = [
        line for line in env_file.read_text().splitlines() if line.split("=", 1)[0] not in values
    ]
    lines += [f"{key}={value}" for key, value in values.items()]
    env_file.write_text("\n".join(lines) + "\n")


def without_app(profile: Path) -> None:
    """Drop the running shop from a demo copy, for env checks on an env the shop refuses to
    start with (it exits 2 without STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET), as the
    demo was before it ran the shop. The env checks read the env, never the app."""
    data = load_yaml(profile)
    del data["app"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


# Set in no env: the sandbox then runs with its own test key (golive.backends._test_key).
SANDBOX_KEY_VAR = "GOLIVE_TEST_SANDBOX_KEY"


def sandbox_key_apart(profile: Path) -> None:
    """Let the target's env carry live keys with the demo still running: the sandbox refuses
    a live key (test_backends), so the harness takes its key from a variable of its own
    (stripe.secret_key_env) that nothing sets; the shop still gets the env's keys."""
    data = load_yaml(profile)
    data["stripe"]["secret_key_env"] = SANDBOX_KEY_VAR
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def checklist_items() -> list[dict[str, Any]]:
    """The bundled checklist's items in order, as plain YAML data plus their section id."""
    data = load_yaml(ROOT / "checklist.yaml")
    return [
        {**item, "section": section["id"]}
        for section in data["sections"]
        for item in section["items"]
    ]


def replace_in(path: Path, old: str, new: str) -> None:
    """Edit a file of a demo copy; the text to replace must be there (a silent no-op
    would make a "broken target" test pass against an intact one)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- gate runs shared between tests ---------------------------------------------------------


class SharedRuns:
    """Gate runs that several tests read, made once per test session whatever the xdist
    worker: the first test to ask makes the run under a file lock, the others wait for it
    and read the same report folder. A shared run is read-only: a test that edits its
    target makes its own run.

    `flaw(name)` is the detection matrix's run for a flaw (its catalogued items'
    sections and phases, --now NOW; a post-deploy item's in a post-deploy gate), so the tests of a check family assert their evidence on the very
    run the matrix judges; `control()` is the correct shop's whole default gate, as the
    README's first command runs it (no --now)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def get(self, key: str, make: Callable[[Path], GateRun]) -> GateRun:
        folder = self.root / key
        done = folder / "done.json"
        with open(self.root / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir()
                run = make(folder)
                done.write_text(
                    json.dumps(
                        {
                            "returncode": run.returncode,
                            "stdout": run.stdout,
                            "stderr": run.stderr,
                            "outs": [str(p) for p in (run.out, *run.extra)],
                        }
                    )
                )
        saved = json.loads(done.read_text())
        outs = [Path(p) for p in saved["outs"]]
        return GateRun(
            saved["returncode"], saved["stdout"], saved["stderr"], outs[0], tuple(outs[1:])
        )

    def flaw(self, name: str) -> GateRun:
        from golive import matrix

        sections = matrix.Catalogue.load().sections(name)
        return self.get(f"flaw-{name}", lambda folder: _as_gate_run(name, folder, sections))

    def control(self) -> GateRun:
        return self.get("control", lambda folder: _as_gate_run(None, folder, None, now=None))


def _as_gate_run(
    flaw: str | None, folder: Path, sections: list[str] | None, now: str | None = NOW
) -> GateRun:
    from golive import matrix

    def runner(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
        return golive(*args, env=env, timeout=matrix.GATE_TIMEOUT_S)

    phases = matrix.Catalogue.load().phases(flaw) if flaw and sections else None
    run = matrix.run_flaw(flaw, folder, sections=sections, phases=phases, now=now, runner=runner)
    return GateRun(run.returncode, run.output, "", run.outs[0], tuple(run.outs[1:]))
