"""golive's request model against a real app on 127.0.0.1 (tests/authapp.py): users,
auth of every kind (Token header, Basic, a JWT login, a session cookie with CSRF and
re-login), multi-step flows with captures, and a profile that names what does not exist."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from golive import profile
from golive.client.app import AppClient
from golive.client.errors import FlowError, LoginError
from golive.errors import InputError
from tests import authapp

CHECKOUT_MARK = "\n#checkout\n"
CHECKOUT = (
    CHECKOUT_MARK
    + """
flows:
  checkout:
    item: {sku: "{item.id}", qty: "{item.quantity}"}
    steps:
      - request: {method: POST, path: /PREFIX/carts}
        expect: {status: 201}
        capture: {cart: cart.id}
      - for_each: lines
        request: {method: POST, path: "/PREFIX/carts/{cart}/lines", json: "{line}"}
      - request: {method: POST, path: "/PREFIX/carts/{cart}/checkout", json: {note: x}}
        capture:
          client_secret: secret
          order_id: {header: X-Order-Ref}
"""
)


LOGIN = """\
  login:
    - request: {path: /login/}
      capture: {csrf: {form_field: csrfmiddlewaretoken}}
    - request:
        method: POST
        path: /login/
        form: {username: "{user.username}", password: "{user.password}",
               csrfmiddlewaretoken: "{csrf}"}
      expect: {status: 302}
      capture: {session: {cookie: sessionid}}
