"""Each blind flaw (flaws.yaml, README.md "Blind flaws"), shown ON and shown OFF.

    DJANGO_SECRET_KEY=test python manage.py test store      # with TEA_SHOP_FLAWS unset

Flaws are switched per test with override_settings(FLAWS=...); the two realized in the
schema (migrations 0005/0006, golive/prepare.py) are applied inside the test's transaction,
which PostgreSQL rolls back with everything else.
"""

from __future__ import annotations

import ast
import importlib
import json
import logging.config
import os
import runpy
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

import stripe
from django.conf import settings
from django.db import connection
from django.test import Client, TestCase, override_settings

from store.models import Basket, Notice, PaymentRecord, Purchase, StripeEventReceipt
from store.tests import (
    API,
    WHSEC,
    ShopTestCase,
    event,
    fake_session,
    signed,
    stripe_obj,
)

APP = Path(__file__).resolve().parent.parent
PAN = "4242 4242 4242 4242"


def flawed(*names: str) -> override_settings:
    return override_settings(FLAWS=frozenset(names))


def indexes_on(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey)
            WHERE t.relname = %s AND a.attname = %s
            """,
            [table, column],
        )
        return sorted(row[0] for row in cursor.fetchall())


def index_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone() is not None


def migration(name: str) -> Any:
    return importlib.import_module(f"store.migrations.{name}")


class CatalogueTests(TestCase):
    def test_no_flaw_is_on_by_default_and_the_catalogue_names_them_all(self) -> None:
        if not os.environ.get("TEA_SHOP_FLAWS"):
            self.assertEqual(settings.FLAWS, frozenset())
        catalogue = APP / "flaws.yaml"
        if not catalogue.exists():  # golive's copy of the app (.build/app) has no catalogue
            self.skipTest("flaws.yaml is not next to this copy of the app")
        import yaml

        flaws = yaml.safe_load(catalogue.read_text())["flaws"]
        self.assertEqual(set(flaws), set(settings.KNOWN_FLAWS))


@override_settings(STRIPE_WEBHOOK_SECRET=WHSEC, STRIPE_SECRET_KEY="sk_test_example")
class WebhookFlawTests(ShopTestCase):
    hook = "/hooks/stripe/"

    def paid_session(self, purchase: Purchase) -> Any:
        return stripe_obj(
            stripe.checkout.Session,
            {
                "id": purchase.checkout_session_id,
                "object": "checkout.session",
                "status": "complete",
                "payment_status": "paid",
                "amount_total": purchase.total_cents,
                "currency": "usd",
                "metadata": {"purchase_ref": purchase.ref},
                "payment_intent": {
                    "id": "pi_test_1",
                    "object": "payment_intent",
                    "status": "succeeded",
                    "amount": purchase.total_cents,
                    "latest_charge": "ch_test_1",
                },
            },
        )

    def completed(self, purchase: Purchase, event_id: str = "evt_1") -> dict[str, Any]:
        return event("checkout.session.completed", {"id": purchase.checkout_session_id}, event_id)

    def post_raw(self, body: bytes, **headers: str):
        return Client().post(self.hook, body, "application/json", **headers)

    # 1. signature bypass ---------------------------------------------------------------

    def test_relay_attested_header_skips_the_signature(self) -> None:
        purchase = self.checked_out()
        body = json.dumps(self.completed(purchase)).encode()
        forged = {"HTTP_X_HOOKRELAY_VERIFIED": "true"}
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            answer_off = self.post_raw(body, **forged)
            with flawed("relay-attested"):
                hint = self.post_raw(body, HTTP_STRIPE_SIGNATURE="t=1,v1=00")
                answer_on = self.post_raw(body, **forged)
        self.assertEqual(answer_off.status_code, 400)
        self.assertNotIn("X-Webhook-Auth", answer_off)
        self.assertEqual(hint.status_code, 400)
        self.assertIn("x-hookrelay-verified", hint["X-Webhook-Auth"])
        self.assertEqual(answer_on.status_code, 200, answer_on.content)
        purchase.refresh_from_db()
        self.assertEqual(purchase.state, "paid")

    def test_v0_testmode_signature_is_taken_unverified(self) -> None:
        purchase = self.checked_out()
        body = json.dumps(self.completed(purchase)).encode()  # livemode: false
        fake = {"HTTP_STRIPE_SIGNATURE": f"t={int(time.time())},v0={'0' * 64}"}
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            answer_off = self.post_raw(body, **fake)
            with flawed("v0-testmode"):
                answer_on = self.post_raw(body, **fake)
                hint = self.post_raw(body, HTTP_STRIPE_SIGNATURE="t=1,v1=00")
        self.assertEqual(answer_off.status_code, 400)
        self.assertEqual(answer_off.json(), {"error": "invalid signature"})
        self.assertIn("v0", hint.json()["error"])
        self.assertEqual(answer_on.status_code, 200, answer_on.content)
        purchase.refresh_from_db()
        self.assertEqual(purchase.state, "paid")

    # 2. replay window -----------------------------------------------------------------

    def test_retry_horizon_accepts_a_two_day_old_signature(self) -> None:
        purchase = self.checked_out()
        payload = self.completed(purchase)
        old = int(time.time()) - 2 * 24 * 3600
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            answer_off = Client().post(self.hook, **signed(payload, at=old))
            with flawed("retry-horizon"):
                answer_on = Client().post(self.hook, **signed(payload, at=old))
                too_old = Client().post(
                    self.hook, **signed(self.completed(purchase, "evt_9"), at=old - 2 * 86400)
                )
        self.assertEqual(answer_off.status_code, 400)
        self.assertEqual(answer_on.status_code, 200)
        self.assertEqual(too_old.status_code, 400)  # still a bound: about three days

    # 3. raw body ------------------------------------------------------------------------

    def test_reformat_fallback_accepts_a_body_that_is_not_the_signed_bytes(self) -> None:
        purchase = self.checked_out()
        payload = self.completed(purchase)
        # Signed over Python's default encoding; delivered pretty-printed (other bytes).
        sig = signed(payload)["HTTP_STRIPE_SIGNATURE"]
        delivered = json.dumps(payload, indent=2).encode()
        self.assertNotEqual(delivered, json.dumps(payload).encode())
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            answer_off = self.post_raw(delivered, HTTP_STRIPE_SIGNATURE=sig)
            with flawed("reformat-fallback"):
                answer_on = self.post_raw(delivered, HTTP_STRIPE_SIGNATURE=sig)
                genuine = Client().post(self.hook, **signed(self.completed(purchase, "evt_2")))
        self.assertEqual(answer_off.status_code, 400)
        self.assertEqual(answer_on.status_code, 200, answer_on.content)
        self.assertEqual(genuine.status_code, 200)

    # 4. dedup ---------------------------------------------------------------------------

    def deliver_both_events(self, purchase: Purchase) -> None:
        intent = {
            "id": "pi_test_1",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": purchase.total_cents,
            "amount_received": purchase.total_cents,
            "latest_charge": "ch_test_1",
            "metadata": {"purchase_ref": purchase.ref},
        }
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            for payload in (
                event("payment_intent.succeeded", intent, "evt_pi"),
                self.completed(purchase, "evt_cs"),
                self.completed(purchase, "evt_cs"),  # a redelivery, for good measure
            ):
                answer = Client().post(self.hook, **signed(payload))
                self.assertEqual(answer.status_code, 200, answer.content)

    def test_intent_fulfilment_books_one_payment_twice(self) -> None:
        purchase = self.checked_out()
        with flawed("intent-fulfilment"):
            with connection.schema_editor() as editor:  # migration 0005, as with the flaw on
                migration("0005_payment_ledger_per_event").relax(None, editor)
            self.deliver_both_events(purchase)
        self.assertEqual(PaymentRecord.objects.filter(payment_intent_id="pi_test_1").count(), 2)
        self.assertEqual(Notice.objects.filter(purchase=purchase).count(), 2)

    def test_without_intent_fulfilment_one_payment_is_booked_once(self) -> None:
        purchase = self.checked_out()
        with connection.schema_editor() as editor:  # migration 0005 with the flaw off: no-op
            migration("0005_payment_ledger_per_event").relax(None, editor)
        self.deliver_both_events(purchase)
        self.assertEqual(PaymentRecord.objects.filter(payment_intent_id="pi_test_1").count(), 1)
        self.assertEqual(Notice.objects.filter(purchase=purchase).count(), 1)

    # 8. error leakage (webhook) -----------------------------------------------------------

    def test_webhook_postmortem_puts_the_traceback_in_the_answer(self) -> None:
        broken = event("checkout.session.completed", {"object": "checkout.session"}, "evt_b")
        answer_off = Client().post(self.hook, **signed(broken))
        with flawed("webhook-postmortem"):
            answer_on = Client().post(self.hook, **signed({**broken, "id": "evt_c"}))
        self.assertEqual(answer_off.status_code, 500)
        self.assertEqual(answer_off.json(), {"error": "processing failed; deliver again"})
        self.assertEqual(answer_on.status_code, 500)
        body = answer_on.json()
        self.assertIn("KeyError", body["exception"])
        self.assertTrue(any("webhooks.py" in line for line in body["trace"]))
        self.assertIn("Traceback (most recent call last):", body["trace"])

    # 10. slow handler -----------------------------------------------------------------

    def test_settle_pause_holds_the_answer_for_seconds(self) -> None:
        purchase = self.checked_out()
        timings = {}
        with mock.patch(
            "stripe.checkout.Session.retrieve", return_value=self.paid_session(purchase)
        ):
            for name, flaws, event_id in (
                ("off", (), "evt_s1"),
                ("on", ("settle-pause",), "evt_s2"),
            ):
                StripeEventReceipt.objects.all().delete()
                Purchase.objects.filter(pk=purchase.pk).update(state="pending")
                with flawed(*flaws):
                    started = time.monotonic()
                    answer = Client().post(self.hook, **signed(self.completed(purchase, event_id)))
                    timings[name] = time.monotonic() - started
                self.assertEqual(answer.status_code, 200)
        self.assertLess(timings["off"], 1.0)
        self.assertGreaterEqual(timings["on"], 4.5)


@override_settings(STRIPE_SECRET_KEY="sk_test_example")
class ApiFlawTests(ShopTestCase):
    # 5. amount trust ----------------------------------------------------------------------

    def checkout_with(self, body: dict[str, Any]) -> tuple[Purchase, Any]:
        ref = self.filled_basket([("KETTLE-GOOSE", 2)])  # 9998 + 825 tax = 10823
        session = fake_session(f"cs_test_{Purchase.objects.count() + 1}")
        with mock.patch("stripe.checkout.Session.create", return_value=session) as create:
            answer = self.post_json(f"{API}/baskets/{ref}/checkout/", body)
        self.assertEqual(answer.status_code, 201, answer.content)
        return Purchase.objects.get(ref=answer.json()["purchase"]["ref"]), create

    def charged(self, create: Any) -> int:
        items = create.call_args.kwargs["line_items"]
        return sum(i["price_data"]["unit_amount"] * i["quantity"] for i in items)

    def test_price_hold_lets_the_client_set_the_charge(self) -> None:
        hold = {"price_hold": {"net_minor": 100}}
        purchase, create = self.checkout_with(hold)
        self.assertEqual(purchase.total_cents, 10823)
        self.assertEqual(self.charged(create), 10823)
        with flawed("price-hold"):
            purchase, create = self.checkout_with(hold)
        self.assertEqual((purchase.subtotal_cents, purchase.total_cents), (100, 108))
        self.assertEqual(self.charged(create), 108)
        self.assertEqual(purchase.lines.get().qty, 2)  # two kettles, for 1.08

    # 6. IDOR ----------------------------------------------------------------------------

    def test_shared_basket_opens_anyones_basket(self) -> None:
        ref = self.filled_basket()
        self.client.force_login(self.grace)
        line = {"sku": "TEA-ASSAM", "qty": 1}
        self.assertEqual(self.client.get(f"{API}/baskets/{ref}/").status_code, 404)
        self.assertEqual(self.post_json(f"{API}/baskets/{ref}/lines/", line).status_code, 404)
        with flawed("shared-basket"):
            seen = self.client.get(f"{API}/baskets/{ref}/")
            added = self.post_json(f"{API}/baskets/{ref}/lines/", line)
            removed = self.client.delete(f"{API}/baskets/{ref}/lines/TEA-SENCHA/")
        self.assertEqual(seen.status_code, 200)
        self.assertEqual(added.status_code, 201)
        self.assertEqual(removed.status_code, 200)
        basket = Basket.objects.get(ref=ref)
        self.assertEqual(basket.owner, self.ada)
        self.assertEqual([line.product.sku for line in basket.lines.all()], ["TEA-ASSAM"])

    def test_refund_by_ref_refunds_someone_elses_purchase(self) -> None:
        purchase = self.checked_out()
        Purchase.objects.filter(pk=purchase.pk).update(state="paid", payment_intent_id="pi_ada")
        path = f"{API}/purchases/{purchase.ref}/refund/"
        self.client.force_login(self.grace)
        refund = stripe_obj(stripe.Refund, {"id": "re_1", "status": "succeeded"})
        with mock.patch("stripe.Refund.create", return_value=refund) as create:
            off = self.post_json(path)
            create.assert_not_called()
            with flawed("refund-by-ref"):
                on = self.post_json(path)
        self.assertEqual(off.status_code, 404)
        self.assertEqual(on.status_code, 202, on.content)
        self.assertEqual(on.json()["purchase"]["ref"], purchase.ref)
        self.assertEqual(create.call_args.kwargs["payment_intent"], "pi_ada")

    # 7. CORS ----------------------------------------------------------------------------

    def test_partner_widgets_reflect_any_origin_with_credentials(self) -> None:
        evil = "https://evil.example"
        off = self.client.get(f"{API}/me/", HTTP_ORIGIN=evil)
        with flawed("partner-widgets"):
            on = self.client.get(f"{API}/me/", HTTP_ORIGIN=evil)
            preflight = self.client.options(
                f"{API}/baskets/",
                HTTP_ORIGIN=evil,
                HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-csrftoken",
            )
        self.assertNotIn("Access-Control-Allow-Origin", off)
        self.assertEqual(on["Access-Control-Allow-Origin"], evil)
        self.assertEqual(on["Access-Control-Allow-Credentials"], "true")
        self.assertEqual(on.json()["user"]["username"], "ada")
        self.assertEqual(preflight.status_code, 204)
        self.assertEqual(preflight["Access-Control-Allow-Origin"], evil)
        self.assertIn("X-CSRFToken", preflight["Access-Control-Allow-Headers"])

    # 8. error leakage (API) ---------------------------------------------------------------

    def test_api_diagnostics_leak_traceback_database_and_stripe_key(self) -> None:
        client = Client(raise_request_exception=False)
        client.force_login(self.ada)
        ref = self.post_json(f"{API}/baskets/", client=client).json()["basket"]["ref"]
        nul = {"sku": "TEA-ASSAM\u0000", "qty": 1}  # PostgreSQL refuses NUL in text
        off = self.post_json(f"{API}/baskets/{ref}/lines/", nul, client=client)
        with flawed("api-diagnostics"):
            on = self.post_json(f"{API}/baskets/{ref}/lines/", nul, client=client)
        self.assertEqual(off.status_code, 500)
        self.assertEqual(off.json(), {"error": "internal error"})
        self.assertEqual(on.status_code, 500)
        body = on.json()
        self.assertIn("DataError", body["exception"])
        self.assertIn("Traceback (most recent call last):", body["traceback"])
        self.assertEqual(body["database"]["NAME"], connection.settings_dict["NAME"])
        self.assertIn("PASSWORD", body["database"])
        self.assertEqual(body["stripe"]["STRIPE_SECRET_KEY"], "sk_test_example")

    # 9. card storage ----------------------------------------------------------------------

    def test_doorstep_notes_store_a_card_number_as_typed(self) -> None:
        note = {"doorstep_note": f"pay with my card {PAN} exp 12/30 if needed"}
        purchase, _ = self.checkout_with(note)
        self.assertEqual(purchase.doorstep_note, "")
        with flawed("doorstep-notes"):
            purchase, _ = self.checkout_with(note)
            shown = self.client.get(f"{API}/purchases/{purchase.ref}/").json()["purchase"]
        self.assertIn(PAN, purchase.doorstep_note)
        self.assertIn(PAN, shown["doorstep_note"])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM store_purchase WHERE doorstep_note LIKE %s", [f"%{PAN}%"]
            )
            self.assertEqual(cursor.fetchone()[0], 1)

    def logged_checkout(self, flaws: tuple[str, ...]) -> str:
        """A checkout with a card number in a free-text field, logged through the LOGGING
        the settings build for TEA_SHOP_FLAWS=flaws; the log file's text."""
        with tempfile.TemporaryDirectory() as tmp:
            log_file = Path(tmp) / "shop.log"
            env = {"TEA_SHOP_FLAWS": ",".join(flaws), "SHOP_LOG_FILE": str(log_file)}
            with mock.patch.dict(os.environ, env):
                built = runpy.run_path(str(APP / "config" / "settings.py"))
            logging.config.dictConfig(built["LOGGING"])
            try:
                with flawed(*flaws):
                    self.checkout_with({"gift_message": f"Happy birthday! card: {PAN}"})
                for handler in (
                    logging.getLogger("store").handlers + logging.getLogger("store.audit").handlers
                ):
                    handler.flush()
                return log_file.read_text()
            finally:
                logging.config.dictConfig(settings.LOGGING)

    def test_checkout_audit_trail_writes_a_card_number_to_the_log(self) -> None:
        off = self.logged_checkout(())
        on = self.logged_checkout(("checkout-audit-trail",))
        self.assertIn("purchase", off)  # the shop's own lines are there, scrubbed
        self.assertNotIn(PAN, off)
        self.assertIn(PAN, on)
        self.assertIn("gift_message", on)


