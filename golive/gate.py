"""`golive gate`: validate, run the checks under pytest, fold, report, decide.

checklist + profile + attestations + waivers -> validate (exit 2) -> pytest session
-> per-item outcomes -> verdict -> reports -> exit code (0 GO, 1 NO-GO, 3 harness failure).
"""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from golive import (
    __version__,
    attestations,
    checklist,
    interrupts,
    profile,
    registry,
    resources,
    runlock,
    waivers,
)
from golive.audit import inputs
from golive.checklist import Checklist, Item
from golive.context import Target
from golive.errors import InputError
from golive.fold import count, fold_item, summarize_sections, verdict
from golive.plugin import GateSession, ItemKey
from golive.redact import Redactor
from golive.results import (
    ACCEPTING,
    CheckResult,
    DiagnosticResult,
    InputRecord,
    ItemResult,
    Outcome,
    RunMeta,
    RunResult,
    Verdict,
)
from golive.timeutil import utcnow
from golive.traffic import gate_hook
from golive.validation import raise_all

EXIT_GO, EXIT_NO_GO, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3
INTERRUPTED = "the run was interrupted (Ctrl-C or SIGTERM)"
GATE_INI = Path(__file__).with_name("gate_pytest.ini")
NO_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
# pytest exit codes of a run that went to the end (whatever the checks found).
_RUNNER_FINISHED = (
    pytest.ExitCode.OK,
    pytest.ExitCode.TESTS_FAILED,
    pytest.ExitCode.NO_TESTS_COLLECTED,
)


@dataclass
class GateRequest:
    profile_path: Path
    checklist_path: Path | None = None
    phases: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    now: datetime | None = None
    command: str = "gate"  # named to a second run refused on the same target


@dataclass
class Prepared:
    request: GateRequest
    checklist: Checklist
    profile: profile.Profile
    selected: list[Item]
    attestations: attestations.AttestationBook
    waivers: waivers.WaiverBook
    target: Target
    session: GateSession
    lock: runlock.RunLock | None = None  # the target folder's, from boot to discard
    interrupted: bool = False  # by Ctrl-C or SIGTERM before the checks began
    inputs: list[InputRecord] = field(default_factory=list)  # hashed as read (golive/audit)


def prepare(request: GateRequest) -> Prepared:
    """Load and validate everything before any check runs (InputError -> exit 2)."""
    target_profile = profile.load(request.profile_path)
    the_checklist = checklist.load(
        request.checklist_path or checklist.DEFAULT_CHECKLIST, target_profile.extra_check_paths
    )
    if target_profile.model.params and target_profile.located is not None:
        raise_all(
            checklist.profile_params_errors(
                the_checklist, target_profile.model.params, target_profile.located
            )
        )
    _check_selection(request, the_checklist)
    phases = request.phases or list(checklist.DEFAULT_PHASES)
    selected = the_checklist.select(phases, request.sections, request.items, request.tags)
    if not selected:
        raise InputError(
            "the selection matches no checklist item",
            hint="loosen --phase/--section/--item/--tag; `golive items` lists them",
        )
    book, waiver_book = _signoffs(target_profile, the_checklist, deferred=True)
    now = request.now or utcnow()
    redactor = Redactor(target_profile.secrets())
    for credential in profile.credentials(target_profile.model, target_profile.base_dir):
        redactor.add_secret(credential, profile.CREDENTIAL_MIN_LENGTH)
    workdir = Path(tempfile.mkdtemp(prefix="golive-"))
    try:
        target = Target(profile=target_profile, redactor=redactor, now=now, workdir=workdir)
        session = GateSession(the_checklist, selected, target)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    prepared = Prepared(
        request, the_checklist, target_profile, selected, book, waiver_book, target, session
    )
    prepared.inputs = inputs.collect(target_profile, the_checklist, redactor, deferred=True)
    return prepared


