"""Two flaws seen only after go-live, in the data rather than in one request
(shop/flaws.py, switched on by SHOP_FLAWS like the others):

- refunds-too-many: the shop refunds every REFUND_EVERY-th paid order by itself (a
  "goodwill" job gone wrong), so the refund rate is far above target;
- silent-webhook-endpoint: the webhook route stops answering: it reads the delivery, then
  says nothing until the sender gives up (or SILENT_S pass, then 503), so events stay
  undelivered and Stripe keeps retrying them.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from shop import logs
from shop.stripe_api import error_summary

if TYPE_CHECKING:
    from shop.app import Shop

REFUND_EVERY = 4  # refunds-too-many: 25 % of paid orders
SILENT_S = 30.0  # silent-webhook-endpoint: longer than any sender waits

_paid = itertools.count(1)
_paid_lock = threading.Lock()


def refund_some(shop: Shop, intent: dict[str, Any]) -> None:
    """refunds-too-many: after a payment is recorded, refund every REFUND_EVERY-th one."""
    with _paid_lock:
        n = next(_paid)
    if n % REFUND_EVERY or not isinstance(intent.get("id"), str):
        return
    try:
        refund = shop.stripe.refund(
            intent["id"], f"shop-{shop.instance_id}-auto-refund-{intent['id']}", {"auto": "true"}
        )
    except Exception as exc:
        logs.get().error("auto_refund_failed", payment_intent_id=intent["id"], **error_summary(exc))
        return
    logs.get().info("auto_refund", payment_intent_id=intent["id"], refund_id=refund.id)


async def silent(request: Request) -> JSONResponse:
    """silent-webhook-endpoint: no answer until the sender hangs up (bounded)."""
    await request.body()
    give_up = time.monotonic() + SILENT_S
    while time.monotonic() < give_up and not await request.is_disconnected():
        await asyncio.sleep(0.1)
    return JSONResponse({"error": "unavailable"}, status_code=503)
