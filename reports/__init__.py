"""Reports rendered from one RunResult: report.html, results.json, junit.xml, summary.md.

    from golive.reports import write_reports
    paths = write_reports(result, Path("golive-report"))  # {"html": Path(...), ...}

Names are loaded on first use, so `python -m golive.reports.json_report` (which regenerates
results.schema.json) runs without importing the renderers first.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FORMATS": "golive.reports.writer",
    "ReportError": "golive.reports.writer",
    "render_report": "golive.reports.writer",
    "write_reports": "golive.reports.writer",
    "generate_schema": "golive.reports.json_report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'golive.reports' has no attribute {name!r}")
