"""Running one of the profile's flows, step by step, as one user.

Each step's request is rendered from the flow's variables, sent through the user's
session, checked against `expect` and mined for `capture`s, which later steps and the
caller read. The first step that cannot go on raises FlowError with every request sent so
far; its `setup_problem` tells golive's own fault (401/403/404, a missing capture) from
an answer the check must judge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import requests

from golive.client import captures, templates
from golive.client.errors import FlowError, FlowRun, StepRecord
from golive.client.session import UserSession
from golive.profile.flows import Flow, Step

EXCERPT_CHARS = 300


@dataclass
class Extras:
    """Fields added to what a flow sends: to every cart line, and at the top of the body
    of the step that submits the order (a price check's tampering, an idempotency key)."""

    per_line: dict[str, Any] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)
    submit_headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Prepared:
    """A flow run up to its submitting step: what `finish` needs to send that step (and
    the rest), as often as the caller likes — a race replays only the submission."""

    flow: str
    scope: dict[str, Any]
    run: FlowRun
    start: int


def run_flow(
    session: UserSession,
    name: str,
    inputs: dict[str, Any],
    *,
    extras: Extras | None = None,
    logging_in: bool = False,
) -> FlowRun:
    """Run flow `name` as the session's user; FlowRun, or FlowError at the first problem."""
    prepared = prepare(session, name, inputs, extras=extras, logging_in=logging_in)
    return finish(session, prepared, extras=extras, logging_in=logging_in)


def prepare(
    session: UserSession,
    name: str,
    inputs: dict[str, Any],
    *,
    extras: Extras | None = None,
    logging_in: bool = False,
) -> Prepared:
    """Run the flow's steps before its submitting one (none for a one-step checkout)."""
    flow = session.flows[name]
    extras = extras or Extras()
    scope: dict[str, Any] = {**flow.vars, **inputs, **session.scope()}
    try:
        if "items" in scope:
            scope["lines"] = _lines(flow, scope, extras)
    except templates.TemplateError as exc:
        raise FlowError(name, "item", str(exc), kind="template") from None
    submit = flow.submit_index()
    start = submit if submit is not None else len(flow.steps)
    run = FlowRun(name)
    _steps(session, run, flow, scope, range(start), submit, extras, logging_in)
    return Prepared(name, scope, run, start)


def finish(
    session: UserSession,
    prepared: Prepared,
    *,
    extras: Extras | None = None,
    logging_in: bool = False,
) -> FlowRun:
    """The rest of a prepared flow, from its submitting step, on a copy of its variables."""
    flow = session.flows[prepared.flow]
    scope = dict(prepared.scope)
    run = FlowRun(prepared.flow, dict(prepared.run.variables), list(prepared.run.steps))
    steps = range(prepared.start, len(flow.steps))
    _steps(session, run, flow, scope, steps, flow.submit_index(), extras or Extras(), logging_in)
    return run


def _steps(
    session: UserSession,
    run: FlowRun,
    flow: Flow,
    scope: dict[str, Any],
    indexes: range,
    submit: int | None,
    extras: Extras,
    logging_in: bool,
) -> None:
    name = run.flow
    for index in indexes:
        step = flow.steps[index]
        for element in _elements(run, step, scope):
            local = dict(scope)
            if step.for_each is not None:
                local.update(_bind(step.for_each, element))
            answer = _send(
                session,
                run,
                step,
                local,
                extras if index == submit else None,
                logging_in=logging_in,
            )
            for variable, spec in step.capture.items():
                try:
                    scope[variable] = captures.capture(spec, answer, session.transport.cookies)
                except captures.CaptureError as exc:
                    raise FlowError(
                        name,
                        step.label(),
                        f"capture {variable}: {exc}",
                        status=answer.status_code,
                        steps=run.steps,
                        variables=run.variables,
                        kind="capture",
                    ) from None
                run.variables[variable] = scope[variable]


def _lines(flow: Flow, scope: dict[str, Any], extras: Extras) -> list[Any]:
    """The cart lines as the app writes them (`item` template), tampering included."""
    lines = []
    for item in scope["items"]:
        line = templates.render(flow.item, {**scope, "item": item}) if flow.item else dict(item)
        if isinstance(line, dict):
            line = {**line, **extras.per_line}
        lines.append(line)
    return lines


def _elements(run: FlowRun, step: Step, scope: dict[str, Any]) -> list[Any]:
    if step.for_each is None:
        return [None]
    try:
        elements = templates.lookup(scope, step.for_each)
    except templates.TemplateError as exc:
        raise FlowError(run.flow, step.label(), str(exc), kind="template") from None
    if not isinstance(elements, list):
        raise FlowError(
            run.flow, step.label(), f"for_each {step.for_each} is not a list", kind="template"
        )
    return elements


def _bind(name: str, element: Any) -> dict[str, Any]:
    """`for_each: lines` gives {line}; every loop also gives {each}."""
    leaf = name.split(".")[-1]
    singular = leaf[:-1] if leaf.endswith("s") and len(leaf) > 1 else leaf
    return {"each": element, singular: element}


def _send(
    session: UserSession,
    run: FlowRun,
    step: Step,
    scope: dict[str, Any],
    extras: Extras | None,
    *,
    logging_in: bool,
) -> Any:
    spec = step.request
    try:
        path = templates.render(spec.path, scope)
        body = templates.render(spec.json_body, scope)
        form = templates.render(spec.form, scope)
        query = templates.render(spec.query, scope)
        headers = templates.render(dict(spec.headers), scope)
    except templates.TemplateError as exc:
        raise FlowError(
            run.flow,
            step.label(),
            str(exc),
            steps=run.steps,
            variables=run.variables,
            kind="template",
        ) from None
    if extras is not None:
        if extras.top and isinstance(body, dict):
            body = {**body, **extras.top}
        elif extras.top and isinstance(form, dict):
            form = {**form, **extras.top}
        headers = {**headers, **extras.submit_headers}
    record = StepRecord(
        run.flow,
        step.label(),
        spec.method,
        str(path),
        None,
        request=body if body is not None else form,
    )
    run.steps.append(record)
    try:
        answer = session.request(
            spec.method,
            str(path),
            json=body,
            form=form,
            query=query,
            headers=headers,
            auth=step.auth and not logging_in,
        )
    except (httpx.HTTPError, requests.RequestException) as exc:
        raise FlowError(
            run.flow,
            step.label(),
            f"{spec.method} {path} got no answer: {exc}",
            steps=run.steps,
            variables=run.variables,
            kind="transport",
        ) from None
    record.status = answer.status_code
    record.excerpt = session.excerpt(answer.text, EXCERPT_CHARS)
    if answer.status_code == 429:
        record.retry_after_s = _retry_after(answer.headers.get("Retry-After"))
    if not step.expect.accepts(answer.status_code):
        wanted = step.expect.status if step.expect.status is not None else "below 400"
        raise FlowError(
            run.flow,
            step.label(),
            f"{spec.method} {path} answered {answer.status_code} (expected {wanted})",
            status=answer.status_code,
            steps=run.steps,
            variables=run.variables,
        )
    return answer


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, when it is a number (the HTTP-date form is left alone)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
