"""Where golive's own files are: the checklist, the demo target, the example profiles, the
reference shop's source and the check folders.

An installed golive holds them inside the package (the wheel maps the repository's
top-level folders under `golive/`, see pyproject.toml); a source checkout holds them at the
top of the repository. `importlib.resources` finds the package wherever it is installed.
"""

from __future__ import annotations

import importlib.resources
import os
import shutil
from pathlib import Path

PACKAGE_DIR = Path(str(importlib.resources.files("golive")))
# The wheel puts checklist.yaml inside the package; a checkout has it one level up.
INSTALLED = (PACKAGE_DIR / "checklist.yaml").is_file()
DATA_ROOT = PACKAGE_DIR if INSTALLED else PACKAGE_DIR.parent

CHECKLIST = DATA_ROOT / "checklist.yaml"
TARGETS = DATA_ROOT / "targets"
DEMO_DIR = TARGETS / "demo"
EXAMPLES_DIR = TARGETS / "examples"
SHOP_SOURCE = DATA_ROOT / "shop"
# Folders whose test_*.py modules hold checks (the design card's top-level folders).
CHECK_PACKAGES = ("checks", "smoke", "loadtests")


def check_dirs() -> list[Path]:
    return [DATA_ROOT / name for name in CHECK_PACKAGES]


def cache_dir() -> Path:
    """golive's own folder for things it can make again: GOLIVE_HOME, or ~/.cache/golive."""
    return Path(os.environ.get("GOLIVE_HOME") or Path.home() / ".cache" / "golive")


def demo_profile() -> Path:
    """The demo target's profile, where its setup may write its build.

    In a checkout that is targets/demo itself (its .build/ is ignored by git). An installed
    package is not the place to build anything, so its demo is copied once per golive
    version into the user's cache folder (GOLIVE_HOME overrides it) and run from there.
    """
    if not INSTALLED:
        return DEMO_DIR / "target.yaml"
    from golive import __version__

    workdir = cache_dir() / f"demo-{__version__}"
    for source in DEMO_DIR.rglob("*"):
        if ".build" in source.relative_to(DEMO_DIR).parts or not source.is_file():
            continue
        copy = workdir / source.relative_to(DEMO_DIR)
        if not copy.exists() or copy.read_bytes() != source.read_bytes():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
    return workdir / "target.yaml"
