"""Data security scans: no card numbers in the database or the logs, no secret in answers.

Each check needs the running app. Before scanning, the run places ONE order carrying a
test card number (Luhn-valid, 4242… by default) in every free-text field the probe has:
the checkout flow's own literal string fields (at the top of its submitting step's body
and in its cart-line template: a `gift_message: "Happy birthday"` the profile writes),
a few note-like names at the top (`probe_note_field`, NOTE_NAMES) and the card fields a
careless client sends (`probe_card_fields`), so the scans look at what the app did with
card data it was actually sent. A strict app that refuses a field by name (`unknown
field: comment`) is sent the probe again without it (PROBE_TRIES in all). Once that
order is accepted, the profile's read_order and read_cart jobs read it back, and when the
answers (the flow's and theirs) show free-text keys the flow never sent — valued a string
or null, named like a note, message, instruction, gift, delivery… (golive/profile/data.py)
— ONE more order carries the card in those too (EXTRA_TRIES with the strict-app retry),
before anything is scanned: an app that stores a courier note the profile never mentions
is shown a card in it. The first order stays the positive control. The order is
placed like any of golive's: through the profile's `checkout` job (or the job or flow
`data.probe.job` names) as a named user, with the user's credentials as the profile's
`auth:` says (golive/profile/data.py says who and which items, and their defaults), with
a fresh Idempotency-Key each run (a replayed key would answer an earlier order and store
nothing new). `probe: false` sends no probe and only scans what is there.

The probe is sent once per run whichever of the checks runs first; its answers are reused.
It is the scans' positive control: a probe that got no answer, or that golive's own
configuration could not send (its request answered 401/403/404/405, a login that failed,
a flow step that could not be followed, no payment captured), makes every check that
needs it an error; the database and log scans also need the card-carrying request
answered 2xx (an app that refused the order had nothing to store, so a clean database
proves nothing). Text values are searched for Luhn-valid numbers; integer values (a card
number stored in an integer column) for the number golive sent. Evidence never holds a
card number unmasked (first six, last four) or a secret in full.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from golive import httpclient
from golive.client import unauthenticated
from golive.client.errors import FlowError, StepRecord
from golive.client.session import UserSession
from golive.context import CheckContext
from golive.db import DatabaseUnreachable
from golive.profile import data as data_profile
from golive.profile.data import NOTE_NAMES, ProbePlan, probe_plan, text_fields
from golive.redact import luhn_valid, mask_key, mask_pan, redact_key
from golive.registry import check

# 13-19 digits, optionally split by single spaces or dashes, not glued to other word chars.
PAN = re.compile(r"(?<![\w])\d(?:[ -]?\d){12,18}(?![\w])")
# Stripe secret material (publishable keys are public by design and not looked for).
SECRET_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?P<prefix>(?:sk|rk)_(?:live|test)_|whsec_)(?P<body>[A-Za-z0-9]{8,255})(?![A-Za-z0-9])"
)
# Column names that hold a card's security code: it must never be stored, even masked.
CVC_NAME = re.compile(r"(?:^|_)(?:cvc2?|cvv2?|csc|card_?code|security_?code)(?:$|_)")
TIMEOUT_S = 10
PROBE_TRIES = 4  # the probe, and its retries without fields a strict app refused by name
EXTRA_TRIES = 2  # the second order (fields the answers revealed), and one retry
READ_JOBS = ("read_order", "read_cart")  # run after the probe: their answers are mined too


class ProbeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    probe: bool = Field(
        True,
        description="Place the card-carrying order first (the profile's data.probe); false: "
        "only scan what is there",
    )
    probe_note_field: str = Field("note", description="Free-text field given the card number")
    probe_card_fields: list[str] = Field(
        default_factory=lambda: ["card_number"],
        description="Fields sent the card number as a careless client would",
    )
    probe_card_number: str = Field("4242424242424242", description="A Luhn-valid test number")

    @field_validator("probe_card_number")
    @classmethod
    def _luhn(cls, value: str) -> str:
        digits = re.sub(r"[ -]", "", value)
        if not (digits.isdigit() and 13 <= len(digits) <= 19 and luhn_valid(digits)):
            raise ValueError("probe_card_number must be a Luhn-valid 13-19 digit number")
        return digits


class DbParams(ProbeParams):
    sample_rows: int = Field(1000, ge=1, description="Rows read per table (newest first)")


# --- matching ---------------------------------------------------------------------------


def _plausible_groups(text: str) -> bool:
    # A bare digit run, or groups as cards are printed (4-4-4-4[-1..3], 4-6-4/5): amounts
    # and ids listed with spaces ("12 50 899 ...") are not card numbers.
    groups = re.split(r"[ -]", text)
    if len(groups) == 1:
        return True
    sizes = [len(g) for g in groups]
    if sizes[:-1] == [4] * (len(sizes) - 1) and 1 <= sizes[-1] <= 4:
        return True
    return sizes in ([4, 6, 4], [4, 6, 5])


def find_pans(text: str) -> list[str]:
    """Luhn-valid card numbers in `text`, as bare digits."""
    if sum(c.isdigit() for c in text) < 13:
        return []
    found = []
    for match in PAN.finditer(text):
        digits = re.sub(r"[ -]", "", match[0])
        if luhn_valid(digits) and _plausible_groups(match[0]):
            found.append(digits)
    return found


def find_secrets(text: str, secrets: list[str]) -> list[str]:
    """Secrets in `text`, masked: the env's own values, then anything key-shaped."""
    found = [redact_key(s) for s in secrets if s in text]
    for match in SECRET_KEY.finditer(text):
        masked = mask_key(match["prefix"], match["body"])
        if masked not in found:
            found.append(masked)
    return found


