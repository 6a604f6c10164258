"""Render all four reports for a synthetic 1,000-item run; best-of-5 wall time per format.

    .venv/bin/python bench/bench_render.py [--items 1000] [--repeat 5]

Times cover what write_reports does per format: render, the final redaction pass, and the
atomic write to a temporary directory. Aim: total under 1 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sample_results import make_result  # noqa: E402

from golive.reports.writer import FORMATS, atomic_write_text, render_report  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    result = make_result(args.items)
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"python {platform.python_version()}; {args.items} items, best of {args.repeat}")
    checks = sum(len(item.checks) for item in result.items)
    print(
        f"run: {checks} checks, {sum(len(c.evidence) for i in result.items for c in i.checks)} evidence entries"
    )

    best: dict[str, float] = {}
    sizes: dict[str, int] = {}
    totals: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        render_report(result, "html")  # template compile, once per process
        for _ in range(args.repeat):
            round_total = 0.0
            for fmt, (name, _, _) in FORMATS.items():
                start = time.perf_counter()
                text = render_report(result, fmt)
                atomic_write_text(out / name, text)
                elapsed = time.perf_counter() - start
                best[fmt] = min(best.get(fmt, elapsed), elapsed)
                sizes[fmt] = len(text.encode("utf-8"))
                round_total += elapsed
            totals.append(round_total)

    for fmt, (name, _, _) in FORMATS.items():
        print(f"{name:<13} {best[fmt] * 1000:8.1f} ms  {sizes[fmt] / 1024:9.0f} KiB")
    total = min(totals)
    print(f"{'total':<13} {total * 1000:8.1f} ms  (best full round; aim < 1000 ms)")
    return 0 if total < 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
