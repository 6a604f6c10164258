"""The shop's own tests, with Django's test client against a PostgreSQL test database and
Stripe replaced by mocks (e2e_check.py runs the real thing against golive's sandbox).

    DJANGO_SECRET_KEY=test python manage.py test store
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from unittest import mock

import stripe
from django.contrib.auth import get_user_model
from django.test import Client, TestCase, override_settings

from store import pricing, seed
from store.models import (
    Basket,
    Notice,
    PaymentRecord,
    Purchase,
    RateWindow,
    StripeEventReceipt,
)

WHSEC = "whsec_test_example_shop"
API = "/store/api"


def stripe_obj(cls: Any, values: dict[str, Any]) -> Any:
    return cls.construct_from(values, "sk_test_example")


def fake_session(session_id: str = "cs_test_1", url: str = "https://pay.example/cs") -> Any:
    return stripe_obj(stripe.checkout.Session, {"id": session_id, "url": url})


def signed(payload: dict[str, Any], secret: str = WHSEC, at: int | None = None) -> dict:
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "data": body,
        "content_type": "application/json",
        "HTTP_STRIPE_SIGNATURE": f"t={timestamp},v1={mac.hexdigest()}",
    }


def event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1") -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


@override_settings(STRIPE_SECRET_KEY="sk_test_example")
class ShopTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        seed.seed()
        users = get_user_model().objects
        cls.ada = users.get(username="ada")
        cls.grace = users.get(username="grace")

    def setUp(self) -> None:
        self.client.force_login(self.ada)

    def post_json(self, path: str, body: Any = None, client: Client | None = None, **extra: Any):
        return (client or self.client).post(
            path, json.dumps(body if body is not None else {}), "application/json", **extra
        )

    def filled_basket(self, lines: list[tuple[str, int]] = (("TEA-SENCHA", 2),)) -> str:
        ref = self.post_json(f"{API}/baskets/").json()["basket"]["ref"]
        for sku, qty in lines:
            answer = self.post_json(f"{API}/baskets/{ref}/lines/", {"sku": sku, "qty": qty})
            self.assertEqual(answer.status_code, 201, answer.content)
        return ref

    def checked_out(self, lines=(("TEA-SENCHA", 2),), session_id: str = "cs_test_1") -> Purchase:
        ref = self.filled_basket(lines)
        with mock.patch(
            "store.payments.create_checkout_session",
            return_value=fake_session(session_id).to_dict(),
        ):
            answer = self.post_json(f"{API}/baskets/{ref}/checkout/")
        self.assertEqual(answer.status_code, 201, answer.content)
        return Purchase.objects.get(ref=answer.json()["purchase"]["ref"])


class PricingTests(TestCase):
    def test_tax_is_825_basis_points_rounded_half_up_on_the_subtotal(self) -> None:
        self.assertEqual(pricing.tax_cents(1000), 83)  # 82.5
        self.assertEqual(pricing.tax_cents(3490), 288)  # 287.925
        self.assertEqual(pricing.tax_cents(399), 33)  # 32.9175
        self.assertEqual(pricing.tax_cents(200), 17)  # 16.5
        quote = pricing.quote([(1250, 2), (990, 1)])
        self.assertEqual(
            (quote.subtotal_cents, quote.tax_cents, quote.total_cents), (3490, 288, 3778)
        )


class LoginTests(ShopTestCase):
    def setUp(self) -> None:
        self.browser = Client(enforce_csrf_checks=True)

    def form_token(self) -> str:
        page = self.browser.get("/accounts/login/")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, 'name="csrfmiddlewaretoken"')
        return page.cookies["csrftoken"].value

    def test_the_html_form_with_its_csrf_token_signs_in(self) -> None:
        token = self.form_token()
        answer = self.browser.post(
            "/accounts/login/",
            {"username": "ada", "password": "pw-ada", "csrfmiddlewaretoken": token},
        )
        self.assertEqual(answer.status_code, 302)
        self.assertEqual(answer["Location"], "/store/api/me/")
        self.assertIn("sessionid", answer.cookies)
        self.assertTrue(answer.cookies["sessionid"]["httponly"])
        me = self.browser.get(f"{API}/me/")
        self.assertEqual(me.json()["user"]["username"], "ada")
        # Django rotates the CSRF token at login; the API takes the new cookie's value.
        token = self.browser.cookies["csrftoken"].value
        made = self.browser.post(
            f"{API}/baskets/", "{}", "application/json", HTTP_X_CSRFTOKEN=token
        )
        self.assertEqual(made.status_code, 201, made.content)

    def test_a_login_without_the_csrf_token_is_refused(self) -> None:
        self.form_token()
        answer = self.browser.post("/accounts/login/", {"username": "ada", "password": "pw-ada"})
        self.assertEqual(answer.status_code, 403)
        self.assertNotIn("sessionid", answer.cookies)

    def test_a_wrong_password_shows_the_form_again(self) -> None:
        token = self.form_token()
        answer = self.browser.post(
            "/accounts/login/",
            {"username": "ada", "password": "nope", "csrfmiddlewaretoken": token},
        )
        self.assertEqual(answer.status_code, 200)
        self.assertContains(answer, "did not match")
        self.assertNotIn("sessionid", answer.cookies)

    @override_settings(SHOP_LOGIN_FAILURES_PER_15_MIN=3)
    def test_repeated_failures_for_a_username_are_throttled(self) -> None:
        token = self.form_token()
        form = {"username": "grace", "password": "nope", "csrfmiddlewaretoken": token}
        for _ in range(3):
            self.assertEqual(self.browser.post("/accounts/login/", form).status_code, 200)
        form["password"] = "pw-grace"
        self.assertEqual(self.browser.post("/accounts/login/", form).status_code, 429)
        # Another username is not affected.
        other = {"username": "linus", "password": "pw-linus", "csrfmiddlewaretoken": token}
        self.assertEqual(self.browser.post("/accounts/login/", other).status_code, 302)

    def test_the_seeded_pool_signs_in_with_the_password_pattern(self) -> None:
        for name in ("shopper01", "shopper50"):
            self.assertTrue(self.client.login(username=name, password=f"pw-{name}"))
        user = get_user_model().objects.get(username="shopper01")
        self.assertTrue(user.password.startswith("pbkdf2_sha256_demo$2000$"))


class ApiAuthTests(ShopTestCase):
    def setUp(self) -> None:
        self.client = Client(enforce_csrf_checks=True)

    def test_anonymous_calls_answer_401_json_never_a_redirect(self) -> None:
        for method, path in [
            ("get", f"{API}/me/"),
            ("post", f"{API}/baskets/"),
            ("get", f"{API}/baskets/bsk_x/"),
            ("post", f"{API}/baskets/bsk_x/checkout/"),
            ("get", f"{API}/purchases/pur_x/"),
            ("post", f"{API}/purchases/pur_x/refund/"),
        ]:
            answer = getattr(self.client, method)(path)
            self.assertEqual(answer.status_code, 401, path)
            self.assertEqual(answer["Content-Type"], "application/json")
            self.assertIn("error", answer.json())

    def test_unsafe_calls_need_the_csrf_header(self) -> None:
        self.client.force_login(self.ada)
        self.client.get(f"{API}/me/")
        refused = self.post_json(f"{API}/baskets/")
        self.assertEqual(refused.status_code, 403)
        self.assertIn("CSRF", refused.json()["error"])
        wrong = self.post_json(f"{API}/baskets/", HTTP_X_CSRFTOKEN="x" * 32)
        self.assertEqual(wrong.status_code, 403)
        token = self.client.cookies["csrftoken"].value
        self.assertEqual(self.post_json(f"{API}/baskets/", HTTP_X_CSRFTOKEN=token).status_code, 201)
        self.assertEqual(Basket.objects.filter(owner=self.ada).count(), 1)

    def test_the_catalog_is_public(self) -> None:
        products = self.client.get(f"{API}/catalog/").json()["products"]
        self.assertEqual(len(products), len(seed.PRODUCTS))
        self.assertIn({"sku": "TIN-CADDY", "name": "Tea caddy tin", "unit_amount": 1000}, products)

    def test_errors_are_json_without_debug_details(self) -> None:
        answer = self.client.get("/no/such/page/")
        self.assertEqual(answer.status_code, 404)
        self.assertEqual(answer.json(), {"error": "not found"})
        self.assertEqual(self.client.get("/health/").json(), {"status": "ok"})


class BasketTests(ShopTestCase):
    def test_a_basket_is_created_then_filled_and_emptied(self) -> None:
        created = self.post_json(f"{API}/baskets/")
        self.assertEqual(created.status_code, 201)
        ref = created.json()["basket"]["ref"]
        self.post_json(f"{API}/baskets/{ref}/lines/", {"sku": "TEA-SENCHA", "qty": 2})
        self.post_json(f"{API}/baskets/{ref}/lines/", {"sku": "TEA-SENCHA", "qty": 1})
        added = self.post_json(
            f"{API}/baskets/{ref}/lines/", {"sku": "TEA-ASSAM", "qty": 1, "unit_amount": 1}
        )
        self.assertEqual(added.status_code, 201)
        basket = self.client.get(f"{API}/baskets/{ref}/").json()["basket"]
        self.assertEqual(
            [(line["sku"], line["qty"], line["unit_amount"]) for line in basket["lines"]],
            [("TEA-SENCHA", 3, 1250), ("TEA-ASSAM", 1, 990)],
        )
        self.assertEqual(basket["subtotal_cents"], 4740)
        removed = self.client.delete(f"{API}/baskets/{ref}/lines/TEA-SENCHA/")
        self.assertEqual(removed.status_code, 200)
        self.assertEqual([line["sku"] for line in removed.json()["basket"]["lines"]], ["TEA-ASSAM"])
        self.assertEqual(
            self.client.delete(f"{API}/baskets/{ref}/lines/TEA-SENCHA/").status_code, 404
        )

    def test_bad_lines_are_refused(self) -> None:
        ref = self.post_json(f"{API}/baskets/").json()["basket"]["ref"]
        for body in (
            {"sku": "NOPE", "qty": 1},
            {"sku": "TEA-ASSAM", "qty": 0},
            {"sku": "TEA-ASSAM", "qty": -2},
            {"sku": "TEA-ASSAM", "qty": 1.5},
            {"sku": "TEA-ASSAM", "qty": "2"},
            {"sku": "TEA-ASSAM", "qty": 100},
            {"qty": 1},
        ):
            self.assertEqual(
                self.post_json(f"{API}/baskets/{ref}/lines/", body).status_code, 400, body
            )
        broken = self.client.post(f"{API}/baskets/{ref}/lines/", "{nope", "application/json")
        self.assertEqual(broken.status_code, 400)

    def test_someone_elses_basket_is_not_found(self) -> None:
        ref = self.filled_basket()
        self.client.force_login(self.grace)
        self.assertEqual(self.client.get(f"{API}/baskets/{ref}/").status_code, 404)
        line = {"sku": "TEA-ASSAM", "qty": 1}
        self.assertEqual(self.post_json(f"{API}/baskets/{ref}/lines/", line).status_code, 404)
        self.assertEqual(
            self.client.delete(f"{API}/baskets/{ref}/lines/TEA-SENCHA/").status_code, 404
        )
        self.assertEqual(self.post_json(f"{API}/baskets/{ref}/checkout/").status_code, 404)


class CheckoutTests(ShopTestCase):
    def test_checkout_prices_on_the_server_and_opens_a_checkout_session(self) -> None:
        ref = self.filled_basket([("TEA-SENCHA", 2), ("TEA-ASSAM", 1)])
        with mock.patch("stripe.checkout.Session.create", return_value=fake_session()) as create:
            answer = self.post_json(
                f"{API}/baskets/{ref}/checkout/",
                {"amount": 1, "total": 1, "total_cents": 1, "currency": "jpy"},
                HTTP_IDEMPOTENCY_KEY="client-key-1",
            )
        self.assertEqual(answer.status_code, 201, answer.content)
        body = answer.json()
        self.assertEqual(body["purchase"]["state"], "pending")
        self.assertEqual(
            body["checkout"], {"session_id": "cs_test_1", "url": "https://pay.example/cs"}
        )
        purchase = Purchase.objects.get(ref=body["purchase"]["ref"])
        self.assertEqual(
            (purchase.subtotal_cents, purchase.tax_cents, purchase.total_cents), (3490, 288, 3778)
        )
        self.assertEqual(purchase.checkout_session_id, "cs_test_1")
        params = create.call_args.kwargs
        self.assertEqual(params["mode"], "payment")
        self.assertEqual(params["client_reference_id"], purchase.ref)
        self.assertEqual(params["metadata"], {"purchase_ref": purchase.ref})
        self.assertEqual(
            params["payment_intent_data"]["metadata"],
            {
                "purchase_ref": purchase.ref,
                "subtotal_cents": "3490",
                "tax_cents": "288",
                "total_cents": "3778",
            },
        )
        amounts = [
            (item["price_data"]["unit_amount"], item["quantity"], item["price_data"]["currency"])
            for item in params["line_items"]
        ]
        self.assertEqual(amounts, [(1250, 2, "usd"), (990, 1, "usd"), (288, 1, "usd")])
        self.assertEqual(sum(a * q for a, q, _ in amounts), 3778)
        self.assertTrue(params["idempotency_key"].startswith("checkout-"))
        self.assertNotIn("client-key-1", params["idempotency_key"])
        self.assertIn("{CHECKOUT_SESSION_ID}", params["success_url"])
        self.assertEqual(Basket.objects.get(ref=ref).state, "checked_out")

        # The same Idempotency-Key again: the same purchase and session, no second call.
        with mock.patch("stripe.checkout.Session.create") as again:
            replay = self.post_json(
                f"{API}/baskets/{ref}/checkout/", HTTP_IDEMPOTENCY_KEY="client-key-1"
            )
        self.assertEqual(replay.status_code, 200)
        self.assertEqual(replay.json(), body)
        again.assert_not_called()
        # A new key for a checked-out basket: refused.
        second = self.post_json(f"{API}/baskets/{ref}/checkout/", HTTP_IDEMPOTENCY_KEY="key-2")
        self.assertEqual(second.status_code, 409)
        self.assertEqual(Purchase.objects.count(), 1)

    def test_an_idempotency_key_is_the_users_own(self) -> None:
        self.checked_out()
        mine = Purchase.objects.get()
        self.client.force_login(self.grace)
        ref = self.filled_basket()
        with mock.patch(
            "store.payments.create_checkout_session",
            return_value=fake_session("cs_test_2").to_dict(),
        ):
            answer = self.post_json(f"{API}/baskets/{ref}/checkout/", HTTP_IDEMPOTENCY_KEY="k")
        self.assertEqual(answer.status_code, 201)
        self.assertNotEqual(answer.json()["purchase"]["ref"], mine.ref)

    def test_an_empty_basket_is_not_checked_out(self) -> None:
        ref = self.post_json(f"{API}/baskets/").json()["basket"]["ref"]
        with mock.patch("store.payments.create_checkout_session") as create:
            self.assertEqual(self.post_json(f"{API}/baskets/{ref}/checkout/").status_code, 400)
        create.assert_not_called()

    def test_a_stripe_failure_answers_502_and_reopens_the_basket(self) -> None:
        ref = self.filled_basket()
        with mock.patch(
            "stripe.checkout.Session.create", side_effect=stripe.APIConnectionError("down")
        ):
            answer = self.post_json(f"{API}/baskets/{ref}/checkout/")
        self.assertEqual(answer.status_code, 502)
        self.assertEqual(Purchase.objects.get().state, "failed")
        self.assertEqual(Basket.objects.get(ref=ref).state, "open")

    def test_with_an_idempotency_key_a_failed_call_is_resumed_by_the_retry(self) -> None:
        ref = self.filled_basket()
        with mock.patch(
            "stripe.checkout.Session.create", side_effect=stripe.APIConnectionError("down")
        ):
            first = self.post_json(f"{API}/baskets/{ref}/checkout/", HTTP_IDEMPOTENCY_KEY="r1")
        self.assertEqual(first.status_code, 502)
        with mock.patch("stripe.checkout.Session.create", return_value=fake_session()) as create:
            retry = self.post_json(f"{API}/baskets/{ref}/checkout/", HTTP_IDEMPOTENCY_KEY="r1")
        self.assertEqual(retry.status_code, 201)
        self.assertEqual(Purchase.objects.count(), 1)
        self.assertEqual(Purchase.objects.get().checkout_session_id, "cs_test_1")
        self.assertEqual(create.call_count, 1)

    @override_settings(SHOP_CHECKOUT_RATE_PER_MIN=3)
    def test_checkout_is_rate_limited_per_user(self) -> None:
        ref = self.post_json(f"{API}/baskets/").json()["basket"]["ref"]
        statuses = [self.post_json(f"{API}/baskets/{ref}/checkout/").status_code for _ in range(4)]
        self.assertEqual(statuses, [400, 400, 400, 429])
        self.assertTrue(RateWindow.objects.exists())
        self.client.force_login(self.grace)
        self.assertEqual(self.post_json(f"{API}/baskets/{ref}/checkout/").status_code, 404)


@override_settings(STRIPE_WEBHOOK_SECRET=WHSEC, STRIPE_SECRET_KEY="sk_test_example")
class WebhookTests(ShopTestCase):
    hook = "/hooks/stripe/"

    def paid_session(self, purchase: Purchase, **changes: Any) -> Any:
        values = {
            "id": purchase.checkout_session_id,
            "object": "checkout.session",
            "status": "complete",
            "payment_status": "paid",
            "amount_total": purchase.total_cents,
            "currency": "usd",
            "client_reference_id": purchase.ref,
            "metadata": {"purchase_ref": purchase.ref},
            "payment_intent": {
                "id": "pi_test_1",
                "object": "payment_intent",
                "status": "succeeded",
                "amount": purchase.total_cents,
                "latest_charge": "ch_test_1",
            },
        }
        values.update(changes)
        return stripe_obj(stripe.checkout.Session, values)

    def deliver(self, payload: dict[str, Any], **kwargs: Any):
        return Client().post(self.hook, **signed(payload, **kwargs))

    def test_unsigned_or_badly_signed_events_are_refused_without_effect(self) -> None:
        purchase = self.checked_out()
        payload = event("checkout.session.completed", {"id": purchase.checkout_session_id})
        with mock.patch("stripe.checkout.Session.retrieve") as retrieve:
            unsigned = Client().post(self.hook, json.dumps(payload), "application/json")
            wrong = self.deliver(payload, secret="whsec_someone_else")
            stale = self.deliver(payload, at=int(time.time()) - 3600)
        self.assertEqual(
            (unsigned.status_code, wrong.status_code, stale.status_code), (400, 400, 400)
        )
        retrieve.assert_not_called()
        self.assertFalse(StripeEventReceipt.objects.exists())
        self.assertEqual(Purchase.objects.get().state, "pending")

    def test_a_completed_session_is_fetched_again_and_pays_the_purchase_once(self) -> None:
        purchase = self.checked_out()
        payload = event("checkout.session.completed", {"id": purchase.checkout_session_id})
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ) as retrieve:
            first = self.deliver(payload)
            again = self.deliver(payload)
        self.assertEqual(first.status_code, 200)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), {"received": True, "duplicate": True})
        retrieve.assert_called_once_with(
            purchase.checkout_session_id, api_key="sk_test_example", expand=["payment_intent"]
        )
        purchase.refresh_from_db()
        self.assertEqual(purchase.state, "paid")
        self.assertEqual(purchase.payment_intent_id, "pi_test_1")
        self.assertEqual(
            list(PaymentRecord.objects.values_list("purchase", "charge_id", "amount_cents")),
            [(purchase.pk, "ch_test_1", purchase.total_cents)],
        )
        self.assertEqual(Notice.objects.filter(purchase=purchase).count(), 1)
        # Another event for the same payment changes nothing either.
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            self.deliver(event("checkout.session.completed", payload["data"]["object"], "evt_2"))
        self.assertEqual(PaymentRecord.objects.count(), 1)
        self.assertEqual(Notice.objects.count(), 1)
        detail = self.client.get(f"{API}/purchases/{purchase.ref}/").json()["purchase"]
        self.assertEqual(detail["state"], "paid")
        self.assertEqual(detail["payment_intent"], "pi_test_1")
        self.assertEqual(detail["total_cents"], 2706)  # 2500 + 206.25 -> 206
        self.assertEqual(detail["lines"][0]["sku"], "TEA-SENCHA")

    def test_a_session_for_another_amount_does_not_pay(self) -> None:
        purchase = self.checked_out()
        payload = event("checkout.session.completed", {"id": purchase.checkout_session_id})
        for changes in (
            {"amount_total": 1},
            {"payment_status": "unpaid", "status": "open"},
            {"currency": "eur"},
            {"metadata": {"purchase_ref": "pur_other"}},
        ):
            StripeEventReceipt.objects.all().delete()
            with mock.patch(
                "stripe.checkout.Session.retrieve",
                return_value=self.paid_session(purchase, **changes),
            ):
                self.assertEqual(self.deliver(payload).status_code, 200)
            purchase.refresh_from_db()
            self.assertEqual(purchase.state, "pending", changes)
        self.assertFalse(PaymentRecord.objects.exists())
        self.assertFalse(Notice.objects.exists())

    def test_a_stripe_outage_during_processing_asks_for_redelivery(self) -> None:
        purchase = self.checked_out()
        payload = event("checkout.session.completed", {"id": purchase.checkout_session_id})
        with mock.patch(
            "stripe.checkout.Session.retrieve", side_effect=stripe.APIConnectionError("down")
        ):
            self.assertEqual(self.deliver(payload).status_code, 500)
        self.assertFalse(StripeEventReceipt.objects.exists())
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            self.assertEqual(self.deliver(payload).status_code, 200)
        purchase.refresh_from_db()
        self.assertEqual(purchase.state, "paid")

    def test_a_failed_payment_marks_the_purchase_failed(self) -> None:
        purchase = self.checked_out()
        intent = {
            "id": "pi_f",
            "object": "payment_intent",
            "metadata": {"purchase_ref": purchase.ref},
        }
        with mock.patch(
            "stripe.PaymentIntent.retrieve",
            return_value=stripe_obj(
                stripe.PaymentIntent, {**intent, "status": "requires_payment_method"}
            ),
        ):
            self.assertEqual(
                self.deliver(event("payment_intent.payment_failed", intent)).status_code, 200
            )
        purchase.refresh_from_db()
        self.assertEqual(purchase.state, "failed")

    def test_a_refunded_charge_marks_the_purchase_refunded(self) -> None:
        purchase = self.checked_out()
        Purchase.objects.filter(pk=purchase.pk).update(state="paid", payment_intent_id="pi_r")
        charge = {"id": "ch_r", "object": "charge", "payment_intent": "pi_r", "amount": 2706}
        fetched = stripe_obj(stripe.Charge, {**charge, "refunded": True, "amount_refunded": 2706})
        with mock.patch("stripe.Charge.retrieve", return_value=fetched):
            self.assertEqual(self.deliver(event("charge.refunded", charge)).status_code, 200)
        purchase.refresh_from_db()
        self.assertEqual(purchase.state, "refunded")

    def test_unknown_events_are_acknowledged(self) -> None:
        answer = self.deliver(event("customer.created", {"id": "cus_1"}, "evt_u"))
        self.assertEqual(answer.status_code, 200)
        self.assertTrue(StripeEventReceipt.objects.filter(event_id="evt_u").exists())


@override_settings(STRIPE_SECRET_KEY="sk_test_example")
class PurchaseTests(ShopTestCase):
    def test_a_purchase_is_its_owners_only(self) -> None:
        purchase = self.checked_out()
        self.assertEqual(self.client.get(f"{API}/purchases/{purchase.ref}/").status_code, 200)
        listed = self.client.get(f"{API}/purchases/").json()["purchases"]
        self.assertEqual([p["ref"] for p in listed], [purchase.ref])
        self.client.force_login(self.grace)
        self.assertEqual(self.client.get(f"{API}/purchases/{purchase.ref}/").status_code, 404)
        self.assertEqual(self.post_json(f"{API}/purchases/{purchase.ref}/refund/").status_code, 404)
        self.assertEqual(self.client.get(f"{API}/purchases/").json()["purchases"], [])

    def test_only_a_paid_purchase_is_refunded_through_stripe(self) -> None:
        purchase = self.checked_out()
        path = f"{API}/purchases/{purchase.ref}/refund/"
        with mock.patch("stripe.Refund.create") as create:
            self.assertEqual(self.post_json(path).status_code, 409)
        create.assert_not_called()
        Purchase.objects.filter(pk=purchase.pk).update(state="paid", payment_intent_id="pi_9")
        refund = stripe_obj(stripe.Refund, {"id": "re_1", "status": "succeeded"})
        with mock.patch("stripe.Refund.create", return_value=refund) as create:
            answer = self.post_json(path)
        self.assertEqual(answer.status_code, 202)
        self.assertEqual(answer.json()["refund"], {"id": "re_1", "status": "succeeded"})
        self.assertEqual(answer.json()["purchase"]["state"], "paid")  # until the webhook
        kwargs = create.call_args.kwargs
        self.assertEqual(kwargs["payment_intent"], "pi_9")
        self.assertEqual(kwargs["idempotency_key"], f"refund-{purchase.ref}")


class LogScrubTests(TestCase):
    def test_keys_signatures_and_card_numbers_never_reach_the_log(self) -> None:
        import logging

        from store.logsafe import ScrubSecrets

        record = logging.LogRecord(
            "store", logging.INFO, __file__, 1, "key %s secret %s sig %s card %s", None, None
        )
        record.args = ("sk_test_abc123", "whsec_xyz", "t=1,v1=" + "ab" * 32, "4242 4242 4242 4242")
        ScrubSecrets().filter(record)
        text = record.getMessage()
        for secret in ("abc123", "whsec_xyz", "ab" * 32, "4242 4242"):
            self.assertNotIn(secret, text)


class PageTests(ShopTestCase):
    def test_the_return_page_shows_the_owners_purchase_and_changes_nothing(self) -> None:
        purchase = self.checked_out()
        page = self.client.get(f"/store/return/?purchase={purchase.ref}&session_id=cs_test_1")
        self.assertContains(page, "pending")
        purchase.refresh_from_db()
        self.assertEqual(purchase.state, "pending")
        self.client.force_login(self.grace)
        self.assertEqual(
            self.client.get(f"/store/return/?purchase={purchase.ref}").status_code, 404
        )
        self.client.logout()
        anonymous = self.client.get(f"/store/return/?purchase={purchase.ref}")
        self.assertEqual(anonymous.status_code, 302)
        self.assertTrue(anonymous["Location"].startswith("/accounts/login/"))

    def test_logout_is_a_post(self) -> None:
        self.assertEqual(self.client.post("/accounts/logout/").status_code, 302)
        self.assertEqual(self.client.get(f"{API}/me/").status_code, 401)
