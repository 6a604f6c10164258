"""The Locust scenarios (a locustfile: run by Locust's own process, never by the gate's).

    python -m locust -f loadtests/scenarios.py --headless ...   (loadtests/runner.py does it)

- StormUser: a customer buys as the profile's jobs do it (`fill_cart` when the profile has
  it, then `checkout`; loadtests/shoppers.py), reads the order back (`read_order`) and pays
  the PaymentIntent at the Stripe backend with a test card, the way Stripe.js would; the
  backend then sends its webhook to the app.
- WebhookUser: signed payment_intent.succeeded / payment_failed events at a target rate,
  for PaymentIntents that do not exist, so the burst measures the acknowledgement alone.
- RaceUser: one checkout sent `fanout` times at the same instant with one Idempotency-Key,
  paid, then its payment_intent.succeeded event sent `fanout` times at the same instant
  with one event id, then again under new event ids. Concurrent copies are greenlets
  released together by one gevent Event.
- MixedShape (scenario "mixed"): the blend of the three, ramped up, held and eased off.

Every request to the app is a job of the profile run through golive's UserSession (the
profile's `auth:`: credentials, login, CSRF), on a Locust FastHttpSession of the member's
own (its cookies), through loadtests/transport.py, so Locust counts it under the job's
name. Configuration comes from the plan file (GOLIVE_LOAD_PLAN, no Stripe or webhook
secret in it: the profile's auth, flows and jobs, and the load users' variables) and two
variables for the secrets (GOLIVE_LOAD_WEBHOOK_SECRET, GOLIVE_LOAD_STRIPE_KEY). The
PaymentIntents a run touched are written to a ledger (JSON lines) the invariants read;
workers send theirs to the master.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
import locust.stats
from gevent.event import Event
from geventhttpclient.client import HTTPClientPool
from locust import FastHttpUser, LoadTestShape, between, constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.runners import MasterRunner, WorkerRunner

from golive import thresholds
from golive.client.app import AppClient, Placed
from golive.client.errors import FlowError
from golive.loadtests import metrics as m
from golive.loadtests.shoppers import AppModel, Members, Shop
from golive.loadtests.transport import LocustTransport
from golive.loopback import is_loopback_host
from golive.webhooks.fixtures import render_event
from golive.webhooks.signing import encode_event, sign_header

PLAN: dict[str, Any] = json.loads(Path(os.environ["GOLIVE_LOAD_PLAN"]).read_text("utf-8"))
WEBHOOK_SECRET = os.environ.get("GOLIVE_LOAD_WEBHOOK_SECRET", "")
STRIPE_KEY = os.environ.get("GOLIVE_LOAD_STRIPE_KEY", "")
LEDGER_MESSAGE = "golive_ledger"
TIMEOUT_S = 10.0
MEMBER_CONNECTIONS = 64  # the members' connections to the app, at least
# The history CSV is golive's live progress: flush it every second, not every five.
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1


def _refuse_unsafe() -> None:
    # The runner refuses first; this guards a hand-started worker with an edited plan.
    if STRIPE_KEY.startswith(("sk_live_", "rk_live_")):
        raise SystemExit("golive load: refusing a live Stripe key")
    allowed = {h.lower() for h in PLAN.get("allow_hosts", [])}
    for url in (PLAN["app_base"], PLAN.get("stripe_api_base") or "http://127.0.0.1"):
        host = (urlsplit(url).hostname or "").lower()
        if host not in allowed and not is_loopback_host(host):
            raise SystemExit(f"golive load: refusing {host}: not loopback nor allowed")


_refuse_unsafe()


# --- customers, their quotas and their sessions -----------------------------------------

MEMBERS = Members(
    PLAN["members"],
    PLAN["quota_per_min"],
    spent=PLAN.get("spent"),
    signed_up=PLAN.get("signed_up"),
)
APP = AppClient(
    AppModel.model_validate(PLAN["app"]), PLAN["app_base"], base_dir=Path("."), timeout=TIMEOUT_S
)
SHOP = Shop(APP, excerpts=False)


@events.init.add_listener
def _member_transports(environment: Any, **_: Any) -> None:
    # Each member gets its own Locust HTTP session (its cookies), opened when it first
    # buys; its requests count in this environment's stats. The connections are one pool
    # shared by all members, as many as requests in flight at once (a pool per member
    # would open a connection, and spend the CPU for it, at each member's first purchase).
    connections = int(PLAN["shape"]["users"]) * max(2, int(PLAN["race"]["fanout"]))
    shared = HTTPClientPool(
        concurrency=max(MEMBER_CONNECTIONS, connections),
        network_timeout=TIMEOUT_S,
        connection_timeout=TIMEOUT_S,
        insecure=True,
    )

    def transport() -> LocustTransport:
        return LocustTransport(
            FastHttpSession(
                base_url=PLAN["app_base"],
                request_event=environment.events.request,
                user=None,
                client_pool=shared,
            )
        )

    SHOP.transport = transport


@events.test_start.add_listener
def _split_customers(environment: Any, **_: Any) -> None:
    # Workers share the customers out by index, so two processes never spend one quota.
    runner = environment.runner
    workers = int(PLAN.get("workers") or 1)
    if isinstance(runner, WorkerRunner) and workers > 1 and runner.worker_index >= 0:
        MEMBERS.keep(MEMBERS.members[runner.worker_index % workers :: workers])


# --- the ledger: which PaymentIntents the run touched -----------------------------------


class Ledger:
    def __init__(self) -> None:
        self.buffer: list[dict[str, Any]] = []
        self.runner: Any = None

    def add(self, **entry: Any) -> None:
        entry["t"] = round(time.time(), 3)
        self.buffer.append(entry)
        if not isinstance(self.runner, WorkerRunner):
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        if isinstance(self.runner, WorkerRunner):
            self.runner.send_message(LEDGER_MESSAGE, batch)
        else:
            write_ledger(batch)


_LEDGER_FILE: list[Any] = []  # opened on first use, line-buffered: a kill loses no line


def write_ledger(batch: list[dict[str, Any]]) -> None:
    if not _LEDGER_FILE:
        _LEDGER_FILE.append(open(PLAN["ledger"], "a", encoding="utf-8", buffering=1))  # noqa: SIM115
    _LEDGER_FILE[0].writelines(json.dumps(entry) + "\n" for entry in batch)


LEDGER = Ledger()


@events.init.add_listener
def _wire_ledger(environment: Any, **_: Any) -> None:
    LEDGER.runner = environment.runner
    if isinstance(environment.runner, MasterRunner):
        environment.runner.register_message(
            LEDGER_MESSAGE, lambda msg, **kw: write_ledger(msg.data)
        )
    if isinstance(environment.runner, WorkerRunner):

        def pump() -> None:
            while True:
                gevent.sleep(1.0)
                LEDGER.flush()

        gevent.spawn(pump)


@events.test_stop.add_listener
def _flush_ledger(**_: Any) -> None:
    LEDGER.flush()


# --- abort on fail ----------------------------------------------------------------------

ABORT_MIN_SAMPLES = 20  # a threshold is not judged mid-run on fewer samples than this


def _watch_thresholds(environment: Any) -> None:
    """k6's abortOnFail: stop the whole run as soon as a rule's threshold is breached."""
    rules = PLAN.get("abort") or []
    while rules:
        gevent.sleep(1.0)
        stats = m.entries(e.serialize() for e in environment.stats.entries.values())
        for rule in rules:
            samples = m.samples_of(rule["metric"], rule["requests"], stats)
            if len(samples) < ABORT_MIN_SAMPLES:
                continue
            passed, observed = thresholds.parse(rule["threshold"]).evaluate(samples)
            if not passed:
                LEDGER.add(kind="aborted", observed=observed, samples=len(samples), **rule)
                environment.runner.quit()
                return


@events.test_start.add_listener
def _start_watch(environment: Any, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner) and PLAN.get("abort"):
        gevent.spawn(_watch_thresholds, environment)


# --- helpers ----------------------------------------------------------------------------


def _json(response: Any) -> Any:
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - any undecodable body
        return None


def _pick_method() -> str:
    methods = PLAN["payment_methods"]
    return random.choices(list(methods), weights=list(methods.values()))[0]


def _expect(response: Any, ok: bool, why: str = "") -> None:
    if ok:
        response.success()
    else:
        response.failure(why or f"HTTP {response.status_code}")


class _Stripe:
    """The Stripe backend, as the customer's browser (confirm) and the app (retrieve) call it."""

    def __init__(self, user: FastHttpUser) -> None:
        base = PLAN.get("stripe_api_base")
        self.session = (
            FastHttpSession(
                base_url=base,
                request_event=user.environment.events.request,
                user=user,
                network_timeout=TIMEOUT_S,
                connection_timeout=TIMEOUT_S,
                concurrency=4,
            )
            if base
            else None
        )
        self.auth = (STRIPE_KEY, "")  # Stripe's Basic form: the key, no password

    def confirm(self, intent_id: str, method: str) -> str | None:
        """The intent's status after confirming; a decline is an expected answer."""
        body, declined = self._pay(
            f"/v1/payment_intents/{intent_id}/confirm",
            method,
            data=f"payment_method={method}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=self.auth,
        )
        if declined:
            return "requires_payment_method"
        return body.get("status")

    def complete_session(self, session_id: str, method: str) -> tuple[str | None, str | None]:
        """Pay a Checkout Session as its hosted page would (the sandbox's admin route):
        (its PaymentIntent, the intent's status); a decline is an expected answer."""
        body, declined = self._pay(
            f"/_golive/checkout/sessions/{session_id}/complete",
            method,
            json={"payment_method": method},
        )
        if declined:
            intent = (body.get("error") or {}).get("payment_intent") or {}
            return intent.get("id"), "requires_payment_method"
        paid = body.get("payment_status") == "paid"
        return body.get("payment_intent"), "succeeded" if paid else body.get("payment_status")

    def _pay(self, path: str, method: str, **request: Any) -> tuple[dict[str, Any], bool]:
        """POST a payment attempt: (the answer's object, declined as the test card means)."""
        if self.session is None:
            return {}, False
        with self.session.post(
            path, name=m.STRIPE_CONFIRM, catch_response=True, **request
        ) as response:
            body = _json(response)
            declined = response.status_code == 402 and "chargeDeclined" in method
            _expect(response, response.status_code == 200 or declined)
            return (body if isinstance(body, dict) else {}), declined

    def retrieve_session(self, session_id: str) -> dict[str, Any] | None:
        return self._get(f"/v1/checkout/sessions/{session_id}")

    def retrieve(self, intent_id: str) -> dict[str, Any] | None:
        return self._get(f"/v1/payment_intents/{intent_id}")

    def _get(self, path: str) -> dict[str, Any] | None:
        if self.session is None:
            return None
        with self.session.get(
            path,
            auth=self.auth,
            name=m.STRIPE_RETRIEVE,
            catch_response=True,
        ) as response:
            body = _json(response)
            _expect(response, response.status_code == 200 and isinstance(body, dict))
            return body if isinstance(body, dict) else None


