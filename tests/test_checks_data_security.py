"""data.*: card numbers in the database and the logs, secrets echoed in answers.

Through the gate on a demo copy: each check passes on the correct shop and fails, with
masked evidence, on the flaw that breaks its promise; a canary card number and canary
secrets never appear in full in anything the run writes.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

import pytest
import yaml
from gatekit import ROOT, GateRun, demo_copy, gate, load_yaml, set_env

from golive.checks.test_data_security import _plausible_groups, find_pans, find_secrets
from golive.errors import InputError
from golive.profile import load
from golive.profile.data import ProbePlan, probe_plan
from golive.redact import luhn_valid

DB_ITEM = "data-security.no-card-storage"
LOGS_ITEM = "data-security.no-sensitive-logs"  # [0] card-numbers-in-logs, [1] no-secret-echo


def canary_card() -> str:
    """A fresh Luhn-valid 16-digit number (Visa range) no file holds before the run."""
    body = "4" + "".join(secrets.choice(string.digits) for _ in range(14))
    for last in string.digits:
        if luhn_valid(body + last):
            return body + last
    raise AssertionError("unreachable")


def canary_key(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "GoliveCanary" + "".join(secrets.choice(alphabet) for _ in range(24))


def checklist_with_card(tmp_path: Path, card: str) -> Path:
    """The bundled checklist with the probe sending `card` (the data checks' params)."""
    data = load_yaml(ROOT / "checklist.yaml")
    for section in data["sections"]:
        for item in section["items"]:
            for ref in (item.get("automated") or {}).get("checks", []):
                if ref["ref"].startswith("data."):
                    ref["params"] = {**ref.get("params", {}), "probe_card_number": card}
    path = tmp_path / "checklist.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_data(
    tmp_path: Path, flaw: str = "", *, card: str | None = None, profile: Path | None = None
) -> GateRun:
    profile = profile or demo_copy(tmp_path)
    args = ["--section", "data-security"]
    if card:
        args += ["--checklist", str(checklist_with_card(tmp_path, card))]
    env = {**os.environ, "SHOP_FLAWS": flaw}
    return gate(profile, tmp_path / "out", *args, env=env)


def assert_never_in_full(run: GateRun, *values: str) -> None:
    texts = run.report_texts()
    assert texts, "the run wrote nothing"
    for value in values:
        for name, text in texts.items():
            assert value not in text, f"{value[:6]}… in full in {name}"
        assert value not in run.stdout + run.stderr


def test_the_correct_shop_passes_every_data_check(tmp_path: Path) -> None:
    card = canary_card()
    run = run_data(tmp_path, card=card)
    outcomes = run.outcomes()
    assert outcomes[DB_ITEM] == "pass", run.stdout + run.stderr
    assert outcomes[LOGS_ITEM] == "pass", run.stdout + run.stderr
    db = run.evidence(DB_ITEM)
    # The probe reached the shop (checkout 200, through the profile's checkout flow as
    # alice) and the scan read rows of every table.
    assert {k: v for k, v in db[0].items() if k != "source"} == {
        "probe": "sent",
        "user": "alice",
        "request": "POST /api/v1/stripe/create-payment-intent",
        "status": 200,
        "card_sent": card[:6] + "******" + card[-4:],
        # The shop is strict and names the field it refuses: golive's guessed note-like
        # names were left out, its own `note` and `card_number` carried the card.
        "card_fields": ["note", "card_number"],
        "refused_by_name": ["comment", "message"],
    }
    assert db[1]["rows_examined"] > 0 and db[1]["rows_per_table"]["orders"] >= 1
    logs = run.evidence(LOGS_ITEM, 0)
    assert {k: v for k, v in logs[1].items() if k == "file"} == {"file": ".build/shop.log"}
    assert logs[1]["lines"] > 0
    echo = run.evidence(LOGS_ITEM, 1)
    statuses = {e["request"] + f" {e['status']}" for e in echo[1:]}
    assert {
        "POST /api/v1/stripe/create-payment-intent (the card probe) 200",
        "GET /healthz 200",
        "GET /golive-no-such-path 404",
        "POST /api/v1/stripe/create-payment-intent (no credentials) 401",
    } <= statuses
    assert all(e["secrets_found"] == [] for e in echo[1:])
    assert_never_in_full(run, card)


def test_a_stored_card_number_fails_with_masked_evidence(tmp_path: Path) -> None:
    card = canary_card()
    run = run_data(tmp_path, "stores-card-number", card=card)
    assert run.returncode == 1
    outcomes = run.outcomes()
    assert outcomes[DB_ITEM] == "fail", run.stdout + run.stderr
    assert outcomes[LOGS_ITEM] == "pass"  # the logs stay clean: one flaw, one item
    masked = card[:6] + "******" + card[-4:]
    hits = [e for e in run.evidence(DB_ITEM) if e.get("kind") == "card number"]
    assert hits and all(
        h
        == {
            "kind": "card number",
            "table": "orders",
            "column": "note",
            "row": h["row"],
            "match": masked,
        }
        for h in hits
    )
    assert hits[0]["row"].startswith("id=")
    assert f"fail {DB_ITEM}: " in run.stdout and masked in run.stdout
    assert_never_in_full(run, card)


