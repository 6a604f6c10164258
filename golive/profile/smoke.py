"""The profile's `smoke:` block: how the smoke and end-to-end flows (smoke/) drive the target.

The flows place orders through the checkout of `pricing.checkout` (or `smoke.checkout`),
pay them with a test card against the Stripe backend as Stripe.js would, wait for the
webhook, and watch the side effects through the profile's `observer`. This block says who
buys, how the cart is filled and read, how an order and a refund are reached, and how
long each step may take. Every field has a default that fits the reference shop except
`customer`:

```yaml
smoke:
  customer: {token: tok_erin_ca, state: CA}        # who buys in the flows
  other_customer: {token: tok_bob_ny, state: NY}  # e2e.state-tax: a customer of another state
  items: [{id: 6, quantity: 1}]                    # the smoke cart: a small amount
  multi_items: [{id: 1, quantity: 2}, {id: 2, quantity: 1}]
  cart:                                            # omit when the app has no server-side cart
    clear: {method: DELETE, path: /api/v1/cart}
    add: {method: POST, path: /api/v1/cart/items, json: {food_item_id: "{id}", quantity: "{quantity}"}}
    read: /api/v1/cart                             # GET; `lines` is the list of lines in it
    lines: items
    checkout_body: {}                              # the checkout body that buys the cart
  order:                                           # GET one order ({order_id} from the checkout)
    path: "/api/v1/orders/{order_id}"
    status: payment_status
  refund: {via: target, method: POST, path: "/api/v1/orders/{order_id}/refund"}
  deadlines: {create_intent_s: 10, confirm_s: 10, webhook_s: 15, order_s: 10, …}
  retry_failures: 2                                # e2e.webhook-retry: deliveries failed first
  allow_live: {host: shop.example.com}             # opt in to flows with live keys
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from golive.profile.pricing import CartLine, Checkout

PROFILE_KEY = "smoke"
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Customer(_Strict):
    token: str = Field(min_length=1, description="Bearer token of the customer")
    state: str | None = Field(None, description="The customer's state, as the tax rules name it")


class Call(_Strict):
    method: Method = Field("POST", description="HTTP method")
    path: str = Field(pattern=r"^/", description="Path on the app; {id}/{quantity}/{order_id}")
    json_body: Any = Field(None, alias="json", description='JSON body; "{id}" etc. are filled')


class Cart(_Strict):
    clear: Call | None = Field(
        default_factory=lambda: Call(method="DELETE", path="/api/v1/cart"),
        description="Empties the cart before the smoke flow fills it (null: none)",
    )
    add: Call = Field(
        default_factory=lambda: Call(
            method="POST",
            path="/api/v1/cart/items",
            json={"food_item_id": "{id}", "quantity": "{quantity}"},
        ),
        description="Adds one line; called once per line of `items`",
    )
    read: str = Field("/api/v1/cart", pattern=r"^/", description="GET path of the cart")
    lines: str = Field("items", description="Dotted path of the list of lines in the answer")
    checkout_body: dict[str, Any] = Field(
        default_factory=dict, description="The checkout body that buys the cart's content"
    )


class Order(_Strict):
    path: str = Field("/api/v1/orders/{order_id}", pattern=r"^/", description="GET one order")
    status: str = Field("payment_status", description="Dotted path of the payment status")
    paid: list[str] = Field(
        default_factory=lambda: ["paid"], description="Statuses that mean the order is paid"
    )
    failed: list[str] = Field(
        default_factory=lambda: ["failed"],
        description="Statuses that mean the payment failed (after a declined card)",
    )
    refunded: list[str] = Field(
        default_factory=lambda: ["refunded"], description="Statuses that mean it was refunded"
    )
    lines: str = Field("breakdown.items", description="Dotted path of the order's lines")
    line_id: str = Field("food_item_id", description="Item id field of a line")
    line_quantity: str = Field("quantity", description="Quantity field of a line")
    subtotal: str = Field("breakdown.subtotal", description="Dotted path of the subtotal")


class Refund(_Strict):
    via: Literal["target", "stripe"] = Field(
        "target", description="target: the app's refund endpoint; stripe: the Refunds API"
    )
    method: Method = Field("POST", description="HTTP method of the app's refund endpoint")
    path: str = Field(
        "/api/v1/orders/{order_id}/refund",
        pattern=r"^/",
        description="Path of the app's refund endpoint; {order_id} is filled in",
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


class Smoke(_Strict):
    """How the smoke and end-to-end flows drive the app: who buys, which carts, how to
    read the order back, how long each step may take."""

    customer: Customer = Field(description="Who buys in the flows (a test account)")
    other_customer: Customer | None = Field(
        None, description="A customer of another state, for e2e.state-tax"
    )
    checkout: Checkout | None = Field(None, description="Default: pricing.checkout")
    order_id: str = Field("order_id", description="Dotted path of the order id in the answer")
    amount: str = Field("amount", description="Dotted path of the charged amount in the answer")
    client_secret: str = Field("client_secret", description="Dotted path of the client_secret")
    currency: str = Field("usd", description="Currency of the payments the flows make")
    items: list[CartLine] = Field(
        default_factory=lambda: [CartLine(id=6, quantity=1)],
        min_length=1,
        description="The smoke flow's cart: keep it small (the smoke payment's amount)",
    )
    full_items: list[CartLine] = Field(
        default_factory=lambda: [CartLine(id=1, quantity=1)],
        min_length=1,
        description="The cart of the full-checkout, payment-failure, refund and retry flows",
    )
    multi_items: list[CartLine] = Field(
        default_factory=lambda: [CartLine(id=1, quantity=2), CartLine(id=2, quantity=1)],
        min_length=2,
        description="The cart of the multi-item and state-tax flows (several lines)",
    )
    cart: Cart | None = Field(None, description="How to fill and read the cart; none: no cart")
    order: Order | None = Field(None, description="How to read one order back")
    refund: Refund = Field(default_factory=Refund, description="How the refund flow refunds")
    deadlines: Deadlines = Field(
        default_factory=Deadlines, description="How long each step may take, in seconds"
    )
    retry_failures: int = Field(2, ge=1, le=5, description="Deliveries failed before the retry")
    allow_live: AllowLive | None = Field(None, description="Opt in to live keys for this host")

    @model_validator(mode="after")
    def _two_states(self) -> Smoke:
        other = self.other_customer
        if other is not None and (other.state is None or other.state == self.customer.state):
            raise ValueError("other_customer needs a state other than customer.state")
        return self
