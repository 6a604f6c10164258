"""The profile's `load:` block: who the load scenarios buy as, where they may send, and the
gate's short run.

The scenarios act as the profile's users and do the profile's jobs (golive/profile/flows.py):
a customer runs `fill_cart` (when the profile has it) and `checkout` with the cart, reads
the order back with `read_order` (when present), then pays the PaymentIntent at the Stripe
backend. A profile without `checkout` but with `fill_cart` and `checkout_cart` checks the
filled cart out instead. Every request carries the user's `auth:` (a header, Basic, a
cookie, a login flow with CSRF); a pool member logs in (or signs up) once, when it first
buys.

```yaml
users:
  shoppers:                      # the load's customers, each with its own rate-limit quota
    pool: {count: 50, vars: {token: "tok_load_{n:02d}"}}
load:
  users: shoppers                # a name under `users:` (a pool), or a list: [alice, bob]
  quota_per_min: 20              # checkouts per customer per minute the app allows
  allow_hosts: []                # non-loopback hosts a load test may target (staging)
  carts: [[{id: 1, quantity: 1}], [{id: 2, quantity: 2}, {id: 3, quantity: 1}]]
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

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from golive.profile.names import UserName
from golive.profile.pricing import CartLine

PROFILE_KEY = "load"
SCENARIOS = ("storm", "burst", "race", "mixed")
# Keys of the block before the profile's users, auth and flows described the requests.
RETIRED = {
    "customers": "name the load's users instead: `users: shoppers` (a pool under `users:`)",
    "cart_add": "give the profile a `fill_cart` flow (flows: / jobs:)",
    "order_read": "give the profile a `read_order` flow (flows: / jobs:)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Race(_Strict):
    fanout: int = Field(6, ge=2, le=50, description="Concurrent copies per race round")
    new_event_ids: int = Field(2, ge=0, le=20, description="Fresh event ids for one intent")


class GateRun(_Strict):
    users: int = Field(8, ge=1, le=200, description="Simulated users at the peak")
    spawn_rate: float = Field(8, gt=0, le=1000, description="Users started per second")
    duration_s: float = Field(6, gt=0, le=120, description="How long the run lasts, in seconds")


class LoadModel(_Strict):
    """Who the load scenarios buy as, where they may send, and the gate's short run."""

    users: list[UserName] = Field(
        min_length=1,
        description="Who buys: a pool under `users:` (shoppers), or a list of user names; "
        "each member has its own checkout quota",
    )
    quota_per_min: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Checkouts per user per minute the app allows; the scenarios stay under it",
    )
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Non-loopback hosts a load test may send to (a staging app); loopback always",
    )
    carts: list[list[CartLine]] = Field(
        min_length=1,
        description="The carts the storm customers buy, one picked per checkout",
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

    @model_validator(mode="before")
    @classmethod
    def _retired(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, instead in RETIRED.items():
                if key in data:
                    raise ValueError(f"`{key}` is no longer part of the load block: {instead}")
        return data

    @field_validator("users", mode="before")
    @classmethod
    def _one_name(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

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
