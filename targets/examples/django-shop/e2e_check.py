#!/usr/bin/env python
"""End to end: the example shop against golive's Stripe sandbox, all on 127.0.0.1.

    .venv/bin/python targets/examples/django-shop/e2e_check.py [--server runserver|uvicorn]

1. starts golive's sandbox (in this process, a free port) and registers a webhook
   endpoint for the shop's /hooks/stripe/ (its whsec_ secret becomes the shop's);
2. resets the database (manage.py reset_demo; golive_django_shop_e2e unless
   --database-url says otherwise) and starts the shop on a free port;
3. signs `ada` in through the HTML login form with its CSRF token, creates and fills a
   basket, checks out (with a tampered amount the shop must ignore, and an
   Idempotency-Key it must honour), pays the Checkout Session through the sandbox's admin
   route (as the hosted page would), waits for the webhook to mark the purchase paid,
   redelivers the same event (no second effect), refunds and waits for `refunded`;
4. refuses a forged (unsigned, and wrongly signed) checkout.session.completed with 400,
   and has the customer of a second purchase declined (failed) before paying (paid);
5. stops the shop and the sandbox.

Prints one line per check and "N passed, M failed"; exits 1 on a failure.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import stripe

from golive.sandbox import Sandbox

HERE = Path(__file__).resolve().parent
SANDBOX_KEY = "sk_test_golive_django_shop"
WAIT_S = 20.0
TAX_BASIS_POINTS = 825


class CheckFailed(Exception):
    pass


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, condition: bool, what: str, detail: Any = "") -> None:
        if condition:
            self.passed += 1
            print(f"ok    {what}", flush=True)
            return
        self.failed += 1
        print(f"FAIL  {what}" + (f": {detail}" if detail != "" else ""), flush=True)
        raise CheckFailed(what)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def sign(payload: bytes, secret: str) -> str:
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def expected_total(lines: list[tuple[int, int]]) -> tuple[int, int, int]:
    subtotal = sum(unit * qty for unit, qty in lines)
    tax = (subtotal * TAX_BASIS_POINTS + 5_000) // 10_000
    return subtotal, tax, subtotal + tax


class Shop:
    """The Django app in a child process of its own (its own process group)."""

    def __init__(self, server: str, port: int, env: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        python = sys.executable
        if server == "uvicorn":
            command = [python, "-m", "uvicorn", "config.asgi:application"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
        else:
            command = [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=HERE,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_healthy(self) -> bool:
        def healthy() -> bool:
            if self.process.poll() is not None:
                return True  # exited: stop waiting, the check below says so
            try:
                return httpx.get(f"{self.url}/health/", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 30)
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._out.close()


def login(shop_url: str, username: str) -> tuple[httpx.Client, int, str]:
    """Sign in through the HTML form; (client, status of the POST, csrftoken)."""
    client = httpx.Client(base_url=shop_url, timeout=10, follow_redirects=False)
    page = client.get("/accounts/login/")
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    token = found.group(1) if found else ""
    answer = client.post(
        "/accounts/login/",
        data={"username": username, "password": f"pw-{username}", "csrfmiddlewaretoken": token},
    )
    # The login rotates the CSRF token: the API takes the new cookie's value.
    return client, answer.status_code, client.cookies.get("csrftoken", "")


def run(args: argparse.Namespace, report: Report, workdir: Path) -> None:
    check = report.check
    shop_port = free_port()
    shop_url = f"http://127.0.0.1:{shop_port}"

    with Sandbox() as sandbox:
        stripe_client = stripe.StripeClient(
            SANDBOX_KEY, base_addresses={"api": sandbox.url}, max_network_retries=0
        )
        endpoint = stripe_client.v1.webhook_endpoints.create(
            params={"url": f"{shop_url}/hooks/stripe/", "enabled_events": ["*"]}
        )
        webhook_secret = endpoint.secret
        check(webhook_secret.startswith("whsec_"), f"sandbox on {sandbox.url}, endpoint registered")

        env = {
            **os.environ,
            "DATABASE_URL": args.database_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "0",
            "SHOP_SECURE_COOKIES": "0",  # plain HTTP on 127.0.0.1
            "STRIPE_SECRET_KEY": SANDBOX_KEY,
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "STRIPE_API_BASE": sandbox.url,
            "SHOP_PUBLIC_URL": shop_url,
            "SHOP_LOG_FILE": str(workdir / "shop.log"),
        }
        reset = subprocess.run(
            [sys.executable, "manage.py", "reset_demo"],
            cwd=HERE,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        check(reset.returncode == 0, "manage.py reset_demo", reset.stderr[-2000:])

        shop = Shop(args.server, shop_port, env, workdir / "server.out")
        failing = True
        try:
            check(shop.wait_healthy(), f"shop ({args.server}) healthy on {shop_url}")
            exercise(report, shop_url, sandbox, stripe_client, webhook_secret, args)
            failing = False
        finally:
            shop.stop()
            if failing or args.verbose:
                for name in ("server.out", "shop.log"):
                    path = workdir / name
                    if path.exists():
                        print(f"--- {name} (last lines) ---")
                        print("\n".join(path.read_text(errors="replace").splitlines()[-40:]))
        check(shop.process.returncode is not None, "shop stopped")


def exercise(
    report: Report,
    shop_url: str,
    sandbox: Sandbox,
    stripe_client: stripe.StripeClient,
    webhook_secret: str,
    args: argparse.Namespace,
) -> None:
    check = report.check
    anonymous = httpx.Client(base_url=shop_url, timeout=10, follow_redirects=False)
    me = anonymous.get("/store/api/me/")
    check(me.status_code == 401 and "error" in me.json(), "anonymous API call: 401 JSON", me)

    ada, status, csrf = login(shop_url, "ada")
    check(status == 302 and "sessionid" in ada.cookies, "ada signs in through the form", status)
    check(ada.get("/store/api/me/").json()["user"]["username"] == "ada", "GET /store/api/me/")
    headers = {"X-CSRFToken": csrf}
    no_csrf = ada.post("/store/api/baskets/", json={})
    check(no_csrf.status_code == 403, "an unsafe call without X-CSRFToken: 403", no_csrf)

    catalog = {p["sku"]: p for p in ada.get("/store/api/catalog/").json()["products"]}
    check({"TEA-SENCHA", "TIN-CADDY"} <= set(catalog), "catalog lists the seeded products")

    made = ada.post("/store/api/baskets/", json={}, headers=headers)
    check(made.status_code == 201, "basket created", made)
    ref = made.json()["basket"]["ref"]
    for sku, qty in (("TEA-SENCHA", 2), ("TIN-CADDY", 1), ("FILTER-100", 3)):
        # A unit_amount sent along is ignored: the price is the catalog's.
        added = ada.post(
            f"/store/api/baskets/{ref}/lines/",
            json={"sku": sku, "qty": qty, "unit_amount": 1},
            headers=headers,
        )
        check(added.status_code == 201, f"line {sku} x{qty} added", added)
    removed = ada.delete(f"/store/api/baskets/{ref}/lines/FILTER-100/", headers=headers)
    check(removed.status_code == 200, "line FILTER-100 removed", removed)
    basket = ada.get(f"/store/api/baskets/{ref}/").json()["basket"]
    lines = [(line["sku"], line["qty"], line["unit_amount"]) for line in basket["lines"]]
    wanted = [
        ("TEA-SENCHA", 2, catalog["TEA-SENCHA"]["unit_amount"]),
        ("TIN-CADDY", 1, catalog["TIN-CADDY"]["unit_amount"]),
    ]
    check(lines == wanted, "basket lines carry the catalog's prices", lines)
    subtotal, tax, total = expected_total([(unit, qty) for _, qty, unit in wanted])

    key = f"e2e-{secrets.token_hex(8)}"
    answer = ada.post(
        f"/store/api/baskets/{ref}/checkout/",
        json={"amount": 1, "total": 1, "total_cents": 1},
        headers={**headers, "Idempotency-Key": key},
    )
    check(answer.status_code == 201, "checkout: 201", answer)
    body = answer.json()
    purchase_ref, session_id = body["purchase"]["ref"], body["checkout"]["session_id"]
    check(
        body["purchase"]["state"] == "pending" and session_id.startswith("cs_"),
        f"checkout: purchase {purchase_ref} pending, session {session_id}",
        body,
    )
    session = stripe_client.v1.checkout.sessions.retrieve(session_id)
    check(
        session.amount_total == total and session.mode == "payment",
        f"the session charges the server's total {total} (subtotal {subtotal} + tax {tax}), "
        "not the client's 1",
        session.amount_total,
    )
    check(
        session.client_reference_id == purchase_ref
        and session.metadata["purchase_ref"] == purchase_ref,
        "the session names the purchase (client_reference_id, metadata)",
    )
    replay = ada.post(
        f"/store/api/baskets/{ref}/checkout/",
        json={},
        headers={**headers, "Idempotency-Key": key},
    )
    check(
        replay.status_code == 200 and replay.json()["checkout"]["session_id"] == session_id,
        "the same Idempotency-Key answers the same session",
        replay,
    )

    # A second, pending purchase for the forged webhooks to aim at.
    other_ref = ada.post("/store/api/baskets/", json={}, headers=headers).json()["basket"]["ref"]
    ada.post(f"/store/api/baskets/{other_ref}/lines/", json={"sku": "MUG-STONE"}, headers=headers)
    other = ada.post(f"/store/api/baskets/{other_ref}/checkout/", json={}, headers=headers).json()
    forged = json.dumps(
        {
            "id": "evt_forged_1",
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": other["checkout"]["session_id"],
                    "object": "checkout.session",
                    "status": "complete",
                    "payment_status": "paid",
                    "amount_total": 1,
                }
            },
        }
    ).encode()
    unsigned = anonymous.post(
        "/hooks/stripe/", content=forged, headers={"Content-Type": "application/json"}
    )
    check(unsigned.status_code == 400, "a forged, unsigned webhook: 400", unsigned)
    badly = anonymous.post(
        "/hooks/stripe/",
        content=forged,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(forged, "whsec_not_the_shops"),
        },
    )
    check(badly.status_code == 400, "a webhook signed with another secret: 400", badly)
    still = ada.get(f"/store/api/purchases/{other['purchase']['ref']}/").json()["purchase"]
    check(still["state"] == "pending", "the forged events changed nothing", still["state"])

    # The customer of that second purchase is declined first, then pays with another card
    # on the same page: failed, then paid.
    other_ref = other["purchase"]["ref"]
    try:
        sandbox.complete_checkout_session(other["checkout"]["session_id"], "pm_card_chargeDeclined")
        declined = None
    except httpx.HTTPStatusError as exc:
        declined = exc.response.status_code
    check(declined == 402, "a declined card on the hosted page: 402 card error", declined)

    def state_of(ref: str) -> str:
        return ada.get(f"/store/api/purchases/{ref}/").json()["purchase"]["state"]

    failed = wait_for(lambda: state_of(other_ref) == "failed")
    check(bool(failed), "payment_intent.payment_failed marked it failed", state_of(other_ref))
    sandbox.complete_checkout_session(other["checkout"]["session_id"])
    repaid = wait_for(lambda: state_of(other_ref) == "paid")
    check(bool(repaid), "paid on the second try: paid", state_of(other_ref))

    sandbox.complete_checkout_session(session_id)
    check(True, "the sandbox paid the session (its hosted-page admin route)")

    def purchase() -> dict[str, Any]:
        return ada.get(f"/store/api/purchases/{purchase_ref}/").json()["purchase"]

    paid = wait_for(lambda: (p := purchase())["state"] == "paid" and p)
    check(bool(paid), "the webhook marked the purchase paid", purchase()["state"])
    check(
        (paid["subtotal_cents"], paid["tax_cents"], paid["total_cents"]) == (subtotal, tax, total)
        and paid["payment_intent"]
        and paid["payment_intent"].startswith("pi_"),
        f"purchase: {subtotal} + {tax} = {total}, payment intent {paid['payment_intent']}",
        paid,
    )
    intent = stripe_client.v1.payment_intents.retrieve(paid["payment_intent"])
    check(
        intent.amount == total
        and intent.metadata["total_cents"] == str(total)
        and intent.metadata["purchase_ref"] == purchase_ref,
        "the PaymentIntent carries the amount and the price snapshot",
        intent.metadata.to_dict(),
    )

    # Stripe delivers at least once: the same event again must change nothing.
    completed = next(
        e
        for e in stripe_client.v1.events.list(params={"type": "checkout.session.completed"})
        if e.data.object["id"] == session_id
    )
    payload = json.dumps(completed.to_dict()).encode()
    again = anonymous.post(
        "/hooks/stripe/",
        content=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload, webhook_secret),
        },
    )
    check(
        again.status_code == 200 and again.json().get("duplicate") is True,
        "a redelivered event: 200, recognised as a duplicate",
        again,
    )
    with psycopg.connect(args.database_url) as db:
        counts = db.execute(
            "SELECT (SELECT count(*) FROM store_paymentrecord r JOIN store_purchase p "
            "ON p.id = r.purchase_id WHERE p.ref = %s), "
            "(SELECT count(*) FROM store_notice n JOIN store_purchase p "
            "ON p.id = n.purchase_id WHERE p.ref = %s), "
            "(SELECT min(r.charge_id) FROM store_paymentrecord r JOIN store_purchase p "
            "ON p.id = r.purchase_id WHERE p.ref = %s)",
            (purchase_ref, purchase_ref, purchase_ref),
        ).fetchone()
    check(counts[:2] == (1, 1), "one PaymentRecord and one Notice for the purchase", counts)
    check(
        (counts[2] or "").startswith("ch_"),
        f"the PaymentRecord holds the charge id {counts[2]}",
        counts,
    )

    grace, status, _ = login(shop_url, "grace")
    theirs = grace.get(f"/store/api/purchases/{purchase_ref}/")
    check(status == 302 and theirs.status_code == 404, "another user gets 404 for it", theirs)

    refund = ada.post(f"/store/api/purchases/{purchase_ref}/refund/", json={}, headers=headers)
    check(refund.status_code == 202, "refund requested: 202", refund)
    refunded = wait_for(lambda: purchase()["state"] == "refunded")
    check(bool(refunded), "the charge.refunded webhook marked it refunded", purchase()["state"])
    for client in (anonymous, ada, grace):
        client.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["runserver", "uvicorn"], default="runserver")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "E2E_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/golive_django_shop_e2e"
        ),
        help="the database reset_demo drops and recreates (default: golive_django_shop_e2e)",
    )
    parser.add_argument("--verbose", action="store_true", help="print the shop's logs at the end")
    args = parser.parse_args()
    report = Report()
    with tempfile.TemporaryDirectory(prefix="django-shop-e2e-") as tmp:
        try:
            run(args, report, Path(tmp))
        except CheckFailed:
            pass
        except Exception as exc:  # an unexpected error is a failure too, reported as such
            report.failed += 1
            print(f"FAIL  unexpected {type(exc).__name__}: {exc}", flush=True)
    print(f"{report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