class _ShopUser(FastHttpUser):
    abstract = True
    network_timeout = TIMEOUT_S
    connection_timeout = TIMEOUT_S

    def on_start(self) -> None:
        self.stripe = _Stripe(self)

    def send_event(self, payload: bytes, event_id: str, name: str) -> None:
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign_header(payload, WEBHOOK_SECRET),
        }
        with self.client.post(
            PLAN["webhook_path"], data=payload, headers=headers, name=name, catch_response=True
        ) as response:
            status = response.status_code
            if status >= 500:
                LEDGER.add(kind="webhook_5xx", name=name, status=status, event_id=event_id)
            _expect(response, 200 <= status < 300)


# --- the scenarios ----------------------------------------------------------------------


def _placed(placed: Placed, scenario: str, **extra: Any) -> str | None:
    """Ledger the checkout's PaymentIntent and return it; a Checkout Session is ledgered
    too, and paid by the scenario that placed it (its PaymentIntent then ledgered)."""
    if placed.payment_intent_id:
        LEDGER.add(
            kind="intent", scenario=scenario, payment_intent=placed.payment_intent_id, **extra
        )
        return placed.payment_intent_id
    if placed.checkout_session_id:
        LEDGER.add(
            kind="checkout_session", scenario=scenario, checkout_session=placed.checkout_session_id
        )
    return None


