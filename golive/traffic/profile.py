"""The profile's `traffic:` block: a day's mix of payments, compressed into seconds, that
golive plays through the app's own flows and users (golive/traffic/player.py).

```yaml
traffic:
  payments: 40                   # how many checkouts to play
  mix: {success: 85, decline: 8, refund: 4, dispute: 2, drop-webhook: 1}   # by weight
  users: shoppers                # who buys: a pool under `users:` (or a list of names)
  carts:                         # one picked per checkout, in turn
    - [{id: 1, quantity: 1}]
    - [{id: 4, quantity: 1}, {id: 3, quantity: 2}]
  quota_per_min: 20              # checkouts (and refunds) per user per minute the app allows
  spread_s: 5                    # the payments start spread over this many seconds
  ledger: .build/traffic.json    # where the gate writes what was played (relative to the profile)
```

The kinds of the mix: `success` (pm_card_visa), `decline` (pm_card_chargeDeclined and
pm_card_chargeDeclinedInsufficientFunds in turn), `refund` (a success then refunded through
the profile's `refund` job, or Stripe's Refunds API without one), `dispute` (paid with the
dispute test card, where the backend has disputes), `drop-webhook` (a success whose events
the sandbox fails to deliver every time). Each kind with a weight above zero is played at
least once when there are enough payments: a rare kind would otherwise vanish from a short
run.

A demo/staging aid: golive never plays traffic with live keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from golive.profile.names import UserName
from golive.profile.pricing import CartLine

PROFILE_KEY = "traffic"
KINDS = ("success", "decline", "refund", "dispute", "drop-webhook")
DEFAULT_MIX = {"success": 85, "decline": 8, "refund": 4, "dispute": 2, "drop-webhook": 1}
MAX_PAYMENTS = 1000


class TrafficModel(BaseModel):
    """A compressed day of payments golive plays against the target after it starts."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    payments: int = Field(40, ge=1, le=MAX_PAYMENTS, description="How many checkouts to play")
    mix: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_MIX),
        description="Weights of success, decline, refund, dispute and drop-webhook",
    )
    users: list[UserName] = Field(
        min_length=1,
        description="Who buys: a pool under `users:` (shoppers), or a list of user names",
    )
    carts: list[list[CartLine]] = Field(
        min_length=1, description="The carts bought, one per checkout in turn"
    )
    quota_per_min: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Checkouts and refunds per user per minute the app allows; golive stays under it",
    )
    spread_s: float = Field(
        5, ge=0, le=600, description="The checkouts start spread over this many seconds"
    )
    concurrency: int = Field(4, ge=1, le=32, description="Checkouts in flight at once")
    timeout_s: float = Field(180, gt=0, le=3600, description="The whole play's bound, in seconds")
    settle_s: float = Field(
        20,
        gt=0,
        le=600,
        description="How long a refund waits for its order to be paid, and the ledger for "
        "disputes and dropped deliveries to show, in seconds",
    )
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Non-loopback hosts traffic may be sent to (a staging app); loopback always",
    )
    ledger: str | None = Field(
        None,
        description="File (relative to the profile) the gate writes the ledger of what was "
        "played to; none: only summarised on the terminal",
    )
    seed: int = Field(15, description="Orders the mix and picks the users, so runs repeat")

    @field_validator("users", mode="before")
    @classmethod
    def _one_name(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("mix")
    @classmethod
    def _kinds(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
        if any(weight < 0 for weight in value.values()) or not any(value.values()):
            raise ValueError("weights must be >= 0 and not all 0")
        return value