def boot(prepared: Prepared) -> None:
    """Take the target folder (one run at a time), bring the target up: setup commands,
    then — only if a selected check needs them — the Stripe backend and the app
    (InputError -> exit 2). On any exception, Ctrl-C included, what it started is stopped.

    When the run selects automated post-deploy items and the profile has `traffic:` (or
    `golive traffic` asks), a compressed day of payments is played once, after the app
    has started and before any check (golive/traffic/): a demo/staging aid, never with
    live keys."""
    target, target_profile = prepared.target, prepared.profile
    try:
        prepared.lock = runlock.acquire(target_profile.path, prepared.request.command)
        if target_profile.model.setup:
            profile.run_setup(target_profile, target.now)
            profile.reload_env(target_profile)  # setup may have written the env file
            for secret in target_profile.secrets():
                target.redactor.add_secret(secret)
            for credential in profile.credentials(target_profile.model, target_profile.base_dir):
                target.redactor.add_secret(credential, profile.CREDENTIAL_MIN_LENGTH)
            # …and the sign-offs: the demo's are dated relative to the run.
            prepared.attestations, prepared.waivers = _signoffs(
                target_profile, prepared.checklist, deferred=False
            )
            prepared.inputs = inputs.collect(
                target_profile, prepared.checklist, target.redactor, deferred=False
            )
        needs = needs_of(prepared.selected)
        traffic = gate_hook.due(prepared)
        if traffic is not None:
            needs |= {"stripe", "app"}
        if "services" in needs and services_due(target_profile):
            needs |= {"app"}  # a service starts beside the app (it may read it)
        spec = target_profile.model.stripe
        if spec is not None and needs & {"stripe", "app"}:  # the app talks to Stripe too
            from golive.backends import start_backend

            target.stripe = start_backend(spec, target_profile.env)
            target.redactor.add_secret(target.stripe.secret_key)
            # Kept for the run metadata: the backend is stopped before the report is built.
            target.cache["stripe_backend"] = target.stripe.describe()
        if target_profile.model.app is not None and "app" in needs:
            _start_app(prepared)
            if "services" in needs:
                _start_services(prepared)
        if traffic is not None:
            gate_hook.play(prepared, traffic)
    except BaseException:
        discard(prepared)
        raise


def boot_or_interrupted(prepared: Prepared) -> None:
    """`boot`, with a Ctrl-C or SIGTERM during it recorded rather than raised: `run` then
    runs no check and the report says why (boot has stopped what it started)."""
    try:
        boot(prepared)
    except KeyboardInterrupt:
        prepared.interrupted = True


def _signoffs(
    target_profile: profile.Profile, the_checklist: Checklist, *, deferred: bool
) -> tuple[attestations.AttestationBook, waivers.WaiverBook]:
    """The profile's attestations and waivers. `deferred`: files a setup command has yet
    to write are skipped now and read after the setup (boot insists on them)."""
    ready = [
        path
        for path in target_profile.attestation_files
        if not (deferred and target_profile.built_by_setup(path))
    ]
    waiver_file = target_profile.waiver_file
    if waiver_file and deferred and target_profile.built_by_setup(waiver_file):
        waiver_file = None
    return attestations.load(ready, the_checklist), waivers.load(waiver_file, the_checklist)


def needs_of(items: list[Item]) -> set[str]:
    """What the selected checks need brought up ("stripe", "app")."""
    needs: set[str] = set()
    for item in items:
        for ref in item.automated.checks if item.automated else []:
            spec = registry.REGISTRY.get(ref.ref)
            if spec is not None:
                needs |= spec.needs
    return needs


def _start_app(prepared: Prepared) -> None:
    from golive import target_app

    target, spec = prepared.target, prepared.profile.model.app
    target.app = target_app.start_app(
        prepared.profile,
        spec,
        stripe_api_base=target.stripe.api_base if target.stripe else None,
        workdir=target.workdir,
        redactor=target.redactor,
    )
    stripe = target.stripe
    # Registered in golive's sandbox only, and only when it is to deliver (a run with
    # `capabilities: {without: [webhook-delivery]}` gets golive's signed copies alone).
    if (
        spec.register_webhook
        and stripe is not None
        and stripe.kind == "sandbox"
        and stripe.can("webhook-delivery")
    ):
        target_app.register_webhook(
            target.app,
            target.stripe,
            spec.register_webhook,
            prepared.profile.env.get(prepared.profile.var("webhook_secret")),
            prepared.profile.env.get(prepared.profile.var("api_version")),
        )
    target.cache["app"] = target.app.describe()


def services_due(target_profile: profile.Profile) -> bool:
    from golive import services

    return bool(services.due(target_profile))


def _start_services(prepared: Prepared) -> None:
    from golive import services

    target = prepared.target
    target.services = services.start_services(
        prepared.profile, target.app, workdir=target.workdir, redactor=target.redactor
    )


def discard(prepared: Prepared) -> None:
    """Stop the app and the Stripe backend, remove the scratch folder (it may hold a backup
    copy of the target's data) and free the target folder. A signal meanwhile waits: all of
    it must happen. Safe to call again."""
    with interrupts.shielded():
        prepared.target.close_client()
        for service in reversed(prepared.target.services):
            service.stop()  # (they may read the app: stopped before it)
        prepared.target.services = []
        if prepared.target.app is not None:
            prepared.target.app.stop()
            prepared.target.app = None
        if prepared.target.stripe is not None:
            prepared.target.stripe.stop()
            prepared.target.stripe = None
        shutil.rmtree(prepared.target.workdir, ignore_errors=True)
        if prepared.lock is not None:
            prepared.lock.release()
            prepared.lock = None


