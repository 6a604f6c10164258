"""Checking a report folder (--out) before a run, so a path golive cannot write is a
usage error at once rather than a harness failure after the whole run."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from golive.errors import InputError


def check_writable(out: Path, option: str = "--out") -> None:
    """InputError naming `out` unless it is a folder golive may write into, or one it may
    create. Nothing is left behind: the folder itself is made when the reports are."""
    if os.path.lexists(out) and not out.is_dir():
        raise InputError(
            f"{option} names a file, not a folder", file=out, hint="name a folder for the reports"
        )
    existing = out.absolute()
    while not os.path.lexists(existing):
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            f"{option} cannot be made: {existing} is a file, not a folder",
            file=out,
            hint="name a folder for the reports",
        )
    try:  # the truthful test of "may write here": permissions, read-only mounts, /proc
        os.rmdir(tempfile.mkdtemp(prefix=".golive-probe-", dir=existing))
    except OSError as exc:
        raise InputError(
            f"{option} cannot be written: making a folder in {existing} fails ({exc.strerror})",
            file=out,
            hint="name a folder you may write to",
        ) from None
