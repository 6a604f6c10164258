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
