"""Is an error tracking / APM SDK wired in the target: declared, initialised, configured?

    wiring(repo, env, sdks) -> Survey(manifests=[…], sources=N, sdks=[SdkWiring…])

For each SDK of golive/apm_sdks.py (and the profile's in-house ones) it finds:
- `dependencies`: its packages among the repository's manifests (golive/dependencies.py);
- `inits`: `file:line` of the code that initialises it — a regex per line over the
  source files, comment lines and test code skipped (a test's `sentry_sdk.init` does not
  run in production), start-up scripts (Procfile, Dockerfile, *.sh) included for
  wrappers such as `ddtrace-run` and `newrelic-admin run-program`;
- `env`: which of its DSN/key variables are set (names only: the values stay out).

The files are the repository's tracked files when it is a git checkout, else every file
under it but dependency and VCS folders.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from golive.apm_sdks import Sdk
from golive.dependencies import Declared, declared
from golive.repo_scan import tracked_files

SOURCE_SUFFIXES = frozenset(
    {
        ".py",
        ".js",
        ".mjs",
        ".cjs",
        ".ts",
        ".tsx",
        ".jsx",
        ".rb",
        ".php",
        ".go",
        ".java",
        ".kt",
        ".kts",
        ".scala",
        ".cs",
        ".ex",
        ".exs",
        ".sh",
        ".ru",
    }
)
SCRIPT_NAMES = ("procfile", "dockerfile*", "*.dockerfile", "entrypoint*", "gunicorn.conf*")
TEST_FILES = (
    "test_*.py",
    "*_test.py",
    "conftest.py",
    "*_test.go",
    "*.test.*",
    "*.spec.*",
    "*_spec.rb",
)
SKIPPED_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        "vendor",
        ".venv",
        "venv",
        "__pycache__",
        "tests",
        "test",
        "spec",
        "__tests__",
        "site-packages",
        "dist",
        "build",
    }
)
COMMENT_STARTS = ("#", "//", "/*", "*", "--", "<!--")
MAX_SOURCE_BYTES = 1024 * 1024  # minified bundles and generated files are not the app's init
MAX_FILES = 50_000  # a bound on the walk of a folder that is not a checkout
INITS_KEPT = 5  # file:line places kept per SDK


@dataclass
class SdkWiring:
    sdk: Sdk
    dependencies: list[str] = field(default_factory=list)  # "manifest: name"
    inits: list[str] = field(default_factory=list)  # "file:line"
    env_set: list[str] = field(default_factory=list)

    @property
    def wired(self) -> bool:
        return bool(self.dependencies and self.inits and self.env_set)

    @property
    def seen(self) -> bool:
        return bool(self.dependencies or self.inits)

    def missing(self) -> list[str]:
        """What stops it being wired, in words."""
        out = []
        if not self.dependencies:
            out.append("no package of it among the dependencies")
        if not self.inits:
            out.append("never initialised in the code")
        if not self.env_set:
            out.append(f"{' / '.join(self.sdk.env)} not set in the env")
        return out

    def evidence(self) -> dict[str, object]:
        return {
            "sdk": self.sdk.name,
            "dependencies": self.dependencies,
            "initialised_at": self.inits,
            "env_looked_for": list(self.sdk.env),
            "env_set": self.env_set,
            "wired": self.wired,
        }


@dataclass
class Survey:
    declared: Declared
    sources: int
    sdks: list[SdkWiring]

    @property
    def wired(self) -> list[SdkWiring]:
        return [s for s in self.sdks if s.wired]


def repository_files(repo: Path) -> list[str]:
    """The tracked files of a checkout, or the files under a plain folder (bounded)."""
    tracked = tracked_files(repo)
    if tracked is not None:
        return tracked
    found: list[str] = []
    for root, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            found.append((Path(root) / name).relative_to(repo).as_posix())
            if len(found) >= MAX_FILES:
                return found
    return found


def _is_source(path: str) -> bool:
    pure = PurePosixPath(path)
    if any(part in SKIPPED_DIRS for part in pure.parts[:-1]):
        return False
    name = pure.name.lower()
    if any(fnmatch.fnmatch(name, pattern) for pattern in TEST_FILES):
        return False
    return pure.suffix.lower() in SOURCE_SUFFIXES or any(
        fnmatch.fnmatch(name, pattern) for pattern in SCRIPT_NAMES
    )


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.lstrip().startswith(COMMENT_STARTS):
            yield number, line


def wiring(repo: Path, env: Mapping[str, str], sdks: list[Sdk]) -> Survey:
    files = repository_files(repo)
    deps = declared(repo, files)
    found = [SdkWiring(sdk) for sdk in sdks]
    for wired in found:
        wired.dependencies = [f"{d.manifest}: {d.name}" for d in deps.find(wired.sdk.dependencies)]
        wired.env_set = [name for name in wired.sdk.env if env.get(name)]
    patterns = [(w, w.sdk.init_regex()) for w in found]
    sources = [p for p in files if _is_source(p)]
    for path in sources:
        for number, line in _lines(repo / path):
            for wired, regex in patterns:
                if len(wired.inits) < INITS_KEPT and regex.search(line):
                    wired.inits.append(f"{path}:{number}")
    return Survey(deps, len(sources), found)
