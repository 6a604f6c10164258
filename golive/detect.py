"""What `golive init` can tell about an app by reading its repository.

Files are only read: the app is never run, its code never imported, nothing goes over
the network. A dotenv file that is not an example (`.env`, `.env.production`…) is never
opened, since it holds real secrets; from the examples (`.env.example`…) only the
variable *names* are taken, never a value. Every guess carries the file and line it came
from, so the profile written from it can say so.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from golive.detect_routes import (
    Route,
    SourceFile,
    WebhookGuess,
    Where,
    choose_health,
    choose_webhook,
    find_routes,
    signature_calls,
)

__all__ = ["Detection", "Guess", "Where", "scan"]

SOURCE_SUFFIXES = {".py", ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"}
SKIP_DIRS = {
    "node_modules",
    "__pycache__",
    "site-packages",
    "bower_components",
    "vendor",
    "dist",
    "build",
    "coverage",
    "htmlcov",
    "migrations",
}
TEST_DIRS = {"test", "tests", "__tests__", "spec", "specs", "e2e", "cypress", "fixtures"}
MAX_FILES = 4000  # source files read; a monorepo's worth, and init stays quick
MAX_BYTES = 512_000  # larger files are generated or vendored, not the app's routes
ENV_EXAMPLE = re.compile(r"(?:.*[._-])?(?:example|sample|template|dist)(?:[._-].*)?", re.I)

FRAMEWORKS = {
    "flask": "Flask",
    "django": "Django",
    "fastapi": "FastAPI",
    "starlette": "Starlette",
    "express": "Express",
}
# Evidence in the source when no manifest names the framework.
FRAMEWORK_IMPORTS = {
    "flask": re.compile(r"^[ \t]*(?:from[ \t]+flask[ \t]+import|import[ \t]+flask\b)", re.M),
    "django": re.compile(r"^[ \t]*(?:from|import)[ \t]+django\b", re.M),
    "fastapi": re.compile(r"^[ \t]*(?:from|import)[ \t]+fastapi\b", re.M),
    "starlette": re.compile(r"^[ \t]*(?:from|import)[ \t]+starlette\b", re.M),
    "express": re.compile(r"require\(\s*['\"]express['\"]\s*\)|\bfrom\s+['\"]express['\"]"),
}
# Libraries that decide how golive maps Model.field to the database's names.
ORMS = {
    "mongoose": "mongoose",
    "flask-sqlalchemy": "flask-sqlalchemy",
    "pymongo": "pymongo",
    "motor": "motor",
    "mongoengine": "mongoengine",
    "sqlalchemy": "sqlalchemy",
    "prisma": "prisma",
    "@prisma/client": "prisma",
    "sequelize": "sequelize",
    "typeorm": "typeorm",
}

ENV_READS = (
    # os.environ["X"], os.environ.get("X"), environ.get("X"), os.getenv("X")
    re.compile(r"""\b(?:os\.)?(?:environ(?:\.get)?|getenv)\s*[\[(]\s*['"]([A-Z_][A-Z0-9_]*)['"]"""),
    # django-environ env("X") / env.str("X"), python-decouple config("X")
    re.compile(r"""(?<![\w.])(?:env|config)(?:\.\w+)?\s*\(\s*['"]([A-Z_][A-Z0-9_]*)['"]"""),
    re.compile(r"""\bprocess\.env\.([A-Z_][A-Z0-9_]*)"""),
    re.compile(r"""\bprocess\.env\[\s*['"`]([A-Z_][A-Z0-9_]*)['"`]\s*\]"""),
    re.compile(r"""\bimport\.meta\.env\.([A-Z_][A-Z0-9_]*)"""),
)
ENV_DESTRUCTURED = re.compile(r"\{([^{}]*)\}\s*=\s*process\.env\b")
SETTINGS_READ = re.compile(r"\bsettings\.([A-Z_][A-Z0-9_]*)")
# A quoted STRIPE_… or database name, for apps that read through a helper (`get("X")`);
# not a key being set (`app.config["X"] = …`, `{"X": …}`), which is no variable.
NAME_LITERAL = re.compile(r"""['"]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"](?!\s*\]\s*=[^=])(?!\s*:)""")
# How an app names a variable, most telling first.
KIND_RANK = {"code": 0, "example": 1, "literal": 2, "settings": 3}
KIND_HOW = {
    "code": "read in the source",
    "example": "in a dotenv example",
    "literal": "named in the source",
    "settings": "a setting",
}
DOTENV_NAME = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=", re.M)

STRIPE_ROLES = ("secret_key", "publishable_key", "webhook_secret", "api_version")
ROLE_LABELS = {
    "secret_key": "Stripe secret key",
    "publishable_key": "Stripe publishable key",
    "webhook_secret": "Stripe webhook secret",
    "api_version": "Stripe API version",
}
# Preferred database URL names, best first; others are recognised by their words.
DATABASE_NAMES = (
    "DATABASE_URL",
    "MONGODB_URI",
    "MONGODB_URL",
    "MONGO_URI",
    "MONGO_URL",
    "SQLALCHEMY_DATABASE_URI",
    "POSTGRES_URL",
    "POSTGRESQL_URL",
    "DATABASE_URI",
    "DB_URL",
    "MYSQL_URL",
)


@dataclass
class Guess:
    """One value read from the repository, where, how, and what else was seen."""

    value: str
    where: Where
    how: str = ""
    others: list[str] = field(default_factory=list)  # "value (file:line)"


@dataclass
class EnvName:
    name: str
    where: Where
    kind: str  # a key of KIND_RANK


@dataclass
class Start:
    """A suggested `app.start`, never written as a live value: running it is the user's call."""

    command: str
    cwd: str  # relative to the repository
    env: dict[str, str]
    where: Where
    how: str


@dataclass
class Detection:
    repo: Path
    files_read: int = 0
    truncated: bool = False
    framework: Guess | None = None
    orm: Guess | None = None
    stripe: dict[str, Guess] = field(default_factory=dict)  # role -> the app's variable
    env_names: list[EnvName] = field(default_factory=list)  # every variable the app reads
    env_examples: list[str] = field(default_factory=list)  # dotenv examples (names only)
    real_env_files: list[str] = field(default_factory=list)  # present, never opened
    database_var: Guess | None = None
    webhook: WebhookGuess | None = None
    health: Route | None = None
    start: Start | None = None

    @property
    def stripe_names(self) -> list[EnvName]:
        return [e for e in self.env_names if "STRIPE" in e.name.split("_")]


@dataclass
class _Files:
    sources: list[SourceFile] = field(default_factory=list)
    manifests: list[SourceFile] = field(default_factory=list)
    examples: list[SourceFile] = field(default_factory=list)
    real_env: list[str] = field(default_factory=list)
    truncated: bool = False


def scan(repo: Path, skip: Iterable[Path] = (), prefer: Iterable[str] = ()) -> Detection:
    """Read `repo` (minus the `skip` folders) and make every guess `golive init` writes.
    Of several names for one Stripe variable, one in `prefer` (the checklist's) wins."""
    root = repo.resolve()
    files = _walk(root, {p.resolve() for p in skip})
    found = Detection(repo=root, files_read=len(files.sources), truncated=files.truncated)
    found.real_env_files = files.real_env
    found.env_examples = [f.path for f in files.examples]
    deps = _dependencies(files.manifests)
    found.env_names = _env_names(files.sources, files.examples)
    found.stripe = _stripe_roles(found.env_names, files.sources, set(prefer))
    found.database_var = _database_var(found.env_names)
    routes = find_routes(files.sources)
    found.webhook = choose_webhook(routes, signature_calls(files.sources))
    found.health = choose_health(routes)
    found.framework = _framework(deps, files.sources, found.webhook)
    found.orm = _orm(deps, files.sources)
    found.start = _start(found.framework, files)
    return found


# --- reading the repository ----------------------------------------------------------


def _walk(root: Path, skip: set[Path]) -> _Files:
    out = _Files()
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in SKIP_DIRS
            and d.lower() not in TEST_DIRS
            and (here / d).resolve() not in skip
            and not (here / d / "pyvenv.cfg").exists()  # a virtualenv, whatever its name
        )
        for name in sorted(filenames):
            path = here / name
            rel = path.relative_to(root).as_posix()
            kind = _kind(name, here.name)
            if kind == "real-env":
                out.real_env.append(rel)  # listed, never opened
                continue
            if kind is None or (path.is_symlink() and not _inside(path, root)):
                continue
            if kind == "source" and len(out.sources) >= MAX_FILES:
                out.truncated = True
                continue
            text = _read(path)
            if text is not None:
                {"source": out.sources, "manifest": out.manifests, "example": out.examples}[
                    kind
                ].append(SourceFile(rel, text))
    return out


