"""Per-item trends over the kept runs and this one: the outcome per run, and each measured
value per run (measures.py), for the report's sparklines."""

from __future__ import annotations

from pathlib import Path

from golive.history import measures
from golive.results import ItemTrend, RunHistory, RunResult, TrendRun


def build(previous: list[RunResult], current: RunResult, folder: Path, keep: int) -> RunHistory:
    """The trend of every item of `current` over the last `keep` runs, this one included
    (`previous` oldest first, as the history folder holds them)."""
    runs = [*previous[-(keep - 1) :], current] if keep > 1 else [current]
    by_run = [{item.id: item for item in run.items} for run in runs]
    trends = []
    for item in current.items:
        seen = [run.get(item.id) for run in by_run]
        values = [measures.of_item(i) if i else {} for i in seen]
        labels = list(dict.fromkeys(label for found in values for label in found))
        trends.append(
            ItemTrend(
                item=item.id,
                outcomes=[i.outcome if i else None for i in seen],
                measures={
                    label: [found[label].value if label in found else None for found in values]
                    for label in labels
                },
            )
        )
    return RunHistory(
        folder=str(folder),
        keep=keep,
        runs=[TrendRun(started_at=r.meta.started_at, verdict=r.verdict) for r in runs],
        items=trends,
    )
