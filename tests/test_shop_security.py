"""The reference shop's API security: authentication, authorization, rate limiting, CORS,
HTTPS/HSTS behind a proxy, malformed input, and no card data or secrets in logs or the
database.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest

from golive.sandbox import Sandbox
from tests import shopkit
from tests.shopkit import ShopProcess

sandbox = shopkit.sandbox
shop_factory = shopkit.shop_factory

ORIGINS = "https://shop.example.com,https://admin.example.com/"
FOREIGN = "https://evil.example"
PROTECTED = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/menu"),
    ("GET", "/api/v1/cart"),
    ("DELETE", "/api/v1/cart"),
    ("POST", "/api/v1/cart/items"),
    ("DELETE", "/api/v1/cart/items/1"),
    ("GET", "/api/v1/orders"),
    ("GET", "/api/v1/orders/1"),
    ("POST", "/api/v1/orders/1/refund"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/stripe/create-payment-intent"),
]
LEAKS = re.compile(r"Traceback|File \"|starlette|sqlalchemy|uvicorn|\.py\b|Exception", re.I)
CARDS = ["4242424242424242", "4000056655665556", "5555555555554444", "378282246310005"]


@pytest.fixture(scope="module")
def shop(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    yield from shopkit.module_shop(
        request,
        sandbox,
        tmp_path_factory,
        env={"SHOP_RATE_LIMIT": "1000/60", "SHOP_CORS_ORIGINS": ORIGINS},
    )


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer tok_nobody", "tok_alice_ca", "Basic dG9rX2FsaWNlX2NhOg==", "Bearer"],
)
def test_every_endpoint_needs_a_valid_token(
    shop: ShopProcess, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = shop.request(method, path, json={}, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_health_and_webhook_need_no_token(shop: ShopProcess) -> None:
    assert shop.get("/healthz").json() == {"status": "ok", "database": "ok"}
    response = shop.post("/api/v1/stripe/webhook", content=b"{}")
    assert response.status_code == 400  # the signature is its authentication
    assert shop.get("/api/v1/me", "alice").json()["state"] == "CA"


# --- authorization ----------------------------------------------------------------------------


def test_a_user_sees_only_their_own_data(shop: ShopProcess) -> None:
    order = shop.pending_order("alice", [(2, 1)])
    order_id = order["order_id"]
    assert shop.get(f"/api/v1/orders/{order_id}", "alice").status_code == 200
    theirs = shop.get(f"/api/v1/orders/{order_id}", "bob")
    missing = shop.get("/api/v1/orders/999999", "bob")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert shop.post(f"/api/v1/orders/{order_id}/refund", "bob").status_code == 404
    assert order_id not in [o["id"] for o in shop.get("/api/v1/orders", "bob").json()["data"]]
    assert order_id in [o["id"] for o in shop.get("/api/v1/orders", "alice").json()["data"]]
    shop.request("DELETE", "/api/v1/cart", "bob")
    shop.post("/api/v1/cart/items", "alice", json={"food_item_id": 3, "quantity": 1})
    assert shop.cart("bob")["items"] == []
    assert shop.request("DELETE", "/api/v1/cart/items/3", "bob").status_code == 404
    assert [i["food_item_id"] for i in shop.cart("alice")["items"]] == [3]
    shop.request("DELETE", "/api/v1/cart", "alice")


# --- rate limiting ------------------------------------------------------------------------------


def test_payment_endpoints_are_rate_limited_per_user(
    shop_factory: Callable[..., ShopProcess],
) -> None:
    limited = shop_factory(env={"SHOP_RATE_LIMIT": "3/60"})
    statuses = [
        limited.post("/api/v1/stripe/create-payment-intent", "carol", json={}).status_code
        for _ in range(5)
    ]
    assert statuses == [400, 400, 400, 429, 429]  # empty cart until the limit, then 429
    blocked = limited.post("/api/v1/stripe/create-payment-intent", "carol", json={})
    assert blocked.json()["error"] == "rate_limited"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert limited.post("/api/v1/orders/1/refund", "carol").status_code == 429
    # Another user has their own budget; reading is not limited.
    assert limited.post("/api/v1/stripe/create-payment-intent", "bob", json={}).status_code == 400
    assert all(limited.get("/api/v1/menu", "carol").status_code == 200 for _ in range(10))
    assert any(r["event"] == "rate_limited" for r in limited.log_records())


# --- CORS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", ["https://shop.example.com", "https://admin.example.com"])
def test_cors_allows_the_listed_origins(shop: ShopProcess, origin: str) -> None:
    response = shop.get("/api/v1/menu", "alice", headers={"Origin": origin})
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers["vary"]
    preflight = shop.request(
        "OPTIONS",
        "/api/v1/stripe/create-payment-intent",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Authorization" in preflight.headers["access-control-allow-headers"]


def test_cors_gives_nothing_to_other_origins(shop: ShopProcess) -> None:
    for origin in (FOREIGN, "null", "https://shop.example.com.evil.example"):
        response = shop.get("/api/v1/menu", "alice", headers={"Origin": origin})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        preflight = shop.request(
            "OPTIONS",
            "/api/v1/orders",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
        assert preflight.status_code == 403
        assert "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-credentials" not in preflight.headers


# --- HTTPS ----------------------------------------------------------------------------------------


def test_plain_http_behind_a_proxy_is_redirected_to_https(shop: ShopProcess) -> None:
    for method, path in [("GET", "/api/v1/menu?page=2"), ("POST", "/api/v1/stripe/webhook")]:
        response = shop.request(
            method,
            path,
            headers={"X-Forwarded-Proto": "http", "Host": "shop.example.com"},
            follow_redirects=False,
        )
        assert response.status_code == 308
        assert response.headers["location"] == f"https://shop.example.com{path}"


def test_https_behind_a_proxy_gets_hsts(shop: ShopProcess) -> None:
    for user in ("alice", None):  # on errors too
        response = shop.get("/api/v1/menu", user, headers={"X-Forwarded-Proto": "https"})
        assert (
            response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        )
    direct = shop.get("/api/v1/menu", "alice")
    assert direct.status_code == 200 and "strict-transport-security" not in direct.headers


# --- malformed input --------------------------------------------------------------------------------

CHECKOUT = "/api/v1/stripe/create-payment-intent"
JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "content", "headers", "status"),
    [
        ("POST", CHECKOUT, b'{"items": [', JSON, 400),
        ("POST", CHECKOUT, b"\xff\xfe{}", JSON, 400),
        ("POST", CHECKOUT, b"[" * 30000 + b"]" * 30000, JSON, 400),
        ("POST", CHECKOUT, b"items=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("POST", CHECKOUT, b"x" * (64 * 1024 + 1), JSON, 413),
        ("POST", CHECKOUT, b'{"items": [{"food_item_id": 1e400}]}', JSON, 400),
        (
            "POST",
            CHECKOUT,
            b'{"items": [{"food_item_id": 123456789012345678901234567890}]}',
            JSON,
            400,
        ),
        ("POST", CHECKOUT, b'{"items": [{"food_item_id": NaN, "quantity": 1}]}', JSON, 400),
        ("POST", "/api/v1/cart/items", b'{"food_item_id": "abc"}', JSON, 400),
        ("POST", "/api/v1/cart/items", b'{"food_item_id": 1, "quantity": {"a": 1}}', JSON, 400),
        ("POST", "/api/v1/cart/items", b'{"food_item_id": 1, "extra": true}', JSON, 400),
        ("POST", "/api/v1/cart/items", b"null", JSON, 400),
        ("POST", "/api/v1/cart/items", b'"text"', JSON, 400),
        ("POST", "/api/v1/cart/items", b'{"food_item_id": 99999}', JSON, 400),
        ("GET", "/api/v1/orders/abc", b"", {}, 404),
        ("GET", "/api/v1/orders/99999999999999999999", b"", {}, 404),
        ("GET", "/api/v1/orders/%C2%B2", b"", {}, 404),
        ("GET", "/api/v1/nowhere", b"", {}, 404),
        ("DELETE", "/api/v1/menu", b"", {}, 405),
        ("PUT", CHECKOUT, b"{}", JSON, 405),
    ],
)
def test_malformed_requests_are_4xx_json_without_internals(
    shop: ShopProcess, method: str, path: str, content: bytes, headers: dict, status: int
) -> None:
    response = shop.request(method, path, "alice", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert isinstance(response.json()["error"], str)
    assert not LEAKS.search(response.text), response.text


def test_a_lying_content_length_or_chunked_oversize_is_refused(shop: ShopProcess) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(80):
            yield b"x" * 1024

    response = shop.request("POST", CHECKOUT, "alice", content=chunks(), headers=JSON)
    assert response.status_code == 413


# --- card data and secrets ---------------------------------------------------------------------


def test_card_numbers_sent_by_a_client_are_neither_logged_nor_stored(shop: ShopProcess) -> None:
    body = {
        "items": [{"food_item_id": 1, "quantity": 1, "card_number": CARDS[3]}],
        "card_number": CARDS[0],
        "card": {"number": "4000 0566 5566 5556", "cvc": "123", "exp_month": 12, "exp_year": 2030},
        "note": "leave at the door; my card is 5555-5555-5555-4444",
    }
    response = shop.post(CHECKOUT, "bob", json=body, headers={"Idempotency-Key": "card-test"})
    assert response.status_code == 200, response.text
    order = shop.order(response.json()["order_id"], "bob")
    assert order["note"] == "leave at the door; my card is [card number removed]"
    texts = {"response": response.text, "log": shop.log_text(), "db": shop.database_dump()}
    for where, text in texts.items():
        digits = re.sub(r"[ -]", "", text)
        for card in CARDS:
            assert card not in digits, f"{card} in the {where}"
    dropped = [r for r in shop.log_records() if r["event"] == "card_data_dropped"][-1]
    assert set(dropped["fields"]) == {"card_number", "card", "items[0].card_number"}


def test_secrets_are_never_logged_in_full(shop: ShopProcess) -> None:
    log = shop.log_text()
    assert shopkit.SECRET_KEY not in log and shop.webhook_secret not in log
    [config] = [r for r in shop.log_records() if r["event"] == "config"]
    assert config["stripe_secret_key"].endswith(shopkit.SECRET_KEY[-4:])
