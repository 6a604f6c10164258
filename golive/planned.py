"""Checks that checklist.yaml already references but that are not written yet.

An item whose checks are planned comes out `not-run` with the reason below, never `pass`.
When a check lands, delete its line here: validation then needs the real one.
"""

from __future__ import annotations

PLANNED: dict[str, str] = {}
