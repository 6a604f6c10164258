"""Fixtures every test module may use."""

from __future__ import annotations

import pytest
from gatekit import SharedRuns


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> SharedRuns:
    """Gate runs shared across tests and xdist workers (gatekit.SharedRuns)."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own basetemp inside the session's: share the parent.
    return SharedRuns((base if worker_id == "master" else base.parent) / "shared-runs")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Longest runs first, the tests that read them last: with `--dist load` the workers take
    tests in this order, so the detection matrix's gate runs (the load-testing ones take a
    minute) and the tests marked `longest` start at once, and the check families' tests that read the same shared runs
    (gatekit.SharedRuns) find them made instead of waiting for them."""

    def rank(indexed: tuple[int, pytest.Item]) -> tuple[int, int]:
        index, item = indexed
        if item.get_closest_marker("longest"):
            return (0, index)
        if item.module.__name__ == "test_matrix" and "shared_runs" in item.fixturenames:
            flaw = getattr(item, "callspec", None) and item.callspec.params.get("flaw")
            longest = flaw is None or "load-testing" in matrix_sections(flaw)
            return (0 if longest else 1, index)
        return (3 if "shared_runs" in item.fixturenames else 2, index)

    items[:] = [item for _, item in sorted(enumerate(items), key=rank)]


def matrix_sections(flaw: str) -> list[str]:
    from golive import matrix

    return matrix.Catalogue.load().sections(flaw)
