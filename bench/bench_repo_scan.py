"""Wall time of the repository secret scan (`golive.repo_scan.scan_repository`).

    .venv/bin/python bench/bench_repo_scan.py [--repeat 5] [--source DIR]

A synthetic repository built with `git fast-import`: 3,000 commits changing 50 text
files, 150 binary files of 64 KiB (PNG-like: compressed noise) and 20 UTF-16LE files
among them, everything still in the working tree, no key anywhere. Best of `--repeat`,
wall time and the CPU time of golive's own process (git's children not counted).
`--source` imports golive from another checkout (to compare with an older version).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(repo: Path) -> None:
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
    rng = __import__("random").Random(12)
    chunks = []
    for n in range(1, 3001):
        files = [(f"src/file{n % 50}.py", f"version = {n}\n".encode() + b"x = 1\n" * 20)]
        if n % 20 == 0:  # 150 binaries
            noise = zlib.compress(rng.randbytes(64 * 1024), 0)
            files.append((f"static/img{n}.png", b"\x89PNG\r\n\x1a\n\x00\x00" + noise))
        if n % 150 == 0:  # 20 UTF-16 files
            text = "".join(f"Write-Host 'step {i}'\r\n" for i in range(200))
            files.append((f"scripts/s{n}.ps1", b"\xff\xfe" + text.encode("utf-16-le")))
        message = f"commit {n}".encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"committer t <t@t> {1_700_000_000 + n} +0000\n".encode()
            + f"data {len(message)}\n".encode()
            + message
            + b"\n"
        )
        for path, data in files:
            chunks.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(
        ["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(chunks), check=True, env=env
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=repo, check=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--source", type=Path, default=ROOT)
    args = parser.parse_args()
    sys.path.insert(0, str(args.source.resolve()))
    from golive.repo_scan import scan_repository

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        build(repo)
        times, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            result = scan_repository(repo)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
    assert not result.findings
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"repo scan, 3000 commits, 220 files ({args.source}): best {min(times):.2f} s, "
        f"worst {max(times):.2f} s; golive's own CPU best {min(cpu):.3f} s; "
        f"files_scanned={result.files_scanned}, "
        f"binary={len(getattr(result, 'binary_files', ()))}"
    )


if __name__ == "__main__":
    main()
