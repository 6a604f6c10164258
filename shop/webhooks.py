"""POST /api/v1/stripe/webhook: verify, deduplicate, acknowledge, then process in the
background.

1. Verify `Stripe-Signature` over the raw request bytes: an HMAC-SHA256 with
   STRIPE_WEBHOOK_SECRET of `"{t}.{body}"`, any one of the `v1` signatures matching (a
   secret being rotated sends two), and `t` within 300 s of now in either direction. Any
   failure is 400 `invalid_signature` — never 5xx, never a side effect.
2. Record the event in `webhook_events` unless its `event_id` is there already (a process
   lock around check-and-insert, the unique index behind it). A duplicate is 200 and changes
   nothing.
3. Answer 200 at once; one worker thread processes the queue in arrival order. Events a
   previous run accepted but never processed (`processed = false`) are queued at start.

Processing, each in ONE transaction with marking the event processed:
- payment_intent.succeeded: the intent's amount (and amount_received) must equal the
  order's server-side total, else an alert `Amount mismatch: expected X, got Y` is logged
  and nothing is paid; otherwise a Payment row (intent id, latest_charge, vendor amount),
  the order `paid`, the customer's cart emptied, a notification written.
- payment_intent.payment_failed: order `failed` (a new checkout can pay it again).
- payment_intent.canceled: order `canceled`.
- charge.refunded: order (and payment) `refunded`, or `partially_refunded`.
- charge.dispute.created: order `disputed` (the dispute names its PaymentIntent); a
  payment_intent.succeeded delivered after it records the payment and keeps `disputed`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from shop import db, logs, ops_flaws
from shop.seed import now

if TYPE_CHECKING:
    from shop.app import Shop

TOLERANCE_S = 300
SLOW_WEBHOOK_S = 2.5  # slow-webhook: the "long operation" done before answering
RACE_WINDOW_S = 0.3  # double-order-on-race: between "seen it?" and "insert"
BYPASS_HEADER = "x-skip-signature"  # signature-bypass-header: a debug switch left in
REVIEW_CENTS = 5000  # drops-some-orders: payments from $50 are "held for review", forever


class SignatureError(Exception):
    pass


def verify_signature(
    payload: bytes, header: str | None, secret: str, *, tolerance_s: int | None, now_s: int
) -> None:
    """Raise SignatureError unless a v1 signature of `payload` matches within tolerance."""
    if header is None or not header.strip():
        raise SignatureError("no Stripe-Signature header")
    timestamps, signatures = [], []
    for part in header.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        if key.strip() == "t":
            timestamps.append(value.strip())
        elif key.strip() == "v1":
            signatures.append(value.strip())
    if not timestamps or not re.fullmatch(r"[0-9]{1,12}", timestamps[0]):
        raise SignatureError("no valid timestamp in Stripe-Signature")
    if not signatures:
        raise SignatureError("no v1 signature in Stripe-Signature")
    timestamp = int(timestamps[0])
    expected = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise SignatureError("no signature matches the payload")
    if tolerance_s is not None and abs(now_s - timestamp) > tolerance_s:
        raise SignatureError(f"timestamp is more than {tolerance_s} s from now")


def _bad(code: str, message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


async def receive(request: Request) -> Any:
    shop: Shop = request.app.state.shop
    if shop.config.flawed("silent-webhook-endpoint"):
        return await ops_flaws.silent(request)
    hooks: Webhooks = shop.webhooks
    raw = await request.body()
    try:
        hooks.verify(raw, request.headers)
    except SignatureError as exc:
        logs.get().warning("webhook_rejected", reason=str(exc), bytes=len(raw))
        shop.metrics.signature_failures.inc()
        if shop.config.flawed("rejects-with-500"):
            return _bad("internal_error", "internal server error", 500)
        return _bad("invalid_signature", "webhook signature verification failed")
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):
        return _bad("malformed_json", "the body is not valid JSON")
    problem = _shape_problem(event)
    if problem:
        logs.get().warning("webhook_invalid_event", reason=problem)
        return _bad("invalid_event", problem)
    logs.get().info("webhook_received", event_id=event["id"], type=event["type"])
    if shop.config.flawed("slow-webhook"):
        duplicate = await run_in_threadpool(hooks.handle_now, event, raw)
    elif shop.config.flawed("double-order-on-race"):
        duplicate = await run_in_threadpool(hooks.handle_racy, event, raw)
    else:
        duplicate = await run_in_threadpool(hooks.accept, event, raw)
    return JSONResponse({"received": True, "duplicate": duplicate})


def _shape_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return "the event is not a JSON object"
    if not isinstance(event.get("id"), str) or not 0 < len(event["id"]) <= 255:
        return "the event has no id"
    if not isinstance(event.get("type"), str) or not 0 < len(event["type"]) <= 255:
        return "the event has no type"
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        return "the event has no data.object"
    return None


class Webhooks:
    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.config = shop.config
        self.t = shop.tables
        self._record_lock = threading.Lock()
        self._queue: queue.Queue[tuple[int, dict] | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    # -- verification ----------------------------------------------------------------------

    def verify(self, raw: bytes, headers: Any) -> None:
        flawed = self.config.flawed
        if flawed("unsigned-webhooks"):
            return
        # The catalogue's flaws are switched on at run time, so their code is always in the
        # source: static analysis is told so here (golive lists silenced findings).
        # nosemgrep: golive.webhook.conditional-verification-bare-headers.python
        if flawed("signature-bypass-header") and headers.get(BYPASS_HEADER, "").lower() == "true":
            return
        payload = raw
        if flawed("parses-before-verify"):
            try:
                payload = json.dumps(json.loads(raw), indent=2, ensure_ascii=False).encode()
            except (ValueError, RecursionError):
                raise SignatureError("the body is not JSON") from None
        tolerance = None if flawed("stale-timestamps-accepted") else TOLERANCE_S
        verify_signature(
            payload,  # nosemgrep: golive.webhook.verifies-parsed-body.python (parses-before-verify flaw)
            headers.get("stripe-signature"),
            self.config.stripe_webhook_secret,
            tolerance_s=tolerance,
            now_s=int(time.time()),
        )

    # -- the worker ------------------------------------------------------------------------

    def start(self) -> int:
        """Start the worker; queue what an earlier run accepted but never processed."""
        events = self.t.webhook_events
        with db.read(self.shop.engine) as conn:
            pending = conn.execute(
                sa.select(events.c.id, events.c.payload)
                .where(events.c.processed == sa.false())
                .order_by(events.c.id)
            ).all()
        for row in pending:
            self._queue.put((row.id, json.loads(row.payload)))
        self._worker = threading.Thread(target=self._run, name="webhook-worker", daemon=True)
        self._worker.start()
        return len(pending)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout_s)
            self._worker = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            row_id, event = item
            self.process(row_id, event)

    # -- receiving -------------------------------------------------------------------------

    def _insert(self, conn: sa.Connection, event: dict, raw: bytes) -> int:
        result = conn.execute(
            sa.insert(self.t.webhook_events).values(
                event_id=event["id"],
                type=event["type"],
                processed=False,
                payload=raw.decode("utf-8", errors="replace"),
                received_at=now(),
            )
        )
        return result.inserted_primary_key[0]

    def _find(self, conn: sa.Connection, event_id: str) -> int | None:
        events = self.t.webhook_events
        return conn.execute(
            sa.select(events.c.id).where(events.c.event_id == event_id).order_by(events.c.id)
        ).scalar()

    def record(self, event: dict, raw: bytes) -> tuple[int, bool]:
        """(row id, duplicate?): check-and-insert under a lock, the unique index behind it."""
        if self.config.flawed("no-event-dedup"):
            try:
                with db.write(self.shop.engine) as conn:
                    found = self._find(conn, event["id"])
                    return (found if found is not None else self._insert(conn, event, raw)), False
            except sa.exc.IntegrityError:
                with db.read(self.shop.engine) as conn:
                    return self._find(conn, event["id"]), False
        with self._record_lock:
            try:
                with db.write(self.shop.engine) as conn:
                    found = self._find(conn, event["id"])
                    if found is not None:
                        return found, True
                    return self._insert(conn, event, raw), False
            except sa.exc.IntegrityError:
                with db.read(self.shop.engine) as conn:
                    return self._find(conn, event["id"]), True

    def accept(self, event: dict, raw: bytes) -> bool:
        row_id, duplicate = self.record(event, raw)
        if duplicate:
            logs.get().info("webhook_duplicate", event_id=event["id"], type=event["type"])
            return True
        self._queue.put((row_id, event))
        return False

    def handle_now(self, event: dict, raw: bytes) -> bool:
        """slow-webhook: the whole job, and a slow one, before the answer (received_at is
        stamped first, so processed_at - received_at shows the delay too)."""
        row_id, duplicate = self.record(event, raw)
        time.sleep(SLOW_WEBHOOK_S)
        if duplicate:
            logs.get().info("webhook_duplicate", event_id=event["id"], type=event["type"])
            return True
        self.process(row_id, event)
        return False

    def handle_racy(self, event: dict, raw: bytes) -> bool:
        """double-order-on-race: look, wait, then insert and process without looking again."""
        with db.read(self.shop.engine) as conn:
            if self._find(conn, event["id"]) is not None:
                logs.get().info("webhook_duplicate", event_id=event["id"], type=event["type"])
                return True
        time.sleep(RACE_WINDOW_S)
        with db.write(self.shop.engine) as conn:
            row_id = self._insert(conn, event, raw)
        self.process(row_id, event, guarded=False)
        return False

    # -- processing ------------------------------------------------------------------------

    def process(self, row_id: int, event: dict, *, guarded: bool = True) -> str:
        started = time.perf_counter()
        kind = event["type"]
        obj = event["data"]["object"]
        try:
            if kind == "payment_intent.succeeded":
                outcome = self._succeeded(row_id, obj, guarded=guarded)
                if outcome == "paid" and self.config.flawed("refunds-too-many"):
                    ops_flaws.refund_some(self.shop, obj)
            elif kind == "payment_intent.payment_failed":
                outcome = self._status_change(
                    row_id, obj.get("id"), "failed", "ignores-payment-failed"
                )
            elif kind == "payment_intent.canceled":
                outcome = self._status_change(row_id, obj.get("id"), "canceled", None)
            elif kind == "charge.refunded":
                outcome = self._refunded(row_id, obj)
            elif kind == "charge.dispute.created":
                outcome = self._disputed(row_id, obj)
            else:
                outcome = self._done(row_id, "ignored")
        except Exception as exc:  # the event stays unprocessed; the next start retries it
            logs.get().error(
                "webhook_processing_failed",
                event_id=event["id"],
                type=kind,
                error_type=type(exc).__name__,
            )
            self.shop.metrics.webhook_processed(kind, "error", started)
            return "error"
        self.shop.metrics.webhook_processed(kind, outcome, started)
        logs.get().info(
            "webhook_processed",
            event_id=event["id"],
            type=kind,
            outcome=outcome,
            duration_ms=logs.elapsed_ms(started),
        )
        return outcome

    def _mark(self, conn: sa.Connection, row_id: int, outcome: str) -> str:
        events = self.t.webhook_events
        conn.execute(
            sa.update(events)
            .where(events.c.id == row_id)
            .values(processed=True, processed_at=now(), outcome=outcome)
        )
        return outcome

    def _done(self, row_id: int, outcome: str) -> str:
        with db.write(self.shop.engine) as conn:
            return self._mark(conn, row_id, outcome)

    def _order_for(self, conn: sa.Connection, intent_id: Any) -> dict | None:
        if not isinstance(intent_id, str):
            return None
        orders = self.t.orders
        row = (
            conn.execute(
                sa.select(orders)
                .where(orders.c.stripe_payment_intent_id == intent_id)
                .order_by(orders.c.id)
            )
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def _notify(self, conn: sa.Connection, order: dict, kind: str, message: str) -> None:
        if self.config.flawed("no-notification"):
            return
        conn.execute(
            sa.insert(self.t.notifications).values(
                user_id=order["user_id"],
                order_id=order["id"],
                kind=kind,
                message=message,
                created_at=now(),
            )
        )

    def _succeeded(self, row_id: int, intent: dict, *, guarded: bool) -> str:
        t, flawed, log = self.t, self.config.flawed, logs.get()
        stamp = now()
        if flawed("drops-some-orders") and int(intent.get("amount") or 0) >= REVIEW_CENTS:
            return self._done(row_id, "ignored")  # "held for review": nobody ever reviews it
        if flawed("no-event-dedup"):
            # "Tell the customer first": outside the payment's transaction, once per delivery.
            with db.write(self.shop.engine) as conn:
                order = self._order_for(conn, intent.get("id"))
                if order is not None and not _mismatch(order, intent):
                    self._notify(conn, order, "order_paid", _paid_message(order))
        with db.write(self.shop.engine) as conn:
            order = self._order_for(conn, intent.get("id"))
            if order is None:
                log.warning("webhook_unknown_payment_intent", payment_intent_id=intent.get("id"))
                return self._mark(conn, row_id, "unknown_payment_intent")
            expected = order["total"]
            amount, received = intent.get("amount"), intent.get("amount_received")
            got = amount if amount != expected else received
            mismatch = _mismatch(order, intent)
            if mismatch and not flawed("no-amount-check-in-webhook"):
                outcome = self._mark(conn, row_id, "amount_mismatch")
            else:
                mismatch = False
                outcome = None
            if outcome is None:
                payments = t.payments
                already = conn.execute(
                    sa.select(payments.c.id).where(
                        payments.c.stripe_payment_intent_id == intent["id"]
                    )
                ).first()
                if guarded and (already is not None or order["payment_status"] == "paid"):
                    return self._mark(conn, row_id, "already_paid")
                charge = intent.get("latest_charge")
                charge_id = charge.get("id") if isinstance(charge, dict) else charge
                conn.execute(
                    sa.insert(payments).values(
                        order_id=order["id"],
                        stripe_payment_intent_id=intent["id"],
                        stripe_charge_id=charge_id if isinstance(charge_id, str) else None,
                        amount=received or amount or expected,
                        amount_refunded=0,
                        currency=str(intent.get("currency") or order["currency"]),
                        vendor_amount=order["vendor_amount"] or 0,
                        status="succeeded",
                        created_at=stamp,
                    )
                )
                # Stripe does not promise the order of deliveries: a dispute that arrived
                # before its payment stays on the order.
                status = "disputed" if order["payment_status"] == "disputed" else "paid"
                conn.execute(
                    sa.update(t.orders)
                    .where(t.orders.c.id == order["id"])
                    .values(payment_status=status, paid_at=stamp, updated_at=stamp)
                )
                if not flawed("no-cart-clear"):
                    conn.execute(
                        sa.delete(t.cart_items).where(t.cart_items.c.user_id == order["user_id"])
                    )
                    conn.execute(
                        sa.update(t.users)
                        .where(t.users.c.id == order["user_id"])
                        .values(cart_version=t.users.c.cart_version + 1)
                    )
                if not flawed("no-event-dedup"):
                    self._notify(conn, order, "order_paid", _paid_message(order))
                outcome = self._mark(conn, row_id, "paid")
        if mismatch:
            log.error(
                "amount_mismatch",
                alert=True,
                message=f"Amount mismatch: expected {expected}, got {got}",
                order_id=order["id"],
                payment_intent_id=intent.get("id"),
                expected=expected,
                got=got,
            )
        else:
            log.info(
                "order_paid",
                order_id=order["id"],
                user_id=order["user_id"],
                payment_intent_id=intent.get("id"),
                amount=expected,
            )
        return outcome

    def _status_change(
        self, row_id: int, intent_id: Any, status: str, ignored_by: str | None
    ) -> str:
        with db.write(self.shop.engine) as conn:
            order = self._order_for(conn, intent_id)
            if order is None:
                return self._mark(conn, row_id, "unknown_payment_intent")
            if ignored_by and self.config.flawed(ignored_by):
                return self._mark(conn, row_id, "ignored")
            if order["payment_status"] not in ("pending", "failed"):
                return self._mark(conn, row_id, f"kept_{order['payment_status']}")
            conn.execute(
                sa.update(self.t.orders)
                .where(self.t.orders.c.id == order["id"])
                .values(payment_status=status, updated_at=now())
            )
            if status == "failed":
                self._notify(
                    conn,
                    order,
                    "payment_failed",
                    f"Payment for order #{order['id']} failed; you can try again.",
                )
            outcome = self._mark(conn, row_id, status)
        logs.get().info(f"order_{status}", order_id=order["id"], payment_intent_id=intent_id)
        return outcome

    def _refunded(self, row_id: int, charge: dict) -> str:
        t = self.t
        with db.write(self.shop.engine) as conn:
            order = self._order_for(conn, charge.get("payment_intent"))
            if order is None:
                return self._mark(conn, row_id, "unknown_payment_intent")
            if self.config.flawed("ignores-refund"):
                return self._mark(conn, row_id, "ignored")
            refunded = int(charge.get("amount_refunded") or 0)
            full = bool(charge.get("refunded")) or refunded >= int(charge.get("amount") or 0)
            status = "refunded" if full else "partially_refunded"
            conn.execute(
                sa.update(t.payments)
                .where(t.payments.c.stripe_payment_intent_id == order["stripe_payment_intent_id"])
                .values(amount_refunded=refunded, status=status)
            )
            if not self.config.flawed("refund-not-reflected"):
                conn.execute(
                    sa.update(t.orders)
                    .where(t.orders.c.id == order["id"])
                    .values(payment_status=status, updated_at=now())
                )
            self._notify(
                conn, order, "refunded", f"Order #{order['id']}: ${refunded / 100:.2f} refunded."
            )
            outcome = self._mark(conn, row_id, status)
        logs.get().info(
            "order_refunded", order_id=order["id"], amount_refunded=refunded, status=status
        )
        return outcome

    def _disputed(self, row_id: int, dispute: dict) -> str:
        with db.write(self.shop.engine) as conn:
            order = self._order_for(conn, dispute.get("payment_intent"))
            if order is None:
                return self._mark(conn, row_id, "unknown_payment_intent")
            conn.execute(
                sa.update(self.t.orders)
                .where(self.t.orders.c.id == order["id"])
                .values(payment_status="disputed", updated_at=now())
            )
            outcome = self._mark(conn, row_id, "disputed")
        logs.get().info("order_disputed", order_id=order["id"], dispute_id=dispute.get("id"))
        return outcome


def _mismatch(order: dict, intent: dict) -> bool:
    """The intent's amount, or a non-zero amount_received, differs from the order's total."""
    expected = order["total"]
    received = intent.get("amount_received")
    return intent.get("amount") != expected or (received not in (None, 0) and received != expected)


def _paid_message(order: dict) -> str:
    return f"Order #{order['id']} is paid: ${order['total'] / 100:.2f}. Thank you!"
