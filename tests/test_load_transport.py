"""The load scenarios' requests through golive's request model: the Locust transport adapter
(loadtests/transport.py), the load users and their purchases (loadtests/shoppers.py).

Most tests drive the adapter with a stand-in for Locust's FastHttpSession (Locust patches
the interpreter with gevent, so it never runs in pytest's process); one runs a real
FastHttpSession in a child process against tests/authapp.py: a session-cookie login with
CSRF, once per member, and each request counted under its job's name."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from http.cookiejar import CookieJar
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gatekit import ROOT

from golive import profile
from golive.client import captures
from golive.client.app import AppClient
from golive.client.errors import FlowError
from golive.loadtests import session as load_session
from golive.loadtests import shoppers
from golive.loadtests.transport import LocustTransport
from tests import authapp

PROFILE = """\
name: t
mode: test
users:
  ada: {token: t-ada}
  shoppers: {pool: {count: 3, vars: {token: "tok_{n:02d}"}}}
  listed: {pool: {file: people.csv}}
auth: {header: {name: Authorization, scheme: Token, value: "{user.token}"}}
flows:
  fill_cart:
    item: {sku: "{item.id}", qty: "{item.quantity}"}
    steps:
      - for_each: lines
        request: {method: POST, path: /cart/lines, json: "{line}"}
  checkout:
    steps:
      - request: {method: POST, path: /baskets}
        capture: {basket: id}
      - request: {method: POST, path: "/baskets/{basket}/pay", json: {}}
        capture: {client_secret: secret, order_id: ref}
  read_order:
    - request: {path: "/orders/{order_id}"}
      capture: {status: state}
load:
  users: [shoppers, ada]
  carts: [[{id: A, quantity: 1}]]
