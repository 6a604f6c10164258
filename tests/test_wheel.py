"""golive as users install it: a wheel built from this repository, installed into a fresh
virtual environment, run from a directory outside the repository.

The wheel is built without build isolation (hatchling is a test dependency) and installed
with `--no-deps`; the new environment borrows the test environment's dependencies through
a plain path entry, which Python does not scan for .pth files, so the checkout's editable
install stays out of sight and `import golive` can only find the wheel's copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from gatekit import NOW, ROOT

# What a wheel may put into site-packages: the package and its metadata, nothing generic.
ALLOWED_TOP_LEVEL = {"golive"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = dist.glob("golive-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel; returns its bin/ folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
        + ["--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return env_dir / "bin"


def _outside_env(tmp: Path) -> dict[str, str]:
    # No PYTHONPATH or checkout on the path; the demo copies itself under GOLIVE_HOME.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SHOP_FLAWS")}
    return {**env, "GOLIVE_HOME": str(tmp / "home")}


def _run(bin_dir: Path, cwd: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bin_dir / "golive"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_outside_env(cwd),
    )


def test_the_wheel_installs_one_package_with_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top == ALLOWED_TOP_LEVEL, top
    for data in (
        "golive/checklist.yaml",
        "golive/targets/demo/target.yaml",
        "golive/targets/examples/express-mongo.yaml",
        "golive/reports/templates/report.html.j2",
        "golive/checks/test_environment.py",
        "golive/smoke/test_smoke.py",
        "golive/loadtests/scenarios.py",
        "golive/shop/app.py",
    ):
        assert data in names, data
    assert not [n for n in names if "__pycache__" in n or "/.build/" in n]


@pytest.mark.slow
def test_an_installed_golive_validates_lists_and_gates_from_another_directory(
    installed: Path, tmp_path: Path
) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import golive; print(golive.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_outside_env(tmp_path),
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), where.stdout
    assert not Path(where.stdout.strip()).is_relative_to(ROOT)

    items = _run(installed, tmp_path, "items", "--json")
    assert items.returncode == 0, items.stderr
    assert len(json.loads(items.stdout)) == 191

    validate = _run(installed, tmp_path, "validate")
    assert validate.returncode == 0, validate.stderr
    assert "191 items" in validate.stdout

    out = tmp_path / "report"
    gate = _run(installed, tmp_path, "gate", "--phase", "pre-deploy", "--out", str(out))
    assert gate.returncode == 0, gate.stdout[-3000:] + gate.stderr[-3000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "GO"
    assert results["counts"]["pass"] >= 20
    # The demo ran from the user's cache folder, never inside site-packages.
    assert Path(results["meta"]["profile_path"]).is_relative_to(tmp_path / "home")
    assert not list(installed.parent.rglob(".build"))


@pytest.mark.slow
def test_an_installed_golive_gates_a_profile_given_with_target(
    installed: Path, tmp_path: Path
) -> None:
    # A user's own profile: a copy of the packaged demo in a folder of theirs.
    import shutil

    site_demo = next(installed.parent.rglob("golive/targets/demo"))
    mine = tmp_path / "deploy" / "golive"
    shutil.copytree(site_demo, mine)
    out = tmp_path / "report"
    gate = _run(
        installed,
        tmp_path,
        "gate",
        "--target",
        "deploy/golive/target.yaml",
        "--phase",
        "pre-deploy",
        "--now",
        NOW,
        "--out",
        str(out),
    )
    assert gate.returncode == 0, gate.stdout[-3000:] + gate.stderr[-3000:]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["verdict"] == "GO"
    assert (mine / ".build" / "app" / ".git").is_dir()
