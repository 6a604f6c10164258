"""Ctrl-C and SIGTERM during a run.

From the moment a command starts, SIGTERM (a CI runner cancelling the job) raises the same
KeyboardInterrupt as Ctrl-C, so whatever the run has started is stopped and the report of
what finished is still written: never a bare exit 143. Work that must finish once begun —
stopping what the run started, writing the reports — runs `shielded()`: a signal then is
noted instead of raised, and the caller decides what it means (a second Ctrl-C while the
report is written does not cost the report). Once one signal has been raised, the command
is on its way out: later ones are ignored, wherever they land.

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
_stopping = False  # a signal has been raised in this command: it is already on its way out


def _handler(signum: int, frame: FrameType | None) -> None:
    global _stopping
    if _noted is not None:
        _noted.append(signum)
        return
    if _stopping:
        # A second Ctrl-C while the first one unwinds (stopping the app, say) would cut
        # the way out short, before the report. The stop is bounded (children.stop_group's
        # grace); SIGKILL remains for a process that must die now.
        return
    _stopping = True
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
    """Inside the block the first Ctrl-C or SIGTERM raises KeyboardInterrupt and later ones
    are ignored while the command stops (the previous handlers come back after it)."""
    global _stopping
    _stopping = False
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
