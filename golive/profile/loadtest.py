"""The profile's `load:` block: who the load scenarios buy as, where they may send, and the
gate's short run.

```yaml
load:
  customers:                     # bearer tokens, each with its own rate-limit quota
    pattern: tok_load_{n:02d}    # or `tokens: [tok_a, tok_b]`
    count: 50
  quota_per_min: 20              # checkouts per customer per minute the app allows
  allow_hosts: []                # non-loopback hosts a load test may target (staging)
  carts: [[{id: 1, quantity: 1}], [{id: 2, quantity: 2}, {id: 3, quantity: 1}]]
  cart_add: {path: /api/v1/cart/items, json: {food_item_id: "{id}", quantity: "{quantity}"}}
  order_read: {path: "/api/v1/orders/{order_id}", order_id: order_id}
  payment_methods: {pm_card_visa: 9, pm_card_chargeDeclined: 1}
  weights: {storm: 6, burst: 2, race: 1}       # the mixed scenario's blend
  webhook_rate_per_user: 4       # signed events per second per burst user
  race: {fanout: 6, new_event_ids: 2}
  settle_s: 30                   # how long the invariants wait for webhooks to land
  gate: {users: 8, spawn_rate: 8, duration_s: 6}   # the short run inside `golive gate`
```
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from golive.profile.pricing import CartLine

PROFILE_KEY = "load"
SCENARIOS = ("storm", "burst", "race", "mixed")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Customers(_Strict):
    tokens: list[str] = Field(default_factory=list, description="Bearer tokens, one per customer")
    pattern: str | None = Field(None, description="e.g. tok_load_{n:02d}, with `count`")
    count: int = Field(
        0, ge=0, le=10_000, description="How many tokens `pattern` makes (n = 1…count)"
    )

    @model_validator(mode="after")
    def _some(self) -> Customers:
        if bool(self.tokens) == bool(self.pattern):
            raise ValueError("give either `tokens` or `pattern` with `count`")
        if self.pattern and self.count < 1:
            raise ValueError("`pattern` needs `count` of at least 1")
        if self.pattern and "{n" not in self.pattern:
            raise ValueError("`pattern` must hold {n} (e.g. tok_load_{n:02d})")
        return self

    def all(self) -> list[str]:
        if self.tokens:
            return list(self.tokens)
        assert self.pattern is not None
        return [self.pattern.format(n=n) for n in range(1, self.count + 1)]


class CartAdd(_Strict):
    path: str = Field(pattern=r"^/", description="POST path adding one line to the cart")
    json_body: dict[str, Any] = Field(
        alias="json", description='Body template; "{id}" and "{quantity}" are filled in'
    )


class OrderRead(_Strict):
    path: str = Field(pattern=r"^/", description="GET path; {order_id} is filled in")
    order_id: str = Field("order_id", description="Dotted path of the order id in the checkout")


class Race(_Strict):
    fanout: int = Field(6, ge=2, le=50, description="Concurrent copies per race round")
    new_event_ids: int = Field(2, ge=0, le=20, description="Fresh event ids for one intent")


class GateRun(_Strict):
    users: int = Field(8, ge=1, le=200, description="Simulated users at the peak")
    spawn_rate: float = Field(8, gt=0, le=1000, description="Users started per second")
    duration_s: float = Field(6, gt=0, le=120, description="How long the run lasts, in seconds")


class LoadModel(_Strict):
    """Who the load scenarios buy as, where they may send, and the gate's short run."""

    customers: Customers = Field(
        description="Who the scenarios buy as: bearer tokens, each with its own rate-limit quota"
    )
    quota_per_min: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Checkouts per customer per minute the app allows; the scenarios stay under it",
    )
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Non-loopback hosts a load test may send to (a staging app); loopback always",
    )
    carts: list[list[CartLine]] = Field(
        default_factory=lambda: [[CartLine(id=1, quantity=1)]],
        min_length=1,
        description="The carts the storm customers buy, one picked per checkout",
    )
    cart_add: CartAdd | None = Field(
        None, description="How a line is added to a server-side cart (none: items in the checkout)"
    )
    order_read: OrderRead | None = Field(
        None, description="How the order is read back after the checkout (none: not read)"
    )
    payment_methods: dict[str, int] = Field(
        default_factory=lambda: {"pm_card_visa": 9, "pm_card_chargeDeclined": 1},
        description="Test payment methods the storm pays with, by weight",
    )
    weights: dict[str, int] = Field(
        default_factory=lambda: {"storm": 6, "burst": 2, "race": 1},
        description="The mixed scenario's blend of storm, burst and race users",
    )
    webhook_rate_per_user: float = Field(
        4, gt=0, le=1000, description="Signed events per second per burst user"
    )
    race: Race = Field(default_factory=Race, description="The race scenario's duplicates")
    settle_s: float = Field(
        30,
        gt=0,
        le=600,
        description="How long the invariants wait for webhooks to land, in seconds",
    )
    gate: GateRun = Field(
        default_factory=GateRun, description="The short mixed run inside `golive gate`"
    )

    @model_validator(mode="after")
    def _valid(self) -> LoadModel:
        unknown = sorted(set(self.weights) - {"storm", "burst", "race"})
        if unknown:
            raise ValueError(f"weights: unknown scenario(s) {', '.join(unknown)}")
        if any(w < 0 for w in self.weights.values()) or not any(self.weights.values()):
            raise ValueError("weights must be >= 0 and not all 0")
        if not self.payment_methods or any(w < 0 for w in self.payment_methods.values()):
            raise ValueError("payment_methods: give at least one, weights >= 0")
        if self.race.fanout >= self.quota_per_min:
            # One race round is `fanout` checkouts by one customer inside the quota.
            raise ValueError("race.fanout must be below quota_per_min")
        return self