def test_a_logged_card_number_fails_with_file_and_line(tmp_path: Path) -> None:
    card = canary_card()
    run = run_data(tmp_path, "logs-card-data", card=card)
    assert run.returncode == 1
    outcomes = run.outcomes()
    assert outcomes[LOGS_ITEM] == "fail", run.stdout + run.stderr
    # A card number in a log is a stored card number: the storage item fails on the log
    # (its database check passes).
    assert outcomes[DB_ITEM] == "fail"
    db_checks = {c["ref"]: c["outcome"] for c in run.item(DB_ITEM)["checks"]}
    assert db_checks == {"data.card-numbers-in-db": "pass", "data.card-numbers-in-logs": "fail"}
    assert run.item(LOGS_ITEM)["checks"][1]["outcome"] == "pass"  # no echo: only the log
    hits = [e for e in run.evidence(LOGS_ITEM, 0) if e.get("kind") == "card number"]
    assert hits
    for hit in hits:
        assert hit["file"] == ".build/shop.log" and hit["line"] >= 1
        assert hit["match"] == card[:6] + "******" + card[-4:]
    # The shop really wrote it: the log under the demo's .build holds the number in full.
    log = (tmp_path / "demo" / ".build" / "shop.log").read_text()
    assert card in log
    assert_never_in_full(run, card)


