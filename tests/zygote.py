"""golive's CLI in processes forked from one that has already imported golive.

Every `golive` command a test runs used to pay a Python start-up and golive's imports
(pytest, pydantic, httpx, stripe, SQLAlchemy, the check modules: about 1.2 s of CPU) before
doing anything; the suite runs some two hundred of them. Here one forkserver per xdist
worker imports all that once (tests/zygote_preload.py); each command is a child forked from
it: its own process, with its own environment, working folder, stdout and stderr, exit code
and children, running the CLI's real entry point. Tests that need the installed entry point
itself (signals sent to the process, the wheel) start `python -m golive.cli` instead.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_context: Any = None


def _forkserver() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["zygote_preload"])
        # The forkserver starts as `python -c …` with only the working folder on its path;
        # it skips a preload module it cannot import, so this folder goes on PYTHONPATH
        # for its start. (Each child gets the environment its caller gives.)
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), saved]))
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
    return _context


def run(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """`golive ARGS` in a forked child; like subprocess.run(..., capture_output=True)."""
    with tempfile.TemporaryDirectory(prefix="golive-zygote-") as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        child = _forkserver().Process(
            target=_child, args=(list(args), str(cwd), dict(env), str(out), str(err))
        )
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired(["golive", *args], timeout)
        return subprocess.CompletedProcess(
            ["golive", *args],
            child.exitcode,
            out.read_text(encoding="utf-8", errors="replace") if out.exists() else "",
            err.read_text(encoding="utf-8", errors="replace") if err.exists() else "",
        )


def _child(args: list[str], cwd: str, env: dict[str, str], out: str, err: str) -> None:
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = None  # chosen again from this environment's TMPDIR, not the zygote's
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    from golive import cli

    try:
        code = cli.main(args)
    except SystemExit as exc:  # argparse: usage errors, --help, --version
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
