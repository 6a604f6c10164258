"""Whether one of the deliberate defects (settings.FLAWS, from TEA_SHOP_FLAWS) is switched on.

Read at call time, so tests can switch them with override_settings(FLAWS=...).
"""

from __future__ import annotations

from django.conf import settings


def on(name: str) -> bool:
    return name in getattr(settings, "FLAWS", frozenset())
