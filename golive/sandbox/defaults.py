"""The sandbox's defaults, in a module that imports nothing: `golive --help` and the
`golive sandbox` parser read them without loading the server."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 12111  # stripe-mock's port, so tools configured for it work unchanged
# The version stripe-python 16.1.0 pins; events and responses are labelled with it.
DEFAULT_API_VERSION = "2026-10-28.endive"
DEFAULT_TTL_S = 24 * 3600.0  # idempotency keys: Stripe keeps them 24 hours
# Ten times what a gate makes (a few thousand objects), and small enough that a sandbox
# driven by a million keyed creates levels off under 190 MB RSS (BENCHMARKS.md).
DEFAULT_MAX_OBJECTS = 50_000
