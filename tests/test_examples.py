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


def test_the_express_mongo_observer_counts_mongoose_documents(monkeypatch) -> None:
    import mongomock

    from golive.observer import ObserverModel, mongo_observer

    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:27017/shop")
    model = ObserverModel.model_validate(profile.load(EXPRESS).model.observer)
    db = mongomock.MongoClient().shop
    db.orders.insert_many(
        [
            {"stripePaymentIntentId": "pi_1", "paymentStatus": "paid"},
            {"stripePaymentIntentId": "pi_2", "paymentStatus": "pending"},
        ]
    )
    db.payments.insert_one({"stripePaymentIntentId": "pi_1"})
    observer = mongo_observer(model, db)
    assert observer.counts("pi_1") == {"orders": 1, "paid_orders": 1, "payments": 1}
    assert observer.counts("pi_2") == {"orders": 1, "paid_orders": 0, "payments": 0}
