"""Terminal output of a gate run: progress per section, the summary table, the verdict."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from golive.redact import DEFAULT, Redactor
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

    def __init__(self, stream=None, redactor: Redactor = DEFAULT) -> None:
        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        # The run's redactor (it knows the target's env secrets): the terminal is an output
        # like the reports, and CI logs are kept.
        self.redactor = redactor
        self._closed = False
        self._section: str | None = None
        self._items: list[ItemResult] = []
        self._per_section: dict[str, int] = {}

    def _print(self, *args, **kwargs) -> None:
        # Progress must never break the run: a closed pipe (`golive gate | head`) only
        # silences the terminal; the reports are still written.
        if self._closed:
            return
        # Masks hold no `[`: redacting markup leaves it valid.
        args = tuple(self.redactor.text(a) if isinstance(a, str) else a for a in args)
        try:
            self.console.print(*args, **kwargs)
        except (OSError, SystemExit):
            self._closed = True

    def start(
        self,
        profile: str,
        selected: int,
        phases: list[str],
        per_section: dict[str, int] | None = None,
    ) -> None:
        """`per_section`: selected items per section id, so a section's line is printed
        as soon as its last item is decided rather than when the next section starts."""
        self._per_section = dict(per_section or {})
        self._print(
            f"golive gate · target [bold]{escape(profile)}[/] · {selected} items · phases {', '.join(phases)}"
        )

    def item_done(self, item: ItemResult) -> None:
        if self._section is not None and item.section != self._section:
            self._flush()
        self._section = item.section
        self._items.append(item)
        if len(self._items) == self._per_section.get(item.section):
            self._flush()

    def _flush(self) -> None:
        if not self._items:
            return
        first = self._items[0]
        parts = []
        for outcome in Outcome:
            n = sum(1 for i in self._items if i.outcome == outcome)
            if n:
                parts.append(f"[{STYLE[outcome]}]{n} {outcome.value}[/]")
        outcomes = {i.outcome for i in self._items}
        if outcomes & BAD:
            mark = "[red]✗[/]"
        elif outcomes & {Outcome.NOT_RUN, Outcome.PENDING}:
            mark = "[magenta]…[/]"
        else:
            mark = "[green]✓[/]"
        self._print(f"  {mark} {escape(first.section_title):<34} {' · '.join(parts)}")
        for item in self._items:
            if item.outcome in BAD:
                self._print(
                    # Reasons are the checks' own text: `[...]` in them is not markup.
                    f"      [red]{item.outcome.value}[/] {escape(item.id)}: "
                    f"{escape(self.redactor.text(item.reason))}",
                    markup=True,
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
                escape(section.title), *[str(section.counts.get(o.value, 0) or "") for o in shown]
            )
        table.add_row(
            "[bold]total[/]", *[f"[bold]{result.counts.get(o.value, 0)}[/]" for o in shown]
        )
        self._print(table)
        for error in result.errors:
            self._print(f"[yellow]harness:[/] {escape(error)}")
        blockers = [r for r in result.verdict_reasons if r not in result.errors]
        for reason in blockers[:15]:
            self._print(f"  · {_shorten(self.redactor.text(reason))}", markup=False)
        if len(blockers) > 15:
            self._print(f"  · … and {len(blockers) - 15} more (see the report)")
        self._print(
            f"[{VERDICT_STYLE[result.verdict]}] {result.verdict.value} [/] exit code {result.exit_code}"
        )
        width = max([6, *(len(name) for name in paths)])  # "manifest" among them: all align
        for name, path in paths.items():
            self._print(f"  {name:<{width}} {escape(str(Path(path).resolve()))}")


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
