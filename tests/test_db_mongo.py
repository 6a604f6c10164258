"""MongoDB field and index checks, in-process with mongomock (no server can run here)."""

from __future__ import annotations

import json
import time
from typing import Any

import mongomock
import pymongo
import pytest
from dbservers import SEED_FIELDS, SEED_INDEXES

from golive.db import MONGO_NAMING, DatabaseUnreachable, FieldDecl, Finding, IndexDecl
from golive.db.mongo_schema import _outermost, check_fields, check_indexes


class WithValidators:
    """A mongomock database that answers listCollections with collection options.

    mongomock cannot store validators; this plays the part of the server for them.
    """

    def __init__(self, db: Any, options: dict[str, dict[str, Any]]) -> None:
        self._db = db
        self._options = options

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)

    def __getitem__(self, name: str) -> Any:
        return self._db[name]

    def list_collections(self, filter: dict[str, Any]) -> list[dict[str, Any]]:
        name = filter["name"]
        return [{"name": name, "options": self._options.get(name, {})}]


def schema(properties: dict[str, Any], required: list[str] = ()) -> dict[str, Any]:
    return {"validator": {"$jsonSchema": {"properties": properties, "required": list(required)}}}


WARN_ONLY = {"validationAction": "warn"}


@pytest.fixture
def db() -> Any:
    return mongomock.MongoClient().shop


def good_database(db: Any) -> Any:
    """Mongoose-style collections with every SEED_* field and index."""
    db.orders.create_index("stripePaymentIntentId", unique=True, sparse=True)
    db.orders.create_index(
        "idempotencyKey", unique=True, partialFilterExpression={"idempotencyKey": {"$exists": True}}
    )
    db.orders.create_index("paymentStatus")
    db.payments.create_index(
        "stripePaymentIntentId",
        unique=True,
        partialFilterExpression={"stripePaymentIntentId": {"$type": "string"}},
    )
    db.webhookevents.create_index("eventId", unique=True)
    db.webhookevents.create_index([("processed", 1), ("receivedAt", -1)])
    db.orders.insert_many(
        [
            {"paymentStatus": "pending", "vendorAmount": 900},
            {
                "stripePaymentIntentId": "pi_1",
                "idempotencyKey": "k1",
                "paymentStatus": "paid",
                "vendorAmount": 900,
            },
        ]
    )
    db.payments.insert_one(
        {"stripePaymentIntentId": "pi_1", "stripeChargeId": "ch_1", "vendorAmount": 900}
    )
    db.webhookevents.insert_one({"eventId": "evt_1", "processed": False})
    return db


def failing(findings: list[Finding]) -> list[str]:
    return [f.subject for f in findings if not f.ok]


def one_index(db: Any, decl: IndexDecl) -> Finding:
    [finding] = check_indexes(db, MONGO_NAMING, [decl])
    return finding


# --- fields -----------------------------------------------------------------------------


def test_good_database_has_every_field(db: Any) -> None:
    findings = check_fields(good_database(db), MONGO_NAMING, SEED_FIELDS)
    assert [f.subject for f in findings] == [d.subject for d in SEED_FIELDS]
    assert failing(findings) == []
    assert findings[0].evidence[0]["documents_with_field"] == 1
    assert findings[0].evidence[0]["sampled_documents"] == 2
    json.dumps([f.to_dict() for f in findings])


def test_missing_collection_fails_and_lists_collections(db: Any) -> None:
    good_database(db).drop_collection("payments")
    findings = check_fields(db, MONGO_NAMING, SEED_FIELDS)
    assert failing(findings) == [d.subject for d in SEED_FIELDS if d.model == "Payment"]
    message = findings[-1].message
    assert "collection payments" in message
    assert "orders, webhookevents" in message


def test_empty_collection_without_validator_is_never_a_pass(db: Any) -> None:
    db.create_collection("orders")
    [finding] = check_fields(db, MONGO_NAMING, [FieldDecl("Order", "paymentStatus")])
    assert not finding.ok
    assert "nothing examined" in finding.message


