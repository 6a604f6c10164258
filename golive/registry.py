"""The check registry: which check ids exist, with each check's params model and needs.

A check is a pytest test function in checks/, smoke/ or loadtests/ decorated with
`@check("env.key-prefix", params=KeyPrefixParams)`. checklist.yaml refers to checks by id;
validation imports the check modules to learn the ids and each check's params model.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from golive import resources


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class CheckSpec:
    id: str
    function: Callable[..., Any]
    params: type[BaseModel]
    summary: str
    needs: frozenset[str] = frozenset()  # what the run must bring up: "stripe", "app"
    # Threshold names the check judges; when declared, an item's other names are a typo.
    metrics: frozenset[str] = frozenset()


REGISTRY: dict[str, CheckSpec] = {}
# Check modules that raised on import: path -> "ExcType: message". The run reports them
# as a harness failure when pytest fails to collect the same module.
IMPORT_ERRORS: dict[str, str] = {}


NEEDS = frozenset({"stripe", "app", "services"})


def check(
    check_id: str,
    *,
    params: type[BaseModel] = NoParams,
    needs: frozenset[str] | set[str] = frozenset(),
    metrics: frozenset[str] | set[str] = frozenset(),
) -> Callable:
    """Register a pytest test function as the check `check_id`.

    `needs` names what the run must bring up for it: "stripe" (the profile's Stripe
    backend), "app" (the running target) and/or "services" (the profile's `services:`,
    which start beside the app: a local Prometheus). A run starts only what its selected
    checks need, so a pre-deploy gate never waits for a server. `metrics` names the
    item thresholds the check judges: validation then refuses any other name."""
    unknown = set(needs) - NEEDS
    if unknown:
        raise ValueError(
            f"check {check_id}: unknown needs {sorted(unknown)}; known: {sorted(NEEDS)}"
        )

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        summary = (function.__doc__ or "").strip().splitlines()[0:1]
        REGISTRY[check_id] = CheckSpec(
            check_id,
            function,
            params,
            summary[0] if summary else "",
            frozenset(needs),
            frozenset(metrics),
        )
        return pytest.mark.golive_check(check_id)(function)

    return decorate


def check_paths(extra: Iterable[Path] = ()) -> list[Path]:
    """Directories whose test_*.py files are collected as checks."""
    return resources.check_dirs() + list(extra)


def discover(extra: Iterable[Path] = ()) -> dict[str, CheckSpec]:
    """Import every check module so the registry knows every check id."""
    for directory in [*resources.check_dirs(), *extra]:
        for module_path in sorted(Path(directory).glob("test_*.py")):
            _import_guarded(module_path)
    return REGISTRY


def _import_guarded(module_path: Path) -> None:
    # A check module that cannot be imported is a harness failure of the run (pytest
    # reports it when collecting), not a crash of validation; the checks it would have
    # registered are unknown, and validation names this error when one is referenced.
    try:
        package_root, name = pytest_module_name(module_path)
        if name == module_path.stem:
            _import_path(module_path)
        else:
            if str(package_root) not in sys.path:
                sys.path.insert(0, str(package_root))
            importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any error in a check module's code
        IMPORT_ERRORS[str(module_path)] = f"{type(exc).__name__}: {exc}"


def pytest_module_name(module_path: Path) -> tuple[Path, str]:
    """The name pytest ("prepend" import mode) gives a test file, and the folder it puts on
    sys.path: the file's packages up to the first folder without __init__.py. Importing a
    check module under the same name keeps one module object, so one registration.
    (`checks.test_environment` in a checkout, `golive.checks.test_environment` installed.)"""
    parts = [module_path.stem]
    folder = module_path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)


def _import_path(module_path: Path) -> None:
    # Pytest imports a rootdir-less test file as its basename with the folder on sys.path
    # ("prepend" import mode); importing it the same way keeps one module object.
    name = module_path.stem
    if name in sys.modules:
        return
    sys.path.insert(0, str(module_path.parent))
    spec = importlib.util.spec_from_file_location(name, module_path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        # Never leave a half-initialised module behind: pytest would import it silently.
        del sys.modules[name]
        raise


__all__ = ["IMPORT_ERRORS", "REGISTRY", "CheckSpec", "check", "discover"]
