"""Ctrl-C and SIGTERM at any point of a real `python -m golive.cli gate`, and two gates on
one target folder (issue #12, cases 6 and 8).

Whenever the signal comes — while a setup command runs, while the app starts, while the
checks run, while the reports are written, or twice — the gate must exit 3, leave a
report saying it was interrupted, leave no process of its own behind and remove its
scratch folders. Every process the gate starts inherits a marker variable from it, so a
survivor is found in /proc by its environment whatever its parent or session; the
gate's TMPDIR is a folder of the test's own, so a leftover `golive-*` folder shows.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gatekit import (
    NOW,
    ROOT,
    custom_section,
    demo_copy,
    edit_yaml,
    gate,
    load_yaml,
    with_custom_checks,
)

MARK_VAR = "GOLIVE_TEST_RUN_MARK"
INTERRUPTED = "the run was interrupted (Ctrl-C or SIGTERM)"
SIGNALS = pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"]
)
# Ctrl-C, SIGTERM, and Ctrl-C pressed twice 0.2 s apart.
SIGNAL_SEQUENCES = pytest.mark.parametrize(
    "signals",
    [[signal.SIGINT], [signal.SIGTERM], [signal.SIGINT, signal.SIGINT]],
    ids=["ctrl-c", "sigterm", "ctrl-c-twice"],
)
# A quick selection: one item whose checks read the env (no backend, no app).
QUICK = ("--item", "environment.secret-key")

# Sleeps in a setup command or as the app, with a child of its own: stopping only the
# direct child would leave the grandchild behind. Says it started with a marker file.
SLEEPER = """
import os, pathlib, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
pathlib.Path(sys.argv[1]).write_text(f"{os.getpid()} {child.pid}")
time.sleep(120)
"""

# A setup command that holds the first run it is part of until the test says go.
HOLDER = """
import pathlib, sys, time
held, release = pathlib.Path("held"), pathlib.Path("release")
if not held.exists():
    held.write_text("")
    deadline = time.monotonic() + 120
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
"""

SLOW_CHECK = '''
import os, pathlib, time

from golive.registry import check


@check("custom.slow", needs={"app"})
def test_slow(ctx):
    """Runs while the app is up, until the test interrupts it."""
    pathlib.Path(os.environ["GOLIVE_TEST_CHECK_STARTED"]).write_text("")
    time.sleep(60)
'''


@dataclass
class Run:
    """A `golive gate` process of its own session, its output in files."""

    proc: subprocess.Popen
    out: Path
    tmp: Path
    mark: str
    stdout: Path
    stderr: Path

    def wait_for(self, marker: Path, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not marker.exists():
            assert self.proc.poll() is None, f"the gate ended before {marker.name}: {self.output()}"
            assert time.monotonic() < deadline, f"no {marker.name} within {timeout} s"
            time.sleep(0.05)

    def finish(self, timeout: float = 90) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


@pytest.fixture
def start(tmp_path: Path) -> Iterator:
    """start(profile, *args, env=...) -> Run; whatever a run leaves is killed afterwards."""
    runs: list[Run] = []

    def _start(
        profile: Path, *args: str, env: dict[str, str] | None = None, command: str = "gate"
    ) -> Run:
        n = len(runs)
        tmp, out = tmp_path / f"tmp{n}", tmp_path / f"out{n}"
        tmp.mkdir()
        mark = uuid.uuid4().hex
        stdout, stderr = tmp_path / f"stdout{n}.txt", tmp_path / f"stderr{n}.txt"
        with stdout.open("w") as o, stderr.open("w") as e:
            proc = subprocess.Popen(
                [sys.executable, "-m", "golive.cli", command, "--target", str(profile)]
                + ["--out", str(out), *(("--now", NOW) if command == "gate" else ()), *args],
                cwd=ROOT,
                stdout=o,
                stderr=e,
                env={**os.environ, "TMPDIR": str(tmp), MARK_VAR: mark, **(env or {})},
                start_new_session=True,
            )
        runs.append(Run(proc, out, tmp, mark, stdout, stderr))
        return runs[-1]

    yield _start
    for run in runs:  # a failed test must not leave its processes running
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait()
        for pid, _ in survivors(run.mark):
            os.kill(pid, signal.SIGKILL)


def survivors(mark: str) -> list[tuple[int, str]]:
    """Processes whose environment carries the run's marker: (pid, command line)."""
    needle = f"{MARK_VAR}={mark}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(entry.name), cmdline.strip()))
        except OSError:
            continue  # gone, or not ours
    return found