def secret_values(ctx: CheckContext) -> list[str]:
    """Every env value golive treats as secret, but publishable keys (public by design)."""
    values = set(ctx.profile.secrets())
    backend = ctx.target.stripe
    if backend is not None and getattr(backend, "secret_key", None):
        values.add(backend.secret_key)
    return sorted(
        (v for v in values if len(v) >= 8 and not v.startswith(("pk_live_", "pk_test_"))),
        key=len,
        reverse=True,
    )


# --- the probe --------------------------------------------------------------------------


@dataclass
class Answer:
    """One answer the app gave the probe's flow, whole, for the echo scan."""

    label: str
    status: int
    headers: dict[str, str]
    body: str


class _Recorder:
    """An httpx response hook keeping every answer of the probe's session."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []

    def __call__(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        self.answers.append(
            Answer(
                f"{request.method} {request.url.path}",
                response.status_code,
                dict(response.headers),
                response.text,
            )
        )


@dataclass
class ProbeResult:
    sent: bool  # the card number reached the app in a request
    reason: str = ""  # why no probe was sent
    status: int | None = None  # the card-carrying request's answer
    card: str = ""
    user: str = ""
    request: str = ""  # "POST /path" of the card-carrying step
    error: str = ""  # why no answer came (a timeout, a refused connection)
    problem: str = ""  # golive's own request was refused or its flow not followed
    refused: str = ""  # the app refused a step before the card was sent
    note: str = ""  # what went wrong after the card was accepted
    answers: list[Answer] = field(default_factory=list)
    submitted: Any = None  # the card-carrying body: never recorded
    fields: list[str] = field(default_factory=list)  # the fields that carried the card
    dropped: list[str] = field(default_factory=list)  # refused by name, left out
    extra: dict[str, Any] = field(default_factory=dict)  # the revealed fields' order

    def evidence(self) -> dict[str, Any]:
        if not (self.sent or self.error or self.problem or self.refused):
            return {"probe": "not sent", "reason": self.reason}
        entry: dict[str, Any] = {
            "probe": "sent" if self.sent else "not sent",
            "user": self.user,
            "request": self.request,
            "status": self.status,
            "card_sent": mask_pan(self.card),
            "card_fields": self.fields,
        }
        if self.dropped:
            entry["refused_by_name"] = self.dropped
        if self.extra:
            entry["second_order"] = self.extra
        for name in ("error", "problem", "refused", "note"):
            if getattr(self, name):
                entry[name] = getattr(self, name)
        return entry

    @property
    def answered_2xx(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _grouped(card: str) -> str:
    return " ".join(card[i : i + 4] for i in range(0, len(card), 4))


def _carries(step: StepRecord, card: str) -> bool:
    text = str(step.request)
    return card in text or _grouped(card) in text


def _card_fields(
    ctx: CheckContext, params: ProbeParams, plan: ProbePlan
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The card number in every free-text field the probe has: the flow's own string
    fields (top of the submit body, each cart line), note-like names, the card fields."""
    client = ctx.app_client()
    flow = ctx.profile.model.flows.get(client.flow_for(plan.job) or plan.job)
    own_top, own_line = text_fields(flow) if flow is not None else ([], [])
    card = params.probe_card_number
    typed = f"golive probe: card {_grouped(card)}"
    notes = [params.probe_note_field] if params.probe_note_field else []
    top: dict[str, Any] = {name: typed for name in [*own_top, *notes, *NOTE_NAMES]}
    top.update({name: card for name in params.probe_card_fields})
    guessed = [n for n in NOTE_NAMES if n not in own_top and n not in notes]
    return top, {name: typed for name in own_line}, guessed


