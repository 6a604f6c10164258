"""Turning a flow's timeline, or the latency samples of several flows, into an outcome."""

from __future__ import annotations

from golive import thresholds
from golive.context import CheckContext
from golive.smoke.flows import Flow, verdict
from golive.smoke.scenarios import MEASURED, run_flow


def judge_steps(ctx: CheckContext, flow: Flow, judged: list[str]) -> None:
    """Record the flow's timeline; fail (naming the step), skip or pass on `judged`."""
    ctx.record(**flow.evidence(judged))
    outcome, message = verdict(flow, judged)
    if outcome == "error":
        ctx.error(message)
    if outcome == "fail":
        ctx.fail(message)
    if outcome == "not-applicable":
        ctx.not_applicable(message)
    if outcome == "not-run":
        ctx.not_run(message)


def judge_latency(ctx: CheckContext, metric: str, what: str) -> None:
    """The item's thresholds over `metric`'s samples from every measured flow; the samples
    are the evidence. Zero samples is an error, never a pass (k6's pitfall). Both figures
    are timed to a side effect seen through the observer: not-applicable under
    `observer: {none: …}`."""
    ctx.needs_observer()
    flows = [run_flow(ctx, name) for name in MEASURED]
    samples = [(flow.name, value) for flow in flows for value in flow.samples.get(metric, [])]
    ctx.record(
        metric=metric,
        measured=what,
        samples=[{"flow": name, "ms": value} for name, value in samples],
        flows={
            flow.name: f"failed at {flow.failed_step.name}" if flow.failed_step else "ok"
            for flow in flows
        },
    )
    if not samples:
        ctx.nothing_examined(
            f"no {metric} samples: no flow got as far as a paid order "
            f"({', '.join(f.name + ': ' + (f.failed_step.seen if f.failed_step else 'no sample') for f in flows)})"
        )
    expressions = ctx.item.thresholds or {metric: "p(95)<2000"}
    known = {metric, "samples"}
    unknown = sorted(set(expressions) - known)
    if unknown:
        # A misspelled metric must not pass silently.
        ctx.fail(
            f"unknown threshold name(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values = [value for _, value in samples]
    problems, results = [], {}
    for name, expression in expressions.items():
        threshold = thresholds.parse(expression)
        passed, observed = threshold.evaluate(values)
        results[name] = f"{expression}: {observed:g}" + ("" if passed else " (breached)")
        if not passed:
            problems.append(f"{name} {expression} breached: measured {observed:g}")
    ctx.record(thresholds=results)
    if problems:
        worst = max(samples, key=lambda s: s[1])
        ctx.fail(
            "; ".join(problems)
            + f" over {len(values)} sample(s); slowest {worst[1]:g} ms in flow {worst[0]}"
        )