def test_validator_declaration_counts_for_an_empty_collection(db: Any) -> None:
    db.create_collection("orders")
    wrapped = WithValidators(db, {"orders": schema({"paymentStatus": {"bsonType": "string"}})})
    declared, undeclared = check_fields(
        wrapped,
        MONGO_NAMING,
        [FieldDecl("Order", "paymentStatus"), FieldDecl("Order", "vendorAmount")],
    )
    assert declared.ok
    assert "validator" in declared.message
    assert declared.evidence[0]["validator"] == "present"
    assert not undeclared.ok
    assert "nothing examined" in undeclared.message


def test_field_in_no_sampled_document_fails(db: Any) -> None:
    db.orders.insert_many([{"paymentStatus": "paid"} for _ in range(3)])
    [finding] = check_fields(db, MONGO_NAMING, [FieldDecl("Order", "vendorAmount")])
    assert not finding.ok
    assert "none of the 3 newest documents" in finding.message


def test_one_document_with_the_field_is_enough(db: Any) -> None:
    db.orders.insert_many([{"paymentStatus": "paid"} for _ in range(5)])
    db.orders.insert_one({"vendorAmount": None})  # an explicit null is a field that exists
    [finding] = check_fields(db, MONGO_NAMING, [FieldDecl("Order", "vendorAmount")])
    assert finding.ok
    assert "1 of the 6 newest" in finding.message


def test_sample_is_the_newest_documents(db: Any) -> None:
    db.orders.insert_many([{"legacyTotal": i} for i in range(5)])
    db.orders.insert_many([{"vendorAmount": i} for i in range(5)])
    decls = [FieldDecl("Order", "vendorAmount"), FieldDecl("Order", "legacyTotal")]
    current, legacy = check_fields(db, MONGO_NAMING, decls, sample_size=5)
    assert current.ok
    assert not legacy.ok  # only written by old documents, outside the sample
    assert check_fields(db, MONGO_NAMING, decls, sample_size=10)[1].ok


def test_dotted_paths_and_arrays(db: Any) -> None:
    db.orders.insert_one({"stripe": {"paymentIntentId": "pi_1"}, "lines": [{"sku": "a"}]})
    decls = [
        FieldDecl("Order", "stripe.paymentIntentId"),
        FieldDecl("Order", "lines.sku"),
        FieldDecl("Order", "stripe.chargeId"),
        FieldDecl("Order", "stripe"),  # a parent path too: one projection, no path collision
    ]
    assert [f.ok for f in check_fields(db, MONGO_NAMING, decls)] == [True, True, False, True]
    assert _outermost({"stripe", "stripe.chargeId", "stripeX", "lines.sku"}) == [
        "lines.sku",
        "stripe",
        "stripeX",
    ]


# --- indexes ----------------------------------------------------------------------------


def test_good_database_has_every_index(db: Any) -> None:
    findings = check_indexes(good_database(db), MONGO_NAMING, SEED_INDEXES)
    assert [f.subject for f in findings] == [d.subject for d in SEED_INDEXES]
    assert failing(findings) == [], [f.message for f in findings if not f.ok]
    json.dumps([f.to_dict() for f in findings])


def test_evidence_lists_every_index_of_the_collection(db: Any) -> None:
    finding = one_index(good_database(db), IndexDecl("Order", "paymentStatus"))
    names = {e["index"] for e in finding.evidence[1:]}
    assert names == {"_id_", "stripePaymentIntentId_1", "idempotencyKey_1", "paymentStatus_1"}
    partial = [e for e in finding.evidence if e.get("index") == "idempotencyKey_1"][0]
    assert partial["partialFilterExpression"] == {"idempotencyKey": {"$exists": True}}


def test_missing_collection_and_missing_index_fail(db: Any) -> None:
    good_database(db)
    db.orders.drop_index("paymentStatus_1")
    db.drop_collection("webhookevents")
    findings = check_indexes(db, MONGO_NAMING, SEED_INDEXES)
    assert failing(findings) == [
        "Order.paymentStatus",
        "WebhookEvent.eventId",
        "WebhookEvent.processed",
    ]
    assert "no index covers" in findings[2].message
    assert "collection webhookevents" in findings[4].message