def _mentioned(text: str, names: list[str]) -> list[str]:
    return [
        n for n in names if re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", text)
    ]


@dataclass
class _Placed:
    """One card-carrying order and its strict-app retries."""

    top: dict[str, Any]
    per_line: dict[str, Any]
    steps: list[StepRecord] = field(default_factory=list)
    failure: FlowError | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


def _place(
    ctx: CheckContext,
    session: UserSession,
    plan: ProbePlan,
    order: _Placed,
    guessed: list[str],
    tries: int,
) -> _Placed:
    """Place the order; a strict app that refuses fields by name is sent it again without
    them (and one that names none, without golive's guessed names), `tries` in all."""
    client = ctx.app_client()
    for _ in range(tries):
        try:
            placed = client.checkout(
                session,
                plan.items,
                top=order.top,
                per_line=order.per_line,
                job=plan.job,
                # Fresh each run: a replayed key would answer an earlier order and store
                # nothing new.
                idempotency_key=f"golive-data-probe-{uuid.uuid4().hex}",
            )
            order.steps, order.failure, order.variables = (
                placed.steps,
                placed.refused,
                placed.variables,
            )
        except FlowError as exc:
            order.steps, order.failure, order.variables = exc.steps, exc, exc.variables
        last = order.steps[-1] if order.steps else None
        refused = order.failure is not None and last is not None and last.status is not None
        if not (refused and last is not None and 400 <= (last.status or 0) < 500):
            break
        named = _mentioned(last.excerpt, [*order.top, *order.per_line]) or [
            n for n in guessed if n in order.top
        ]
        if not named:
            break
        order.dropped += named
        order.top = {k: v for k, v in order.top.items() if k not in named}
        order.per_line = {k: v for k, v in order.per_line.items() if k not in named}
    return order


def _sent_keys(steps: list[StepRecord]) -> set[str]:
    """Every key any of the flow's requests carried (nested ones too)."""
    from golive.tamper import keys_in

    return {key for step in steps if step.request is not None for key in keys_in(step.request)}


def _read_back(ctx: CheckContext, session: UserSession, variables: dict[str, Any]) -> None:
    """Run the profile's read_order and read_cart jobs after the order, so their answers
    (recorded by the session's hook) show what the order holds. Their failure is no
    verdict: they only add answers to mine."""
    client = ctx.app_client()
    for job in READ_JOBS:
        if client.has(job) and client.flow_for(job) != client.flow_for("checkout"):
            with contextlib.suppress(FlowError, KeyError):
                client.run(job, session, dict(variables))


def _carrying(steps: list[StepRecord], card: str) -> StepRecord | None:
    return next((step for step in reversed(steps) if _carries(step, card)), None)


