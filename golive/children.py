"""The processes a run starts, each in a process group of its own.

A setup command, the app or Locust may start children of their own, and stopping only the
direct child would leave those orphaned under PID 1. So each starts in a new session
(`start_new_session=True`: a terminal's Ctrl-C reaches golive alone, which then stops
them) and is stopped as a group: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from golive import interrupts


def stop_group(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM to the process's group, SIGKILL after `grace_s`, and SIGKILL to whatever of
    the group outlived its leader; returns once the process is reaped. A signal meanwhile
    waits: the stop must finish."""
    with interrupts.shielded():
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=grace_s)
        _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    # The group keeps the leader's pid as its id while any member lives, even once the
    # leader has exited; an empty group is gone (ProcessLookupError).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def run(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """subprocess.run(argv, capture_output=True, text=True) in a group of its own: on a
    timeout, Ctrl-C or any error the whole group is stopped before the exception goes on.
    (A command that ends normally may leave a daemon it meant to start.)"""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            stop_group(process, grace_s=5)
            raise
    return subprocess.CompletedProcess(list(argv), process.returncode, stdout, stderr)
