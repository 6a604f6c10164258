"""Fixed-window counters in the database, so every server process shares them."""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import F

from store.models import RateWindow


def hit(key: str, limit: int, window_s: int = 60) -> tuple[bool, int]:
    """Count one hit of `key`; (allowed, seconds until the window ends)."""
    now = int(time.time())
    start = now - now % window_s
    with transaction.atomic():
        row, _ = RateWindow.objects.get_or_create(key=key, window_start=start)
        RateWindow.objects.filter(pk=row.pk).update(count=F("count") + 1)
        count = RateWindow.objects.values_list("count", flat=True).get(pk=row.pk)
        # Windows of this key that have ended are of no further use.
        RateWindow.objects.filter(key=key, window_start__lt=start).delete()
    return count <= limit, start + window_s - now


def peek(key: str, window_s: int = 60) -> int:
    now = int(time.time())
    row = RateWindow.objects.filter(key=key, window_start=now - now % window_s).first()
    return row.count if row else 0


def forget(key: str) -> None:
    RateWindow.objects.filter(key=key).delete()