def _check_selection(request: GateRequest, the_checklist: Checklist) -> None:
    for phase in request.phases:
        if phase not in checklist.PHASES:
            raise InputError(
                f"unknown phase {phase!r}", hint=f"choose from {', '.join(checklist.PHASES)}"
            )
    section_ids = {s.id for s in the_checklist.sections}
    for section in request.sections:
        if section not in section_ids:
            raise InputError(
                f"unknown section {section!r}", hint="`golive items` lists the sections"
            )
    for item_id in request.items:
        if item_id not in the_checklist.items:
            raise InputError("unknown item", item=item_id, hint="`golive items` lists the ids")


@dataclass
class GateOutcome:
    result: RunResult
    exit_code: int


def run(
    prepared: Prepared,
    on_check_done: Callable[[ItemKey, CheckResult], None] | None = None,
    on_item_done: Callable[[ItemResult], None] | None = None,
) -> GateOutcome:
    """Run the selected checks under pytest and fold everything into a RunResult."""
    started_at, t0 = utcnow(), time.perf_counter()
    session = prepared.session
    folded: dict[str, ItemResult] = {}

    def fold_ready(key: ItemKey | None = None, result: CheckResult | None = None) -> None:
        # Items whose checks have all finished are folded now, in checklist order, so
        # progress is printed as the run goes.
        if key is not None and on_check_done:
            on_check_done(key, result)
        for item in prepared.selected:
            if item.id in folded:
                continue
            if not _item_finished(item, session):
                break
            folded[item.id] = _fold(prepared, item)
            if on_item_done:
                on_item_done(folded[item.id])

    session.on_check_done = fold_ready
    interrupted = prepared.interrupted  # during boot: no check runs
    try:
        code = pytest.ExitCode.OK if interrupted else _run_pytest(prepared)
        if code == pytest.ExitCode.INTERRUPTED and session.interrupted:
            interrupted = True
        elif code not in _RUNNER_FINISHED and not session.harness_errors:
            # (A collection error stops pytest too; it is already recorded with its cause.)
            session.harness_errors.append(
                f"the check runner ended with pytest exit code {int(code)}"
            )
    except KeyboardInterrupt:
        interrupted = True
    except Exception as exc:  # noqa: BLE001 - any crash still leaves a report
        session.harness_errors.append(
            f"harness failure: {type(exc).__name__}: {prepared.target.redactor.text(str(exc))}"
        )
    except BaseException:
        discard(prepared)
        raise
    # From here to the report a signal is noted, not raised: a second Ctrl-C (or a first
    # one now) must not cost the report; the report says the run was interrupted.
    with interrupts.shielded() as late:
        discard(prepared)
        outcome = _outcome(prepared, folded, interrupted, on_item_done, started_at, t0)
    if late:
        mark_interrupted(outcome)
    return outcome


def mark_interrupted(outcome: GateOutcome, when: str = "while it stopped the target") -> bool:
    """Say in a finished outcome that a signal came after its checks (verdict INCOMPLETE,
    exit 3); False when it already says it was interrupted."""
    result = outcome.result
    if any(error.startswith(INTERRUPTED) for error in result.errors):
        return False
    result.errors.append(f"{INTERRUPTED} {when}, after every check had ended")
    result.verdict, result.verdict_reasons = verdict(result.items, result.errors)
    result.exit_code = outcome.exit_code = EXIT_HARNESS
    return True


def _outcome(
    prepared: Prepared,
    folded: dict[str, ItemResult],
    interrupted: bool,
    on_item_done: Callable[[ItemResult], None] | None,
    started_at: datetime,
    t0: float,
) -> GateOutcome:
    session = prepared.session
    if interrupted:
        session.harness_errors.append(f"{INTERRUPTED} before it finished")

    stop_reason = "run interrupted before this check ran" if interrupted else None
    items = [
        folded.get(item.id) or _fold(prepared, item, stop_reason) for item in prepared.selected
    ]
    for item in items:
        if item.id not in folded and on_item_done:
            on_item_done(item)
    the_verdict, reasons = verdict(items, session.harness_errors)
    exit_code = {Verdict.GO: EXIT_GO, Verdict.NO_GO: EXIT_NO_GO}.get(the_verdict, EXIT_HARNESS)
    result = RunResult(
        verdict=the_verdict,
        verdict_reasons=reasons,
        exit_code=exit_code,
        meta=_meta(prepared, started_at, time.perf_counter() - t0),
        counts=count(items),
        sections=summarize_sections(prepared.checklist, items),
        items=items,
        attestations=[i.attestation for i in items if i.attestation],
        waivers=[i.waiver for i in items if i.waiver],
        diagnostics=_diagnostics(prepared.checklist, items),
        errors=session.harness_errors,
        inputs=prepared.inputs,
    )
    return GateOutcome(result, exit_code)


