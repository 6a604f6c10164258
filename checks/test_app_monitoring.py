"""Application monitoring: error tracking and APM wired in, payment events in the logs.

`repo.monitoring-sdk` (items app-monitoring.error-tracking with `kind: errors`,
app-monitoring.performance-monitoring with `kind: apm`): an SDK of that kind is wired —
a package of it among the repository's dependencies, initialised in its code, and its
DSN/key set in the target's env (golive/sdk_wiring.py, vendors in golive/apm_sdks.py).
A dependency never initialised, or initialised without its DSN/key, fails naming what
is missing. A target's own SDK goes in the params:

```yaml
params:
  app-monitoring.error-tracking:
    sdks: [{name: Acme Errors, dependency: [acme-errors], init_pattern: 'acme_errors\\.start\\(',
            env: [ACME_ERRORS_KEY]}]
```

`logs.payment-events` (item app-monitoring.payment-event-logs): one small payment through
the profile's checkout flow and the Stripe backend (golive/smoke/: the smoke harness and
its steps, with the same live-key refusal), then the target's log files (`logs:`) must
name the PaymentIntent id, and the webhook event's id with its type on one line. The
positive control: the payment succeeded, the event reached the app, and the log files
exist and grew meanwhile.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from golive.apm_sdks import InHouseSdk, Kind, known
from golive.context import CheckContext
from golive.registry import check
from golive.sdk_wiring import wiring
from golive.smoke.flows import verdict
from golive.smoke.payment_logs import CONTROL, deadline_s, logged_payment


class SdkParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind = Field(description="errors: error tracking; apm: performance monitoring")
    sdks: list[InHouseSdk] = Field(
        default_factory=list,
        description="The target's own SDKs, judged like the known vendors' (golive/apm_sdks.py)",
    )


_WHAT = {"errors": "error tracking", "apm": "performance monitoring (APM)"}
_NAMED = 5


def _source(ctx: CheckContext) -> str:
    env = ctx.profile.model.env
    return "process environment" if env.source == "process" else f"env file {env.file}"


@check("repo.monitoring-sdk", params=SdkParams)
def test_monitoring_sdk(ctx: CheckContext) -> None:
    """An error tracking (or APM) SDK is declared, initialised in the code, and has its
    DSN/key in the env."""
    params: SdkParams = ctx.params  # type: ignore[assignment]
    repo = ctx.profile.repository_path
    if repo is None:
        ctx.not_run("the target profile names no repository (set repository.path)")
    if not repo.is_dir():
        ctx.error(f"the repository {repo} is not a folder")
    sdks = known(params.kind, params.sdks)
    survey = ctx.target.cached(
        f"monitoring-sdk:{repo}:{params.kind}:{[s.name for s in params.sdks]}",
        lambda: wiring(repo, ctx.profile.env, sdks),
    )
    what = _WHAT[params.kind]
    ctx.record(
        repository=str(repo),
        kind=params.kind,
        manifests=survey.declared.manifests,
        dependencies_declared=len(survey.declared.dependencies),
        unreadable_manifests=survey.declared.unreadable,
        source_files_scanned=survey.sources,
        env_source=_source(ctx),
        sdks_known=[s.name for s in sdks],
    )
    if not survey.declared.manifests and not survey.sources:
        ctx.nothing_examined(f"no dependency manifest and no source file in {repo}")
    for sdk in survey.sdks:
        if sdk.seen or sdk.env_set:
            ctx.record(**sdk.evidence())
    if survey.wired:
        return
    partial = [s for s in survey.sdks if s.seen]
    if not partial:
        if not survey.declared.manifests:
            ctx.nothing_examined(
                f"no dependency manifest in {repo} (requirements.txt, pyproject.toml, "
                "package.json, Gemfile, composer.json, go.mod, pom.xml…), and no "
                f"{what} SDK initialised in its {survey.sources} source file(s)"
            )
        ctx.fail(
            f"no {what} SDK: none of {', '.join(s.name for s in sdks)} among the "
            f"dependencies of {', '.join(survey.declared.manifests[:_NAMED])}, nor "
            "initialised in the code"
        )
    ctx.fail(
        f"no {what} SDK is wired: "
        + "; ".join(f"{s.sdk.name}: {', '.join(s.missing())}" for s in partial[:_NAMED])
    )


# --- payment events in the logs -----------------------------------------------------------

POLL_S = 0.1
LINES_SHOWN = 3


def _size(seen: dict[str, object]) -> str:
    now = seen["bytes_now"]
    return f"{seen['file']} ({'missing' if now is None else f'{now} bytes'})"


def _found(lines: list) -> list[dict[str, object]]:
    return [{"file": str(path), "line": line[:300]} for path, line in lines[:LINES_SHOWN]]


@check("logs.payment-events", needs={"app", "stripe"})
def test_payment_events_logged(ctx: CheckContext) -> None:
    """After a small payment, the target's logs name its PaymentIntent id, and its webhook
    event's id with the event type."""
    if not ctx.profile.model.logs:
        ctx.not_run("the target profile names no log files (set logs:)")
    paths = [ctx.profile.resolve(p) for p in ctx.profile.model.logs]
    paid = logged_payment(ctx, paths)
    ctx.record(**paid.flow.evidence(CONTROL))
    outcome, message = verdict(paid.flow, CONTROL)
    if outcome in ("not-run", "not-applicable"):
        ctx.not_run(message)
    if outcome != "pass":
        # The payment is the positive control: without it there is nothing to look for.
        ctx.error(f"golive's payment did not go through, so nothing can be looked for: {message}")
    intent, event_id, event_type = paid.pay.intent, paid.event_id, paid.event_type
    if not intent or not event_id:
        ctx.error(
            f"the payment left no PaymentIntent or event id (intent {intent}, event {event_id})"
        )

    def look() -> tuple[list, list]:
        return paid.watch.lines_with(intent), paid.watch.lines_with(event_id, event_type)

    # The app may write its lines just after the order shows paid: bounded wait.
    deadline = time.monotonic() + deadline_s(ctx)
    intent_lines, event_lines = look()
    while not (intent_lines and event_lines) and time.monotonic() < deadline:
        time.sleep(POLL_S)
        intent_lines, event_lines = look()
    ctx.record(
        looked_for={"payment_intent": intent, "event_id": event_id, "event_type": event_type},
        log_files=paid.watch.sizes(),
        lines_naming_payment_intent=len(intent_lines),
        lines_naming_event=len(event_lines),
        examples=_found(intent_lines) + _found(event_lines),
    )
    if not paid.watch.grew():
        ctx.error(
            "the log files did not grow while golive paid an order: "
            + ", ".join(_size(s) for s in paid.watch.sizes())
            + " — are these the files the app writes? (logs: in the profile)"
        )
    missing = []
    if not intent_lines:
        missing.append(f"the PaymentIntent id {intent}")
    if not event_lines:
        missing.append(f"the webhook event id {event_id} with its type {event_type}")
    if missing:
        ctx.fail(
            "no log line written during the payment names "
            + " nor ".join(missing)
            + f" (in {', '.join(str(p) for p in paths)})"
        )
