"""Builds the demo target from the reference shop (`setup` of targets/demo).

    python -m golive.demo build PROFILE_DIR

It makes PROFILE_DIR/.build/app, a git repository holding the shop's source (the
repository the secret scan and the env-tracking check read), PROFILE_DIR/.build/shop.env
from PROFILE_DIR/demo.env (the env the shop runs with and the env checks read), and the
shop's migrated database. It also dates the demo's example sign-offs and waiver relative to
the run (.build/signoffs.yaml and .build/waivers.yaml from signoffs.yaml and waivers.yaml,
written as of AS_OF), so the demo is GO on any day and the same under `--now AS_OF`.

Two flaws of the catalogue (shop/catalogue.yaml) live here rather than in the shop process,
switched on by SHOP_FLAWS like the others:
- secret-committed: a live secret key is committed to the repository;
- test-keys-in-prod: the env carries a key of the wrong mode for the environment;
- missing-alert-rule: the Prometheus rule file deployed with the shop
  (.build/prometheus/rules.yml, from PROFILE_DIR/prometheus/rules.yml) lacks one alert.
Their keys are made up at build time, so no key-shaped string is ever stored in golive's
own repository.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import string
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from golive import resources, yamlsrc
from golive.errors import InputError
from golive.timeutil import parse_utc

SHOP_SOURCE = resources.SHOP_SOURCE
# A fixed identity and date give the demo repository the same first commit everywhere.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "golive demo",
    "GIT_AUTHOR_EMAIL": "demo@example.com",
    "GIT_COMMITTER_NAME": "golive demo",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
    "GIT_AUTHOR_DATE": "2026-11-01T12:00:00Z",
    "GIT_COMMITTER_DATE": "2026-11-01T12:00:00Z",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
}
BUILD_FLAWS = ("secret-committed", "test-keys-in-prod", "missing-alert-rule")
# The alert missing-alert-rule leaves out of the deployed rule file.
DROPPED_ALERT = "AmountMismatch"
# The day the demo's signoffs.yaml and waivers.yaml are written as of (the tests' --now).
AS_OF = date(2026, 11, 26)
CACHED_DATABASES = 128  # migrated databases kept (1.2 MB each), least recently used out
# The demo went live this long before the run (its post_deploy.go_live_env), so the
# post-deploy windows hold the traffic the run plays (golive/traffic/).
GO_LIVE_ENV = "GOLIVE_DEMO_GO_LIVE"
GO_LIVE_BEFORE_RUN = timedelta(minutes=15)


def build(profile_dir: Path, flaws: set[str], now: datetime | None = None) -> Path:
    build_dir = profile_dir / ".build"
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)
    repo = build_dir / "app"
    _build_repository(profile_dir / "app-src", repo)
    if "secret-committed" in flaws:
        _commit_a_secret(repo)
    _write_env(profile_dir / "demo.env", build_dir / "shop.env", flaws, now or datetime.now(UTC))
    _migrate(repo, build_dir)
    if (profile_dir / "prometheus" / "rules.yml").exists():
        _write_rules(profile_dir / "prometheus" / "rules.yml", build_dir / "prometheus", flaws)
    shift = (now or datetime.now(UTC)).date() - AS_OF
    for name, key in (("signoffs.yaml", "attestations"), ("waivers.yaml", "waivers")):
        if (profile_dir / name).exists():
            write_dated(profile_dir / name, build_dir / name, key, shift)
    return build_dir


def write_dated(source: Path, target: Path, key: str, shift: timedelta) -> None:
    """Copy a sign-off or waiver file with every date and expiry moved by `shift`."""
    data = yamlsrc.load(source).data or {}  # the limits of every YAML input: no alias bombs
    for entry in data.get(key) or []:
        for field in ("date", "expires"):
            if field in entry:
                entry[field] = _moved(entry[field], shift)
    header = (
        f"# Written by the demo's setup from {source.name}, dates moved by {shift.days} days.\n"
    )
    target.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _moved(value: Any, shift: timedelta) -> Any:
    # YAML gives dates and datetimes; a string that is neither, or a date so far off that
    # it cannot move, is left for validation.
    try:
        return value + shift if isinstance(value, date | datetime) else value
    except OverflowError:
        return value


def _migrate(repo: Path, build_dir: Path) -> None:
    """Run the shop's migrations, as a deployment does before the new version starts:
    the database exists for the pre-deploy checks whether or not the shop is started.

    A migrated database depends only on the shop's source, its env and the flaws switched
    on, so it is kept in the cache folder under a hash of those and copied the next time:
    starting Python and SQLAlchemy to migrate costs most of a build."""
    env = {
        **os.environ,
        **_dotenv(build_dir / "shop.env"),
        "DATABASE_URL": f"sqlite:///{build_dir / 'shop.db'}",
        "SHOP_LOG_FILE": str(build_dir / "shop.log"),
    }
    cached = resources.cache_dir() / "demo-db" / f"{_migration_key(repo, env)}.db"
    with contextlib.suppress(FileNotFoundError):  # not cached yet, or just pruned
        shutil.copyfile(cached, build_dir / "shop.db")
        os.utime(cached)  # recently used: pruned last
        return
    done = subprocess.run(
        [sys.executable, "-m", "shop", "migrate"], cwd=repo, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"shop migrate failed: {done.stderr.strip() or done.stdout.strip()}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"{cached.stem}.{os.getpid()}.partial")
    shutil.copyfile(build_dir / "shop.db", partial)
    os.replace(partial, cached)  # atomic: a concurrent build sees all of it or none
    kept = sorted(cached.parent.glob("*.db"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[CACHED_DATABASES:]:  # one per flaw set: the detection matrix's are ~40
        old.unlink(missing_ok=True)


def _migration_key(repo: Path, env: dict[str, str]) -> str:
    digest = hashlib.sha256(f"{sys.version}\n{env.get('SHOP_FLAWS', '')}\n".encode())
    env_lines = (repo.parent / "shop.env").read_bytes().splitlines(keepends=True)
    # (Not the go-live moment: it moves with every run, the migrated database does not.)
    digest.update(b"".join(li for li in env_lines if not li.startswith(GO_LIVE_ENV.encode())))
    for path in sorted((repo / "shop").rglob("*.py")):
        digest.update(path.relative_to(repo).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def _dotenv(path: Path) -> dict[str, str]:
    from golive.profile import parse_dotenv

    return parse_dotenv(path)


def _build_repository(extras: Path, repo: Path) -> None:
    shutil.copytree(SHOP_SOURCE, repo / "shop", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(extras, repo, dirs_exist_ok=True)
    # Stored as `gitignore` so it does not act on golive's own repository.
    (repo / "gitignore").rename(repo / ".gitignore")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "reference shop")


def _commit_a_secret(repo: Path) -> None:
    (repo / "shop" / "local_settings.py").write_text(
        f'# "temporary" override left in by mistake\nSTRIPE_SECRET_KEY = "{_key("sk_live_")}"\n'
    )
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "local settings")


def _write_env(source: Path, target: Path, flaws: set[str], now: datetime) -> None:
    text = source.read_text(encoding="utf-8")
    go_live = (now - GO_LIVE_BEFORE_RUN).isoformat(timespec="seconds").replace("+00:00", "Z")
    text = text.rstrip("\n") + f"\n{GO_LIVE_ENV}={go_live}\n"
    if "test-keys-in-prod" in flaws:
        # The demo is a test-mode environment: the wrong mode here is a live key.
        lines = [
            f"STRIPE_PUBLISHABLE_KEY={_key('pk_live_')}"
            if line.startswith("STRIPE_PUBLISHABLE_KEY=")
            else line
            for line in text.splitlines()
        ]
        text = "\n".join(lines) + "\n"
    target.write_text(text, encoding="utf-8")


def _write_rules(source: Path, target_dir: Path, flaws: set[str]) -> None:
    """The rule file the demo's Prometheus loads (services.prometheus in its profile)."""
    target_dir.mkdir(parents=True, exist_ok=True)
    if "missing-alert-rule" not in flaws:
        shutil.copyfile(source, target_dir / source.name)
        return
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for group in data["groups"]:
        group["rules"] = [r for r in group["rules"] if r.get("alert") != DROPPED_ALERT]
    (target_dir / source.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _key(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(32))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=GIT_ENV, capture_output=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "build":
        print("usage: python -m golive.demo build PROFILE_DIR", file=sys.stderr)
        return 2
    flaws = {f.strip() for f in os.environ.get("SHOP_FLAWS", "").split(",") if f.strip()}
    now = parse_utc(os.environ["GOLIVE_NOW"]) if os.environ.get("GOLIVE_NOW") else None
    try:
        built = build(Path(argv[1]).resolve(), flaws & set(BUILD_FLAWS), now)
    except InputError as exc:  # a sign-off or waiver file that cannot be read
        print(f"golive demo: error: {exc}", file=sys.stderr)
        return 2
    print(f"demo target built in {built}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