def _send_probe(ctx: CheckContext, params: ProbeParams, plan: ProbePlan) -> ProbeResult:
    client = ctx.app_client()
    card = params.probe_card_number
    top, per_line, guessed = _card_fields(ctx, params, plan)
    typed = f"golive probe: card {_grouped(card)}"
    recorder = _Recorder()
    extra: _Placed | None = None
    revealed: dict[str, bool] = {}
    with httpclient.client(
        base_url=client.base_url, timeout=TIMEOUT_S, event_hooks={"response": [recorder]}
    ) as transport:
        session = client.open_session(plan.user, client.user_vars(plan.user), transport)
        order = _place(ctx, session, plan, _Placed(top, per_line), guessed, PROBE_TRIES)
        first = _carrying(order.steps, card)
        if first is not None and first.status is not None and 200 <= first.status < 300:
            # The app's answers (the flow's, then its read jobs') may show free-text fields
            # the flow never sent (a courier note): one more order carries the card there.
            _read_back(ctx, session, order.variables)
            sent = _sent_keys(order.steps) | set(order.dropped)
            found = data_profile.revealed([a.body for a in recorder.answers])
            unsent = [(k, line) for k, line in found.items() if k not in sent]
            revealed = dict(unsent[: data_profile.MAX_REVEALED])
            if revealed:
                more_top = {k: typed for k, line in revealed.items() if not line}
                more_line = {k: typed for k, line in revealed.items() if line}
                extra = _place(
                    ctx,
                    session,
                    plan,
                    _Placed({**order.top, **more_top}, {**order.per_line, **more_line}),
                    list(revealed),
                    EXTRA_TRIES,
                )
    result = ProbeResult(False, card=card, user=plan.user, answers=recorder.answers)
    steps, failure = order.steps, order.failure
    result.fields = [*order.top, *(f"<each line>.{k}" for k in order.per_line)]
    result.dropped = order.dropped
    carrying = _carrying(steps, card)
    if carrying is not None:
        result.sent = True
        result.request = f"{carrying.method} {carrying.path}"
        result.status = carrying.status
        result.submitted = carrying.request
    elif steps:
        result.request = f"{steps[-1].method} {steps[-1].path}"
        result.status = steps[-1].status
    if failure is not None and failure.kind == "transport" and result.status is None:
        result.error = failure.reason
    elif result.sent and result.answered_2xx:
        if failure is not None:
            result.note = str(failure)
    elif failure is not None and failure.setup_problem:
        result.problem = str(failure)
    elif carrying is None and failure is None:
        result.problem = (
            f"the `{plan.job}` flow has no step with a body (or one marked `submit`) to carry "
            "the card fields"
        )
    elif carrying is None and failure is not None:
        result.refused = failure.reason
    if extra is not None:
        result.extra = _extra_evidence(extra, card, revealed)
    return result


def _extra_evidence(extra: _Placed, card: str, revealed: dict[str, bool]) -> dict[str, Any]:
    """What the second order (the fields the answers revealed) did, for the evidence."""
    carrying = _carrying(extra.steps, card)
    last = carrying or (extra.steps[-1] if extra.steps else None)
    entry: dict[str, Any] = {
        "revealed_by_answers": [f"<each line>.{k}" if line else k for k, line in revealed.items()],
        "request": f"{last.method} {last.path}" if last else None,
        "status": last.status if last else None,
        "card_fields": [*extra.top, *(f"<each line>.{k}" for k in extra.per_line)],
    }
    if extra.dropped:
        entry["refused_by_name"] = extra.dropped
    if extra.failure is not None:
        entry["note"] = str(extra.failure)
    return entry


def probe(ctx: CheckContext) -> ProbeResult:
    """The card-carrying order, placed once per run (the first check to need it does)."""
    params: ProbeParams = ctx.params  # type: ignore[assignment]
    if not params.probe:
        result = ProbeResult(False, "the check's params say probe: false: only scanning")
        ctx.record(**result.evidence())
        return result
    ctx.app_client()
    plan = probe_plan(ctx.profile.model)
    if isinstance(plan, str):
        ctx.not_run(plan)
    ctx.require_job(plan.job)
    # Keyed by the probe's own params only: the checks' other params (sample_rows) must not
    # make a second order.
    key = f"data.probe:{plan}:" + params.model_dump_json(include=set(ProbeParams.model_fields))
    result: ProbeResult = ctx.target.cached(key, lambda: _send_probe(ctx, params, plan))
    ctx.record(**result.evidence(), source=plan.source)
    where = f"{result.request} as {plan.user!r}" if result.request else f"as {plan.user!r}"
    if result.error:
        ctx.error(
            f"the card probe {where} got no answer ({result.error}): the app was not shown "
            "a card number, so nothing it did with one can be judged"
        )
    if result.problem:
        ctx.error(
            f"golive could not place the card probe through the `{plan.job}` job {where}: "
            f"{result.problem}"
        )
    return result


