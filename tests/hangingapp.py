"""Minimal profiles for an app golive does not start (`app.base_url` only): the test's own
loopback server stands in for the app (tests/receivers.py answers a status, tests/
silentserver.py never answers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import yaml

WEBHOOK_SECRET = "whsec_goliveTestSecretForHangingApps0001"


def external_app_profile(tmp_path: Path, base_url: str, **extra: Any) -> Path:
    """A profile whose app answers at `base_url`, with a signing secret and a small clean
    SQLite database (two rows, no card number)."""
    (tmp_path / "app.env").write_text(f"STRIPE_WEBHOOK_SECRET={WEBHOOK_SECRET}\n")
    with sqlite3.connect(tmp_path / "app.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)")
        db.executemany("INSERT INTO orders (note) VALUES (?)", [("gift wrap",), ("no onions",)])
    data = {
        "name": "external-app",
        "mode": "test",
        "env": {"file": "app.env"},
        "database": {"url": "sqlite:///app.db"},
        "app": {"base_url": base_url},
        **extra,
    }
    profile = tmp_path / "target.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profile
