"""One static scan per run and repository, shared by every check that uses it.

The static check judges the findings; the live webhook checks only add the findings that
concern them to their evidence (file:line, rule, message), so a reader sees the line of
code beside the delivery that passed or failed. A live check's verdict stays the live
one: it proved behaviour, a pattern match proves nothing about it, and the static check
on the same checklist item fails the item when an error-severity finding stands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from golive.static.findings import StaticScan
from golive.static.runner import StaticError, scan

CACHE_KEY = "static-scan:"
VARIANT = "static-analysis"


def repository_scan(ctx: Any) -> StaticScan:
    """The run's scan of the profile's repository (raises StaticError, SemgrepMissing)."""
    repo: Path = ctx.profile.repository_path
    return ctx.target.cached(
        f"{CACHE_KEY}{repo}", lambda: scan(repo, redact=ctx.target.redactor.text)
    )


def cached_scans(target: Any) -> list[StaticScan]:
    """The scans this run made (the gate writes findings.sarif from them)."""
    return [
        value
        for key, value in target.cache.items()
        if key.startswith(CACHE_KEY) and isinstance(value, StaticScan)
    ]


def record_static(ctx: Any, concerns: frozenset[str]) -> None:
    """Add the standing static findings about `concerns` to a live check's evidence (the
    silenced ones are listed by the static check itself). Never raises and never changes
    the verdict: no repository or no semgrep only leaves a note. Entries carry
    `variant: static-analysis` so they read apart from the deliveries."""
    if ctx.profile.repository_path is None:
        return
    try:
        result = repository_scan(ctx)
    except StaticError as exc:
        ctx.record(variant=VARIANT, static_analysis=f"not available: {exc}")
        return
    for finding in result.about(concerns):
        if not finding.suppressed:
            ctx.record(variant=VARIANT, static_finding=finding.to_evidence())
