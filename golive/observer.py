"""The profile's `observer:` block: how golive sees what the target did for a payment.

Side-effect checks, smoke flows and load invariants ask one question of the target: for
this PaymentIntent id, how many orders, paid orders, payments (and notifications) are
there? The block answers it with one of three sources, each a set of named counts:

```yaml
observer:
  sql:                                   # SQLAlchemy URL; default: the profile's database
    counts:                              # :payment_intent is the PaymentIntent id
      orders: SELECT count(*) FROM orders WHERE stripe_payment_intent_id = :payment_intent
      paid_orders: SELECT count(*) FROM orders WHERE ... AND payment_status = 'paid'
      payments: SELECT count(*) FROM payments WHERE stripe_payment_intent_id = :payment_intent
      notifications: SELECT count(*) FROM ...      # optional
  # mongo: {url: mongodb://…, database: shop, counts: {orders: {collection: orders,
  #         filter: {stripePaymentIntentId: "{payment_intent}"}}, …}}
  # http:  {path: "/internal/payments/{payment_intent}", user: ops}  -> {"orders": 1, …}
  order:                                 # who buys the order the side-effect checks pay
    user: dave                           # a name under `users:`, through the checkout flow
    cart: [{id: 1, quantity: 1}]
  deadline_s: 10     # how long to wait for a side effect to show
  settle_s: 1.5      # how long to watch for a side effect that must NOT happen
  poll_s: 0.1
```

`orders`, `paid_orders` and `payments` are required; `notifications` is optional and,
when given, judged too. Polling, because many apps answer a webhook 200 before they
process it.

An app whose webhook changes nothing golive could count (Stripe's own sample server, no
database) says so instead of giving a source:

```yaml
observer:
  none: "Stripe's sample server: the webhook only logs the event"
```

Every check that judges a side effect through the observer is then not-applicable with
that reason (`CheckContext.needs_observer()`; in the flows, a step that asks the observer
is skipped as not-applicable); the other checks run as before. Without an `observer`
block those checks stay not-run: golive was not told how to see the side effects.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from golive import httpclient
from golive.client.errors import FlowError
from golive.client.session import UserSession
from golive.profile.names import UserName
from golive.profile.pricing import CartLine
from golive.validation import NonBlank

PROFILE_KEY = "observer"
REQUIRED_COUNTS = ("orders", "paid_orders", "payments")
OPTIONAL_COUNTS = ("notifications",)
PLACEHOLDER = "{payment_intent}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _names_ok(counts: Mapping[str, Any]) -> None:
    missing = [name for name in REQUIRED_COUNTS if name not in counts]
    if missing:
        raise ValueError(f"counts needs {', '.join(missing)} (and may have notifications)")
    unknown = sorted(set(counts) - set(REQUIRED_COUNTS) - set(OPTIONAL_COUNTS))
    if unknown:
        raise ValueError(f"unknown count(s) {', '.join(unknown)}")


class SqlSource(_Strict):
    url: str | None = Field(None, description="SQLAlchemy URL; default: database.url")
    counts: dict[str, str] = Field(description="name -> SELECT returning one integer")

    @model_validator(mode="after")
    def _valid(self) -> SqlSource:
        _names_ok(self.counts)
        for name, query in self.counts.items():
            if ":payment_intent" not in query:
                raise ValueError(f"counts.{name} must use the parameter :payment_intent")
        return self


class MongoCount(_Strict):
    collection: str = Field(description="The collection to count documents in")
    filter: dict[str, Any] = Field(description=f'"{PLACEHOLDER}" marks the PaymentIntent id')


class MongoSource(_Strict):
    url: str | None = Field(None, description="mongodb:// URL; default: database.url")
    database: str | None = Field(None, description="default: the URL's database")
    counts: dict[str, MongoCount] = Field(
        description="orders, paid_orders, payments (and optionally notifications) -> what to count"
    )

    @model_validator(mode="after")
    def _valid(self) -> MongoSource:
        _names_ok(self.counts)
        return self


class HttpSource(_Strict):
    path: str = Field(pattern=r"^/", description=f"GET path on the app; {PLACEHOLDER} is filled")
    user: UserName | None = Field(
        None, description="Ask as this user (the profile's `auth`); none: anonymously"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers")


class OrderSpec(_Strict):
    user: UserName = Field(description="The user who buys (a name under `users:`)")
    cart: list[CartLine] = Field(
        min_length=1,
        description="What they buy, through the `checkout` flow",
    )


class ObserverModel(_Strict):
    """How golive sees what the target did for a payment: exactly one source of counts
    (sql, mongo or http), or `none` with the reason there is nothing to observe."""

    sql: SqlSource | None = Field(None, description="Count with SQL queries")
    mongo: MongoSource | None = Field(None, description="Count MongoDB documents")
    http: HttpSource | None = Field(None, description="Ask an endpoint of the app for the counts")
    none: NonBlank | None = Field(
        None,
        description="Instead of a source: why the app's webhook has no side effect golive "
        "can observe (e.g. a sample server without a database); the checks that judge side "
        "effects are then not-applicable with this reason",
    )
    order: OrderSpec | None = Field(
        None, description="The customer and cart of the orders the side-effect checks pay"
    )
    deadline_s: float = Field(
        10, gt=0, le=120, description="How long to wait for a side effect to show, in seconds"
    )
    settle_s: float = Field(
        1.5,
        gt=0,
        le=60,
        description="How long to watch for a side effect that must NOT happen, in seconds",
    )
    poll_s: float = Field(0.1, gt=0, le=5, description="Seconds between two looks")

    @model_validator(mode="after")
    def _one_source(self) -> ObserverModel:
        given = [name for name in SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of sql, mongo and http, or none: REASON when the app's "
                "webhook has no side effect golive can observe"
            )
        return self


SOURCES = ("sql", "mongo", "http", "none")


class ObserverError(Exception):
    """The observer could not be asked (unreachable, bad query, bad answer)."""


class NotObservable(Exception):
    """The profile declares `observer: {none: reason}`: there is nothing to observe, so
    whatever asked cannot be judged (not-applicable, with the message as the reason)."""


def declared_none(block: Any) -> str | None:
    """The reason a profile's raw `observer` block gives for observing nothing, or None."""
    if isinstance(block, Mapping) and isinstance(block.get("none"), str):
        reason = block["none"].strip()
        return reason or None
    return None