def assert_interrupted_cleanly(run: Run, returncode: int, *, before_checks: bool) -> dict:
    """Exit 3, a report saying why, no process and no scratch folder left; the results."""
    output = run.output()
    assert returncode == 3, f"exit {returncode}: {output}"
    assert "Traceback" not in output
    results = json.loads((run.out / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "INCOMPLETE"
    assert results["exit_code"] == 3
    assert any(INTERRUPTED in error for error in results["errors"]), results["errors"]
    if before_checks:
        for item in results["items"]:
            if item["kind"] == "automated":
                assert item["outcome"] == "not-run", item["id"]
                assert item["reason"] == "run interrupted before this check ran", item
    # Killed grandchildren are reaped by PID 1 a moment after the gate exits.
    deadline = time.monotonic() + 5
    while (left := survivors(run.mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left behind: {left}"
    assert not list(run.tmp.glob("golive-*")), list(run.tmp.iterdir())
    return results


def send(run: Run, signals: list[int]) -> None:
    for index, signum in enumerate(signals):
        if index:
            time.sleep(0.2)
        run.proc.send_signal(signum)


def with_script(profile: Path, name: str, text: str) -> None:
    (profile.parent / name).write_text(text, encoding="utf-8")


@SIGNALS
def test_a_signal_during_a_setup_command(tmp_path: Path, start, signum: int) -> None:
    profile = demo_copy(tmp_path)
    with_script(profile, "sleeper.py", SLEEPER)
    setup = load_yaml(profile)["setup"]
    edit_yaml(profile, setup=["{python} sleeper.py setup-started", *setup])
    run = start(profile, *QUICK)
    run.wait_for(profile.parent / "setup-started")

    run.proc.send_signal(signum)

    assert_interrupted_cleanly(run, run.finish(), before_checks=True)


@pytest.mark.parametrize("command", ["smoke", "load"])
def test_smoke_and_load_report_a_signal_during_setup(tmp_path: Path, start, command: str) -> None:
    """They boot the target as the gate does, and report an interrupted boot as it does."""
    profile = demo_copy(tmp_path)
    with_script(profile, "sleeper.py", SLEEPER)
    setup = load_yaml(profile)["setup"]
    edit_yaml(profile, setup=["{python} sleeper.py setup-started", *setup])
    run = start(profile, command=command)
    run.wait_for(profile.parent / "setup-started")

    run.proc.send_signal(signal.SIGTERM)

    assert_interrupted_cleanly(run, run.finish(), before_checks=True)


@SIGNAL_SEQUENCES
def test_signals_while_the_app_starts(tmp_path: Path, start, signals: list[int]) -> None:
    profile = demo_copy(tmp_path)
    with_script(profile, "sleeper.py", SLEEPER)
    app = load_yaml(profile)["app"]
    app.update(start="{python} sleeper.py app-started", cwd=".", health_timeout_s=120)
    edit_yaml(profile, app=app)
    run = start(profile)  # the default selection: checks that need the app
    run.wait_for(profile.parent / "app-started")

    send(run, signals)

    assert_interrupted_cleanly(run, run.finish(), before_checks=True)


@SIGNAL_SEQUENCES
def test_signals_while_the_checks_run(tmp_path: Path, start, signals: list[int]) -> None:
    """The app is up (the slow check needs it) when the signal comes."""
    profile, the_checklist = with_custom_checks(tmp_path, SLOW_CHECK, custom_section("custom.slow"))
    started = tmp_path / "check-started"
    run = start(
        profile,
        *("--checklist", str(the_checklist), "--item", "custom.slow"),
        env={"GOLIVE_TEST_CHECK_STARTED": str(started)},
    )
    run.wait_for(started)

    send(run, signals)

    results = assert_interrupted_cleanly(run, run.finish(), before_checks=False)
    [item] = results["items"]
    assert item["outcome"] == "not-run"


@SIGNAL_SEQUENCES
def test_signals_while_the_reports_are_written(tmp_path: Path, start, signals: list[int]) -> None:
    """The reports are written whole, and say the run was interrupted (it did not end as
    it would have): the exit code and the report agree."""
    profile = demo_copy(tmp_path)
    writing = tmp_path / "writing"
    # Test hook (golive/reported.py): pause before writing, after touching this file.
    run = start(profile, *QUICK, env={"GOLIVE_TEST_HOLD_REPORT": str(writing)})
    run.wait_for(writing)

    send(run, signals)

    results = assert_interrupted_cleanly(run, run.finish(), before_checks=False)
    # Every check had finished: their outcomes stand.
    assert [i["outcome"] for i in results["items"]] == ["pass"]
    for name in ("report.html", "junit.xml", "summary.md"):
        assert (run.out / name).stat().st_size > 0


def test_a_second_gate_on_the_same_target_is_refused(tmp_path: Path, start) -> None:
    """Case 8: the second run's setup would rebuild the first run's target under it."""
    profile = demo_copy(tmp_path)
    with_script(profile, "holder.py", HOLDER)
    setup = load_yaml(profile)["setup"]
    edit_yaml(profile, setup=["{python} holder.py", *setup])
    first = start(profile, *QUICK)
    first.wait_for(profile.parent / "held")

    began = time.monotonic()
    second = gate(profile, tmp_path / "second", *QUICK)
    assert second.returncode == 2, second.stdout + second.stderr
    assert time.monotonic() - began < 30
    assert "another golive gate is running on" in second.stderr
    assert f"(pid {first.proc.pid})" in second.stderr
    assert not (tmp_path / "second" / "results.json").exists()

    (profile.parent / "release").write_text("")
    assert first.finish() == 0, first.output()
    # The first run is over: the folder is free again, and nothing was left in it.
    assert not (profile.parent / ".golive.lock").exists()
    third = gate(profile, tmp_path / "third", *QUICK)
    assert third.returncode == 0, third.stdout + third.stderr


def test_once_a_signal_is_raised_later_ones_cannot_cut_the_way_out_short() -> None:
    """The class behind a flaky double Ctrl-C: a second signal landing anywhere on the way
    out (between boot and the report, not only inside a shielded block) is ignored."""
    from golive import interrupts

    assert threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGINT)
    with interrupts.handled():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs at the next bytecode; this is never reached
        os.kill(os.getpid(), signal.SIGTERM)  # the command is stopping: ignored
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
    assert signal.getsignal(signal.SIGINT) is before
    with interrupts.handled(), pytest.raises(KeyboardInterrupt):  # a new command: raised again
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
