"""Write the reports of one run: report.html, results.json, junit.xml, summary.md.

Every format's final text goes through the run's redactor (golive.redact.DEFAULT when none
is given) before it reaches the disk (the engine redacts already; this is the last line of
defence), and every file is
written atomically: a temporary file in the same directory, then os.replace, so a crash
leaves the previous file or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from golive.redact import DEFAULT, Redactor
from golive.reports import html, json_report, junit, markdown
from golive.results import RunResult


class ReportError(RuntimeError):
    """Some formats could not be written; the others were. Carries both."""

    def __init__(self, errors: dict[str, BaseException], written: dict[str, Path]) -> None:
        names = ", ".join(f"{fmt} ({type(exc).__name__}: {exc})" for fmt, exc in errors.items())
        super().__init__(f"could not write report format(s): {names}")
        self.errors = errors
        self.written = written


def _redact_text(text: str, redactor: Redactor) -> str:
    return redactor.text(text)


# format -> (file name, renderer, final redaction pass)
FORMATS: dict[str, tuple[str, Callable[[RunResult], str], Callable[[str, Redactor], str]]] = {
    "html": ("report.html", html.render, _redact_text),
    "json": ("results.json", json_report.render, json_report.redact_text),
    "junit": ("junit.xml", junit.render, _redact_text),
    "md": ("summary.md", markdown.render, _redact_text),
}
DEFAULT_FORMATS = ("html", "json", "junit", "md")


def render_report(result: RunResult, fmt: str, redactor: Redactor = DEFAULT) -> str:
    """One format's final text, redacted: exactly what write_reports puts in the file."""
    try:
        _, render, redact = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}") from None
    return redact(render(result), redactor)


def write_reports(
    result: RunResult,
    out_dir: Path,
    formats: Iterable[str] = DEFAULT_FORMATS,
    *,
    redactor: Redactor = DEFAULT,
) -> dict[str, Path]:
    """Write the requested formats into out_dir (created if needed); returns format -> path.
    `redactor`: the run's, which knows the target's secrets besides the patterns.

    A format that fails to render or write does not stop the others: they are written,
    then ReportError says which failed and which paths were written.
    """
    wanted = list(dict.fromkeys(formats))
    unknown = [fmt for fmt in wanted if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; known: {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    written: dict[str, Path] = {}
    errors: dict[str, BaseException] = {}
    for fmt in wanted:
        path = out_dir / FORMATS[fmt][0]
        try:
            atomic_write_text(path, render_report(result, fmt, redactor))
        except Exception as exc:  # one broken format must not cost the others
            errors[fmt] = exc
        else:
            written[fmt] = path
    if errors:
        raise ReportError(errors, written) from next(iter(errors.values()))
    return written


def atomic_write_text(path: Path, text: str) -> None:
    """Write text to path via a temporary sibling and os.replace; mode 0666 less umask."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write data to path via a temporary sibling and os.replace; mode 0666 less umask."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable where the platform allows opening a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