def _kind(name: str, folder: str) -> str | None:
    lower = name.lower()
    suffix = os.path.splitext(lower)[1]
    dotenv = (
        lower in (".env", "env") or lower.startswith((".env.", "env.")) or lower.endswith(".env")
    )
    if dotenv and suffix not in SOURCE_SUFFIXES:  # env.ts is code; .env.example is not
        rest = re.sub(r"^\.?env(?=\.|$)|\.env$", "", lower)
        return "example" if ENV_EXAMPLE.fullmatch(rest) else "real-env"
    if lower in ("package.json", "pyproject.toml", "pipfile") or (
        lower.endswith((".txt", ".in"))
        and (lower.startswith("requirements") or folder == "requirements")
    ):
        return "manifest"
    if suffix in SOURCE_SUFFIXES and not _is_test_or_bundle(lower):
        return "source"
    return None


def _is_test_or_bundle(name: str) -> bool:
    return (
        name.startswith("test_")
        or name == "conftest.py"
        or re.search(r"(?:_test\.py|\.(?:test|spec|min)\.[cm]?[jt]sx?)$", name) is not None
    )


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8000]:
        return None  # binary, as git judges it
    return data.decode("utf-8", errors="replace")


def _line_of(text: str, pattern: str) -> int:
    match = re.search(pattern, text, re.I | re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 1


# --- dependencies and framework ------------------------------------------------------


@dataclass(frozen=True)
class _Dependency:
    name: str  # lower case, `_` and `.` as `-` (as pip compares names)
    where: Where


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dependencies(manifests: list[SourceFile]) -> list[_Dependency]:
    deps: list[_Dependency] = []
    for f in manifests:
        names = _manifest_names(f)
        for name in names:
            spelled = "[-_.]".join(re.escape(part) for part in re.split(r"[-_.]+", name))
            pattern = rf"(?<![\w.-]){spelled}(?![\w.-])"
            deps.append(_Dependency(_normal(name), Where(f.path, _line_of(f.text, pattern))))
    return deps


def _manifest_names(f: SourceFile) -> list[str]:
    """The dependency names a manifest declares; a file that does not parse declares none."""
    base = f.path.rsplit("/", 1)[-1].lower()
    try:
        if base == "package.json":
            data = json.loads(f.text)
            return [
                n
                for key in ("dependencies", "devDependencies", "peerDependencies")
                for n in (data.get(key) or {})
            ]
        if base == "pipfile":
            data = tomllib.loads(f.text)
            return [*(data.get("packages") or {}), *(data.get("dev-packages") or {})]
        if base == "pyproject.toml":
            return _pyproject_names(tomllib.loads(f.text))
    except (ValueError, AttributeError, TypeError):
        return []
    requirement = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", re.M)
    return [m[1] for m in requirement.finditer(f.text) if not m[0].lstrip().startswith("-")]


def _pyproject_names(data: dict) -> list[str]:
    project = data.get("project") or {}
    specs = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        specs += extra
    for group in (data.get("dependency-groups") or {}).values():
        specs += [s for s in group if isinstance(s, str)]
    names = [re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", s) for s in specs]
    poetry = (data.get("tool") or {}).get("poetry") or {}
    groups = [poetry.get("dependencies") or {}] + [
        (g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()
    ]
    return [m[1] for m in names if m] + [n for g in groups for n in g if n != "python"]


def _framework(
    deps: list[_Dependency], sources: list[SourceFile], webhook: WebhookGuess | None
) -> Guess | None:
    evidence: dict[str, tuple[Where, str]] = {}
    for dep in deps:
        if dep.name in FRAMEWORKS and dep.name not in evidence:
            evidence[dep.name] = (dep.where, f"dependency {dep.name}")
    for f in sources:
        for key, pattern in FRAMEWORK_IMPORTS.items():
            match = pattern.search(f.text)
            if match and key not in evidence:
                evidence[key] = (Where(f.path, f.line_at(match.start())), "imported")
    if "fastapi" in evidence:
        evidence.pop("starlette", None)  # FastAPI is built on Starlette
    if not evidence:
        return None
    # Several (a monorepo): the one in the webhook's language, then a fixed order.
    webhook_lang = ("py" if webhook.route.where.file.endswith(".py") else "js") if webhook else None
    order = ["django", "fastapi", "flask", "starlette", "express"]
    chosen = min(
        evidence,
        key=lambda k: ((("js" if k == "express" else "py") != webhook_lang), order.index(k)),
    )
    where, how = evidence[chosen]
    others = [f"{FRAMEWORKS[k]} ({w})" for k, (w, _) in evidence.items() if k != chosen]
    return Guess(chosen, where, how, others)


def _orm(deps: list[_Dependency], sources: list[SourceFile]) -> Guess | None:
    known = [d for d in deps if d.name in ORMS]
    if known:  # the most specific first: flask-sqlalchemy over the sqlalchemy it brings
        dep = min(known, key=lambda d: list(ORMS).index(d.name))
        return Guess(ORMS[dep.name], dep.where, f"dependency {dep.name}")
    for f in sources:
        match = re.search(r"require\(\s*['\"]mongoose['\"]\s*\)|from\s+['\"]mongoose['\"]", f.text)
        if match:
            return Guess("mongoose", Where(f.path, f.line_at(match.start())), "imported")
    return None


# --- environment variables -------------------------------------------------------------


def _env_names(sources: list[SourceFile], examples: list[SourceFile]) -> list[EnvName]:
    """Every variable name the app reads or its dotenv examples list, first sighting each."""
    seen: dict[str, EnvName] = {}

    def add(name: str, where: Where, kind: str) -> None:
        known = seen.get(name)
        if known is None or KIND_RANK[kind] < KIND_RANK[known.kind]:
            seen[name] = EnvName(name, where, kind)

    for f in sources:
        for pattern in ENV_READS:
            for m in pattern.finditer(f.text):
                add(m[1], Where(f.path, f.line_at(m.start())), "code")
        for m in ENV_DESTRUCTURED.finditer(f.text):
            for item in m[1].split(","):
                name = re.match(r"\s*([A-Z_][A-Z0-9_]*)", item)
                if name:
                    add(name[1], Where(f.path, f.line_at(m.start())), "code")
        if f.lang == "py":
            for m in SETTINGS_READ.finditer(f.text):
                add(m[1], Where(f.path, f.line_at(m.start())), "settings")
        for m in NAME_LITERAL.finditer(f.text):
            if "STRIPE" in m[1].split("_") or _database_rank(m[1]) is not None:
                add(m[1], Where(f.path, f.line_at(m.start())), "literal")
    for f in examples:
        for m in DOTENV_NAME.finditer(f.text):  # the name only: the value is never kept
            add(m[1], Where(f.path, f.line_at(m.start())), "example")
    return sorted(seen.values(), key=lambda e: (e.where.file, e.where.line, e.name))


def stripe_role(name: str) -> str | None:
    """Which Stripe variable `name` is by its words: STRIPE_SK, STRIPE_API_KEY -> secret_key."""
    words = set(name.upper().split("_"))
    if "STRIPE" not in words:
        return None
    if words & {"WEBHOOK", "WEBHOOKS", "WH", "ENDPOINT", "SIGNING", "WHSEC"}:
        return "webhook_secret" if words & {"SECRET", "KEY", "SIGNING", "WHSEC"} else None
    if "VERSION" in words:
        return "api_version"
    if words & {"PUBLISHABLE", "PUBLIC", "PK"}:
        return "publishable_key"
    if words & {"SECRET", "SK", "PRIVATE", "RESTRICTED", "RK"} or {"API", "KEY"} <= words:
        return "secret_key"
    return None


def _role_from_use(name: str, sources: list[SourceFile]) -> str | None:
    """An ambiguous name (STRIPE_KEY) by what the line that reads it does with it."""
    for f in sources:
        for line in f.lines:
            if name not in line:
                continue
            if re.search(r"loadStripe|publishable", line, re.I):
                return "publishable_key"
            if re.search(r"\bStripe\s*\(|StripeClient\s*\(|api_key|apiKey|\)\s*\(\s*process", line):
                return "secret_key"
    return None


def _stripe_roles(
    names: list[EnvName], sources: list[SourceFile], prefer: set[str]
) -> dict[str, Guess]:
    """For each role, the app's variable: read in code first, then listed in an example."""
    candidates: dict[str, list[EnvName]] = {}
    for env in names:
        role = stripe_role(env.name) or (
            _role_from_use(env.name, sources) if "STRIPE" in env.name.split("_") else None
        )
        if role:
            candidates.setdefault(role, []).append(env)
    roles: dict[str, Guess] = {}
    for role, found in candidates.items():
        found.sort(key=lambda e: (KIND_RANK[e.kind], e.name not in prefer))
        best = found[0]
        roles[role] = Guess(
            best.name,
            best.where,
            KIND_HOW[best.kind],
            [f"{e.name} ({e.where})" for e in found[1:] if e.name != best.name],
        )
    return roles


def _database_rank(name: str) -> int | None:
    """How likely `name` holds the database URL (lower is likelier); None: it does not."""
    words = name.split("_")
    if {"TEST", "SHADOW", "REDIS"} & set(words):
        return None
    if name in DATABASE_NAMES:
        return DATABASE_NAMES.index(name)
    dbish = {"DATABASE", "DB", "MONGO", "MONGODB", "POSTGRES", "POSTGRESQL", "PG", "MYSQL"}
    if dbish & set(words) and words[-1] in ("URL", "URI", "DSN"):
        return len(DATABASE_NAMES)
    return None


def _database_var(names: list[EnvName]) -> Guess | None:
    ranked = sorted(
        (e for e in names if _database_rank(e.name) is not None),
        key=lambda e: (KIND_RANK[e.kind], _database_rank(e.name) or 0),
    )
    if not ranked:
        return None
    best = ranked[0]
    others = [f"{e.name} ({e.where})" for e in ranked[1:]]
    return Guess(best.name, best.where, KIND_HOW[best.kind], others)


# --- a start command to suggest ----------------------------------------------------------


def _start(framework: Guess | None, files: _Files) -> Start | None:
    if framework is None:
        return None
    kind = framework.value
    if kind == "django":
        manage = next((f for f in files.sources if f.path.rsplit("/", 1)[-1] == "manage.py"), None)
        if manage:
            folder = manage.path.rpartition("/")[0]
            return Start(
                "python manage.py runserver 127.0.0.1:{port} --noreload",
                folder or ".",
                {},
                Where(manage.path, 1),
                "Django's development server",
            )
        return None
    if kind == "express":
        return _node_start(files)
    pattern = {
        "flask": r"^[ \t]*(\w+)[ \t]*=[ \t]*Flask\(|^def[ \t]+(create_app)\b",
        "fastapi": r"^[ \t]*(\w+)[ \t]*=[ \t]*FastAPI\(",
        "starlette": r"^[ \t]*(\w+)[ \t]*=[ \t]*Starlette\(",
    }[kind]
    for f in files.sources:
        match = re.search(pattern, f.text, re.M)
        if match:
            module = f.path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
            where = Where(f.path, f.line_at(match.start()))
            if kind == "flask":
                return Start(
                    f"flask --app {module} run --port {{port}}", ".", {}, where, "Flask's server"
                )
            return Start(
                f"uvicorn {module}:{match[1]} --host 127.0.0.1 --port {{port}}",
                ".",
                {},
                where,
                "uvicorn",
            )
    return None


def _node_start(files: _Files) -> Start | None:
    for f in files.manifests:
        if not f.path.endswith("package.json"):
            continue
        try:
            data = json.loads(f.text)
        except ValueError:
            continue
        folder = f.path.rpartition("/")[0] or "."
        env = {"PORT": "{port}"}
        if "start" in (data.get("scripts") or {}):
            where = Where(f.path, _line_of(f.text, r'"start"\s*:'))
            return Start("npm start", folder, env, where, 'the "start" script')
        if isinstance(data.get("main"), str):
            where = Where(f.path, _line_of(f.text, r'"main"\s*:'))
            return Start(f"node {data['main']}", folder, env, where, 'the package\'s "main"')
    for f in files.sources:
        match = re.search(r"\bexpress\(\s*\)", f.text)
        if match:
            where = Where(f.path, f.line_at(match.start()))
            return Start(
                f"node {f.path}", ".", {"PORT": "{port}"}, where, "the file that calls express()"
            )
    return None
