"""golive's embedded Stripe sandbox: a stateful, Stripe-compatible HTTP API that the official
`stripe` libraries use unchanged (point their API base at `Sandbox().start().url`)."""

from golive.sandbox.server import Sandbox

__all__ = ["Sandbox"]