def test_unique_non_sparse_index_fails_the_sparse_declaration(db: Any) -> None:
    db.orders.create_index("stripePaymentIntentId", unique=True)
    sparse = IndexDecl("Order", "stripePaymentIntentId", unique=True, sparse=True)
    finding = one_index(db, sparse)
    assert not finding.ok
    assert "neither sparse nor partial" in finding.message
    assert one_index(db, IndexDecl("Order", "stripePaymentIntentId", unique=True)).ok


@pytest.mark.parametrize(
    ("options", "ok"),
    [
        (schema({"eventId": {"bsonType": "string"}}, required=["eventId"]), True),
        (schema({"eventId": {"bsonType": ["string", "null"]}}, required=["eventId"]), False),
        (schema({"eventId": {"bsonType": "string"}}), False),
        (
            {
                **schema({"eventId": {"bsonType": "string"}}, ["eventId"]),
                "validationAction": "warn",
            },
            False,
        ),
    ],
)
def test_required_by_validator_makes_a_plain_unique_index_enough(
    db: Any, options: dict[str, Any], ok: bool
) -> None:
    db.webhookevents.create_index("eventId", unique=True)
    wrapped = WithValidators(db, {"webhookevents": options})
    finding = one_index(wrapped, IndexDecl("WebhookEvent", "eventId", unique=True, sparse=True))
    assert finding.ok is ok, finding.message
    if ok:
        assert "requires eventId" in finding.message


@pytest.mark.parametrize(
    ("partial", "ok"),
    [
        ({"idempotencyKey": {"$exists": True}}, True),
        ({"idempotencyKey": {"$type": "string"}}, True),
        ({"idempotencyKey": {"$exists": True, "$type": "string"}}, True),
        ({"paymentStatus": "paid"}, False),
        ({"idempotencyKey": {"$exists": True}, "paymentStatus": "paid"}, False),
        ({"idempotencyKey": {"$gt": "m"}}, False),
    ],
)
def test_partial_filters(db: Any, partial: dict[str, Any], ok: bool) -> None:
    db.orders.create_index("idempotencyKey", unique=True, partialFilterExpression=partial)
    for sparse in (True, False):
        finding = one_index(db, IndexDecl("Order", "idempotencyKey", unique=True, sparse=sparse))
        assert finding.ok is ok, finding.message
        if not ok:
            assert "not constrained" in finding.message


def test_sparse_and_exists_warn_about_explicit_nulls(db: Any) -> None:
    db.orders.create_index("stripePaymentIntentId", unique=True, sparse=True)
    finding = one_index(db, IndexDecl("Order", "stripePaymentIntentId", unique=True, sparse=True))
    assert finding.ok
    assert "explicit null" in finding.message


def test_composite_unique_does_not_make_the_field_unique(db: Any) -> None:
    db.webhookevents.create_index([("eventId", 1), ("type", 1)], unique=True)
    finding = one_index(db, IndexDecl("WebhookEvent", "eventId", unique=True))
    assert not finding.ok
    assert "composite" in finding.message
    assert one_index(db, IndexDecl("WebhookEvent", "eventId")).ok


def test_non_unique_index_where_unique_expected_fails(db: Any) -> None:
    db.webhookevents.create_index("eventId")
    finding = one_index(db, IndexDecl("WebhookEvent", "eventId", unique=True))
    assert not finding.ok
    assert "not unique" in finding.message


def test_non_leading_key_does_not_serve_lookups(db: Any) -> None:
    db.webhookevents.create_index([("type", 1), ("processed", 1)])
    finding = one_index(db, IndexDecl("WebhookEvent", "processed"))
    assert not finding.ok
    assert "non-leading" in finding.message


def test_id_is_unique(db: Any) -> None:
    db.webhookevents.insert_one({"_id": "evt_1"})
    finding = one_index(db, IndexDecl("WebhookEvent", "_id", unique=True, sparse=True))
    assert finding.ok


def test_unreachable_server_is_reported_without_credentials() -> None:
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(
        "mongodb://app:topsecret@127.0.0.1:1/shop", serverSelectionTimeoutMS=300, connect=False
    )
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseUnreachable) as caught:
            check_indexes(client.shop, MONGO_NAMING, SEED_INDEXES)
    finally:
        client.close()
    assert time.monotonic() - started < 5
    assert caught.value.url == "mongodb://127.0.0.1:1/shop"
    assert "topsecret" not in str(caught.value)
