"""The example profiles in targets/examples validate and mean what their comments say."""

from __future__ import annotations

from pathlib import Path

from gatekit import ROOT, golive

from golive import profile

EXPRESS = ROOT / "targets" / "examples" / "express-mongo.yaml"


def test_the_express_mongo_example_validates() -> None:
    done = golive("validate", "--target", str(EXPRESS))
    assert done.returncode == 0, done.stderr
    assert "express-mongo.yaml" in done.stdout


def test_the_express_mongo_example_maps_the_seed_naming_to_mongoose(monkeypatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:27017/shop")
    example = profile.load(EXPRESS)
    naming = example.naming()
    assert naming.table("Order") == "orders"
    assert naming.table("WebhookEvent") == "webhookevents"
    assert naming.column("Order", "stripePaymentIntentId") == "stripePaymentIntentId"
    assert example.database_url() == "mongodb://127.0.0.1:27017/shop"
    assert example.repository_path == Path(EXPRESS).parent.parent.resolve()
