"""The profile's `smoke:` block: who buys in the smoke and end-to-end flows (smoke/), and
how long each step may take.

The flows run the profile's jobs (golive/profile/flows.py) as the named users: `checkout`
(or `fill_cart` then `checkout_cart` when the profile has both), `read_cart` for the empty
cart, `read_order` for the order's status and lines, `refund`. They pay with a test card
against the Stripe backend as Stripe.js would (or complete a Checkout Session as its
hosted page would), wait for the webhook, and watch the side effects through the
profile's `observer`:

```yaml
smoke:
  customer: erin                 # who buys in the flows (a name under `users:`)
  other_customer: bob            # e2e.state-tax: a user of another state
  items: [{id: 6, quantity: 1}]  # the smoke cart: a small amount
  multi_items: [{id: 1, quantity: 2}, {id: 2, quantity: 1}]
  order: {paid: [paid], failed: [failed], refunded: [refunded], line_id: food_item_id}
  refund: {via: target}          # the `refund` flow; stripe: Stripe's Refunds API
  deadlines: {create_intent_s: 10, confirm_s: 10, webhook_s: 15, order_s: 10, …}
  retry_failures: 2              # e2e.webhook-retry: deliveries failed first
  allow_live: {host: shop.example.com}             # opt in to flows with live keys
  production:                                      # deployment.production-smoke
    pages: [/api/v1/menu]                          # read-only GETs that must load
    real_payment: {host: shop.example.com, amount_max: 100}  # live: one payment + refund
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from golive.profile.names import UserName
from golive.profile.pricing import CartLine

PROFILE_KEY = "smoke"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Order(_Strict):
    """How the order the `read_order` flow captures reads: its status values and the
    field names of its lines (`lines`, `subtotal` and `status` are the flow's captures)."""

    paid: list[str] = Field(default_factory=lambda: ["paid"], description="Paid statuses")
    failed: list[str] = Field(default_factory=lambda: ["failed"], description="Failed statuses")
    refunded: list[str] = Field(
        default_factory=lambda: ["refunded"], description="Refunded statuses"
    )
    line_id: str = Field("id", description="Item id field of a captured order line")
    line_quantity: str = Field("quantity", description="Quantity field of a line")


class Refund(_Strict):
    """How the refund flow refunds."""

    via: Literal["target", "stripe"] = Field(
        "target", description="target: the profile's `refund` flow; stripe: the Refunds API"
    )


class Deadlines(_Strict):
    """Seconds each step may take before it is judged failed."""

    create_intent_s: float = Field(10, gt=0, le=120, description="The checkout answers")
    confirm_s: float = Field(10, gt=0, le=120, description="The PaymentIntent is confirmed")
    webhook_s: float = Field(15, gt=0, le=300, description="The event reaches the app")
    order_s: float = Field(10, gt=0, le=120, description="The order shows paid")
    payment_s: float = Field(10, gt=0, le=120, description="The payment record shows")
    notification_s: float = Field(10, gt=0, le=120, description="The notification shows")
    cart_s: float = Field(5, gt=0, le=120, description="The cart shows empty")
    refund_s: float = Field(15, gt=0, le=300, description="The refund goes through")
    poll_s: float = Field(0.05, gt=0, le=5, description="Seconds between two looks")


class AllowLive(_Strict):
    host: str = Field(min_length=1, description="The app's host the live flows may run against")


class RealPayment(_Strict):
    host: str = Field(
        min_length=1, description="The app's host the real payment may be made on (its base_url's)"
    )
    amount_max: int = Field(
        gt=0,
        description="The most the payment may be, in the currency's smallest unit (cents): "
        "above it golive refuses to confirm",
    )


class Production(_Strict):
    """The production smoke (smoke.production, item deployment.production-smoke): read-only
    requests always; with live keys a real payment only under `real_payment`."""

    pages: list[str] = Field(
        default_factory=list,
        description="Read-only pages (GET paths) that must load as smoke.customer, e.g. the "
        "menu or the checkout page",
    )
    real_payment: RealPayment | None = Field(
        None,
        description="With live keys: opt in to one real small payment and its refund on this "
        "host; without it golive makes only read-only requests",
    )


class Smoke(_Strict):
    customer: UserName = Field(description="Who buys in the flows (a test account)")
    other_customer: UserName | None = Field(
        None, description="A user of another state, for e2e.state-tax"
    )
    state_var: str = Field("state", description="The users' variable naming their state")
    currency: str = Field("usd", description="The currency the flows expect")
    items: list[CartLine] = Field(
        min_length=1,
        description="The smoke cart (a small amount)",
    )
    full_items: list[CartLine] = Field(
        min_length=1,
        description="The full-checkout cart",
    )
    multi_items: list[CartLine] = Field(
        min_length=2,
        description="The multi-item (and state-tax) cart",
    )
    order: Order = Field(default_factory=Order, description="How a read order reads")
    refund: Refund = Field(default_factory=Refund, description="How the refund flow refunds")
    deadlines: Deadlines = Field(default_factory=Deadlines, description="Seconds per step")
    retry_failures: int = Field(2, ge=1, le=5, description="Deliveries failed before the retry")
    allow_live: AllowLive | None = Field(None, description="Opt in to live keys for this host")
    production: Production = Field(
        default_factory=Production, description="The production smoke: read-only unless opted in"
    )
