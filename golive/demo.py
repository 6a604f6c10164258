"""Builds the demo target's example repository and database (`setup` of targets/demo).

    python -m golive.demo build PROFILE_DIR

From PROFILE_DIR/app-src and PROFILE_DIR/schema.sql it makes PROFILE_DIR/.build/app (a git
repository with one commit) and PROFILE_DIR/.build/shop.db. Rebuilt on every run so a
previous run, or a test that broke a copy, never leaks into the next.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

# A fixed identity and date give the demo repository the same commit SHA everywhere.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "golive demo",
    "GIT_AUTHOR_EMAIL": "demo@example.com",
    "GIT_COMMITTER_NAME": "golive demo",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
    "GIT_AUTHOR_DATE": "2026-11-01T12:00:00Z",
    "GIT_COMMITTER_DATE": "2026-11-01T12:00:00Z",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}


def build(profile_dir: Path) -> Path:
    build_dir = profile_dir / ".build"
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    _build_repository(profile_dir / "app-src", build_dir / "app")
    _build_database(profile_dir / "schema.sql", build_dir / "shop.db")
    return build_dir


def _build_repository(source: Path, repo: Path) -> None:
    shutil.copytree(source, repo)
    # Stored as `gitignore` so it does not act on golive's own repository.
    if (repo / "gitignore").exists():
        (repo / "gitignore").rename(repo / ".gitignore")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "demo shop"]):
        subprocess.run(
            ["git", "-C", str(repo), *args], check=True, env=GIT_ENV, capture_output=True
        )


def _build_database(schema: Path, database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.executescript(schema.read_text(encoding="utf-8"))
    connection.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "build":
        print("usage: python -m golive.demo build PROFILE_DIR", file=sys.stderr)
        return 2
    built = build(Path(argv[1]).resolve())
    print(f"demo target built in {built}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
