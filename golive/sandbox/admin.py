"""The sandbox's own API under /_golive/: no Stripe auth, served to loopback clients only.

GET  /_golive/health                                  liveness, version, counts
POST /_golive/account                                 set account fields (JSON or form, deep merge)
POST /_golive/reset                                   forget every object, key and account change;
                                                      the clock back to real time
GET  /_golive/clock                                   the sandbox's time (clock.py)
POST /_golive/clock                                   {"now": <unix s>} | {"offset_s": <s>} |
                                                      {"reset": true}: simulated time for `created`
                                                      (signatures keep real time); at most
                                                      5 minutes ahead of real time
POST /_golive/payment_intents/{id}/complete_action    the customer passes 3-D Secure
POST /_golive/payment_intents/{id}/pay                the customer pays it with a test card
                                                      ({"payment_method", "deliver": false})
POST /_golive/payment_intents/{id}/fail_action        the customer fails 3-D Secure
GET  /_golive/payment_intents/{id}/authenticate       next_action's URL: passes (?result=fail fails)
                                                      and redirects to the return_url if there is one
POST /_golive/checkout/sessions/{id}/complete        the customer pays on Checkout's page
                                                     (deliver=false: events sent to no endpoint):
                                                      {"payment_method": "pm_card_…"} (default
                                                      pm_card_visa), optional "email", "name";
                                                      a decline is the card error (402)
GET  /_golive/checkout/{id}                           a session's `url`: what its page would show
POST /_golive/webhook_endpoints/{id}/secret          {"secret": "whsec_…"}: the endpoint signs with
                                                      this secret, as when an app's configured secret
                                                      is the one copied from the Dashboard
POST /_golive/history                                 {"payments": [{created, amount, currency, outcome,
                                                      refunds, dispute, early_fraud_warning, …}]}:
                                                      past payments with their charges, refunds,
                                                      disputes, warnings and events, made at once
                                                      and never delivered (history.py)
GET  /_golive/deliveries[?event=evt_…]                webhook delivery attempts
GET  /_golive/stats                                   objects (and max_objects, evicted), keys,
                                                      max_body_bytes,
                                                      requests, deliveries
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from golive.loopback import is_loopback_host
from golive.sandbox import forms, history
from golive.sandbox import params as p
from golive.sandbox.endpoint import dumps
from golive.sandbox.errors import StripeError, invalid_request
from golive.sandbox.ids import request_id
from golive.sandbox.resources import (
    account,
    checkout_sessions,
    payment_attempts,
    payment_intents,
    payment_methods,
)

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

PREFIX = "/_golive"
Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Request-Id": request_id()},
    )


def unrecognized(method: str, path: str) -> Response:
    return json_response(
        invalid_request(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
            status=404,
        ).body(),
        404,
    )


def _admin(state: SandboxState, handler: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        # A sandbox bound to 0.0.0.0 still keeps its controls to this machine.
        if not is_loopback_host(request.client.host if request.client else None):
            return unrecognized(request.method, request.url.path)
        try:
            return await handler(request)
        except StripeError as exc:
            return json_response(exc.body(), exc.status)
        finally:
            state.trim()  # 3-D Secure calls make charges and events

    return guarded


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise invalid_request(f"Invalid JSON body: {exc}") from None
        if not isinstance(body, dict):
            raise invalid_request("The body must be a JSON object.")
        return body
    return forms.decode(raw)


def admin_routes(state: SandboxState) -> list[Route]:
    async def health(request: Request) -> Response:
        return json_response(
            {
                "status": "ok",
                "api_version": state.settings.api_version,
                "url": state.settings.base_url,
                "livemode": False,
            }
        )

    async def set_account(request: Request) -> Response:
        state.account = account.merge(state.account, await _body(request))
        return json_response(state.account)

    async def reset(request: Request) -> Response:
        state.reset()
        return json_response({"reset": True})

    async def complete_action(request: Request) -> Response:
        pi = payment_intents.get(state, request.path_params["id"])
        return json_response(payment_attempts.complete_action(state, pi))

    async def pay_intent(request: Request) -> Response:
        # The customer pays the PaymentIntent (3-D Secure passed), as on a payment page;
        # deliver=false: its events are recorded and sent to no endpoint, for golive to
        # send the app its own signed copies of a payment that really happened.
        body = await _body(request)
        p.check_known(body, {"payment_method": None, "deliver": None})
        pi = payment_intents.get(state, request.path_params["id"])
        pm = payment_methods.resolve(
            state,
            p.string(body.get("payment_method", "pm_card_visa"), "payment_method"),
            "payment_method",
        )
        state.quiet = body.get("deliver", True) in (False, "false")
        try:
            payment_intents.confirm_with(state, pi, pm, None, on_a_page=True)
            if pi["status"] == "requires_action":
                payment_attempts.complete_action(state, pi)
        finally:
            state.quiet = False
        return json_response(pi)

    async def fail_action(request: Request) -> Response:
        pi = payment_intents.get(state, request.path_params["id"])
        return json_response(payment_attempts.fail_action(state, pi))

    async def authenticate(request: Request) -> Response:
        pi_id = request.path_params["id"]
        failed = request.query_params.get("result") == "fail"
        pi = payment_intents.get(state, pi_id)
        (payment_attempts.fail_action if failed else payment_attempts.complete_action)(state, pi)
        return_url = state.store.extra(pi_id).get("return_url")
        if not return_url:
            return json_response(pi)
        # Where Stripe sends the customer back: the return_url plus the intent's identity.
        parts = urlsplit(return_url)
        query = urlencode(
            {
                "payment_intent": pi["id"],
                "payment_intent_client_secret": pi["client_secret"],
                "redirect_status": "failed" if failed else "succeeded",
            }
        )
        joined = f"{parts.query}&{query}" if parts.query else query
        return RedirectResponse(urlunsplit(parts._replace(query=joined)), status_code=302)

    async def complete_checkout(request: Request) -> Response:
        body = await _body(request)
        p.check_known(body, {"payment_method": None, "email": None, "name": None, "deliver": None})
        named = {f: p.string(body[f], f) for f in ("email", "name") if f in body}
        # deliver=false: the events are recorded but sent to no endpoint (golive sends the
        # app its own signed copies of a payment that really happened).
        state.quiet = body.get("deliver", True) in (False, "false")
        try:
            session = checkout_sessions.complete(
                state,
                request.path_params["id"],
                p.string(body.get("payment_method", "pm_card_visa"), "payment_method"),
                **named,
            )
        finally:
            state.quiet = False
        return json_response(session)

    async def checkout_page(request: Request) -> Response:
        # No hosted page to render: say what it would sell and how to pay it here.
        session = checkout_sessions.get(state, request.path_params["id"])
        items = state.store.private[session["id"]]["line_items"]
        complete_url = (
            f"{state.settings.base_url}{PREFIX}/checkout/sessions/{session['id']}/complete"
        )
        return json_response(
            {
                "checkout_session": session["id"],
                "status": session["status"],
                "amount_total": session["amount_total"],
                "currency": session["currency"],
                "line_items": [
                    {"description": i["description"], "quantity": i["quantity"]} for i in items
                ],
                "pay": {
                    "method": "POST",
                    "url": complete_url,
                    "json": {"payment_method": "pm_card_visa"},
                },
            }
        )

    async def set_endpoint_secret(request: Request) -> Response:
        endpoint = state.store.get("webhook_endpoint", request.path_params["id"])
        secret = (await _body(request)).get("secret")
        if endpoint is None:
            return unrecognized(request.method, request.url.path)
        if not isinstance(secret, str) or not secret.startswith("whsec_") or len(secret) < 16:
            raise invalid_request("secret must be a whsec_ signing secret", param="secret")
        state.store.extra(endpoint["id"])["secret"] = secret
        return json_response({"id": endpoint["id"], "secret_set": True})

    async def add_history(request: Request) -> Response:
        return json_response(history.import_history(state, await _body(request)))

    async def get_clock(request: Request) -> Response:
        return json_response(state.clock.as_dict())

    async def set_clock(request: Request) -> Response:
        state.clock.set(await _body(request))
        return json_response(state.clock.as_dict())

    async def deliveries(request: Request) -> Response:
        event_id = request.query_params.get("event")
        attempts = state.dispatcher.attempts(event_id)
        events = state.store.tables["event"]
        # After a reset the dispatcher still remembers old attempts; show current ones only.
        data = [a for a in attempts if a["event"] in events]
        return json_response({"object": "list", "data": data})

    async def stats(request: Request) -> Response:
        attempts = [
            a for a in state.dispatcher.attempts() if a["event"] in state.store.tables["event"]
        ]
        outcomes: dict[str, int] = {}
        for attempt in attempts:
            outcomes[attempt["outcome"]] = outcomes.get(attempt["outcome"], 0) + 1
        return json_response(
            {
                "objects": state.store.counts(),
                "max_objects": state.store.max_objects,
                "max_body_bytes": state.settings.max_body_bytes,
                "evicted": state.store.evicted,
                "idempotency_keys": len(state.idempotency),
                "requests": state.requests,
                "deliveries": {
                    "attempts": len(attempts),
                    "by_outcome": outcomes,
                    # what the dispatcher holds, including records of evicted events
                    "history": state.dispatcher.history_sizes(),
                },
            }
        )

    pi_path = PREFIX + "/payment_intents/{id}"
    return [
        Route(PREFIX + "/health", _admin(state, health), methods=["GET"]),
        Route(PREFIX + "/account", _admin(state, set_account), methods=["POST"]),
        Route(PREFIX + "/reset", _admin(state, reset), methods=["POST"]),
        Route(pi_path + "/complete_action", _admin(state, complete_action), methods=["POST"]),
        Route(pi_path + "/fail_action", _admin(state, fail_action), methods=["POST"]),
        Route(pi_path + "/pay", _admin(state, pay_intent), methods=["POST"]),
        Route(pi_path + "/authenticate", _admin(state, authenticate), methods=["GET"]),
        Route(
            PREFIX + "/checkout/sessions/{id}/complete",
            _admin(state, complete_checkout),
            methods=["POST"],
        ),
        Route(PREFIX + "/checkout/{id}", _admin(state, checkout_page), methods=["GET"]),
        Route(
            PREFIX + "/webhook_endpoints/{id}/secret",
            _admin(state, set_endpoint_secret),
            methods=["POST"],
        ),
        Route(PREFIX + "/history", _admin(state, add_history), methods=["POST"]),
        Route(PREFIX + "/clock", _admin(state, get_clock), methods=["GET"]),
        Route(PREFIX + "/clock", _admin(state, set_clock), methods=["POST"]),
        Route(PREFIX + "/deliveries", _admin(state, deliveries), methods=["GET"]),
        Route(PREFIX + "/stats", _admin(state, stats), methods=["GET"]),
    ]