def _failed(scenario: str, exc: FlowError) -> None:
    """A purchase that stopped: ledgered, so a run where golive could not follow its own
    flows for any checkout is an error, not a verdict (loadtests/session.py)."""
    LEDGER.add(
        kind="checkout_failed",
        scenario=scenario,
        setup=exc.setup_problem,
        flow=exc.flow,
        error=str(exc)[:500],
    )


class StormUser(_ShopUser):
    """Customers building carts, checking out and paying, many at once."""

    weight = int(PLAN["weights"].get("storm", 0)) or 1
    wait_time = between(*PLAN["storm_think_s"])

    @task
    def buy(self) -> None:
        member = MEMBERS.take()
        if member is None:
            return
        cart = random.choice(PLAN["carts"])
        try:
            placed = SHOP.buy(member, cart, key=f"golive-load-{uuid.uuid4().hex}", name=m.CHECKOUT)
        except FlowError as exc:
            _failed("storm", exc)
            return
        intent_id = _placed(placed, "storm")
        session_id = placed.checkout_session_id
        if intent_id is None and session_id is None:
            return
        assert member.session is not None
        with contextlib.suppress(FlowError):  # counted as a failed order_read
            SHOP.read_order(member.session, placed)
        method = _pick_method()
        if intent_id is None:
            assert session_id is not None
            intent_id, status = self.stripe.complete_session(session_id, method)
            if intent_id is None:
                return
            LEDGER.add(kind="intent", scenario="storm", payment_intent=intent_id)
        else:
            status = self.stripe.confirm(intent_id, method)
        LEDGER.add(kind="confirmed", payment_intent=intent_id, method=method, status=status)


