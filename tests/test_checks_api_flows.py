"""api.authorization's probes derived from the flows, and api.malformed-input's fuzzing of
the flows' bodies and of signed webhook events, through a real `golive gate` against
tests/flowapp.py (a shop whose checkout goes through a wishlist that `api.owned` does not
name): the correct app passes, each broken promise fails its item naming the request, and
an owner control that fails is an error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from gatekit import GateRun, gate

from golive import leaks
from tests import flowapp

AUTHZ = "api-security.authorization"
ERRORS = "code-review.error-handling"
ITEMS = (AUTHZ, ERRORS)
SECRET = "whsec_flowapp" + "0123456789abcdef"


def write_profile(folder: Path, base_url: str, edit: Any = None) -> Path:
    users = {name: {"token": f"tk-{name}"} for name in ("ada", "bob")}
    data: dict[str, Any] = {
        "name": "flow-app",
        "mode": "test",
        "env": {"file": "app.env"},
        "app": {"base_url": base_url, "health": "/health", "webhook_path": flowapp.WEBHOOK_PATH,
                "register_webhook": ["payment_intent.succeeded", "charge.refunded"]},
        "users": users,
        "auth": {"header": {"name": "Authorization", "scheme": "Token", "value": "{user.token}"}},
        "flows": {
            "checkout": {
                "item": {"sku": "{item.id}", "qty": "{item.quantity}"},
                "steps": [
                    {
                        "request": {"method": "POST", "path": "/api/wishlists"},
                        "expect": {"status": 201},
                        "capture": {"wishlist": "wishlist.ref"},
                    },
                    {
                        "for_each": "lines",
                        "request": {
                            "method": "POST",
                            "path": "/api/wishlists/{wishlist}/items",
                            "json": "{line}",
                        },
                    },
                    {
                        "request": {"method": "POST", "path": "/api/wishlists/{wishlist}/checkout"},
                        "capture": {
                            "order_id": "order.ref",
                            "client_secret": "payment.client_secret",
                        },
                    },
                ],
            },
            "read_cart": [
                {
                    "request": {"path": "/api/wishlists/{wishlist}"},
                    "capture": {"lines": "wishlist.items"},
                }
            ],
            "read_order": [
                {"request": {"path": "/api/orders/{order_id}"}, "capture": {"status": "order.state"}}
            ],
            "refund": [{"request": {"method": "POST", "path": "/api/orders/{order_id}/refund"}}],
        },
        "api": {
            "users": {"a": "ada", "b": "bob"},
            "owned": {
                "create": {"job": "checkout", "items": [{"id": "MUG", "quantity": 1}]},
                "id": "order_id",
                "probes": [{"method": "GET", "path": "/api/orders/{order_id}"}],
            },
        },
    }  # fmt: skip
    if edit is not None:
        edit(data)
    (folder / "app.env").write_text(f"STRIPE_WEBHOOK_SECRET={SECRET}\n", encoding="utf-8")
    profile = folder / "target.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profile


def run_items(
    tmp_path: Path, flaws: set[str] | frozenset[str] = frozenset(), edit: Any = None
) -> tuple[GateRun, flowapp.FlowApp]:
    folder = tmp_path / "target"
    folder.mkdir()
    with flowapp.running(flaws, SECRET) as app:
        profile = write_profile(folder, app.base_url, edit)
        args = [arg for item in ITEMS for arg in ("--item", item)]
        run = gate(profile, tmp_path / "out", *args)
    return run, app


def reason(run: GateRun, item: str) -> str:
    return run.item(item)["reason"] or ""


def test_the_correct_app_passes_with_every_flow_probe_and_fuzzed_body(tmp_path: Path) -> None:
    run, app = run_items(tmp_path)
    assert {i: run.outcomes()[i] for i in ITEMS} == dict.fromkeys(ITEMS, "pass"), run.stdout
    probes = [e for e in run.evidence(AUTHZ) if e.get("probe") == "from flows"]
    seen = {e["template"]: (e["owner_status"], e["status"]) for e in probes}
    # The wishlist, never named by api.owned, found through the flows: ada's own answers
    # are the controls, bob was refused each; the refund (one-way) was bob's first, then
    # ada's own, refused as hers would be (not paid), which still reached the order.
    assert seen == {
        "GET /api/wishlists/{wishlist}": (200, 404),
        "POST /api/wishlists/{wishlist}/items": (201, 404),
        "POST /api/wishlists/{wishlist}/checkout": (201, 404),
        "POST /api/orders/{order_id}/refund": (409, 404),
    }, probes
    # api.owned's own probe was not sent twice (the read_order flow's is the same request).
    assert not any(e["template"] == "GET /api/orders/{order_id}" for e in probes)
    refunds = [(who, status) for _, path, who, status in app.state.hits if "refund" in path]
    assert refunds == [("bob", 404), ("ada", 409)]
    evidence = run.evidence(ERRORS)
    fuzzed = [e for e in evidence if e.get("flow_step")]
    variants = {e["variant"] for e in fuzzed}
    assert {"nul:sku", "over-long:sku", "wrong-type(object):sku", "wrong-type(string):qty"} <= (
        variants
    ), variants
    assert all(e["status"] == 400 and not e["leaks"] for e in fuzzed), fuzzed
    hooks = [e for e in evidence if e.get("webhook")]
    assert len(hooks) >= 10 and {e["status"] for e in hooks} == {200, 400}, hooks
    assert any(e["webhook"].endswith(":object-without-id") for e in hooks)


def test_an_unlisted_resource_another_user_reaches_fails_naming_the_request(
    tmp_path: Path,
) -> None:
    run, _ = run_items(tmp_path, {"wishlist-idor"})
    outcomes = {i: run.outcomes()[i] for i in ITEMS}
    assert outcomes == {AUTHZ: "fail", ERRORS: "pass"}, run.stdout
    message = reason(run, AUTHZ)
    read = r"GET /api/wishlists/w-\d+ \(the `read_cart` job's GET /api/wishlists/\{wishlist\}\) "
    assert re.search(read + r"as user B \(bob\): 200", message), message
    # Closed by ada's checkout, the wishlist still told bob so: he reached it.
    assert re.search(r"POST /api/wishlists/w-\d+/items \(the `checkout` job's", message)
    assert "as user B (bob): 409" in message


def test_a_traceback_on_a_nul_in_a_flow_body_fails(tmp_path: Path) -> None:
    run, _ = run_items(tmp_path, {"nul-trace"})
    outcomes = {i: run.outcomes()[i] for i in ITEMS}
    assert outcomes == {AUTHZ: "pass", ERRORS: "fail"}, run.stdout
    message = reason(run, ERRORS)
    assert "POST /api/wishlists/w-" in message and "/items nul:sku: python stack trace" in (
        message
    ), message
    crashed = [e for e in run.evidence(ERRORS) if e.get("status") == 500]
    assert crashed and all(e["leaks"] == ["python stack trace"] for e in crashed)


def test_a_leak_on_a_malformed_signed_webhook_fails_and_stays_redacted(tmp_path: Path) -> None:
    run, _ = run_items(tmp_path, {"webhook-trace"})
    outcomes = {i: run.outcomes()[i] for i in ITEMS}
    assert outcomes == {AUTHZ: "pass", ERRORS: "fail"}, run.stdout
    message = reason(run, ERRORS)
    assert "webhook payment_intent.succeeded:object-without-id: node stack trace" in message
    assert "connection string" in message
    for name, text in run.report_texts().items():
        assert "hunter22" not in text and SECRET not in text, name


def _read_cart_path(data: dict[str, Any]) -> None:
    data["flows"]["read_cart"][0]["request"]["path"] = "/api/wishlist/{wishlist}"


def test_a_flow_probe_whose_owner_control_fails_is_an_error(tmp_path: Path) -> None:
    run, _ = run_items(tmp_path, edit=_read_cart_path)
    assert run.outcomes()[AUTHZ] == "error", run.stdout
    words = "golive could not act on user A's own resource as 'ada' (GET /api/wishlist/w-"
    assert words in reason(run, AUTHZ), reason(run, AUTHZ)


def test_without_a_webhook_secret_the_bodies_are_still_fuzzed(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        del data["env"]

    run, _ = run_items(tmp_path, {"nul-trace"}, edit=edit)
    assert run.outcomes()[ERRORS] == "fail", run.stdout
    assert any("not sent" in str(e.get("webhooks", "")) for e in run.evidence(ERRORS))


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            'Traceback (most recent call last):\n  File "/app/x.py", line 3, in f',
            "python stack trace",
        ),
        ("Error: boom\n    at Object.<anonymous> (/app/server.js:12:7)", "node stack trace"),
        ("app/models/order.rb:12:in `find'", "ruby stack trace"),
        ("#0 /var/www/src/Cart.php(12): Cart->add()", "php stack trace"),
        ('Exception in thread "main" java.lang.NullPointerException', "java stack trace"),
        ("\tat com.shop.Cart.add(Cart.java:42)", "java stack trace"),
        ("goroutine 7 [running]:\nmain.handler()", "go stack trace"),
        ('psycopg2.errors.UndefinedTable: relation "cart" does not exist', "database error"),
        ("SQLSTATE[23000]: Integrity constraint violation", "database error"),
        ("query: SELECT id, total FROM orders WHERE id = 1", "sql statement"),
        ("{'DATABASES': {'default': {'PASSWORD': 'x'}}}", "settings dump"),
        ("redis://:s3cret@cache:6379/0", "connection string"),
        ("PATH=/usr/bin HOME=/root PWD=/srv", "environment dump"),
        ("key: rk_live_" + "a1b2c3d4e5f6g7h8i9j0", "stripe secret key"),
    ],
)
def test_the_leak_detector_knows_each_runtime_and_kind(text: str, kind: str) -> None:
    assert kind in leaks.kinds(leaks.find(text)), leaks.find(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"error": "quantity must be a number", "field": "qty"}',
        '{"error": "unknown sku", "sku": "golive\\u0000nul"}',
        "<html><body><h1>Bad Request (400)</h1></body></html>",
        '{"publishable_key": "pk_test_abcdefghijklmnop1234", "client_secret": "pi_1_secret_2"}',
        "Please select from our menu; update your cart at any time.",
    ],
)
def test_an_ordinary_error_answer_is_no_leak(text: str) -> None:
    assert leaks.find(text) == []


def test_the_runs_own_secrets_and_credentials_in_excerpts_are_masked() -> None:
    [leak] = leaks.find("debug: token=abcdefgh12345678", secrets=["abcdefgh12345678"])
    assert leak.kind == "secret of the run" and "abcdefgh12345678" not in leak.excerpt
    [leak] = leaks.find("mysql://root:pw123456@db/shop")
    assert "pw123456" not in leak.excerpt
