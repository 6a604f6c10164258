"""Authorization probes derived from the profile's flows: every request user A's own flows
sent on a resource A created is replayed by user B.

`api.owned` names one resource of A's and its probes. An app has more: a basket or a
wishlist made at the start of the checkout, its lines, the order, its refund. The flows
already say which requests act on them: a step whose path holds a value an earlier
*creating* step captured (a capture of a POST/PUT/PATCH answer: `POST /carts/` capturing
`cart`, then `POST /carts/{cart}/lines/`). Values read from a GET (a menu's item id) are
not A's: they are left out, or B reading a public page would count as a breach.

The owner control of each probe is A's own answer to the same request in A's flow: it
must have reached the resource (outcomes.reached: a 2xx, or a refusal of A's own kind
such as 409 "not refundable"). Requests of refund-like jobs (which change what they act
on for good) are sent by B *before* A runs them, so A's change cannot be what refused B.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from golive.client import templates
from golive.client.errors import StepRecord
from golive.client.session import UserSession
from golive.profile.flows import Flow, Step, placeholders

# Jobs A runs after creating the resource, reading it back (owner first, then B).
READ_JOBS = ("read_order", "read_cart")
# Jobs whose requests B sends first, A after: they change the resource for good.
ONE_WAY_JOBS = ("refund",)
MAX_PROBES = 12  # distinct method + path template pairs: the request count stays bounded
CREATING = frozenset({"POST", "PUT", "PATCH"})
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Probe:
    """One request of A's on A's resource, for B to replay."""

    job: str
    method: str
    template: str  # the step's path template: what deduplicates probes
    path: str  # rendered with A's values
    body: Any = None
    form: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    owner_status: int | None = None  # A's own answer (None: A has not sent it yet)
    one_way: bool = False

    def label(self) -> str:
        return f"{self.method} {self.template}"

    def key(self) -> tuple[str, str]:
        return self.method, self.template


def owned_names(flow: Flow) -> set[str]:
    """The captures of a flow's creating steps (non-GET): the ids of what A made."""
    return {name for step in flow.steps if step.request.method in CREATING for name in step.capture}


def _is_owned(step: Step, owned: set[str]) -> bool:
    return bool(placeholders(step.request.path) & owned)


def _spec(flow: Flow, record: StepRecord) -> Step | None:
    """The step of `flow` a record was sent by (label and method)."""
    for step in flow.steps:
        if step.label() == record.step and step.request.method == record.method:
            return step
    return None


def from_records(
    job: str,
    flow: Flow,
    records: list[StepRecord],
    owned: set[str],
    *,
    submit_headers: bool = False,
) -> list[Probe]:
    """Probes from the requests A's run of `flow` sent (their statuses are A's controls).
    `submit_headers`: the flow's submitting step carried an Idempotency-Key (the checkout):
    B's replay gets a fresh one, as any client's would."""
    submit = flow.submit_index()
    submitting = flow.steps[submit] if submit is not None else None
    probes = []
    for record in records:
        step = _spec(flow, record)
        if step is None or not _is_owned(step, owned) or record.status is None:
            continue
        headers = {}
        if submit_headers and step is submitting:
            headers["Idempotency-Key"] = f"golive-authz-{uuid.uuid4().hex[:12]}"
        probes.append(
            Probe(
                job,
                record.method,
                step.request.path,
                record.path,
                record.request,
                step.request.form is not None,
                headers,
                record.status,
            )
        )
    return probes


def rendered(job: str, flow: Flow, scope: dict[str, Any], owned: set[str]) -> list[Probe]:
    """Probes of a one-way job's flow, rendered with A's values but not sent by A yet.
    Steps that loop, or whose template cannot be filled, are left out."""
    probes = []
    for step in flow.steps:
        if step.for_each is not None or not _is_owned(step, owned):
            continue
        spec = step.request
        try:
            path = str(templates.render(spec.path, scope))
            body = templates.render(spec.json_body if spec.form is None else spec.form, scope)
            headers = {str(k): str(v) for k, v in templates.render(spec.headers, scope).items()}
        except templates.TemplateError:
            continue
        probes.append(
            Probe(job, spec.method, spec.path, path, body, spec.form is not None, headers,
                  one_way=True)
        )  # fmt: skip
    return probes


def record_owner(probes: list[Probe], flow: Flow, records: list[StepRecord]) -> None:
    """A's statuses for one-way probes, from A's run of their flow after B's replays."""
    for record in records:
        step = _spec(flow, record)
        if step is None:
            continue
        for probe in probes:
            if probe.key() == (record.method, step.request.path) and probe.owner_status is None:
                probe.owner_status = record.status


def select(probes: list[Probe], known: set[tuple[str, str]]) -> list[Probe]:
    """Deduplicated by method + path template (and by method + path against `known`, the
    api.owned probes already sent), safe methods first, one-way ones last, bounded."""
    seen = set(known)
    chosen: list[Probe] = []
    for probe in probes:
        if probe.key() in seen or (probe.method, probe.path) in seen:
            continue
        seen |= {probe.key(), (probe.method, probe.path)}
        chosen.append(probe)
    chosen.sort(key=lambda p: (p.one_way, p.method not in SAFE))
    return chosen[:MAX_PROBES]


def replay(session: UserSession, probe: Probe) -> Any:
    """User B sends A's request: A's path and body, B's own credentials."""
    body = probe.body
    return session.request(
        probe.method,
        probe.path,
        json=None if probe.form else body,
        form=body if probe.form and isinstance(body, dict) else None,
        headers=dict(probe.headers),
    )


def cart(model: Any) -> list[dict[str, Any]] | None:
    """A cart for A's checkout when api.owned gives none: the data probe's, the price
    checks' single cart, or the smoke cart (raw profile blocks)."""
    for block, keys in (("data", ("probe", "items")), ("pricing", ("carts", "single")),
                        ("smoke", ("items",))):  # fmt: skip
        node: Any = getattr(model, block, None)
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, list) and node:
            return [dict(line) for line in node if isinstance(line, dict)]
    return None


def planned(
    flows: dict[str, Flow],
    jobs: dict[str, str],
    creating: str,
    owned: set[str],
    known: set[tuple[str, str]],
) -> dict[str, list[Step]]:
    """Before anything is sent: per job (`creating` first, then the read and one-way jobs
    of `jobs`, a job -> flow map), the steps that would give a probe not already `known`."""
    plan: dict[str, list[Step]] = {}
    for job in (creating, *READ_JOBS, *ONE_WAY_JOBS):
        flow = flows.get(jobs.get(job, ""))
        if flow is None or (job != creating and jobs.get(job) == jobs.get(creating)):
            continue
        steps = [
            step
            for step in flow.steps
            if _is_owned(step, owned) and (step.request.method, step.request.path) not in known
        ]
        if steps:
            plan[job] = steps
    return plan
