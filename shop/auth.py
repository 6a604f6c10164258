"""Bearer-token authentication: `Authorization: Bearer <token>`, the token's SHA-256 looked
up in `users.token_hash`. A missing, malformed or unknown token is 401 on every endpoint
but /healthz and the Stripe webhook (which authenticates by signature instead).

The `no-auth` flaw lets a request without a valid token through as the first customer,
the way a forgotten "demo user" fallback does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.requests import Request

from shop import db
from shop.api import ApiError
from shop.seed import token_hash

if TYPE_CHECKING:
    from shop.app import Shop

FALLBACK_USER_ID = 1


def _unauthorized(message: str) -> ApiError:
    error = ApiError(401, "unauthorized", message)
    error.headers["WWW-Authenticate"] = 'Bearer realm="shop"'
    return error


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 256:
        return None
    return token.strip()


def current_user(request: Request, shop: Shop) -> dict[str, Any]:
    """The authenticated user as a dict (id, email, name, state, cart_version) or a 401."""
    users = shop.tables.users
    token = bearer_token(request)
    user = None
    if token is not None:
        with db.read(shop.engine) as conn:
            user = (
                conn.execute(sa.select(users).where(users.c.token_hash == token_hash(token)))
                .mappings()
                .first()
            )
    if user is None and shop.config.flawed("no-auth"):
        with db.read(shop.engine) as conn:
            user = (
                conn.execute(sa.select(users).where(users.c.id == FALLBACK_USER_ID))
                .mappings()
                .first()
            )
    if user is None:
        if token is None:
            raise _unauthorized("send Authorization: Bearer <token>")
        raise _unauthorized("the bearer token is not valid")
    request.scope.setdefault("state", {})["user_id"] = user["id"]
    return {k: user[k] for k in ("id", "email", "name", "state", "cart_version")}
