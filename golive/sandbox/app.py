"""The sandbox's ASGI application: Stripe's /v1 routes, the /_golive admin routes, the
fault-injection routes and middleware, and Stripe's 404 for any other URL, behind the
request-body limit."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from golive.sandbox.admin import admin_routes, unrecognized
from golive.sandbox.endpoint import ApiEndpoint
from golive.sandbox.faults import FaultMiddleware, FaultPlan, fault_routes
from golive.sandbox.history import HISTORY_MAX_BODY_BYTES
from golive.sandbox.limits import BodyLimit
from golive.sandbox.resources import OPERATIONS

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from golive.sandbox.state import SandboxState

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _unrecognized(request: Request) -> Response:
    return unrecognized(request.method, request.url.path)


def build_app(state: SandboxState) -> ASGIApp:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The dispatcher lives on the server's event loop: started and stopped with it.
        await state.dispatcher.start()
        try:
            yield
        finally:
            await state.dispatcher.stop()

    plan = FaultPlan(webhooks=state.dispatcher.faults)
    routes = [Route(op.path, ApiEndpoint(state, op), methods=[op.method]) for op in OPERATIONS]
    routes += admin_routes(state)
    routes += fault_routes(plan, state.dispatcher)
    # Last: a known path with another method is Stripe's 404 too, not a 405.
    routes.append(Route("/{path:path}", _unrecognized, methods=ALL_METHODS))
    app = FaultMiddleware(Starlette(routes=routes, lifespan=lifespan), plan)
    # Outermost: an oversize body is refused before auth, faults or any route reads it.
    # /_golive/history takes batches of thousands of payments (loopback callers only).
    limit = state.settings.max_body_bytes
    return BodyLimit(app, limit, {"/_golive/history": max(limit, HISTORY_MAX_BODY_BYTES)})
