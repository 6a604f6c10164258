"""Wall time of `golive gate --phase pre-deploy` on the demo target, as a user runs it.

    python bench/bench_gate.py [--runs 5]

Each run is a fresh `golive` process on a private copy of the demo (setup included:
the demo's repository and SQLite database are rebuilt every run).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        shutil.copytree(ROOT / "targets" / "demo", demo, ignore=shutil.ignore_patterns(".build"))
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "golive.cli",
                    "gate",
                    "--phase",
                    "pre-deploy",
                    "--target",
                    str(demo / "target.yaml"),
                    "--out",
                    str(Path(tmp) / "out"),
                    "--now",
                    "2026-11-26T12:00:00Z",
                ],
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                sys.exit(f"gate exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"pre-deploy gate on the demo ({args.runs} runs): best {min(times):.2f} s, "
        f"median {statistics.median(times):.2f} s, worst {max(times):.2f} s"
    )


if __name__ == "__main__":
    main()
