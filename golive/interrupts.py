"""Ctrl-C and SIGTERM during a run.

From the moment a command starts, SIGTERM (a CI runner cancelling the job) raises the same
KeyboardInterrupt as Ctrl-C, so whatever the run has started is stopped and the report of
what finished is still written: never a bare exit 143. Work that must finish once begun —
stopping what the run started, writing the reports — runs `shielded()`: a signal then is
noted instead of raised, and the caller decides what it means (a second Ctrl-C while the
report is written does not cost the report).

Signals reach only the main thread; elsewhere both helpers change nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_noted: list[int] | None = None  # inside shielded(): the signals that came meanwhile


def _handler(signum: int, frame: FrameType | None) -> None:
    if _noted is not None:
        _noted.append(signum)
        return
    raise KeyboardInterrupt


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _handlers() -> Iterator[None]:
    if not _main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """Inside the block Ctrl-C and SIGTERM raise KeyboardInterrupt (the previous handlers
    come back after it)."""
    with _handlers():
        yield


@contextlib.contextmanager
def shielded() -> Iterator[list[int]]:
    """Inside the block Ctrl-C and SIGTERM are noted in the list it yields, not raised.
    Nested blocks share the outer block's list."""
    global _noted
    if not _main_thread():
        yield []
        return
    outer = _noted
    _noted = [] if outer is None else outer
    try:
        with _handlers():
            yield _noted
    finally:
        _noted = outer
