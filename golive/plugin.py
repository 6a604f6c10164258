"""The golive pytest plugin: checks parametrized by checklist items, results captured.

Registered by the top-level conftest.py and by `golive gate`. It stays inert in a
pytest run without `--golive-target`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import stripe
from pydantic import ValidationError

from golive import budget
from golive.checklist import Checklist, Item, check_params, profile_supplied
from golive.context import (
    CheckContext,
    CheckError,
    NotApplicable,
    NothingExamined,
    NotRun,
    Target,
)
from golive.registry import REGISTRY
from golive.results import CheckResult, Outcome

SESSION_KEY = pytest.StashKey["GateSession"]()
ItemKey = tuple[str, int]  # (item id, index of the check in the item's list)


class GateSession:
    """Holds one run's selection and collects each check's result as pytest runs it."""

    def __init__(
        self,
        checklist: Checklist,
        selected: list[Item],
        target: Target,
        on_check_done: Callable[[ItemKey, CheckResult], None] = lambda key, result: None,
    ) -> None:
        self.checklist = checklist
        self.selected = selected
        self.target = target
        self.on_check_done = on_check_done
        self.results: dict[ItemKey, CheckResult] = {}
        self.collected: list[ItemKey] = []
        self.harness_errors: list[str] = []
        self.interrupted = False  # Ctrl-C, as opposed to pytest stopping on its own
        self._order = {item.id: index for index, item in enumerate(selected)}
        self._started: dict[ItemKey, float] = {}
        self._contexts: dict[ItemKey, CheckContext] = {}
        self._budgets: dict[ItemKey, budget.CheckBudget] = {}
        self.deadline_stopped = 0  # checks the run deadline kept from running or cut short

    # --- collection -------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SESSION_KEY] = self

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        marker = metafunc.definition.get_closest_marker("golive_check")
        if marker is None or "ctx" not in metafunc.fixturenames:
            return
        check_id = marker.args[0]
        keys = [
            (item.id, index)
            for item in self.selected
            if item.automated
            for index, ref in enumerate(item.automated.checks)
            if ref.ref == check_id
        ]
        if not keys:
            # No selected item uses this check: leave it unparametrized, so it is deselected
            # (an empty parametrize would make a placeholder test without a key).
            return
        ids = [item_id if index == 0 else f"{item_id}#{index}" for item_id, index in keys]
        metafunc.parametrize("ctx", keys, ids=ids, indirect=True)

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        keep = [i for i in items if _key_of(i) is not None]
        dropped = [i for i in items if _key_of(i) is None]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        keep.sort(key=lambda i: (self._order[_key_of(i)[0]], _key_of(i)[1]))
        items[:] = keep
        self.collected = [_key_of(i) for i in keep]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.harness_errors.append(
                f"could not collect {report.nodeid or 'checks'}: "
                + self.target.redactor.text(
                    str(report.longrepr).strip().splitlines()[-1].removeprefix("E ").strip()
                )
            )

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest reports "stopped after collection errors" (Session.Interrupted) through
        # the same hook and exit code as a real Ctrl-C; only the latter is an interruption.
        # (`pytest.exit()` from a check arrives here too; it is not a Ctrl-C either.)
        value = excinfo.value
        if isinstance(value, KeyboardInterrupt) and not isinstance(
            value, pytest.Session.Interrupted
        ):
            self.interrupted = True

    # --- running ------------------------------------------------------------------------
    def raw_params(self, key: ItemKey) -> dict[str, Any]:
        """The check's params as given: checklist, then the profile's `params:`."""
        item = self.checklist.items[key[0]]
        ref = item.automated.checks[key[1]]
        return check_params(item, ref, self.target.profile.model.params)

    def reported_params(self, key: ItemKey) -> tuple[dict[str, Any], dict[str, Any]]:
        """(effective params, defaults filled in; the part the profile's `params:` set),
        redacted, for the report."""
        item = self.checklist.items[key[0]]
        ref = item.automated.checks[key[1]]
        raw = self.raw_params(key)
        spec = REGISTRY.get(ref.ref)
        effective: dict[str, Any] = raw
        if spec is not None:
            with contextlib.suppress(ValidationError):
                effective = spec.params.model_validate(raw).model_dump(mode="json")
        from_profile = profile_supplied(item, ref, self.target.profile.model.params)
        redact = self.target.redactor.value
        return redact(effective), redact({k: effective.get(k) for k in sorted(from_profile)})

    def make_context(self, key: ItemKey) -> CheckContext:
        item = self.checklist.items[key[0]]
        ref = item.automated.checks[key[1]]
        spec = REGISTRY[ref.ref]
        context = CheckContext(
            item=item,
            ref=ref,
            params=spec.params.model_validate(self.raw_params(key)),
            target=self.target,
        )
        self._contexts[key] = context
        return context

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        # Each check runs under its own time budget, which the HTTP helpers consult.
        key = _key_of(item)
        if key is None:
            return (yield)
        self._budgets[key] = self.target.clock.check()
        budget.activate(self._budgets[key])
        try:
            return (yield)
        finally:
            budget.activate(None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        key = _key_of(item)
        if key is not None:
            self._started[key] = time.perf_counter()
            passed = self.target.clock.deadline_passed()
            if passed is not None:
                raise passed  # recorded as this check's error; the next ones alike

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.deadline_stopped:
            self.harness_errors.append(
                f"the run deadline of {self.target.clock.limits.run_s:g} s (limits.run_s) "
                f"passed: {self.deadline_stopped} checks did not run or were cut short"
            )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        report = yield
        key = _key_of(item)
        if key is None or key in self.results:
            return report
        if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
            self._record(key, call)
        return report

    def _record(self, key: ItemKey, call: pytest.CallInfo) -> None:
        context = self._contexts.get(key)
        evidence = context.evidence if context else []
        outcome, message = classify(call, evidence, self.target.stripe)
        stopped = self._budgets[key].stopped if key in self._budgets else None
        if isinstance(call.excinfo and call.excinfo.value, budget.BudgetExceeded):
            stopped = call.excinfo.value
        if stopped is not None:
            # Cut short by a time limit: whatever the check made of it (a caught timeout,
            # a finding built on missing answers), it could not judge the item.
            outcome, message = Outcome.ERROR, str(stopped)
            evidence.append({"stopped": self.target.redactor.text(str(stopped))})
            if isinstance(stopped, budget.RunDeadlinePassed):
                self.deadline_stopped += 1
        params, from_profile = self.reported_params(key)
        result = CheckResult(
            ref=self.checklist.items[key[0]].automated.checks[key[1]].ref,
            outcome=outcome,
            message=self.target.redactor.text(message),
            duration_s=round(time.perf_counter() - self._started.get(key, time.perf_counter()), 4),
            params=params,
            profile_params=from_profile,
            evidence=evidence,
        )
        self.results[key] = result
        self.on_check_done(key, result)


def classify(
    call: pytest.CallInfo, evidence: list[dict[str, Any]], backend: Any = None
) -> tuple[Outcome, str]:
    """Map how a check ended to an outcome and a message. A Stripe error that reached
    here came from golive's own call to the backend: the backend's error, named so."""
    if call.excinfo is None:
        if not evidence:
            return Outcome.ERROR, "the check recorded no evidence: it examined nothing"
        return Outcome.PASS, ""
    exc = call.excinfo.value
    if isinstance(exc, NotApplicable):
        return Outcome.NOT_APPLICABLE, exc.msg
    if isinstance(exc, NotRun):
        return Outcome.NOT_RUN, exc.msg
    if isinstance(exc, pytest.skip.Exception):
        return Outcome.NOT_RUN, f"skipped: {exc.msg}"
    if isinstance(exc, NothingExamined | CheckError | budget.BudgetExceeded):
        return Outcome.ERROR, str(exc)
    if isinstance(exc, AssertionError):
        return Outcome.FAIL, str(exc).split("\nassert ")[0].strip() or "assertion failed"
    if isinstance(exc, stripe.StripeError):
        from golive.backends import backend_answered

        return Outcome.ERROR, backend_answered(backend, exc)
    where = "while preparing" if call.when == "setup" else "while checking"
    return Outcome.ERROR, f"{type(exc).__name__} {where}: {exc}"


def _key_of(item: pytest.Item) -> ItemKey | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or "ctx" not in callspec.params:
        return None
    return callspec.params["ctx"]


# --- module-level plugin: options, marker, the `ctx` fixture ---------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("golive", "golive deployment gate")
    group.addoption("--golive-target", help="Target profile YAML; activates the golive checks")
    group.addoption("--golive-checklist", help="checklist.yaml (default: the bundled one)")
    group.addoption(
        "--golive-phase", action="append", default=[], help="Phase to select (repeatable)"
    )
    group.addoption("--golive-section", action="append", default=[], help="Section id (repeatable)")
    group.addoption("--golive-item", action="append", default=[], help="Item id (repeatable)")
    group.addoption("--golive-tag", action="append", default=[], help="Tag (repeatable)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "golive_check(id): a golive check for checklist items")
    target = config.getoption("--golive-target", default=None)
    if target and SESSION_KEY not in config.stash:
        # Plain `pytest checks/ --golive-target ...`: build the session the gate would.
        from golive.gate import GateRequest, boot, discard, prepare

        request = GateRequest(
            profile_path=Path(target),
            checklist_path=Path(config.getoption("--golive-checklist"))
            if config.getoption("--golive-checklist")
            else None,
            phases=config.getoption("--golive-phase"),
            sections=config.getoption("--golive-section"),
            items=config.getoption("--golive-item"),
            tags=config.getoption("--golive-tag"),
        )
        prepared = prepare(request)
        boot(prepared)
        config.add_cleanup(lambda: discard(prepared))
        config.pluginmanager.register(prepared.session, "golive-session")
        config.stash[SESSION_KEY] = prepared.session


@pytest.fixture
def ctx(request: pytest.FixtureRequest) -> CheckContext:
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip("golive checks run only with --golive-target (or through `golive gate`)")
    return session.make_context(request.param)