def test_logged_secrets_fail_and_never_appear_in_full(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    secret_key, webhook_secret = canary_key("sk_test_"), canary_key("whsec_")
    set_env(profile, STRIPE_SECRET_KEY=secret_key, STRIPE_WEBHOOK_SECRET=webhook_secret)
    run = run_data(tmp_path, "logs-secret-key", profile=profile)
    assert run.returncode == 1
    assert run.outcomes()[LOGS_ITEM] == "fail", run.stdout + run.stderr
    assert run.outcomes()[DB_ITEM] == "pass"  # its log check looks for card numbers only
    found = {e["match"] for e in run.evidence(LOGS_ITEM, 0) if e.get("kind") == "secret"}
    assert found == {f"sk_test_…{secret_key[-4:]}", f"whsec_…{webhook_secret[-4:]}"}
    assert secret_key in (profile.parent / ".build" / "shop.log").read_text()
    assert_never_in_full(run, secret_key, webhook_secret)


def test_without_a_probe_the_checks_only_scan(tmp_path: Path) -> None:
    data = load_yaml(ROOT / "checklist.yaml")
    for section in data["sections"]:
        for item in section["items"]:
            for ref in (item.get("automated") or {}).get("checks", []):
                if ref["ref"].startswith("data."):
                    ref["params"] = {"probe": False}
    the_checklist = tmp_path / "checklist.yaml"
    the_checklist.write_text(yaml.safe_dump(data, sort_keys=False))
    run = gate(
        demo_copy(tmp_path),
        tmp_path / "out",
        "--section",
        "data-security",
        "--checklist",
        str(the_checklist),
        env={**os.environ, "SHOP_FLAWS": "stores-card-number"},
    )
    # Nothing sent a card, so nothing was stored: the seeded rows pass the scan.
    assert run.outcomes()[DB_ITEM] == "pass", run.stdout + run.stderr
    db = run.evidence(DB_ITEM)
    assert db[0]["probe"] == "not sent" and db[1]["rows_examined"] > 0
    assert [e["request"] for e in run.evidence(LOGS_ITEM, 1)[1:]] == [
        "GET /healthz",
        "GET /golive-no-such-path",
    ]


def test_log_files_missing_or_not_configured(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    data["logs"] = [".build/no-such.log"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    run = gate(profile, tmp_path / "out", "--item", LOGS_ITEM)
    [logs_check, _echo] = run.item(LOGS_ITEM)["checks"]
    assert logs_check["outcome"] == "error", logs_check
    assert "examined nothing" in str(logs_check) and "no-such.log" in str(logs_check)

    del data["logs"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    run = gate(profile, tmp_path / "out2", "--item", LOGS_ITEM)
    [logs_check, echo] = run.item(LOGS_ITEM)["checks"]
    assert logs_check["outcome"] == "not-run" and "logs" in str(logs_check)
    assert echo["outcome"] == "pass"


@pytest.mark.parametrize(
    ("probe", "key", "words"),
    [
        ({"user": "alicia"}, "user: alicia", "data.probe.user: no user named 'alicia'"),
        ({"job": "purchase"}, "job: purchase", "data.probe.job: no flow named 'purchase'"),
        ({"items": []}, "items: []", "data.probe.items"),
    ],
)
def test_the_probe_names_are_checked_when_the_profile_loads(
    tmp_path: Path, probe: dict, key: str, words: str
) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    data["data"] = {"probe": probe}
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as refused:
        load(profile)
    message = str(refused.value)
    assert words in message, message
    line = next(n for n, text in enumerate(profile.read_text().splitlines(), 1) if key in text)
    assert f"target.yaml:{line}:" in message, (line, message)


def test_the_probe_defaults_to_the_api_user_and_the_pricing_cart(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    del data["data"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    assert probe_plan(load(profile).model) == ProbePlan(
        "alice",
        [{"id": 1, "quantity": 1}],
        "checkout",
        "user from api.users.a, items from pricing.carts.single",
    )
    del data["api"], data["pricing"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    reason = probe_plan(load(profile).model)
    assert reason == (
        "the target profile names no user and no items for the card probe: set "
        "data.probe.user, data.probe.items (or the check's param probe: false to only scan "
        "what is there)"
    )


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("card 4242 4242 4242 4242 here", ["4242424242424242"]),
        ("4242-4242-4242-4242", ["4242424242424242"]),
        ("amex 3782 822463 10005", ["378282246310005"]),
        ("x4242424242424242", []),  # glued to a word: an id, not a card
        ("4242424242424241", []),  # Luhn-invalid
        ("1 250 899 350 1399 1099 5", []),  # amounts listed with spaces
        ("pi_4242424242424242", []),
    ],
)
def test_find_pans(text: str, found: list[str]) -> None:
    assert find_pans(text) == found


def test_find_secrets_masks_env_values_and_key_shapes() -> None:
    env_secret = "s3cr3t-database-password"
    text = f"pw={env_secret} key=rk_live_abcdefgh1234 pk_test_abcdefgh9999 whsec_zzzzzzzz7777"
    found = find_secrets(text, [env_secret])
    assert found == ["…word", "rk_live_…1234", "whsec_…7777"]  # publishable keys are public
    assert not any(env_secret in f for f in found)
    assert _plausible_groups("4242 4242 4242 4242") and not _plausible_groups("42 4242424242424")


def test_the_mongodb_scan_walks_every_string_field_of_the_newest_documents() -> None:
    # No MongoDB server can run here: the scan is proven on mongomock, both ways.
    import mongomock

    from golive.checks.test_data_security import scan_mongo

    card = canary_card()
    db = mongomock.MongoClient().shop
    db.orders.insert_many(
        [
            {"stripePaymentIntentId": "pi_1", "total": 2931, "note": "ring twice"},
            {"note": "leave at door", "items": [{"name": "Burrito", "qty": 2}]},
        ]
    )
    db.webhookevents.insert_one({"eventId": "evt_1", "payload": {"id": "evt_1"}})
    clean = scan_mongo(db, 1000)
    assert clean.tables == 2 and clean.rows == 3 and clean.hits == []
    assert clean.values >= 5  # note, name, event ids: every string, nested ones included

    db.orders.insert_one(
        {"note": f"card {card[:4]} {card[4:8]} {card[8:12]} {card[12:]}", "card": {"cvc": "123"}}
    )
    dirty = scan_mongo(db, 1000)
    kinds = {(hit["kind"], hit["table"], hit["column"]) for hit in dirty.hits}
    assert kinds == {
        ("card number", "orders", "note"),
        ("stored security code", "orders", "card.cvc"),
    }
    masked = next(hit["match"] for hit in dirty.hits if hit["kind"] == "card number")
    assert masked == f"{card[:6]}******{card[-4:]}" and card not in str(dirty.hits)
    # The sample is the newest documents: with a sample of one, only the dirty one is read.
    assert scan_mongo(db, 1).rows == 2  # one per collection


def test_free_text_keys_the_answers_reveal() -> None:
    from golive.profile.data import free_text, revealed

    assert all(free_text(k) for k in ("courier_note", "giftMessage", "special-instructions"))
    assert not any(free_text(k) for k in ("note_id", "delivery_status", "message_type", "sku"))
    answers = [
        '{"order": {"ref": "o-1", "courierNote": null, "delivery_status": "x", "memo": 3,'
        ' "lines": [{"sku": "A", "engraving": ""}]}}',
        '<form><textarea name="gift_message"></textarea><input type="hidden" '
        'name="remark"><input name="special_requests"></form>',
        "not json {",
    ]
    # A string- or null-valued key (not a number's), and where it was: in a cart line.
    assert revealed(answers) == {
        "courierNote": False,
        "engraving": True,
        "gift_message": False,
        "special_requests": False,
    }
