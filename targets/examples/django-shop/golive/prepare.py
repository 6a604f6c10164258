"""The Django example's setup, run by golive before the checks (`setup:` of target.yaml).

    python prepare.py        # from this folder; GOLIVE_NOW dates the sign-offs

It builds .build/app, a git repository holding the app's source (the repository golive's
secret scan and env-tracking checks read), .build/django.env from example.env, the dated
sign-offs and waivers, and a fresh PostgreSQL database (`manage.py reset_demo`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from golive.demo import AS_OF, GIT_ENV, write_dated
from golive.profile import parse_dotenv

HERE = Path(__file__).resolve().parent
APP = HERE.parent
SOURCES = (
    "config",
    "store",
    "manage.py",
    "requirements.txt",
    "README.md",
    ".gitignore",
    ".env.example",
)

# The blind flaw `bulk-load-leftover` (../flaws.yaml): the purchase table's payment-intent
# constraint and index, dropped for a bulk import and never recreated.
BULK_LOAD_LEFTOVER_SQL = (
    "ALTER TABLE store_purchase DROP CONSTRAINT IF EXISTS store_purchase_payment_intent_id_key",
    "DROP INDEX IF EXISTS store_purchase_payment_intent_id_9cc1e8ba_like",
)


def flaws(env: dict[str, str]) -> set[str]:
    return {name.strip() for name in env.get("TEA_SHOP_FLAWS", "").split(",") if name.strip()}


def main() -> int:
    build = HERE / ".build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    repo = build / "app"
    repo.mkdir()
    for name in SOURCES:
        source = APP / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "tea shop")):
        subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True)
    shutil.copy2(HERE / "example.env", build / "django.env")
    now = os.environ.get("GOLIVE_NOW")
    today = (datetime.fromisoformat(now) if now else datetime.now(UTC)).date()
    for name, key in (("signoffs.yaml", "attestations"), ("waivers.yaml", "waivers")):
        write_dated(HERE / name, build / name, key, today - AS_OF)
    env = {**os.environ, **parse_dotenv(build / "django.env")}
    done = subprocess.run(
        [sys.executable, "manage.py", "reset_demo"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return done.returncode
    if "bulk-load-leftover" in flaws(env):
        code = (
            "from django.db import connection\n"
            "with connection.cursor() as cursor:\n"
            f"    for statement in {BULK_LOAD_LEFTOVER_SQL!r}:\n"
            "        cursor.execute(statement)\n"
        )
        done = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