def require_accepted(ctx: CheckContext, result: ProbeResult) -> None:
    """The probe must have been accepted before a clean store means anything."""
    params: ProbeParams = ctx.params  # type: ignore[assignment]
    if params.probe and not (result.sent and result.answered_2xx):
        what = (
            f"was answered {result.status}, not 2xx"
            if result.sent
            else f"was not sent: the app refused {result.request} ({result.status}) first"
        )
        ctx.error(
            f"the card probe {what}: the app took no order with the card number, so a "
            "clean database or log proves nothing — fix the profile's data.probe (user, items, "
            "job) or its flow, or set the check's param probe: false to scan only what is "
            "there"
        )


# --- data.card-numbers-in-db ------------------------------------------------------------


@dataclass
class DbScan:
    tables: int = 0
    rows: int = 0
    values: int = 0
    hits: list[dict[str, Any]] = field(default_factory=list)
    per_table: dict[str, int] = field(default_factory=dict)


def _row_key(row: dict[str, Any], pk: list[str], index: int) -> str:
    if pk:
        return ",".join(f"{c}={row.get(c)}" for c in pk)
    return f"row #{index + 1} of the sample"


def _scan_value(
    scan: DbScan, table: str, column: str, row: str, value: Any, known: frozenset[str] = frozenset()
) -> None:
    """One stored value: a security code by its column's name, card numbers in its text,
    and in an integer column the card number golive sent (`known`) stored as a number. A
    Luhn check alone would flag one integer id or millisecond timestamp in ten."""
    if value is None:
        return
    if isinstance(value, int) and not isinstance(value, bool):
        scan.values += 1
        if str(abs(value)) in known:
            scan.hits.append(
                {
                    "kind": "card number stored as a number",
                    "table": table,
                    "column": column,
                    "row": row,
                    "match": mask_pan(str(abs(value))),
                }
            )
        return
    # A nested field such as card.cvc is named by its last segment, as a column would be.
    if CVC_NAME.search(column.rsplit(".", 1)[-1].lower()) and str(value).strip():
        scan.hits.append(
            {
                "kind": "stored security code",
                "table": table,
                "column": column,
                "row": row,
                "value": "***",
            }
        )
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return
    scan.values += 1
    for digits in find_pans(value):
        scan.hits.append(
            {
                "kind": "card number",
                "table": table,
                "column": column,
                "row": row,
                "match": mask_pan(digits),
            }
        )