def not_observable(reason: str) -> str:
    """The message every item judged through the observer carries under `none`."""
    return f"the profile declares nothing golive can observe (observer.none): {reason}"


class Source(Protocol):
    def counts(self, payment_intent: str) -> dict[str, int]: ...

    def close(self) -> None: ...


# --- sources ----------------------------------------------------------------------------


class _Sql:
    def __init__(self, url: str, counts: dict[str, str]) -> None:
        import sqlalchemy as sa

        self._sa = sa
        self._engine = sa.create_engine(url)
        self._queries = {name: sa.text(query) for name, query in counts.items()}

    def counts(self, payment_intent: str) -> dict[str, int]:
        try:
            with self._engine.connect() as conn:
                return {
                    name: int(conn.execute(query, {"payment_intent": payment_intent}).scalar() or 0)
                    for name, query in self._queries.items()
                }
        except self._sa.exc.SQLAlchemyError as exc:
            raise ObserverError(f"observer query failed: {str(exc).splitlines()[0]}") from None

    def close(self) -> None:
        self._engine.dispose()


def _fill(node: Any, value: str) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, value) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, value) for v in node]
    return value if node == PLACEHOLDER else node


class _Mongo:
    def __init__(self, db: Any, counts: dict[str, MongoCount], close: Callable[[], None]) -> None:
        self._db, self._counts, self._close = db, counts, close

    def counts(self, payment_intent: str) -> dict[str, int]:
        from pymongo.errors import PyMongoError

        try:
            return {
                name: int(
                    self._db[spec.collection].count_documents(_fill(spec.filter, payment_intent))
                )
                for name, spec in self._counts.items()
            }
        except PyMongoError as exc:
            raise ObserverError(f"observer query failed: {exc}") from None

    def close(self) -> None:
        self._close()


