"""The second worked example (targets/examples/django-shop): a Django shop golive never
imports, of another shape than the demo — session-cookie login with CSRF, a basket created
then filled, Stripe Checkout Sessions with a webhook that re-fetches the session,
PostgreSQL and its own naming. The default gate is GO on it with every live family
configured: no item is not-run for lack of a profile block."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from gatekit import ROOT, gate

EXAMPLE = ROOT / "targets" / "examples" / "django-shop"
# Items that are not-run by design on any target: none of them for lack of a profile block.
LIVE_SECTIONS = (
    "api-security",
    "data-security",
    "webhook-security",
    "price-integrity",
    "webhook-config",
    "smoke-tests",
    "e2e-tests",
    "load-testing",
)


def example_copy(tmp_path: Path) -> Path:
    """A private copy whose database is this test worker's own."""
    target = tmp_path / "django-shop"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".build", "__pycache__"))
    env = target / "golive" / "example.env"
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    env.write_text(
        re.sub(
            r"(DATABASE_URL=postgresql://[^/]+/)\w+",
            rf"\1golive_django_shop_{worker}",
            env.read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    return target / "golive" / "target.yaml"


@pytest.mark.longest
def test_the_django_example_is_go_with_every_live_family(tmp_path: Path) -> None:
    run = gate(example_copy(tmp_path), tmp_path / "out", timeout=300)
    outcomes = run.outcomes()
    assert run.returncode == 0, run.stdout[-3000:]
    live = {item: outcome for item, outcome in outcomes.items() if item.startswith(LIVE_SECTIONS)}
    assert live and "not-run" not in live.values(), {
        item: run.item(item)["reason"] for item, outcome in live.items() if outcome == "not-run"
    }
    # Its checkout answers a Checkout Session, paid as the hosted page would.
    smoke = run.evidence("smoke-tests.create-intent")
    assert "Checkout Session cs_" in str(smoke)
    assert outcomes["webhook-security.idempotency"] == "pass"