class WebhookUser(_ShopUser):
    """Signed events at a steady rate per user, for PaymentIntents that do not exist."""

    weight = int(PLAN["weights"].get("burst", 0)) or 1
    wait_time = constant_throughput(PLAN["webhook_rate_per_user"])
    types = ("payment_intent.succeeded",) * 4 + ("payment_intent.payment_failed",)

    @task
    def deliver(self) -> None:
        payload, event_id = fresh_event(random.choice(self.types))
        self.send_event(payload, event_id, m.WEBHOOK)


def _template(event_type: str) -> tuple[bytes, bytes, bytes]:
    event = render_event(event_type)
    return encode_event(event), event["id"].encode(), event["data"]["object"]["id"].encode()


# Rendered and encoded once: a fixture render draws a dozen ids from `secrets` and the
# encoding is Stripe's indented JSON, both too slow per request; a burst event only needs
# a new event id and a new intent id (same lengths, so the bytes stay valid JSON).
_TEMPLATES = {t: _template(t) for t in set(WebhookUser.types)}


def fresh_event(event_type: str) -> tuple[bytes, str]:
    """(payload, event id) of a new event of the type, for a new PaymentIntent."""
    payload, old_event, old_intent = _TEMPLATES[event_type]
    bits = random.getrandbits(192)
    event_id = old_event[:4] + f"{bits & (2**96 - 1):024x}".encode()
    intent_id = old_intent[:3] + f"{bits >> 96:024x}".encode()
    return payload.replace(old_event, event_id).replace(old_intent, intent_id), event_id.decode()