"""


class Response:
    """What FastHttpSession.request(..., catch_response=True) returns, as far as used."""

    def __init__(self, status: int, body: Any = None, error: str | None = None) -> None:
        self.status_code = status
        self.text = json.dumps(body) if body is not None else ""
        self.headers = {"content-type": "application/json"}
        self.error = error
        self.outcome: str | None = None
        self.reported = False

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.reported = True

    def success(self) -> None:
        self.outcome = "ok"

    def failure(self, why: str) -> None:
        self.outcome = f"failed: {why}"


class Locust:
    """A stand-in for FastHttpSession: answers by (method, path), records what it sent."""

    def __init__(self, answers: dict[tuple[str, str], Response | None] | None = None) -> None:
        self.cookiejar = CookieJar()
        self.client = SimpleNamespace(redirect_response_codes=frozenset({301, 302}))
        self.answers = answers or {}
        self.sent: list[dict[str, Any]] = []
        self.responses: list[Response] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        assert kwargs.pop("catch_response") is True
        self.sent.append({"method": method, "url": url, **kwargs})
        known = self.answers.get((method, url.split("?")[0]))
        response = known or Response(200, _default(method, url))
        # A fresh object per request, as Locust's are.
        response = Response(
            response.status_code, json.loads(response.text or "null"), response.error
        )
        self.responses.append(response)
        return response


def _default(method: str, url: str) -> Any:
    if url == "/baskets":
        return {"id": "b1"}
    if url.endswith("/pay"):
        return {"secret": "pi_7_secret_x", "ref": "o-1"}
    if url.startswith("/orders/"):
        return {"state": "pending"}
    return {}


def _profile(tmp_path: Path, text: str = PROFILE) -> profile.Profile:
    (tmp_path / "people.csv").write_text("token,email\ntok_a,a@x.test\ntok_b,b@x.test\n")
    path = tmp_path / "target.yaml"
    path.write_text(text)
    return profile.load(path)


def _shop(tmp_path: Path, locust: Locust, text: str = PROFILE) -> shoppers.Shop:
    loaded = _profile(tmp_path, text)
    model = shoppers.AppModel.model_validate(shoppers.app_plan(loaded.model))
    app = AppClient(model, "http://127.0.0.1:1", base_dir=tmp_path)
    return shoppers.Shop(app, transport=lambda: LocustTransport(locust))


def _member(name: str = "shoppers[1]", token: str = "tok_01") -> shoppers.Member:
    return shoppers.Members([{"name": name, "vars": {"token": token}}], 20).members[0]


def test_each_job_counts_under_its_name_and_carries_the_profiles_auth(tmp_path: Path) -> None:
    locust = Locust()
    shop = _shop(tmp_path, locust)
    member = _member()
    placed = shop.buy(
        member, [{"id": "A", "quantity": 2}, {"id": "B", "quantity": 1}], key="k1", name="checkout"
    )
    assert member.session is not None
    shop.read_order(member.session, placed)
    assert placed.payment_intent_id == "pi_7" and placed.order_id == "o-1"
    assert [(s["method"], s["url"], s["name"]) for s in locust.sent] == [
        ("POST", "/cart/lines", "cart_add"),
        ("POST", "/cart/lines", "cart_add"),
        ("POST", "/baskets", "cart_add"),  # the checkout flow's steps before it submits
        ("POST", "/baskets/b1/pay", "checkout"),
        ("GET", "/orders/o-1", "order_read"),
    ]
    assert [s["json"] for s in locust.sent[:2]] == [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]
    assert {s["headers"]["Authorization"] for s in locust.sent} == {"Token tok_01"}
    assert locust.sent[3]["headers"]["Idempotency-Key"] == "k1"  # the submitting step's
    assert "Idempotency-Key" not in locust.sent[2]["headers"]
    assert all(r.reported and r.outcome == "ok" for r in locust.responses)
    assert locust.client.redirect_response_codes == frozenset()  # golive follows none
    assert member.session.excerpt("an answer", 300) == "an answer"  # the probe keeps them
    spared = shoppers.Shop(shop.app, lambda: LocustTransport(Locust()), excerpts=False)
    assert spared.session(_member()).excerpt("an answer", 300) == ""  # Locust shows none


def test_the_request_a_flow_stops_at_is_the_failure_with_the_flows_reason(
    tmp_path: Path,
) -> None:
    locust = Locust({("POST", "/baskets/b1/pay"): Response(500, {"error": "boom"})})
    shop = _shop(tmp_path, locust)
    with pytest.raises(FlowError) as stopped:
        shop.buy(_member(), [{"id": "A", "quantity": 1}], key="k", name="race_checkout")
    assert not stopped.value.setup_problem  # the app's answer: the run measures it
    outcomes = [r.outcome for r in locust.responses]
    assert outcomes[:-1] == ["ok", "ok"]
    assert outcomes[-1] == "failed: POST /baskets/b1/pay answered 500 (expected below 400)"
    assert locust.sent[-1]["name"] == "race_checkout"


def test_an_answer_without_the_payment_is_a_failure_and_golives_problem(tmp_path: Path) -> None:
    locust = Locust({("POST", "/baskets/b1/pay"): Response(200, {"ref": "o-1"})})
    shop = _shop(tmp_path, locust)
    with pytest.raises(FlowError) as stopped:
        shop.buy(_member(), [{"id": "A", "quantity": 1}], key="k", name="checkout")
    assert stopped.value.setup_problem and stopped.value.kind == "capture"
    assert locust.responses[-1].outcome.startswith("failed: capture client_secret")


def test_no_answer_is_a_transport_failure_golive_reports_as_got_no_answer(
    tmp_path: Path,
) -> None:
    locust = Locust({("POST", "/cart/lines"): Response(0, error="ConnectionRefusedError()")})
    shop = _shop(tmp_path, locust)
    with pytest.raises(FlowError) as stopped:
        shop.buy(_member(), [{"id": "A", "quantity": 1}], key="k", name="checkout")
    assert stopped.value.kind == "transport" and stopped.value.setup_problem
    assert "got no answer: ConnectionRefusedError()" in str(stopped.value)
    assert [r.outcome for r in locust.responses] == [
        "failed: POST /cart/lines got no answer: ConnectionRefusedError()"
    ]


def test_forms_are_encoded_and_the_cookie_view_serves_cookie_auth_and_captures() -> None:
    locust = Locust()
    transport = LocustTransport(locust)
    transport.cookies.set("sessionid", "s-1")
    assert captures.cookie(transport.cookies, "sessionid") == "s-1"
    assert [c.name for c in locust.cookiejar] == ["sessionid"]
    with transport.job("login"):
        answer = transport.request(
            "POST", "/login/", data={"username": "ada", "password": "p w"}, headers={}
        )
    assert answer.status_code == 200 and answer.json() == {}
    assert answer.json() is answer.json()  # parsed once, whatever the captures read
    sent = locust.sent[0]
    assert sent["data"] == "username=ada&password=p+w" and sent["name"] == "login"
    assert sent["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    outside = transport.request("GET", "/x")  # outside a job: counted on its status alone
    assert outside.text == "{}" and locust.responses[-1].outcome == "ok"


def test_members_keep_within_their_quota_and_the_probes_checkout_counts(tmp_path: Path) -> None:
    people = [{"name": "a", "vars": {}}, {"name": "b", "vars": {}}]
    members = shoppers.Members(people, per_min=3)  # two a window each (one short)
    taken = [members.take(deadline_s=0.05) for _ in range(5)]
    assert [m.name if m else None for m in taken] == ["a", "b", "a", "b", None]
    spent = shoppers.Members(people, per_min=3, spent={"a": 2}, signed_up=["b"])
    assert [spent.take(deadline_s=0.05).name for _ in range(2)] == ["b", "b"]  # type: ignore[union-attr]
    assert spent.take(deadline_s=0.05) is None
    assert [m.signed_up for m in spent.members] == [False, True]
    assert spent.take(2, deadline_s=0.05) is None
    spent.keep([])
    assert spent.take(deadline_s=0.05) is None


def test_load_users_are_expanded_and_the_plan_rebuilds_the_profiles_model(
    tmp_path: Path,
) -> None:
    loaded = _profile(tmp_path)
    found = shoppers.members_of(loaded.model, ["shoppers", "ada", "listed", "ada"], tmp_path)
    assert [m["name"] for m in found] == [
        "shoppers[1]",
        "shoppers[2]",
        "shoppers[3]",
        "ada",
        "listed[1]",
        "listed[2]",
    ]
    assert found[1]["vars"] == {"token": "tok_02"} and found[3]["vars"] == {"token": "t-ada"}
    assert found[5]["vars"] == {"token": "tok_b", "email": "b@x.test"}
    plan = json.loads(json.dumps(shoppers.app_plan(loaded.model)))  # as the plan file has it
    rebuilt = shoppers.AppModel.model_validate(plan)
    assert rebuilt.flows == loaded.model.flows and rebuilt.auth == loaded.model.auth
    assert "users" not in plan  # the members travel with their variables instead


def test_a_profile_without_checkout_checks_the_filled_cart_out(tmp_path: Path) -> None:
    text = PROFILE.replace("  checkout:\n", "  checkout_cart:\n")
    locust = Locust()
    shop = _shop(tmp_path, locust, text)
    assert shop.job == "checkout_cart" and shop.missing() is None
    placed = shop.buy(_member(), [{"id": "A", "quantity": 1}], key="k", name="checkout")
    assert placed.payment_intent_id == "pi_7"
    assert [s["name"] for s in locust.sent] == ["cart_add", "cart_add", "checkout"]
    bare = _shop(tmp_path, Locust(), text.replace("  fill_cart:\n", "  other:\n"))
    assert bare.job is None and "`checkout` job" in str(bare.missing())


def test_every_purchase_stopped_by_golive_itself_is_an_error_not_a_verdict() -> None:
    setup = {"kind": "checkout_failed", "setup": True, "error": "golive could not follow flow x"}
    refused = {"kind": "checkout_failed", "setup": False, "error": "answered 500"}
    intent = {"kind": "intent", "payment_intent": "pi_1"}
    message, evidence = load_session.unfollowed_flows([setup, setup])  # type: ignore[misc]
    assert message == "golive could not follow flow x" and evidence["purchases_stopped"] == 2
    assert load_session.unfollowed_flows([setup, intent]) is None
    assert load_session.unfollowed_flows([setup, refused]) is None
    assert load_session.unfollowed_flows([]) is None


LOCUST_SCRIPT = """
import json, sys
import locust  # gevent's patches, as in Locust's own process
import gevent
from pathlib import Path
from locust.contrib.fasthttp import FastHttpSession
from locust.event import EventHook
from golive.client.app import AppClient, Placed
from golive.client.errors import FlowError
from golive.loadtests.shoppers import AppModel, Members, Shop
from golive.loadtests.transport import LocustTransport