def _run_pytest(prepared: Prepared) -> int:
    paths = [str(p) for p in registry.check_paths(prepared.profile.extra_check_paths) if p.exists()]
    args = [
        *paths,
        "-c",
        str(GATE_INI),
        "--rootdir",
        str(resources.DATA_ROOT),
        "-p",
        "golive.plugin",
        "-p",
        "no:terminal",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
    ]
    # Only golive's plugin: pytest plugins installed beside golive (anyio's, xdist, a
    # user's pytest-django) must neither change a gate nor cost its start-up (~0.5 s).
    autoload = os.environ.get(NO_AUTOLOAD)
    os.environ[NO_AUTOLOAD] = "1"
    try:
        return pytest.main(args, plugins=[prepared.session])
    finally:
        if autoload is None:
            del os.environ[NO_AUTOLOAD]
        else:
            os.environ[NO_AUTOLOAD] = autoload


def _item_finished(item: Item, session: GateSession) -> bool:
    if item.automated is None:
        return True
    for index in range(len(item.automated.checks)):
        key = (item.id, index)
        if key in session.collected and key not in session.results:
            return False
    return True


def _fold(prepared: Prepared, item: Item, stop_reason: str | None = None) -> ItemResult:
    session = prepared.session
    checks = []
    for index, ref in enumerate(item.automated.checks if item.automated else []):
        key = (item.id, index)
        if key in session.results:
            checks.append(session.results[key])
        else:
            params, from_profile = session.reported_params(key)
            checks.append(
                CheckResult(
                    ref=ref.ref,
                    outcome=Outcome.NOT_RUN,
                    message=_why_not_run(ref.ref, key, session, stop_reason),
                    params=params,
                    profile_params=from_profile,
                )
            )
    return fold_item(
        item,
        prepared.checklist,
        checks,
        prepared.attestations,
        prepared.waivers,
        prepared.target.now,
    )


def _why_not_run(check_id: str, key: ItemKey, session: GateSession, stop_reason: str | None) -> str:
    if stop_reason:
        return stop_reason
    if session.harness_errors:
        return "the check did not run: " + session.harness_errors[0]
    return f"check {check_id} was not collected"


def _diagnostics(the_checklist: Checklist, items: list[ItemResult]) -> list[DiagnosticResult]:
    by_id = {i.id: i for i in items}
    result = []
    for diagnostic in the_checklist.model.diagnostics:
        judged = [by_id[i] for i in diagnostic.prevented_by if i in by_id]
        result.append(
            DiagnosticResult(
                id=diagnostic.id,
                title=diagnostic.title,
                detection=diagnostic.detection,
                resolution=diagnostic.resolution,
                prevention=diagnostic.prevention,
                prevented_by=diagnostic.prevented_by,
                at_risk=any(i.outcome not in ACCEPTING for i in judged),
            )
        )
    return result


def _meta(prepared: Prepared, started_at: datetime, duration: float) -> RunMeta:
    request = prepared.request
    return RunMeta(
        harness_version=__version__,
        profile_name=prepared.profile.name,
        profile_path=str(prepared.profile.path),
        checklist_path=str(prepared.checklist.path),
        checklist_sha256=prepared.checklist.sha256,
        target_git_sha=_git_sha(prepared.profile.repository_path),
        started_at=started_at,
        finished_at=utcnow(),
        judged_at=prepared.target.now,
        duration_s=round(duration, 3),
        phases=request.phases or list(checklist.DEFAULT_PHASES),
        selection={
            k: v
            for k, v in {
                "sections": request.sections,
                "items": request.items,
                "tags": request.tags,
            }.items()
            if v
        },
        stripe_backend=prepared.target.cache.get("stripe_backend"),
        target_app=prepared.target.cache.get("app"),
        python=platform.python_version(),
        host=socket.gethostname(),
    )


def _git_sha(repo: Path | None) -> str | None:
    if repo is None or not repo.exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


__all__ = ["EXIT_GO", "EXIT_HARNESS", "EXIT_NO_GO", "EXIT_USAGE", "GateRequest", "prepare", "run"]
