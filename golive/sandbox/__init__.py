"""golive's embedded Stripe sandbox: a stateful, Stripe-compatible HTTP API that the official
`stripe` libraries use unchanged (point their API base at `Sandbox().start().url`)."""

from __future__ import annotations

from typing import Any

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: `golive --help` and the sandbox's parser need none of the server.
    if name == "Sandbox":
        from golive.sandbox.server import Sandbox

        return Sandbox
    raise AttributeError(f"module 'golive.sandbox' has no attribute {name!r}")