base, plan = sys.argv[1], json.loads(sys.argv[2])
counted = []
events = EventHook()
events.add_listener(lambda **kw: counted.append([kw["name"], kw["exception"] is None]))
app = AppClient(AppModel.model_validate(plan), base, base_dir=Path("."))
shop = Shop(app, transport=lambda: LocustTransport(
    FastHttpSession(base_url=base, request_event=events, user=None)))
members = Members([{"name": "ada", "vars": {"username": "ada", "password": "pw-ada"}},
                   {"name": "bob", "vars": {"username": "bob", "password": "pw-bob"}}], 60)
placed = []
def buy(index):
    member = members.members[index % 2]
    placed.append(shop.buy(member, [{"id": "A", "quantity": 1}], key=f"k{index}",
                           name="checkout").payment_intent_id)
gevent.joinall([gevent.spawn(buy, i) for i in range(6)], raise_error=True)
try:
    shop.read_order(members.members[0].session, Placed("ada", None, None, "", {"order_id": "o-1"}))
except FlowError as exc:
    stopped = [exc.setup_problem, exc.status]
print(json.dumps({"counted": counted, "placed": placed, "stopped": stopped}))
"""


def test_a_real_locust_session_logs_each_member_in_once_with_csrf(tmp_path: Path) -> None:
    text = """\