def _fields(document: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted field, leaf value) of a document, nested documents and arrays walked."""
    if isinstance(document, dict):
        pairs = [(f"{prefix}{k}", v) for k, v in document.items()]
    elif isinstance(document, list):
        pairs = [(prefix.rstrip("."), v) for v in document]
    else:
        return [(prefix.rstrip("."), document)]
    found: list[tuple[str, Any]] = []
    for name, value in pairs:
        if isinstance(value, dict | list):
            found.extend(_fields(value, f"{name}."))
        else:
            found.append((name, value))
    return found


def scan_mongo(db: Any, sample_rows: int, known: frozenset[str] = frozenset()) -> DbScan:
    """The newest `sample_rows` documents of every collection, every string field."""
    scan = DbScan()
    for name in sorted(db.list_collection_names()):
        documents = list(db[name].find().sort("_id", -1).limit(sample_rows))
        scan.tables += 1
        scan.rows += len(documents)
        scan.per_table[name] = len(documents)
        for document in documents:
            key = f"_id={document.get('_id')}"
            for field_name, value in _fields({k: v for k, v in document.items() if k != "_id"}):
                _scan_value(scan, name, field_name, key, value, known)
    return scan


def _scan_mongo_url(url: str, sample_rows: int, known: frozenset[str]) -> DbScan:
    import pymongo
    from pymongo.errors import PyMongoError

    client: Any = pymongo.MongoClient(url, serverSelectionTimeoutMS=3000)
    try:
        return scan_mongo(client.get_default_database(), sample_rows, known)
    except PyMongoError as exc:
        raise DatabaseUnreachable(f"MongoDB could not be scanned: {exc}") from None
    finally:
        client.close()


def scan_sql(url: str, sample_rows: int, known: frozenset[str] = frozenset()) -> DbScan:
    import sqlalchemy as sa

    from golive.db.sql_schema import connect

    scan = DbScan()
    with connect(url) as (target, conn):
        inspector = sa.inspect(conn)
        for table_name in sorted(inspector.get_table_names(schema=target.schema)):
            table = sa.Table(table_name, sa.MetaData(), autoload_with=conn, schema=target.schema)
            pk = [c.name for c in table.primary_key.columns]
            query = sa.select(table).limit(sample_rows)
            if pk:
                query = query.order_by(*(table.c[c].desc() for c in pk))  # newest first
            rows = [dict(r._mapping) for r in conn.execute(query)]
            scan.tables += 1
            scan.rows += len(rows)
            scan.per_table[table_name] = len(rows)
            for index, row in enumerate(rows):
                key = _row_key(row, pk, index)
                for column, value in row.items():
                    _scan_value(scan, table_name, column, key, value, known)
    return scan


@check("data.card-numbers-in-db", params=DbParams, needs={"app"})
def test_card_numbers_in_db(ctx: CheckContext) -> None:
    """No card number (Luhn-valid 13-19 digits) and no security code is stored in the database."""
    url = ctx.profile.database_url()
    if not url:
        ctx.not_run("the target profile names no database (set database.url or database.url_env)")
    result = probe(ctx)
    require_accepted(ctx, result)
    scan_db = _scan_mongo_url if url.startswith("mongodb") else scan_sql
    known = frozenset({result.card} if result.sent else set())
    try:
        scan = scan_db(url, ctx.params.sample_rows, known)
    except DatabaseUnreachable as exc:
        raise RuntimeError(ctx.redact(str(exc))) from None
    ctx.record(
        tables=scan.tables,
        rows_examined=scan.rows,
        values_examined=scan.values,
        sample_rows_per_table=ctx.params.sample_rows,
        rows_per_table=scan.per_table,
    )
    if scan.rows == 0:
        ctx.nothing_examined(f"no row in any of the {scan.tables} tables of the database")
    for hit in scan.hits:
        ctx.record(**hit)
    if scan.hits:
        where = ", ".join(
            f"{h['table']}.{h['column']} ({h['row']}): {h.get('match', h['kind'])}"
            for h in scan.hits[:10]
        )
        more = f" and {len(scan.hits) - 10} more" if len(scan.hits) > 10 else ""
        ctx.fail(f"card data stored in the database: {where}{more}")


# --- data.card-numbers-in-logs ----------------------------------------------------------


class LogParams(ProbeParams):
    secrets: bool = Field(
        True,
        description="Also look for Stripe secrets (false: card numbers only — a card number "
        "in a log is a stored card number, which the no-card-storage item judges)",
    )


@check("data.card-numbers-in-logs", params=LogParams, needs={"app"})
def test_card_numbers_in_logs(ctx: CheckContext) -> None:
    """The app's log files hold no card number and no Stripe secret."""
    if not ctx.profile.model.logs:
        ctx.not_run("the target profile lists no log files (set logs: [paths])")
    require_accepted(ctx, probe(ctx))
    look_for_secrets: bool = ctx.params.secrets  # type: ignore[attr-defined]
    secrets = secret_values(ctx) if look_for_secrets else []
    hits: list[dict[str, Any]] = []
    lines_read = 0
    for relative in ctx.profile.model.logs:
        path: Path = ctx.profile.resolve(relative)
        if not path.is_file():
            ctx.nothing_examined(f"the log file {relative} does not exist ({path})")
        count = 0
        with path.open(encoding="utf-8", errors="replace") as log:
            for number, line in enumerate(log, start=1):
                count += 1
                for digits in find_pans(line):
                    hits.append(
                        {
                            "file": relative,
                            "line": number,
                            "kind": "card number",
                            "match": mask_pan(digits),
                        }
                    )
                for masked in find_secrets(line, secrets) if look_for_secrets else ():
                    hits.append(
                        {"file": relative, "line": number, "kind": "secret", "match": masked}
                    )
        ctx.record(file=relative, lines=count)
        if count == 0:
            ctx.nothing_examined(f"the log file {relative} is empty")
        lines_read += count
    for hit in hits:
        ctx.record(**hit)
    if hits:
        where = ", ".join(f"{h['file']}:{h['line']} {h['kind']} {h['match']}" for h in hits[:10])
        more = f" and {len(hits) - 10} more" if len(hits) > 10 else ""
        ctx.fail(f"sensitive data in the logs ({lines_read} lines read): {where}{more}")


