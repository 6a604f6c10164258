"""Runs every benchmark of BENCHMARKS.md in turn (`python3 dev.py bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "bench_gate.py",
    "bench_render.py",
    "bench_repo_scan.py",
    "bench_sandbox.py",
    "bench_sandbox_memory.py",
    "bench_sandbox_body.py",
    "bench_sandbox_history.py",
    "bench_reconcile.py",
    "bench_load.py",
):
    print(f"== {script}", flush=True)
    code = subprocess.run([sys.executable, str(HERE / script)]).returncode
    if code:
        sys.exit(code)
