"""API keys: who may call, with Stripe's 401 answers for a missing or malformed key.

Any well-formed test-mode key works (there is no key registry): `sk_test_…` and `rk_test_…`
everywhere, `pk_test_…` only on the calls Stripe lets a browser make. Live-mode keys are
refused: a live secret has no business being sent to a sandbox.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from golive.sandbox.errors import StripeError, authentication

_KEY = re.compile(r"(sk|rk|pk)_(test|live)_[A-Za-z0-9_]+")
_KINDS = {"sk": "secret", "rk": "restricted", "pk": "publishable"}

NO_KEY = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
PUBLISHABLE = "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."


@dataclass(frozen=True, slots=True)
class ApiKey:
    value: str
    kind: str  # secret | restricted | publishable

    @property
    def publishable(self) -> bool:
        return self.kind == "publishable"


def mask(key: str) -> str:
    """How Stripe echoes a key in errors: the prefix, stars, the last four."""
    match = _KEY.match(key)
    prefix = key[: match.end(2) + 1] if match else ""
    hidden = max(0, len(key) - len(prefix) - 4)
    return prefix + "*" * hidden + key[len(prefix) + hidden :]


def authenticate(header: str | None) -> ApiKey:
    """The key of an `Authorization: Bearer …` (or curl -u style Basic) header, or a 401."""
    if not header or not header.strip():
        raise authentication(NO_KEY)
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() == "basic":
        try:
            credential = base64.b64decode(credential, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            raise authentication(
                "Invalid API Key provided: the Basic credential is not valid base64."
            ) from None
    elif scheme.lower() != "bearer":
        raise authentication(
            "Invalid API Key provided: use Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
        )
    if not credential:
        raise authentication(NO_KEY)
    match = _KEY.fullmatch(credential)
    if not match:
        raise authentication(f"Invalid API Key provided: {mask(credential)}")
    if match.group(2) == "live":
        raise authentication(
            f"Invalid API Key provided: {mask(credential)}. The golive sandbox is test mode only and refuses live mode keys."
        )
    return ApiKey(credential, _KINDS[match.group(1)])


def secret_required() -> StripeError:
    return authentication(PUBLISHABLE, code="secret_key_required")
