"""The packages a repository declares: read from its dependency manifests, never installed.

    declared(repo, files) -> [Dependency(name="sentry-sdk", manifest="requirements.txt"), …]

Manifests read (anywhere in the tree, by file name):

| ecosystem | files                                                                    |
|-----------|--------------------------------------------------------------------------|
| Python    | requirements*.txt (and *.in), pyproject.toml (PEP 621 and Poetry),       |
|           | Pipfile, poetry.lock                                                     |
| Node      | package.json (dependencies, optionalDependencies, peerDependencies)      |
| Ruby      | Gemfile, Gemfile.lock                                                    |
| PHP       | composer.json (require)                                                  |
| Go        | go.mod (require)                                                         |
| JVM       | pom.xml (groupId:artifactId), build.gradle(.kts) ("group:artifact:…")    |

Development-only sections (devDependencies, require-dev, [dev-packages]) are not read: a
package only the tests install is not in production. Names are lower-cased; Python names
are normalized as pip does (`Sentry_SDK` and `sentry.sdk` are `sentry-sdk`). A manifest
that cannot be parsed is listed in `unreadable`, never silently taken as empty.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Manifests larger than this are not read (a vendored lock file of a monorepo, say).
MAX_MANIFEST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Dependency:
    name: str
    manifest: str  # the manifest's path in the repository


@dataclass
class Declared:
    dependencies: list[Dependency] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def find(self, names: Iterable[str]) -> list[Dependency]:
        """The declared dependencies matching any of `names` (`@sentry/*` globs a scope)."""
        wanted = [n.lower() for n in names]
        return [d for d in self.dependencies if any(_matches(d.name, w) for w in wanted)]


def _matches(name: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return name.startswith(wanted[:-1])
    return name == wanted or name == normalize(wanted)


def normalize(name: str) -> str:
    """pip's name normalization (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_GEM = re.compile(r"""^\s*gem\s+['"]([^'"]+)['"]""")
_GEM_LOCK = re.compile(r"^    ([A-Za-z0-9][A-Za-z0-9._-]*) \(")
_GO_REQUIRE = re.compile(r"^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]{2,}/[^\s]+)\s+v\d")
_POM_DEP = re.compile(
    r"<dependency>\s*.*?<groupId>\s*([^<\s]+)\s*</groupId>\s*.*?<artifactId>\s*([^<\s]+)\s*</artifactId>",
    re.S,
)
_GRADLE_DEP = re.compile(r"""['"]([A-Za-z0-9._-]+):([A-Za-z0-9._-]+)(?::[^'"]*)?['"]""")


def _requirements(text: str) -> list[str]:
    names = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue  # comments, -r/-e/--index-url options
        match = _REQUIREMENT.match(line)
        if match:
            names.append(normalize(match[1]))
    return names


def _pyproject(text: str) -> list[str]:
    data = tomllib.loads(text)
    project = data.get("project") or {}
    specs = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        specs.extend(extra)
    names = [normalize(m[1]) for s in specs if (m := _REQUIREMENT.match(str(s)))]
    poetry = (data.get("tool") or {}).get("poetry") or {}
    names += [normalize(n) for n in (poetry.get("dependencies") or {}) if n != "python"]
    return names


def _pipfile(text: str) -> list[str]:
    return [normalize(n) for n in (tomllib.loads(text).get("packages") or {})]


def _poetry_lock(text: str) -> list[str]:
    return [normalize(p["name"]) for p in tomllib.loads(text).get("package") or [] if "name" in p]


def _package_json(text: str) -> list[str]:
    data = json.loads(text)
    sections = ("dependencies", "optionalDependencies", "peerDependencies")
    return [n.lower() for s in sections for n in (data.get(s) or {})]


def _composer(text: str) -> list[str]:
    return [n.lower() for n in (json.loads(text).get("require") or {})]


def _gemfile(text: str) -> list[str]:
    return [m[1].lower() for line in text.splitlines() if (m := _GEM.match(line))]


def _gemfile_lock(text: str) -> list[str]:
    return [m[1].lower() for line in text.splitlines() if (m := _GEM_LOCK.match(line))]


def _go_mod(text: str) -> list[str]:
    return [m[1].lower() for line in text.splitlines() if (m := _GO_REQUIRE.match(line))]


def _pom(text: str) -> list[str]:
    return [f"{g}:{a}".lower() for g, a in _POM_DEP.findall(text)]


def _gradle(text: str) -> list[str]:
    return [f"{g}:{a}".lower() for g, a in _GRADLE_DEP.findall(text)]


def _parser(path: str):  # noqa: ANN202 - one of the functions above, or None
    name = PurePosixPath(path).name.lower()
    if name.startswith("requirements") and name.endswith((".txt", ".in")):
        return _requirements
    return {
        "pyproject.toml": _pyproject,
        "pipfile": _pipfile,
        "poetry.lock": _poetry_lock,
        "package.json": _package_json,
        "composer.json": _composer,
        "gemfile": _gemfile,
        "gemfile.lock": _gemfile_lock,
        "go.mod": _go_mod,
        "pom.xml": _pom,
        "build.gradle": _gradle,
        "build.gradle.kts": _gradle,
    }.get(name)


def declared(repo: Path, files: Iterable[str]) -> Declared:
    """The dependencies declared by the manifests among `files` (paths relative to repo)."""
    out = Declared()
    for path in sorted(files):
        parse = _parser(path)
        if parse is None or "node_modules" in PurePosixPath(path).parts:
            continue
        out.manifests.append(path)
        try:
            full = repo / path
            if full.stat().st_size > MAX_MANIFEST_BYTES:
                raise ValueError("too large")
            names = parse(full.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError, TypeError, AttributeError):
            out.unreadable.append(path)
            continue
        out.dependencies.extend(Dependency(n, path) for n in dict.fromkeys(names))
    return out
