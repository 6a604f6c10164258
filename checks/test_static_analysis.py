"""Static analysis: golive's Semgrep rules over the webhook handler in the repository.

The rules (golive/static/rules/) find signature verification made conditional on a header,
a query parameter or the environment, verification errors caught and ignored, a signature
checked over a parsed or re-serialized body, a timestamp tolerance above 300 s, and a
handler that reads Stripe events but verifies nowhere. Error-severity findings fail the
item, each named with file:line; findings silenced in the source with a `nosemgrep`
comment are listed, not counted. The scan is shared with the live webhook checks, which
show the findings that concern them in their evidence.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from golive.context import CheckContext
from golive.registry import check
from golive.static.concerns import CONCERNS
from golive.static.evidence import repository_scan
from golive.static.runner import SemgrepMissing, StaticError

# Findings named in the failure message; all of them are in the evidence.
_NAMED = 5


class StaticParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concerns: list[str] = Field(
        default_factory=lambda: sorted(CONCERNS),
        description="Which classes of mistake this item judges (default: all of them): "
        + ", ".join(sorted(CONCERNS)),
    )


@check("static.webhook-handler", params=StaticParams)
def test_webhook_handler(ctx: CheckContext) -> None:
    """golive's Semgrep rules find no bypassable, swallowed, re-serialized, over-tolerant or
    missing signature verification in the repository's webhook handler."""
    unknown = sorted(set(ctx.params.concerns) - set(CONCERNS))
    if unknown:
        ctx.error(f"unknown concerns {unknown}; known: {sorted(CONCERNS)}")
    repo = ctx.profile.repository_path
    if repo is None:
        ctx.not_run(
            "the target profile names no repository (set repository.path to the app's "
            "checkout so its webhook handler can be scanned)"
        )
    try:
        result = repository_scan(ctx)
    except SemgrepMissing as exc:
        ctx.error(str(exc))
    except StaticError as exc:
        ctx.error(f"the static scan failed: {exc}")
    if not result.files_scanned:
        ctx.nothing_examined(
            f"semgrep found no Python, JavaScript/TypeScript, Ruby, PHP or Go file in {repo}"
        )
    wanted = set(ctx.params.concerns)
    about = [f for f in result.findings if f.concern in wanted]
    errors = [f for f in about if not f.suppressed and f.severity == "ERROR"]
    ctx.record(
        repository=str(repo),
        semgrep=result.semgrep_version,
        files_scanned=len(result.files_scanned),
        concerns=sorted(wanted),
        findings=len(errors),
        silenced=len([f for f in about if f.suppressed]),
        handlers_seen=sorted({m.where for m in result.markers if m.concern == "event-dispatch"})[
            :_NAMED
        ],
        verification_seen=sorted(
            {m.where for m in result.markers if m.concern == "verification-call"}
        )[:_NAMED],
        **({"scan_errors": result.errors[:_NAMED]} if result.errors else {}),
    )
    for finding in about:
        ctx.record(static_finding=finding.to_evidence())
    if errors:
        named = "; ".join(f"{f.where} {f.concern}" for f in errors[:_NAMED])
        more = f" (and {len(errors) - _NAMED} more)" if len(errors) > _NAMED else ""
        ctx.fail(f"{len(errors)} webhook handler finding(s): {named}{more}")