class RaceUser(_ShopUser):
    """The same checkout and the same event, many copies at the same instant."""

    weight = int(PLAN["weights"].get("race", 0)) or 1
    wait_time = between(0.3, 0.8)
    concurrency = 64  # the fan-out's copies each need a connection

    def _together(self, n: int, job: Any) -> list[Any]:
        go = Event()
        results: list[Any] = [None] * n

        def one(index: int) -> None:
            go.wait()
            results[index] = job(index)

        greenlets = [gevent.spawn(one, i) for i in range(n)]
        gevent.sleep(0.05)  # every copy is parked on the event before it fires
        go.set()
        gevent.joinall(greenlets, timeout=3 * TIMEOUT_S)
        return results

    @task
    def race(self) -> None:
        fanout = int(PLAN["race"]["fanout"])
        member = MEMBERS.take(fanout)
        if member is None:
            return
        items = [dict(line) for line in random.choice(PLAN["carts"])]
        key = f"golive-race-{uuid.uuid4().hex}"
        try:
            session = SHOP.session(member)
            if SHOP.job == "checkout_cart":  # the copies check out one filled cart
                SHOP.fill_cart(session, items)
            # The order is built once (a basket made and filled); only its submission is
            # sent many times at once, as a customer's double click would.
            prepared = SHOP.prepare(session, items)
        except FlowError as exc:
            _failed("race", exc)
            return

        def copy(index: int) -> Placed | FlowError:
            try:
                return SHOP.submit(session, prepared, key=key, name=m.RACE_CHECKOUT)
            except FlowError as exc:
                return exc

        answers = self._together(fanout, copy)
        placed = [a for a in answers if isinstance(a, Placed)]
        if not placed:
            failed = [a for a in answers if isinstance(a, FlowError)]
            if failed:
                _failed("race", failed[0])
            return
        intents = sorted({p.payment_intent_id for p in placed if p.payment_intent_id})
        for intent_id in intents:
            LEDGER.add(kind="intent", scenario="race", payment_intent=intent_id, key=key)
        sessions = sorted({p.checkout_session_id for p in placed if p.checkout_session_id})
        if intents:
            intent_id = intents[0]
            status = self.stripe.confirm(intent_id, "pm_card_visa")
            paid = self.stripe.retrieve(intent_id)
            event = render_event("payment_intent.succeeded")
        elif sessions:
            # Copies of one checkout must make one session; each other one is a second order.
            for session_id in sessions:
                LEDGER.add(kind="checkout_session", scenario="race", checkout_session=session_id)
            found, status = self.stripe.complete_session(sessions[0], "pm_card_visa")
            if found is None:
                return
            intent_id = found
            LEDGER.add(kind="intent", scenario="race", payment_intent=intent_id, key=key)
            paid = self.stripe.retrieve_session(sessions[0])
            event = render_event("checkout.session.completed")
        else:
            return
        LEDGER.add(kind="confirmed", payment_intent=intent_id, method="pm_card_visa", status=status)
        if not paid or status != "succeeded":
            return
        event["data"]["object"] = paid
        payload = encode_event(event)
        self._together(
            fanout, lambda i: self.send_event(payload, event["id"], m.RACE_WEBHOOK_SAME_ID)
        )
        fresh = []
        for _ in range(int(PLAN["race"]["new_event_ids"])):
            other = dict(event, id="evt_" + uuid.uuid4().hex[:24])
            fresh.append((encode_event(other), other["id"]))
        if fresh:
            self._together(
                len(fresh),
                lambda i: self.send_event(fresh[i][0], fresh[i][1], m.RACE_WEBHOOK_NEW_ID),
            )


if PLAN.get("scenario") == "mixed":

    class MixedShape(LoadTestShape):
        """Ramp up over the first fifth, hold, ease to half for the last tenth, stop."""

        def tick(self) -> tuple[int, float] | None:
            shape = PLAN["shape"]
            duration, users, rate = shape["duration_s"], shape["users"], shape["spawn_rate"]
            elapsed = self.get_run_time()
            if elapsed >= duration:
                return None
            if elapsed >= 0.9 * duration:
                return max(1, users // 2), rate
            ramp = max(0.2 * duration, 1e-3)
            return max(1, min(users, int(users * (elapsed + 1) / ramp))), rate