"""


def _load(tmp_path: Path, text: str) -> profile.Profile:
    path = tmp_path / "target.yaml"
    parts = text.split(CHECKOUT_MARK)
    body = "".join(textwrap.dedent(part) for part in parts)
    path.write_text("name: t\nmode: test\n" + body)
    return profile.load(path)


def _client(tmp_path: Path, app: authapp.AuthApp, text: str) -> AppClient:
    loaded = _load(tmp_path, text)
    return AppClient(loaded.model, app.base_url, base_dir=tmp_path)


def test_token_header_and_a_cart_created_filled_and_checked_out(tmp_path: Path) -> None:
    with authapp.running() as app:
        client = _client(
            tmp_path,
            app,
            """
            users: {ada: {token: t-ada}}
            auth: {header: {name: Authorization, scheme: Token, value: "{user.token}"}}
            """
            + CHECKOUT.replace("PREFIX", "token"),
        )
        placed = client.checkout(
            "ada", [{"id": "SKU1", "quantity": 2}, {"id": "SKU2", "quantity": 1}]
        )
        client.close()
    assert placed.ok, placed.evidence()
    assert placed.payment_intent_id == "pi_3abc"  # derived from the client_secret
    assert placed.order_id.startswith("o-")
    lines_sent = [s.request for s in placed.steps if s.path.endswith("/lines")]
    assert lines_sent == [{"sku": "SKU1", "qty": 2}, {"sku": "SKU2", "qty": 1}]
    sent = [headers.get("Authorization") for _, _, headers in app.state.requests]
    assert sent and set(sent) == {"Token t-ada"}
    assert any("Idempotency-Key" in h for m, p, h in app.state.requests if p.endswith("checkout"))


def test_basic_auth_and_a_refused_credential_is_golives_problem(tmp_path: Path) -> None:
    text = """
        users: {ada: {username: ada, password: pw-ada}, eve: {username: eve, password: nope}}
        auth: {basic: {}}
        flows:
          me: [{request: {path: /basic/me}, capture: {who: user}}]
        """
    with authapp.running() as app:
        client = _client(tmp_path, app, text)
        assert client.run("me", "ada").variables["who"] == "ada"
        with pytest.raises(FlowError) as refused:
            client.run("me", "eve")
        client.close()
    assert refused.value.status == 401 and refused.value.setup_problem
    assert "golive could not follow flow 'me'" in str(refused.value)


def test_a_jwt_from_a_login_flow_is_sent_as_bearer_and_logged_in_once(tmp_path: Path) -> None:
    text = """
        users: {ada: {email: ada@example.com, password: pw-ada}}
        auth:
          login: {flow: login}
          header: {name: Authorization, scheme: Bearer, value: "{access}"}
        flows:
          login:
            - request: {method: POST, path: /auth/token,
                        json: {email: "{user.email}", password: "{user.password}"}}
              capture: {access: data.access}
          me: [{request: {path: /jwt/me}, capture: {who: user}}]
        """
    with authapp.running() as app:
        client = _client(tmp_path, app, text)
        assert client.run("me", "ada").variables["who"] == "ada"
        assert client.run("me", "ada").variables["who"] == "ada"
        client.close()
        assert app.state.logins == 1
        login_request = next(h for m, p, h in app.state.requests if p == "/auth/token")
        assert "Authorization" not in login_request  # logging in carries no stale credential


def test_session_cookie_login_with_csrf_and_relogin_after_expiry(tmp_path: Path) -> None:
    text = """
        users: {ada: {username: ada, password: pw-ada}}
        auth:
          login: {flow: login}
          csrf: {from: {cookie: csrftoken}, send: {header: X-CSRFToken}}
        """ + CHECKOUT.replace("PREFIX", "session").replace("flows:\n", "flows:\n" + LOGIN)
    with authapp.running() as app:
        client = _client(tmp_path, app, text)
        first = client.checkout("ada", [{"id": "A", "quantity": 1}])
        app.state.sessions.clear()  # the app forgets every session
        second = client.checkout("ada", [{"id": "B", "quantity": 1}])
        client.close()
        assert first.ok and second.ok, (first.evidence(), second.evidence())
        assert app.state.logins == 2  # once, then once more after the 401
        posts = [h for m, p, h in app.state.requests if m == "POST" and p.startswith("/session")]
        assert posts and all(h.get("X-CSRFToken") for h in posts)


def test_a_wrong_password_is_a_login_error(tmp_path: Path) -> None:
    text = """
        users: {ada: {email: ada@example.com, password: wrong}}
        auth:
          login: {flow: login}
          header: {value: "{access}"}
        flows:
          login:
            - request: {method: POST, path: /auth/token,
                        json: {email: "{user.email}", password: "{user.password}"}}
              capture: {access: data.access}
          me: [{request: {path: /jwt/me}}]
        """
    with authapp.running() as app:
        client = _client(tmp_path, app, text)
        with pytest.raises(LoginError) as failed:
            client.run("me", "ada")
        client.close()
    assert failed.value.setup_problem
    assert "could not log in as 'ada'" in str(failed.value)


def test_a_refused_order_is_returned_for_the_check_to_judge(tmp_path: Path) -> None:
    with authapp.running() as app:
        client = _client(
            tmp_path,
            app,
            """
            users: {ada: {token: t-ada}}
            auth: {header: {scheme: Token}}
            """
            + CHECKOUT.replace("PREFIX", "token"),
        )
        placed = client.checkout("ada", [{"id": "A", "quantity": 1}], per_line={"unit_price": 1})
        client.close()
    assert not placed.ok and placed.status == 422
    assert placed.refused is not None and not placed.refused.setup_problem
    assert all(s.request.get("unit_price") == 1 for s in placed.steps if s.path.endswith("lines"))


def test_a_route_that_does_not_exist_is_golives_problem(tmp_path: Path) -> None:
    with authapp.running() as app:
        client = _client(
            tmp_path,
            app,
            """
            users: {ada: {token: t-ada}}
            auth: {header: {scheme: Token}}
            """
            + CHECKOUT.replace("PREFIX", "tokn"),
        )
        with pytest.raises(FlowError) as failed:
            client.checkout("ada", [{"id": "A", "quantity": 1}])
        client.close()
    assert failed.value.status == 404 and failed.value.setup_problem


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "jobs: {checkout: nothere}\nflows: {a: [{request: {path: /x}}]}\n",
            3,
            "no flow named 'nothere'",
        ),
        (
            "flows:\n  a:\n    - request: {path: /x}\n      capture: {cart: id}\n"
            "    - request: {path: '/c/{crt}'}\n",
            7,
            "{crt} is not a variable here",
        ),
        (
            "auth: {login: {flow: signin}}\nflows: {a: [{request: {path: /x}}]}\n",
            3,
            "no flow named 'signin'",
        ),
        (
            "flows:\n  checkout:\n    - request: {method: POST, path: /x}\n      capture: {id: id}\n",
            4,
            "captures none of payment_intent_id, client_secret, checkout_session_id",
        ),
        (
            "users: {ada: {token: t}}\nauth: {header: {value: '{tokn}'}}\n",
            4,
            "{tokn} is neither",
        ),
    ],
)
def test_names_that_do_not_exist_are_refused_with_the_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    with pytest.raises(InputError) as refused:
        _load(tmp_path, text)
    message = str(refused.value)
    assert words in message, message
    assert f"target.yaml:{line}:" in message, message


def test_a_prepared_checkout_is_built_once_and_submitted_as_often_as_asked(
    tmp_path: Path,
) -> None:
    with authapp.running() as app:
        client = _client(
            tmp_path,
            app,
            """
            users: {ada: {token: t-ada}}
            auth: {header: {scheme: Token}}
            """
            + CHECKOUT.replace("PREFIX", "token"),
        )
        session, prepared = client.prepare(
            "checkout", "ada", {"items": [{"id": "A", "quantity": 1}]}
        )
        first = client.finish("checkout", session, prepared)
        second = client.finish("checkout", session, prepared)
        client.close()
        carts = list(app.state.carts.values())
    # One cart made and filled; its submission sent twice (a double click on "Pay").
    assert len(carts) == 1 and len(carts[0]["lines"]) == 1
    assert first.variables["cart"] == second.variables["cart"]
    submitted = [p for m, p, h in app.state.requests if p.endswith("/checkout")]
    assert len(submitted) == 2
    assert [s.path.rsplit("/", 1)[-1] for s in second.steps] == ["carts", "lines", "checkout"]


def test_validate_exits_2_naming_the_line_of_a_user_that_does_not_exist(tmp_path: Path) -> None:
    from gatekit import golive_here

    path = tmp_path / "target.yaml"
    path.write_text(
        "name: t\nmode: test\nusers: {ada: {token: t}}\n"
        "pricing:\n  customers: {in_state: ada, out_of_state: bobb}\n"
        "  prices: {A: 100}\n  rules: {platform_fee_bps: 0, tax_bps: {default: 0}}\n"
        "  carts: {single: [{id: A, quantity: 1}], multi: [{id: A, quantity: 2}, {id: A, quantity: 1}]}\n"
    )
    done = golive_here("validate", "--target", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}:5:" in done.stderr and "no user named 'bobb'" in done.stderr


def test_a_preset_session_cookie_is_sent_and_a_regex_captures(tmp_path: Path) -> None:
    text = """
        users: {ada: {sid: s-ada}, eve: {sid: s-nobody}}
        auth: {cookie: {name: sid, value: "{user.sid}"}}
        flows:
          me:
            - request: {path: /cookie/me}
              capture: {who: {regex: '"user": "(\\w+)"'}}
        """
    with authapp.running() as app:
        client = _client(tmp_path, app, text)
        assert client.run("me", "ada").variables["who"] == "ada"
        with pytest.raises(FlowError) as refused:
            client.run("me", "eve")
        client.close()
    assert refused.value.status == 401 and refused.value.setup_problem


@pytest.mark.parametrize("source", ["header", "form_field"])
def test_a_csrf_token_from_a_header_or_a_page_goes_back_as_a_field(
    tmp_path: Path, source: str
) -> None:
    name = "X-CSRF-Token" if source == "header" else "csrf_token"
    text = f"""
        users: {{ada: {{token: t-ada}}}}
        auth:
          header: {{scheme: Token}}
          csrf: {{from: {{{source}: {name}}}, send: {{field: csrf_token}}}}
        flows:
          post_json:
            - request: {{path: /field/token}}
            - request: {{method: POST, path: /field/carts, json: {{note: x}}}}
              expect: {{status: 201}}
          post_form:
            - request: {{path: /field/token}}
            - request: {{method: POST, path: /field/carts, form: {{note: x}}}}
              expect: {{status: 201}}
          without_token:
            - request: {{method: POST, path: /field/carts, json: {{note: x}}}}
              expect: {{status: 201}}
        """
    with authapp.running() as app:
        client = _client(tmp_path, app, text)
        client.run("post_json", "ada")
        client.run("post_form", "ada")
        fresh = client.open_session("ada", client.user_vars("ada"))
        with pytest.raises(FlowError) as refused:  # the control: no token seen, refused
            client.run("without_token", fresh)
        fresh.close()
        client.close()
    assert refused.value.status == 403
    assert len(app.state.carts) == 2


def test_credentials_and_what_a_login_captured_are_masked_in_evidence(tmp_path: Path) -> None:
    from golive.profile import CREDENTIAL_MIN_LENGTH, credentials
    from golive.redact import Redactor

    text = """
        users:
          ada: {email: ada@example.com, password: pw-ada}
          eve: {email: eve@example.com, password: canary-pw-7Qz}
          pool: {pool: {count: 2, vars: {email: "p{n}@example.com", password: "canary-pool-{n}"}}}
        auth:
          login: {flow: login}
          header: {value: "{access}"}
        flows:
          login:
            - request: {method: POST, path: /auth/token,
                        json: {email: "{user.email}", password: "{user.password}"}}
              capture: {access: data.access}
          me: [{request: {path: /jwt/me}, capture: {who: user}}]
        """
    loaded = _load(tmp_path, text)
    found = credentials(loaded.model, tmp_path)
    assert {"pw-ada", "canary-pw-7Qz", "canary-pool-1", "canary-pool-2"} <= set(found)
    assert "ada@example.com" not in found  # an email is not a credential
    redactor = Redactor()
    for value in found:
        redactor.add_secret(value, CREDENTIAL_MIN_LENGTH)
    with authapp.running() as app:
        client = AppClient(loaded.model, app.base_url, base_dir=tmp_path, redactor=redactor)
        client.run("me", "ada")
        token = client.session("ada").session_vars["access"]
        with pytest.raises(FlowError) as failed:
            client.run("me", "eve")  # a wrong password: the login's request is the evidence
        client.close()
    shown = str(redactor.value(failed.value.evidence()))
    assert "/auth/token" in shown and "canary-pw-7Qz" not in shown
    assert token not in redactor.text(f"Bearer {token}")  # the JWT the login captured


def test_a_pool_where_one_user_is_meant_is_refused_with_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as refused:
        _load(
            tmp_path,
            "users: {many: {pool: {count: 2, vars: {token: 't{n}'}}}}\n"
            "observer:\n  http: {path: '/x/{payment_intent}'}\n"
            "  order: {user: many, cart: [{id: A, quantity: 1}]}\n",
        )
    assert "target.yaml:6:" in str(refused.value)
    assert "'many' is a pool of users; name one user" in str(refused.value)