class _Nothing:
    """The source of `observer: {none: reason}`: every question is NotObservable."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def counts(self, payment_intent: str) -> dict[str, int]:
        raise NotObservable(not_observable(self.reason))

    def close(self) -> None:
        pass


class _Http:
    """Counts from an endpoint of the app, asked as the block's user (the profile's auth)
    or anonymously."""

    def __init__(self, base_url: str, spec: HttpSource, app_client: Any) -> None:
        self._path, self._headers = spec.path, dict(spec.headers)
        if spec.user is not None:
            if app_client is None:
                raise ObserverError("observer.http.user needs the profile's app")
            self._session = app_client.open_session(spec.user, app_client.user_vars(spec.user))
        else:
            web = httpclient.client(base_url=base_url, timeout=10)
            self._session = UserSession(
                name="anonymous", variables={}, auth=None, flows={}, transport=web, close=web.close
            )

    def counts(self, payment_intent: str) -> dict[str, int]:
        path = self._path.replace(PLACEHOLDER, payment_intent)
        try:
            answer = self._session.request("GET", path, headers=self._headers)
        except (httpx.HTTPError, FlowError) as exc:
            raise ObserverError(f"observer GET {path} failed: {exc}") from None
        if answer.status_code != 200:
            raise ObserverError(f"observer GET {path} answered {answer.status_code}")
        try:
            data = answer.json()
            return {k: int(v) for k, v in data.items() if k in REQUIRED_COUNTS + OPTIONAL_COUNTS}
        except (ValueError, TypeError, AttributeError):
            raise ObserverError(
                f"observer GET {path} did not answer a JSON object of integer counts"
            ) from None

    def close(self) -> None:
        self._session.close()


# --- the observer -----------------------------------------------------------------------


@dataclass
class Observation:
    """Counts for one PaymentIntent, and how long it took to see them."""

    payment_intent: str
    counts: dict[str, int]
    waited_s: float
    polls: int

    def evidence(self) -> dict[str, Any]:
        return {
            "payment_intent": self.payment_intent,
            "counts": self.counts,
            "waited_s": round(self.waited_s, 2),
            "polls": self.polls,
        }


class Observer:
    """Counts side effects per PaymentIntent and waits for them to appear (or not)."""

    def __init__(self, model: ObserverModel, source: Source) -> None:
        self.model = model
        self._source = source

    def counts(self, payment_intent: str) -> dict[str, int]:
        counts = self._source.counts(payment_intent)
        missing = [name for name in REQUIRED_COUNTS if name not in counts]
        if missing:
            raise ObserverError(f"the observer gave no {', '.join(missing)} count")
        return counts

    def wait_until(
        self,
        payment_intent: str,
        done: Callable[[dict[str, int]], bool],
        deadline_s: float | None = None,
    ) -> tuple[bool, Observation]:
        """Poll until `done(counts)` or the deadline; (reached?, last observation)."""
        deadline_s = self.model.deadline_s if deadline_s is None else deadline_s
        started = time.monotonic()
        polls = 0
        while True:
            counts = self.counts(payment_intent)
            polls += 1
            waited = time.monotonic() - started
            if done(counts):
                return True, Observation(payment_intent, counts, waited, polls)
            if waited >= deadline_s:
                return False, Observation(payment_intent, counts, waited, polls)
            time.sleep(self.model.poll_s)

    def watch(
        self, payment_intent: str, bad: Callable[[dict[str, int]], bool]
    ) -> tuple[bool, Observation]:
        """Watch for `settle_s`: (stayed good?, the observation). Stops at the first bad."""
        seen_bad, observation = self.wait_until(payment_intent, bad, self.model.settle_s)
        return not seen_bad, observation

    def close(self) -> None:
        self._source.close()


def open_observer(
    model: ObserverModel,
    *,
    database_url: str | None,
    app_base_url: str | None,
    app_client: Any = None,
) -> Observer:
    """The observer the block describes; ObserverError when its source is not available.
    Under `none` it opens, and every count it is asked for raises NotObservable."""
    if model.none is not None:
        return Observer(model, _Nothing(model.none))
    if model.sql is not None:
        url = model.sql.url or database_url
        if not url or url.startswith("mongodb"):
            raise ObserverError("observer.sql has no url and the profile's database is not SQL")
        return Observer(model, _Sql(url, model.sql.counts))
    if model.mongo is not None:
        url = model.mongo.url or database_url
        if not url or not url.startswith("mongodb"):
            raise ObserverError("observer.mongo has no mongodb:// url (nor has the database)")
        import pymongo

        client: Any = pymongo.MongoClient(url, serverSelectionTimeoutMS=3000)
        name = model.mongo.database or client.get_default_database().name
        return Observer(model, _Mongo(client[name], model.mongo.counts, client.close))
    assert model.http is not None
    if not app_base_url:
        raise ObserverError("observer.http needs the profile's app (its base_url)")
    return Observer(model, _Http(app_base_url, model.http, app_client))


def mongo_observer(model: ObserverModel, db: Any) -> Observer:
    """An observer on an open MongoDB database handle (mongomock in tests)."""
    assert model.mongo is not None
    return Observer(model, _Mongo(db, model.mongo.counts, lambda: None))