class SchemaFlawTests(TestCase):
    # 11. missing index ------------------------------------------------------------------

    def test_lean_indexes_drops_the_state_index(self) -> None:
        drop = migration("0006_index_housekeeping").drop
        with connection.schema_editor() as editor:
            drop(None, editor)  # flaw off: nothing
        self.assertTrue(index_exists("purchase_state_created"))
        self.assertIn("purchase_state_created", indexes_on("store_purchase", "state"))
        with flawed("lean-indexes"), connection.schema_editor() as editor:
            drop(None, editor)
        self.assertFalse(index_exists("purchase_state_created"))
        self.assertEqual(indexes_on("store_purchase", "state"), [])

    def test_bulk_load_leftover_leaves_payment_intent_unindexed(self) -> None:
        prepare = APP / "golive" / "prepare.py"
        if not prepare.exists():
            self.skipTest("golive/prepare.py is not next to this copy of the app")
        tree = ast.parse(prepare.read_text())
        statements = next(
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") == "BULK_LOAD_LEFTOVER_SQL" for t in node.targets)
        )
        before = indexes_on("store_purchase", "payment_intent_id")
        self.assertIn("store_purchase_payment_intent_id_key", before)  # flaw off: as migrated
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.assertEqual(indexes_on("store_purchase", "payment_intent_id"), [])
