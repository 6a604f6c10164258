"""Canary secrets planted everywhere a target keeps them must never come out of golive.

Random live keys (built at runtime, never written to a committed file) go into the env
file, a committed file of the demo app and a database row, with a Luhn-valid card number
in the database. A passing run and a failing run over all phases must not show any of
them, nor the random body of any key, on stdout, stderr or in any file under --out.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from gatekit import (
    GateRun,
    demo_copy,
    edit_yaml,
    gate,
    load_yaml,
    sandbox_key_apart,
    set_env,
)

pytestmark = pytest.mark.slow


def key(prefix: str) -> str:
    return prefix + "CANARY" + secrets.token_hex(14)


def luhn_card() -> str:
    """A random 16-digit Visa-like number with a valid Luhn check digit."""
    digits = [4] + [secrets.randbelow(10) for _ in range(14)]
    total = 0
    for index, digit in enumerate(reversed(digits)):  # the check digit will be index 0
        if index % 2 == 0:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def masked(value: str) -> str:
    prefix = "whsec_" if value.startswith("whsec_") else value[:8]
    return f"{prefix}…{value[-4:]}"


class Canaries:
    def __init__(self) -> None:
        live = "_" + "live_"  # never a literal live prefix in this file
        self.env = {
            "STRIPE_SECRET_KEY": key("sk" + live),
            "STRIPE_PUBLISHABLE_KEY": key("pk" + live),
            "STRIPE_WEBHOOK_SECRET": key("whsec_"),
            "STRIPE_RESTRICTED_KEY": key("rk" + live),
        }
        self.committed = [key("sk" + live), key("rk" + live), key("whsec_")]
        self.in_database = [key("sk" + live), key("whsec_")]
        self.card = luhn_card()

    @property
    def keys(self) -> list[str]:
        return [*self.env.values(), *self.committed, *self.in_database]

    def forbidden(self) -> list[str]:
        """Every full value, every key's random body, and the card as people write it."""
        bodies = [k.split("_")[-1] for k in self.keys]
        spaced = " ".join(self.card[i : i + 4] for i in range(0, 16, 4))
        return [*self.keys, *bodies, self.card, spaced]

    def plant(self, profile: Path) -> None:
        demo = profile.parent
        set_env(profile, **self.env)  # demo.env, which the build copies to .build/shop.env
        # The live canaries reach the shop, not the sandbox (which refuses live keys).
        sandbox_key_apart(profile)
        sk, rk, wh = self.committed
        (demo / "app-src" / "app").mkdir()  # app-src/ lands at the root of the shop's repo
        (demo / "app-src" / "app" / "legacy.py").write_text(
            "# Old configuration, kept for reference.\n"
            f'STRIPE_KEY = "{sk}"\n'
            f"RESTRICTED = '{rk}'\n"
            f"WEBHOOK_SECRET={wh}\n"
            f"# customer card on the ticket: {self.card}\n"
        )
        sk_db, wh_db = self.in_database
        (demo / "audit_log.sql").write_text(
            "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, note TEXT NOT NULL);\n"
            "INSERT INTO audit_log (id, note) VALUES\n"
            f"  (1, 'rotated key {sk_db}'),\n"
            f"  (2, 'webhook secret {wh_db} configured'),\n"
            f"  (3, 'customer paid with {self.card}');\n"
        )
        # After the build, before the gate starts the shop, which then creates its own
        # tables beside this one in .build/shop.db (the database the checks read).
        plant = (
            "{python} -c \"import sqlite3; db = sqlite3.connect('.build/shop.db'); "
            "db.executescript(open('audit_log.sql').read()); db.commit()\""
        )
        edit_yaml(profile, setup=[*load_yaml(profile)["setup"], plant])


def assert_no_canary(run: GateRun, canaries: Canaries) -> None:
    texts = {"stdout": run.stdout, "stderr": run.stderr, **run.report_texts()}
    assert {"results.json", "report.html", "junit.xml", "summary.md"} <= set(texts)
    for name, text in texts.items():
        for value in canaries.forbidden():
            assert value not in text, f"canary {value[:12]}… leaked into {name}"


def test_failing_run_over_all_phases_leaks_nothing(tmp_path: Path) -> None:
    canaries = Canaries()
    profile = demo_copy(tmp_path)  # test mode: the live canary keys are wrong here
    canaries.plant(profile)
    out = tmp_path / "out"
    run = gate(
        profile, out, "--phase", "pre-deploy", "--phase", "staging", "--phase", "post-deploy"
    )
    assert run.returncode == 1, run.stdout + run.stderr
    outcomes = run.outcomes()
    assert len(outcomes) == 191
    assert outcomes["environment.secret-key"] == "fail"
    assert outcomes["code-review.no-hardcoded-secrets"] == "fail"
    assert outcomes["database.backup-restore-tested"] == "pass"  # the rows were read
    [backup] = run.item("database.backup-restore-tested")["checks"]
    assert backup["evidence"][-1]["tables"]["audit_log"] == {"source_rows": 3, "restored_rows": 3}
    assert_no_canary(run, canaries)
    # The canaries did reach the output, redacted: the test is not vacuous.
    results = (out / "results.json").read_text()
    assert masked(canaries.env["STRIPE_SECRET_KEY"]) in results
    for value in canaries.committed:
        assert masked(value) in results
    assert masked(canaries.env["STRIPE_SECRET_KEY"]) in run.stdout


def test_passing_run_leaks_nothing(tmp_path: Path) -> None:
    canaries = Canaries()
    profile = demo_copy(tmp_path)
    edit_yaml(profile, mode="live")  # the canaries are the right keys for production
    canaries.plant(profile)
    # The committed legacy file is accepted by path (no key is written in the allowlist).
    (profile.parent / "app-src" / ".golive-allowlist").write_text("app/legacy.py\n")
    out = tmp_path / "out"
    run = gate(profile, out, "--phase", "pre-deploy")
    assert run.returncode == 0, run.stdout + run.stderr
    # pending: minor sign-offs the demo leaves open
    assert set(run.outcomes().values()) == {"pass", "attested", "pending"}
    assert_no_canary(run, canaries)
    [backup] = run.item("database.backup-restore-tested")["checks"]
    assert backup["evidence"][-1]["tables"]["audit_log"] == {"source_rows": 3, "restored_rows": 3}
    results = (out / "results.json").read_text()
    assert masked(canaries.env["STRIPE_SECRET_KEY"]) in results  # passing evidence, redacted
    assert masked(canaries.env["STRIPE_WEBHOOK_SECRET"]) in results
    [scan] = run.item("code-review.no-hardcoded-secrets")["checks"]
    assert scan["evidence"][0]["allowlisted"] == 3  # the committed canaries were found
