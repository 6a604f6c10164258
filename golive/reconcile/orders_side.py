"""The app's side of a reconciliation: its orders in a time window, one at a time, read
through the profile's `reconcile` source (a SQL query, a MongoDB collection, or pages of
JSON from the app), each turned into a compact `Order`.

SQL rows are fetched in batches from a server-side cursor (`stream_results`), MongoDB
documents from a cursor, HTTP pages one after another: nothing holds every order at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from golive import httpclient
from golive.reconcile.profile import (
    COLUMNS,
    REQUIRED_COLUMNS,
    HttpOrders,
    MongoOrders,
    ReconcileModel,
    SqlOrders,
    StatusMap,
)

BATCH = 1000


class SourceError(Exception):
    """The orders could not be read (unreachable, bad query, a row golive cannot read);
    the message names the source."""


@dataclass(slots=True)
class Order:
    order_id: str
    payment_intent: str | None
    amount: int
    currency: str
    status: str
    category: str | None  # paid, pending, failed, refunded, disputed; None: not mapped
    created: float  # Unix seconds
    paid: float | None = None
    refunded_amount: int | None = None
    disputed: bool | None = None
    platform_fee: int | None = None
    subtotal: int | None = None

    def summary(self) -> str:
        return f"order {self.order_id} {self.status} {self.amount} {self.currency}"


# --- values ------------------------------------------------------------------------------


def _epoch(value: Any, column: str) -> float:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.timestamp()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        number = float(value)
        return number / 1000 if number > 1e11 else number  # milliseconds since the epoch
    if isinstance(value, str) and value.strip():
        try:
            return _epoch(datetime.fromisoformat(value.strip().replace("Z", "+00:00")), column)
        except ValueError:
            pass
    raise ValueError(f"{column} {value!r} is not a time")


def _integer(value: Any, column: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{column} {value!r} is not an amount in minor units")
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise ValueError(f"{column} {value!r} is not an amount in minor units") from None
    if number != number.to_integral_value():
        raise ValueError(f"{column} {value!r} is not a whole amount in minor units")
    return int(number)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t", "yes", "y")
    return bool(value)


def to_order(row: Mapping[str, Any], statuses: StatusMap) -> Order:
    """One source row as an Order; ValueError naming the order and the column."""
    missing = [c for c in REQUIRED_COLUMNS if c not in row]
    if missing:
        raise ValueError(f"a row has no {', '.join(missing)} column (it has {', '.join(row)})")
    order_id = str(row["order_id"])
    try:
        intent = row["payment_intent"]
        optional = {c: row.get(c) for c in COLUMNS[len(REQUIRED_COLUMNS) :]}
        return Order(
            order_id=order_id,
            payment_intent=str(intent) if intent not in (None, "") else None,
            amount=_integer(row["amount"], "amount"),
            currency=str(row["currency"] or "").lower(),
            status=str(row["status"]),
            category=statuses.category(row["status"]),
            created=_epoch(row["created_at"], "created_at"),
            paid=None if optional["paid_at"] is None else _epoch(optional["paid_at"], "paid_at"),
            refunded_amount=None
            if optional["refunded_amount"] is None
            else _integer(optional["refunded_amount"], "refunded_amount"),
            disputed=None if optional["disputed"] is None else _flag(optional["disputed"]),
            platform_fee=None
            if optional["platform_fee"] is None
            else _integer(optional["platform_fee"], "platform_fee"),
            subtotal=None
            if optional["subtotal"] is None
            else _integer(optional["subtotal"], "subtotal"),
        )
    except ValueError as exc:
        raise ValueError(f"order {order_id}: {exc}") from None


# --- sources -----------------------------------------------------------------------------


def _sql_params(query: str, dialect: str, since: datetime, until: datetime) -> dict[str, Any]:
    if dialect == "sqlite":
        # SQLite has no time type: SQLAlchemy and Django store UTC text in this form.
        bounds: dict[str, Any] = {
            "since": since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "until": until.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
        }
    else:
        bounds = {"since": since, "until": until}
    bounds |= {"since_epoch": int(since.timestamp()), "until_epoch": int(until.timestamp())}
    named = set(re.findall(r"(?<!:):([A-Za-z_]\w*)", query))
    return {k: v for k, v in bounds.items() if k in named}


def sql_rows(
    spec: SqlOrders, url: str, since: datetime, until: datetime
) -> Iterator[dict[str, Any]]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            params = _sql_params(spec.query, engine.dialect.name, since, until)
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                sa.text(spec.query), params
            )
            columns = list(result.keys())
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise SourceError(
                    f"reconcile.sql.query returns no {', '.join(missing)} column "
                    f"(it returns {', '.join(columns)})"
                )
            for row in result.mappings():
                yield dict(row)
    except sa.exc.SQLAlchemyError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"reconcile.sql.query failed: {first}") from None
    finally:
        engine.dispose()


def _fill(node: Any, since: datetime, until: datetime) -> Any:
    if isinstance(node, dict):
        return {k: _fill(v, since, until) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, since, until) for v in node]
    return {"{since}": since, "{until}": until}.get(node, node) if isinstance(node, str) else node


def _dotted(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def mongo_rows(
    spec: MongoOrders, db: Any, since: datetime, until: datetime
) -> Iterator[dict[str, Any]]:
    from pymongo.errors import PyMongoError

    fields = {column: spec.fields.get(column, column) for column in COLUMNS}
    try:
        cursor = db[spec.collection].find(_fill(spec.filter, since, until), batch_size=BATCH)
        for document in cursor:
            row = {c: _dotted(document, f) for c, f in fields.items()}
            for column in REQUIRED_COLUMNS:  # a required field the document lacks
                if row[column] is None and column != "payment_intent":
                    row.pop(column)
            yield row
    except PyMongoError as exc:
        raise SourceError(f"reconcile.mongo ({spec.collection}) failed: {exc}") from None


def http_rows(
    spec: HttpOrders, session: Any, since: datetime, until: datetime
) -> Iterator[dict[str, Any]]:
    """Pages of orders from the app; `session` is a golive.client.session.UserSession."""
    from golive.client.errors import FlowError

    path: str | None = spec.path.replace("{since}", since.isoformat()).replace(
        "{until}", until.isoformat()
    )
    pages = 0
    while path and pages < spec.max_pages:
        pages += 1
        try:
            answer = session.request("GET", path, headers=spec.headers)
        except (httpx.HTTPError, FlowError) as exc:
            raise SourceError(f"reconcile.http GET {path} failed: {exc}") from None
        if answer.status_code != 200:
            raise SourceError(f"reconcile.http GET {path} answered {answer.status_code}")
        try:
            data = answer.json()
            items = data[spec.items]
            if not isinstance(items, list):
                raise TypeError
        except (ValueError, TypeError, KeyError):
            raise SourceError(
                f"reconcile.http GET {path} did not answer a JSON object with a list "
                f"under {spec.items!r}"
            ) from None
        for item in items:
            if not isinstance(item, dict):
                raise SourceError(f"reconcile.http GET {path}: an order is not a JSON object")
            yield item
        following = data.get(spec.next) if spec.next else None
        path = following if isinstance(following, str) and following else None
    if path:
        raise SourceError(f"reconcile.http stopped after max_pages={spec.max_pages} pages")


class Orders:
    """Opens the block's source and reads a window's orders from it."""

    def __init__(
        self,
        model: ReconcileModel,
        *,
        database_url: str | None,
        app_base_url: str | None = None,
        app_client: Any = None,
        mongo_db: Any = None,
    ) -> None:
        self.model = model
        self._database_url = database_url
        self._app_base_url = app_base_url
        self._app_client = app_client
        self._mongo_db = mongo_db  # an open database handle (mongomock in tests)
        self._close: list[Any] = []

    def describe(self) -> str:
        if self.model.sql is not None:
            return "reconcile.sql"
        if self.model.mongo is not None:
            return f"reconcile.mongo ({self.model.mongo.collection})"
        assert self.model.http is not None
        return f"reconcile.http (GET {self.model.http.path})"

    def rows(self, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
        model = self.model
        if model.sql is not None:
            url = model.sql.url or self._database_url
            if not url or url.startswith("mongodb"):
                raise SourceError("reconcile.sql has no url and the profile's database is not SQL")
            return sql_rows(model.sql, url, since, until)
        if model.mongo is not None:
            return mongo_rows(model.mongo, self._mongo(), since, until)
        assert model.http is not None
        return http_rows(model.http, self._http_session(), since, until)

    def read(self, since: datetime, until: datetime) -> Iterator[Order]:
        for row in self.rows(since, until):
            try:
                yield to_order(row, self.model.status)
            except ValueError as exc:
                raise SourceError(f"{self.describe()}: {exc}") from None

    def _mongo(self) -> Any:
        if self._mongo_db is not None:
            return self._mongo_db
        spec = self.model.mongo
        assert spec is not None
        url = spec.url or self._database_url
        if not url or not url.startswith("mongodb"):
            raise SourceError("reconcile.mongo has no mongodb:// url (nor has the database)")
        import pymongo

        client: Any = pymongo.MongoClient(url, serverSelectionTimeoutMS=3000)
        self._close.append(client.close)
        try:
            return client[spec.database or client.get_default_database().name]
        except Exception as exc:  # noqa: BLE001 - pymongo's ConfigurationError and kin
            raise SourceError(f"reconcile.mongo: {exc}") from None

    def _http_session(self) -> Any:
        from golive.client.session import UserSession

        spec = self.model.http
        assert spec is not None
        if spec.user is not None:
            if self._app_client is None:
                raise SourceError(
                    "reconcile.http.user needs the profile's app (app.base_url of the deployed app)"
                )
            session = self._app_client.open_session(
                spec.user, self._app_client.user_vars(spec.user)
            )
        else:
            if not self._app_base_url:
                raise SourceError(
                    "reconcile.http needs the profile's app (app.base_url of the deployed app)"
                )
            web = httpclient.client(base_url=self._app_base_url, timeout=30)
            session = UserSession(
                name="anonymous", variables={}, auth=None, flows={}, transport=web, close=web.close
            )
        self._close.append(session.close)
        return session

    def close(self) -> None:
        for close in self._close:
            close()
        self._close.clear()