# --- data.no-secret-echo ----------------------------------------------------------------


def _wrong_types(body: Any) -> Any:
    """The body with every top-level value of another JSON type (no card number left)."""
    if not isinstance(body, dict):
        return {"golive": ["not", "an", "object"]}
    changed: dict[str, Any] = {}
    for name, value in body.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float, list, dict)):
            changed[name] = "yes"
        elif isinstance(value, (int, float)):
            changed[name] = "not-a-number"
        elif isinstance(value, str):
            changed[name] = {"unexpected": ["object"]}
        else:
            changed[name] = "all of them" if isinstance(value, list) else ["not", "an", "object"]
    return changed


def _answers(ctx: CheckContext, result: ProbeResult) -> list[tuple[str, Any]]:
    """(label, answer) for the probe's answers and each of the extra requests; an answer
    is an httpx.Response, an Answer of the probe, or the text of a transport error."""
    client = ctx.app_client()
    health = ctx.profile.model.app.health if ctx.profile.model.app else "/healthz"
    answers: list[tuple[str, Any]] = []
    for answer in result.answers:
        answers.append((f"{answer.label} (the card probe)", answer))
    requests: list[tuple[str, str, str, bool, dict[str, Any]]] = [
        (f"GET {health}", "GET", health, False, {}),
        ("GET /golive-no-such-path", "GET", "/golive-no-such-path-404", False, {}),
    ]
    if result.sent:
        method, path = result.request.split(" ", 1)
        requests += [
            (
                f"{method} {path} (malformed JSON)",
                method,
                path,
                True,
                {"content": b'{"golive": [', "headers": {"Content-Type": "application/json"}},
            ),
            (
                f"{method} {path} (wrong types)",
                method,
                path,
                True,
                {"json": _wrong_types(result.submitted)},
            ),
            (f"{method} {path} (no credentials)", method, path, False, {"json": {}}),
        ]
    try:
        for label, method, path, auth, kwargs in requests:
            session = client.session(result.user) if auth else None
            answers.append((label, _one_answer(client, session, method, path, kwargs)))
    except FlowError as exc:  # the user could not be logged in
        ctx.flow_error(exc)
    return answers


def _one_answer(
    client: Any, session: UserSession | None, method: str, path: str, kwargs: dict[str, Any]
) -> Any:
    # A fresh connection each, tried twice: an app that drops the connection after a
    # crash (debug error pages) must not turn the next request into a reset. No session:
    # a fresh anonymous one, sending no credential.
    headers = {**kwargs.pop("headers", {}), "Connection": "close"}
    error = ""
    for _ in range(2):
        anonymous = unauthenticated.anonymous(client) if session is None else None
        try:
            if anonymous is not None:
                return anonymous.request(method, path, headers=headers, auth=False, **kwargs)
            assert session is not None
            return session.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            error = f"no answer: {type(exc).__name__}: {exc}"
        finally:
            if anonymous is not None:
                anonymous.close()
    return error


@check("data.no-secret-echo", params=ProbeParams, needs={"app"})
def test_no_secret_echo(ctx: CheckContext) -> None:
    """No answer of the app (body or headers) carries a Stripe secret or an env secret."""
    result = probe(ctx)
    secrets = secret_values(ctx)
    leaks: list[str] = []
    for label, answer in _answers(ctx, result):
        if isinstance(answer, str):  # no answer at all: nothing it could echo
            ctx.record(request=label, status=None, error=answer, secrets_found=[])
            continue
        if isinstance(answer, Answer):
            status, headers, body = answer.status, answer.headers, answer.body
        else:
            status, headers, body = answer.status_code, dict(answer.headers), answer.text
        text = body + "\n" + "\n".join(f"{k}: {v}" for k, v in headers.items())
        found = find_secrets(text, secrets)
        ctx.record(request=label, status=status, bytes=len(body), secrets_found=found)
        if found:
            leaks.append(f"{label} -> {status}: {', '.join(found)}")
    if leaks:
        ctx.fail("secrets echoed in answers: " + "; ".join(leaks))