name: t
mode: test
users: {ada: {username: ada, password: pw-ada}}
auth:
  login: {flow: login}
  csrf: {from: {cookie: csrftoken}, send: {header: X-CSRFToken}}
flows:
  login:
    - request: {path: /login/}
      capture: {csrf: {form_field: csrfmiddlewaretoken}}
    - request:
        method: POST
        path: /login/
        form: {username: "{user.username}", password: "{user.password}",
               csrfmiddlewaretoken: "{csrf}"}
      expect: {status: 302}
  checkout:
    item: {sku: "{item.id}", qty: "{item.quantity}"}
    steps:
      - request: {method: POST, path: /session/carts}
        expect: {status: 201}
        capture: {cart: cart.id}
      - for_each: lines
        request: {method: POST, path: "/session/carts/{cart}/lines", json: "{line}"}
      - request: {method: POST, path: "/session/carts/{cart}/checkout", json: {note: x}}
        capture: {client_secret: secret, order_id: order.ref}
  read_order:
    - request: {path: "/session/orders/{order_id}"}
      capture: {status: state}
"""
    plan = shoppers.app_plan(_profile(tmp_path, text).model)
    with authapp.running() as app:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", LOCUST_SCRIPT, app.base_url, json.dumps(plan)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.splitlines()[-1])
        assert app.state.logins == 2  # ada and bob, once each, whoever bought first
        posts = [h for m, p, h in app.state.requests if m == "POST" and p.startswith("/session")]
        assert posts and all(h.get("X-CSRFToken") for h in posts)
        assert not any("Authorization" in h for _, _, h in app.state.requests)
    assert time.monotonic() - started < 60
    assert result["placed"] == ["pi_3abc"] * 6
    names = [name for name, _ in result["counted"]]
    assert names.count("login") == 4  # GET and POST /login/, for each member
    # Three requests a purchase: the cart made and its line put in (cart_add), then the
    # submission (checkout).
    assert names.count("cart_add") == 6 * 2 and names.count("checkout") == 6
    assert all(ok for name, ok in result["counted"] if name in ("login", "checkout"))
    # The app has no order route: golive's own route is wrong, a setup problem, and the
    # request counts as the failed order_read.
    assert result["stopped"] == [True, 404]
    assert result["counted"][-1] == ["order_read", False]


def test_a_pool_made_by_signup_signs_each_member_up_once_before_it_first_buys(
    tmp_path: Path,
) -> None:
    text = (
        PROFILE.replace(
            '  shoppers: {pool: {count: 3, vars: {token: "tok_{n:02d}"}}}',
            '  shoppers: {pool: {count: 2, signup: true, vars: {token: "tok_{n:02d}"}}}',
        )
        .replace(
            "  read_order:\n",
            "  signup:\n"
            '    - request: {method: POST, path: /signup, json: {token: "{user.token}"}}\n'
            "      auth: false\n"
            "  read_order:\n",
        )
        .replace("  users: [shoppers, ada]", "  users: [shoppers]")
    )
    locust = Locust()
    shop = _shop(tmp_path, locust, text)
    members = shoppers.Members(
        shoppers.members_of(_profile(tmp_path, text).model, ["shoppers"], tmp_path), 20
    ).members
    for member in (members[0], members[0], members[1]):
        shop.buy(member, [{"id": "A", "quantity": 1}], key=f"k{len(locust.sent)}", name="checkout")
    signups = [s for s in locust.sent if s["url"] == "/signup"]
    assert [s["json"] for s in signups] == [{"token": "tok_01"}, {"token": "tok_02"}]
    assert all("Authorization" not in (s.get("headers") or {}) for s in signups)
    first_buy = next(i for i, s in enumerate(locust.sent) if s["url"] == "/cart/lines")
    assert locust.sent.index(signups[0]) < first_buy  # signed up before it first bought
