"""The profile's `reconcile:` block: how golive reads the app's orders to reconcile them
with Stripe's PaymentIntents, Charges, Refunds and Disputes.

```yaml
reconcile:
  sql:                      # SQLAlchemy URL; default: the profile's database
    query: >-              # one row per order, these column names; :since / :until
      SELECT id AS order_id, stripe_payment_intent_id AS payment_intent,
             total AS amount, currency, payment_status AS status, created_at,
             paid_at, platform_fee, subtotal
      FROM orders WHERE created_at >= :since AND created_at < :until
  # mongo: {url: mongodb://…, database: shop, collection: orders,
  #         filter: {createdAt: {$gte: "{since}", $lt: "{until}"}},
  #         fields: {order_id: _id, payment_intent: stripePaymentIntentId, …}}
  # http:  {path: "/internal/orders?since={since}&until={until}", user: ops,
  #         items: data, next: next}            # pages of JSON orders
  status:                   # which of the app's statuses mean what
    paid: [paid]
    pending: [pending]
    failed: [failed, canceled]
    refunded: [refunded, partially_refunded]
    disputed: [disputed]
  pending_max: 1h           # an order pending longer than this is a finding
  grace: 5m                 # a payment this young may still be on its way to its order
  margin: 15m               # both sides are read this much beyond the window's edges
```

Columns: `order_id`, `payment_intent`, `amount` (minor units), `currency`, `status`,
`created_at` are required; `paid_at`, `refunded_amount`, `disputed`, `platform_fee` and
`subtotal` are optional (each judged only when given). On SQLite `:since` / `:until` are
bound as UTC text `YYYY-MM-DD HH:MM:SS.ffffff` (how SQLAlchemy and Django store times
there), elsewhere as timestamps; `:since_epoch` / `:until_epoch` are Unix seconds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from golive.profile.names import UserName
from golive.profile.postdeploy import parse_duration

PROFILE_KEY = "reconcile"
REQUIRED_COLUMNS = ("order_id", "payment_intent", "amount", "currency", "status", "created_at")
OPTIONAL_COLUMNS = ("paid_at", "refunded_amount", "disputed", "platform_fee", "subtotal")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
CATEGORIES = ("paid", "pending", "failed", "refunded", "disputed")
WINDOW_PARAMS = ("since", "until", "since_epoch", "until_epoch")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SqlOrders(_Strict):
    url: str | None = Field(None, description="SQLAlchemy URL; default: database.url")
    query: str = Field(
        description="SELECT returning one row per order with the named columns; "
        ":since and :until (or :since_epoch and :until_epoch) bound to the window"
    )

    @field_validator("query")
    @classmethod
    def _window(cls, value: str) -> str:
        if not any(f":{name}" in value for name in WINDOW_PARAMS):
            raise ValueError("the query must use the window's :since and :until parameters")
        return value


class MongoOrders(_Strict):
    url: str | None = Field(None, description="mongodb:// URL; default: database.url")
    database: str | None = Field(None, description="default: the URL's database")
    collection: str = Field(description="The orders' collection")
    filter: dict[str, Any] = Field(
        default_factory=dict,
        description='"{since}" and "{until}" are replaced by the window\'s bounds (datetimes)',
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="column -> the document's field (dotted path); default: the column's name",
    )

    @field_validator("fields")
    @classmethod
    def _known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(COLUMNS))
        if unknown:
            raise ValueError(f"unknown column(s) {', '.join(unknown)}; known: {', '.join(COLUMNS)}")
        return value


class HttpOrders(_Strict):
    path: str = Field(
        pattern=r"^/",
        description='GET path on the app; "{since}" and "{until}" are filled (ISO 8601)',
    )
    user: UserName | None = Field(
        None, description="Ask as this user (the profile's `auth`); none: anonymously"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers")
    items: str = Field("data", description="The answer's key holding the page's orders")
    next: str | None = Field(
        "next",
        description="The answer's key holding the next page's path (null or absent: the last)",
    )
    max_pages: int = Field(10000, ge=1, le=1000000, description="Stop after this many pages")


class StatusMap(_Strict):
    paid: list[str] = Field(min_length=1, description="The app's statuses of a paid order")
    pending: list[str] = Field(default_factory=list, description="Awaiting payment")
    failed: list[str] = Field(default_factory=list, description="Payment failed or canceled")
    refunded: list[str] = Field(default_factory=list, description="Refunded, fully or in part")
    disputed: list[str] = Field(default_factory=list, description="Under dispute")

    @model_validator(mode="after")
    def _once(self) -> StatusMap:
        seen: dict[str, str] = {}
        for category in CATEGORIES:
            for status in getattr(self, category):
                if status in seen:
                    raise ValueError(
                        f"status {status!r} is under both {seen[status]} and {category}"
                    )
                seen[status] = category
        return self

    def category(self, status: Any) -> str | None:
        """The category of one of the app's statuses; None for a status not mapped."""
        text = str(status)
        for category in CATEGORIES:
            if text in getattr(self, category):
                return category
        return None


def _duration(value: str) -> str:
    parse_duration(value)
    return value


class ReconcileModel(_Strict):
    """Where the app's orders are read from (exactly one of sql, mongo, http), what its
    statuses mean, and the tolerances of the comparison."""

    sql: SqlOrders | None = Field(None, description="Orders from a SQL query")
    mongo: MongoOrders | None = Field(None, description="Orders from a MongoDB collection")
    http: HttpOrders | None = Field(None, description="Orders from pages of JSON the app serves")
    status: StatusMap = Field(description="Which of the app's order statuses mean what")
    pending_max: str = Field("1h", description="An order pending longer than this is a finding")
    grace: str = Field(
        "5m", description="A payment younger than this may still be on its way to its order"
    )
    margin: str = Field(
        "15m",
        description="Both sides are read this much beyond the window, so a record near an "
        "edge finds its partner",
    )

    @field_validator("pending_max", "grace", "margin")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value)

    @model_validator(mode="after")
    def _one_source(self) -> ReconcileModel:
        given = [name for name in ("sql", "mongo", "http") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of sql, mongo and http")
        return self

    def duration(self, name: str) -> timedelta:
        return parse_duration(getattr(self, name))
