"""The API and data security checks on an app that is not the demo and takes no bearer
token (tests/sessionapp.py): a Django-style session (an HTML login form, a session cookie,
a CSRF token on unsafe requests, the anonymous redirected to the form) and a `Token`
header. Through a real `golive gate`: every item passes on the correct app, each broken
promise fails its own item, and golive's own misconfiguration (a wrong password, a probe
path that does not exist) is an error, never a fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from gatekit import GateRun, gate

from tests import sessionapp

AUTH = "api-security.authentication"
AUTHZ = "api-security.authorization"
CORS = "api-security.cors"
HTTPS = "api-security.https-enforced"
RATE = "api-security.rate-limiting"
ERRORS = "code-review.error-handling"
DB = "data-security.no-card-storage"
LOGS = "data-security.no-sensitive-logs"
ITEMS = (AUTH, AUTHZ, CORS, HTTPS, RATE, ERRORS, DB, LOGS)
CARD = "4000056655665556"

AUTHS: dict[str, dict[str, Any]] = {
    "session": {
        "login": {"flow": "login"},
        "csrf": {"from": {"cookie": "csrftoken"}, "send": {"header": "X-CSRFToken"}},
    },
    "token": {"header": {"name": "Authorization", "scheme": "Token", "value": "{user.token}"}},
}


def write_profile(folder: Path, base_url: str, mode: str, edit: Any = None) -> Path:
    users = {
        name: {"username": name, "password": f"pw-{name}", "token": f"tk-{name}"}
        for name in ("ada", "bob", "carl")
    }
    orders = {
        "method": "POST",
        "path": "/api/orders",
        "json": {"lines": [{"sku": "TEA", "qty": 1}]},
    }
    data: dict[str, Any] = {
        "name": "other-auth",
        "mode": "test",
        "database": {"url": "sqlite:///app.db"},
        "logs": ["app.log"],
        "app": {"base_url": base_url, "health": "/health"},
        "users": users,
        "auth": AUTHS[mode],
        "flows": {
            "login": [
                {
                    "request": {"path": "/login/"},
                    "capture": {"csrf": {"form_field": "csrfmiddlewaretoken"}},
                },
                {
                    "request": {
                        "method": "POST",
                        "path": "/login/",
                        "form": {
                            "username": "{user.username}",
                            "password": "{user.password}",
                            "csrfmiddlewaretoken": "{csrf}",
                        },
                    },
                    "expect": {"status": 302},
                    "capture": {"session": {"cookie": "sessionid"}},
                },
            ],
            "checkout": {
                "item": {"sku": "{item.id}", "qty": "{item.quantity}"},
                "steps": [
                    {
                        "request": {
                            "method": "POST",
                            "path": "/api/orders",
                            "json": {"lines": "{lines}"},
                        },
                        "expect": {"status": 201},
                        "capture": {
                            "order_id": "order.ref",
                            "client_secret": "payment.client_secret",
                        },
                    }
                ],
            },
        },
        "api": {
            "users": {"a": "ada", "b": "bob"},
            "endpoints": [
                {"method": "GET", "path": "/api/me"},
                orders,
                {"method": "GET", "path": "/api/orders/o-1"},
            ],
            "owned": {
                "create": {"job": "checkout", "items": [{"id": "MUG", "quantity": 1}]},
                "id": "order_id",
                "probes": [
                    {"method": "GET", "path": "/api/orders/{order_id}"},
                    {"method": "POST", "path": "/api/orders/{order_id}/cancel"},
                ],
            },
            "cors": {"path": "/api/me"},
            "rate_limit": {**orders, "user": "carl", "burst": 10, "expect_429_within": 8},
            "malformed": [orders],
        },
        "data": {"probe": {"user": "ada", "items": [{"id": "TEA", "quantity": 2}]}},
    }
    if edit is not None:
        edit(data)
    profile = folder / "target.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    checklist = yaml.safe_load((Path(__file__).parent.parent / "checklist.yaml").read_text())
    for section in checklist["sections"]:
        for item in section["items"]:
            for ref in (item.get("automated") or {}).get("checks", []):
                if ref["ref"].startswith("data."):
                    ref["params"] = {**ref.get("params", {}), "probe_card_number": CARD}
    (folder / "checklist.yaml").write_text(yaml.safe_dump(checklist, sort_keys=False))
    return profile


def run_items(
    tmp_path: Path,
    mode: str,
    flaws: set[str] | frozenset[str] = frozenset(),
    edit: Any = None,
    items: tuple[str, ...] = ITEMS,
) -> tuple[GateRun, sessionapp.SessionApp]:
    folder = tmp_path / "target"
    folder.mkdir()
    with sessionapp.running(folder, mode, flaws) as app:
        profile = write_profile(folder, app.base_url, mode, edit)
        args = [arg for item in items for arg in ("--item", item)]
        run = gate(profile, tmp_path / "out", "--checklist", str(folder / "checklist.yaml"), *args)
    return run, app


@pytest.mark.parametrize("mode", ["session", "token"])
def test_every_item_passes_on_a_correct_app(tmp_path: Path, mode: str) -> None:
    run, app = run_items(tmp_path, mode)
    outcomes = run.outcomes()
    assert {item: outcomes[item] for item in ITEMS} == dict.fromkeys(ITEMS, "pass"), (
        run.stdout + run.stderr
    )
    every = run.evidence(AUTH)
    # ada's own GETs are the control (she gets past the credentials check); the rest are
    # the calls with no and with invalid credentials.
    assert 200 in {e["status"] for e in every if e.get("kind") == "control"} <= {200, 404}
    auth = [e for e in every if e.get("kind") != "control"]
    assert {e["credentials"] for e in auth} == {"none", "invalid"}
    if mode == "session":
        # The anonymous and the invalid session are sent to the login form, or stopped by
        # the CSRF check before the view.
        gets = [e for e in auth if e["request"].startswith("GET")]
        assert {e["status"] for e in gets} == {302}
        assert all(e["location"].startswith("/login/") for e in gets)
        assert {e["status"] for e in auth if e["request"].startswith("POST")} == {403}
    else:
        assert {e["status"] for e in auth} == {401}
    authz = run.evidence(AUTHZ)
    assert authz[0]["user"] == "ada" and authz[0]["status"] == 201
    assert [e["status"] for e in authz if e["user"] == "bob"] == [404, 404]
    # ada then did each probe on her own order (the read, the cancel): the control.
    controls = [(e["request"].split()[0], e["status"]) for e in authz if e.get("kind")]
    assert controls == [("GET", 200), ("POST", 200)]
    [rate] = run.evidence(RATE)
    assert rate["user"] == "carl" and rate["first_429_at"] == 6
    probe = run.evidence(DB)[0]
    assert probe["probe"] == "sent" and probe["user"] == "ada" and probe["status"] == 201
    assert probe["request"] == "POST /api/orders"
    # What golive sent carried the profile's auth, or nothing: never a header of its own.
    sent = {h.get("Authorization") for _, _, h in app.state.requests}
    if mode == "session":
        assert sent == {None}
        cookies = {h.get("Cookie", "") for _, _, h in app.state.requests}
        assert any("sessionid=golive-invalid-session" in c for c in cookies)  # `invalid`
    else:
        assert sent == {
            None,
            "Token tk-ada",
            "Token tk-bob",
            "Token tk-carl",
            "Token golive-invalid-token",
        }
    log = (tmp_path / "target" / "app.log").read_text()
    assert CARD not in log
    for name, text in run.report_texts().items():
        assert CARD not in text and "pw-ada" not in text, name


@pytest.mark.parametrize(
    ("flaw", "item", "words"),
    [
        ("no-auth", AUTH, "GET /api/me with no credentials: 200"),
        ("idor", AUTHZ, "as user B (bob): 200"),
        ("cors-wildcard", CORS, "Access-Control-Allow-Origin: * with"),
        ("no-hsts", HTTPS, "has no HSTS max-age"),
        ("no-rate-limit", RATE, "no 429 within 8 requests"),
        ("verbose-errors", ERRORS, "malformed-json: 500"),
        ("stores-card", DB, "card data stored in the database: orders.note"),
        ("logs-card", LOGS, "sensitive data in the logs"),
    ],
)
def test_each_broken_promise_fails_its_own_item(
    tmp_path: Path, flaw: str, item: str, words: str
) -> None:
    run, _ = run_items(tmp_path, "session", {flaw})
    outcomes = {i: run.outcomes()[i] for i in ITEMS}
    failing = {i for i, outcome in outcomes.items() if outcome == "fail"}
    # A card number in the log is a stored card number too (its log check on DB's item).
    also = {DB} if flaw == "logs-card" else set()
    assert failing == {item} | also, (outcomes, run.stdout)
    assert set(outcomes.values()) == {"pass", "fail"}, outcomes
    message = run.item(item)["reason"]
    assert words in message, message


def _wrong_ada(data: dict[str, Any]) -> None:
    data["users"]["ada"].update(password="wrong", token="tk-wrong")


@pytest.mark.parametrize("mode", ["session", "token"])
def test_golives_own_wrong_credentials_are_errors_not_fails(tmp_path: Path, mode: str) -> None:
    run, _ = run_items(tmp_path, mode, edit=_wrong_ada)
    outcomes = {i: run.outcomes()[i] for i in ITEMS}
    # ada acts in every item but the rate limit (carl's burst); in authentication her own
    # GETs are the control that the refusals are the auth layer's. HSTS needs no user:
    # with a token refused, the health page still answers over HTTPS; a login that failed
    # stops the check.
    expected = dict.fromkeys(ITEMS, "error") | {RATE: "pass"}
    if mode == "token":
        expected[HTTPS] = "pass"
    assert outcomes == expected, (outcomes, run.stdout)
    assert "golive could not" in run.item(AUTHZ)["reason"]
    assert "'ada'" in run.item(AUTH)["reason"], run.item(AUTH)["reason"]
    assert "probe" in run.item(DB)["reason"] and "probe" in run.item(LOGS)["reason"]
    if mode == "session":
        assert "could not log in as 'ada'" in run.item(CORS)["reason"]
    else:
        assert "answered 401" in run.item(CORS)["reason"]
        assert "every variant was answered [401]" in run.item(ERRORS)["reason"]


def _path(block: str, path: str, index: int | None = None) -> Any:
    def edit(data: dict[str, Any]) -> None:
        target = data["api"][block]
        target = target[index] if index is not None else target
        target["path"] = path

    return edit


@pytest.mark.parametrize(
    ("edit", "item", "words"),
    [
        (
            lambda data: data["api"]["owned"]["probes"][0].update(path="/api/order/{order_id}"),
            AUTHZ,
            "golive could not act on user A's own resource as 'ada' (GET /api/order/o-",
        ),
        (  # a non-GET probe: bob's 404 alone used to pass it
            lambda data: data["api"]["owned"]["probes"][1].update(
                path="/api/orders/{order_id}/cancl"
            ),
            AUTHZ,
            "golive could not act on user A's own resource as 'ada' (POST /api/orders/o-",
        ),
        (_path("cors", "/api/nope"), CORS, "golive could not check CORS on GET /api/nope"),
        (_path("rate_limit", "/api/nope"), RATE, "golive could not send the burst"),
        (_path("malformed", "/api/nope", 0), ERRORS, "golive could not reach POST /api/nope"),
    ],
)
def test_a_path_golive_was_given_wrong_is_an_error(
    tmp_path: Path, edit: Any, item: str, words: str
) -> None:
    run, _ = run_items(tmp_path, "session", edit=edit, items=(item,))
    assert run.outcomes()[item] == "error", run.stdout
    assert words in run.item(item)["reason"], run.item(item)["reason"]
