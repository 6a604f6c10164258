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
# Request bodies: Stripe documents no limit, but its calls are small (50 metadata keys of at
# most 540 bytes, strings of at most 5,000 characters: tens of KB for the largest real
# call). 1 MiB, nginx's default `client_max_body_size`, is far above any Stripe call and
# keeps a refused 300 MB body from costing memory. `--max-body-bytes` raises it.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Bracket levels below a parameter's name (`metadata[k]` is 1). Stripe documents none; its
# deepest parameters go about 5 (`line_items[0][price_data][product_data][metadata][k]`),
# and decoding is recursive, so 1,000 levels must be refused, not overflow the stack.
MAX_PARAM_DEPTH = 10
