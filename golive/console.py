"""Terminal output of a gate run: progress per section, the summary table, the verdict."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from golive.results import ItemResult, Outcome, RunResult, Verdict

STYLE = {
    Outcome.PASS: "green",
    Outcome.ATTESTED: "green",
    Outcome.WAIVED: "yellow",
    Outcome.NOT_APPLICABLE: "dim",
    Outcome.NOT_RUN: "magenta",
    Outcome.PENDING: "magenta",
    Outcome.ERROR: "red",
    Outcome.FAIL: "bold red",
}
VERDICT_STYLE = {
    Verdict.GO: "bold white on green",
    Verdict.NO_GO: "bold white on red",
    Verdict.INCOMPLETE: "bold black on yellow",
}
BAD = {Outcome.FAIL, Outcome.ERROR}


class GateConsole:
    """Prints one line per section as soon as its last item is decided."""

    def __init__(self, stream=None) -> None:
        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        self._section: str | None = None
        self._items: list[ItemResult] = []

    def start(self, profile: str, selected: int, phases: list[str]) -> None:
        self.console.print(
            f"golive gate · target [bold]{profile}[/] · {selected} items · phases {', '.join(phases)}"
        )

    def item_done(self, item: ItemResult) -> None:
        if self._section is not None and item.section != self._section:
            self._flush()
        self._section = item.section
        self._items.append(item)

    def _flush(self) -> None:
        if not self._items:
            return
        first = self._items[0]
        parts = []
        for outcome in Outcome:
            n = sum(1 for i in self._items if i.outcome == outcome)
            if n:
                parts.append(f"[{STYLE[outcome]}]{n} {outcome.value}[/]")
        mark = "[red]✗[/]" if any(i.outcome in BAD for i in self._items) else "[green]✓[/]"
        self.console.print(f"  {mark} {first.section_title:<34} {' · '.join(parts)}")
        for item in self._items:
            if item.outcome in BAD:
                self.console.print(
                    f"      [red]{item.outcome.value}[/] {item.id}: {item.reason}", markup=True
                )
        self._items = []

    def finish(self, result: RunResult, paths: dict[str, Path]) -> None:
        self._flush()
        table = Table(title="Outcomes per section", show_lines=False)
        table.add_column("section")
        shown = [o for o in Outcome if result.counts.get(o.value)]
        for outcome in shown:
            table.add_column(outcome.value, justify="right", style=STYLE[outcome])
        for section in result.sections:
            table.add_row(
                section.title, *[str(section.counts.get(o.value, 0) or "") for o in shown]
            )
        table.add_row(
            "[bold]total[/]", *[f"[bold]{result.counts.get(o.value, 0)}[/]" for o in shown]
        )
        self.console.print(table)
        for error in result.errors:
            self.console.print(f"[yellow]harness:[/] {error}")
        blockers = [r for r in result.verdict_reasons if r not in result.errors]
        for reason in blockers[:15]:
            self.console.print(f"  · {reason}")
        if len(blockers) > 15:
            self.console.print(f"  · … and {len(blockers) - 15} more (see the report)")
        self.console.print(
            f"[{VERDICT_STYLE[result.verdict]}] {result.verdict.value} [/] exit code {result.exit_code}"
        )
        for name, path in paths.items():
            self.console.print(f"  {name:<6} {path}")
