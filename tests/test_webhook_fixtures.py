"""Built-in event fixtures are shaped like Stripe's, and render placeholders and --set edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stripe
from stripe.checkout import Session

from golive.errors import InputError
from golive.webhooks import fixtures

REQUIRED_TYPES = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "payment_intent.created",
    "payment_intent.requires_action",
    "charge.succeeded",
    "charge.refunded",
    "refund.created",
    "checkout.session.completed",
]
OBJECT_CLASS = {
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "checkout.session": Session,
}
# Fields of API version 2024-11-20.acacia that newer versions (and so the typed classes
# of the installed library) have dropped.
ACACIA_ONLY = {"invoice", "shipping_details"}


def fields_of(cls: type) -> set[str]:
    return {name for name in cls.__annotations__ if not name.startswith("_")}


def test_every_required_type_has_a_fixture() -> None:
    assert set(REQUIRED_TYPES) <= set(fixtures.event_types())


@pytest.mark.parametrize("event_type", REQUIRED_TYPES)
def test_fixture_renders_as_a_stripe_event(event_type: str) -> None:
    event = fixtures.render_event(event_type)
    assert "${" not in json.dumps(event)
    assert event["id"].startswith("evt_")
    assert event["object"] == "event"
    assert event["api_version"] == "2024-11-20.acacia"
    assert isinstance(event["created"], int)
    assert event["livemode"] is False
    assert isinstance(event["pending_webhooks"], int)
    assert set(event["request"]) == {"id", "idempotency_key"}
    assert event["type"] == event_type
    assert set(event) <= fields_of(stripe.Event)

    obj = event["data"]["object"]
    kind = event_type.rsplit(".", 1)[0]
    assert obj["object"] == kind
    cls = OBJECT_CLASS[kind]
    unknown = set(obj) - fields_of(cls) - ACACIA_ONLY
    assert not unknown, f"fields {cls.__name__} does not have: {unknown}"
    assert {"id", "amount" if kind != "checkout.session" else "amount_total", "currency"} <= set(
        obj
    )
    assert isinstance(obj.get("amount", obj.get("amount_total")), int)
    assert obj["metadata"]["order_id"].startswith("order_")
    # The stripe library turns it into the typed object a receiver would work with.
    parsed = stripe.Event.construct_from(event, "sk_test_unused")
    assert isinstance(parsed.data.object, cls)


def test_ids_are_fresh_every_render_and_consistent_within_one() -> None:
    a = fixtures.render_event("payment_intent.succeeded")
    b = fixtures.render_event("payment_intent.succeeded")
    assert a["id"] != b["id"]
    assert a["data"]["object"]["id"] != b["data"]["object"]["id"]
    assert a["request"]["idempotency_key"] != b["request"]["idempotency_key"]
    pi = a["data"]["object"]
    assert pi["id"].startswith("pi_") and pi["latest_charge"].startswith("ch_")
    assert pi["client_secret"].startswith(pi["id"] + "_secret_")
    charge = fixtures.render_event("charge.refunded")["data"]["object"]
    assert charge["amount_refunded"] == charge["amount"] and charge["refunded"] is True


def test_values_fill_placeholders_keeping_their_type() -> None:
    event = fixtures.render_event(
        "checkout.session.completed",
        {"amount": 500, "currency": "eur", "metadata.order_id": 42, "event_id": "evt_fixed"},
        now=1_700_000_000,
    )
    session = event["data"]["object"]
    assert (session["amount_total"], session["currency"]) == (500, "eur")
    assert session["metadata"]["order_id"] == 42
    assert session["client_reference_id"] == 42
    assert event["id"] == "evt_fixed"
    assert event["created"] == 1_700_000_000
    assert session["expires_at"] == 1_700_000_000 + 86_400


def test_embedded_placeholders_are_spliced_as_text() -> None:
    event = fixtures.render_event("payment_intent.requires_action", {"payment_intent_id": "pi_X"})
    url = event["data"]["object"]["next_action"]["redirect_to_url"]["url"]
    assert "payment_intent=pi_X&" in url


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("data.object.metadata.order_id=42", ("data", "object", "metadata", "order_id"), 42),
        ('data.object.metadata.order_id="42"', ("data", "object", "metadata", "order_id"), "42"),
        ("data.object.description=hello world", ("data", "object", "description"), "hello world"),
        (
            "data.object.payment_method_types.0=link",
            ("data", "object", "payment_method_types", 0),
            "link",
        ),
        (
            'data.object.metadata.tenant={"id": 7}',
            ("data", "object", "metadata", "tenant"),
            {"id": 7},
        ),
        ("livemode=true", ("livemode",), True),
        ("data.object.customer=null", ("data", "object", "customer"), None),
        ("data.object.new.deep.key=x=y", ("data", "object", "new", "deep", "key"), "x=y"),
        ("data.object.metadata.order_id=", ("data", "object", "metadata", "order_id"), ""),
    ],
)
def test_set_edits_any_path(text: str, path: tuple, value: object) -> None:
    event = fixtures.render_event(
        "payment_intent.succeeded", sets=[fixtures.parse_assignment(text)]
    )
    node = event
    for segment in path:
        node = node[segment]
    assert node == value


def test_set_wins_over_fresh_ids() -> None:
    sets = [fixtures.parse_assignment("id=evt_same")]
    ids = {fixtures.render_event("refund.created", sets=sets)["id"] for _ in range(3)}
    assert ids == {"evt_same"}


@pytest.mark.parametrize("text", ["no-equals", "=5", "a..b=1", ".a=1", "a.=1"])
def test_malformed_set_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="malformed --set"):
        fixtures.parse_assignment(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("data.object.payment_method_types.9=card", "not an index of a list of 2"),
        ("data.object.payment_method_types.x=card", "not an index"),
        ("data.object.amount.value=1", "data.object.amount is not an object or a list"),
    ],
)
def test_set_through_a_wrong_kind_of_value_is_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        fixtures.render_event("payment_intent.succeeded", sets=[fixtures.parse_assignment(text)])


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        fixtures.builtin("payment_intent.exploded")
    assert "payment_intent.exploded" in str(caught.value)
    assert "charge.refunded" in str(caught.value)


def test_missing_fixture_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(InputError, match="fixture file not found") as caught:
        fixtures.load_file(path)
    assert str(path) in str(caught.value)


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "id": "evt_1",\n  "type": oops\n}\n', encoding="utf-8")
    with pytest.raises(InputError, match="invalid JSON") as caught:
        fixtures.load_file(path)
    assert str(caught.value).startswith(f"{path}:3: ")


def test_fixture_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="JSON object"):
        fixtures.load_file(path)


def test_custom_placeholder_without_a_value_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "custom.json"
    path.write_text(
        '{\n  "id": "${event_id}",\n  "object": "event",\n'
        '  "data": {"object": {"metadata": {"tenant": "${metadata.tenant}"}}}\n}\n',
        encoding="utf-8",
    )
    fixture = fixtures.load_file(path)
    with pytest.raises(InputError, match=r"\$\{metadata.tenant\} has no value") as caught:
        fixture.render()
    assert str(caught.value).startswith(f"{path}:4: ")
    assert "--var metadata.tenant=VALUE" in str(caught.value)
    event = fixture.render({"metadata.tenant": "acme"})
    assert event["data"]["object"]["metadata"]["tenant"] == "acme"
    assert event["id"].startswith("evt_")


@pytest.mark.parametrize("text", ["amount", "=1", "bad name=1"])
def test_malformed_var_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="malformed --var"):
        fixtures.parse_var(text)


def test_var_values_parse_as_json_when_they_can() -> None:
    assert fixtures.parse_var("amount=500") == ("amount", 500)
    assert fixtures.parse_var("metadata.order_id=A-1") == ("metadata.order_id", "A-1")
