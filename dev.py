#!/usr/bin/env python3
"""Set up golive in ./.venv from the lock file, then run it — only Python needed.

    python3 dev.py gate [golive gate options]   # the gate on the demo target
    python3 dev.py test [pytest options]        # golive's own tests
    python3 dev.py lint                         # ruff check + format check
    python3 dev.py bench                        # the benchmarks of BENCHMARKS.md
    python3 dev.py matrix                       # the detection matrix, written into README.md
    python3 dev.py reference                    # docs/profile.md, from the profile's models

The environment is rebuilt only when requirements.lock or pyproject.toml change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".golive-installed"


def ensure_environment() -> None:
    wanted = hashlib.sha256(
        (ROOT / "requirements.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"golive needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print(f"creating {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing the locked dependencies (first run only) …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(ROOT / "requirements.lock")], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    runs = {
        "gate": [str(BIN / "golive"), "gate", *rest],
        # Most tests wait on real servers (the shop, the sandbox, load runs): three xdist
        # workers per core keep the cores busy (BENCHMARKS.md has the measurements).
        "test": [str(PYTHON), "-m", "pytest", "-n", str(3 * (os.cpu_count() or 2)), *rest],
        "lint": None,
        "bench": [str(PYTHON), str(ROOT / "bench" / "run.py"), *rest],
        "matrix": [str(PYTHON), "-m", "golive.matrix", "--write", "README.md", *rest],
        "reference": [
            str(PYTHON),
            "-m",
            "golive.profile.reference",
            "--write",
            "docs/profile.md",
            *rest,
        ],
    }
    if command not in runs:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ensure_environment()
    os.chdir(ROOT)
    if command == "lint":
        ruff = str(BIN / "ruff")
        first = subprocess.run([ruff, "check", "."]).returncode
        return first or subprocess.run([ruff, "format", "--check", "."]).returncode
    return subprocess.run(runs[command]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
