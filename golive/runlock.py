"""One run at a time per target folder.

A run's setup rebuilds what the profile's folder holds (the demo's `.build/`: the app, its
database, its env), so a second run on the same folder would rebuild it under the first
run's app. Each run holds an exclusive `flock` on `<profile folder>/.golive.lock` from
before its setup until everything it started is stopped; the OS releases it if the process
dies. A second run is refused at once (exit 2) naming the first one's pid. Copies of a
target in other folders run side by side.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from golive.errors import InputError

LOCK_NAME = ".golive.lock"


@dataclass
class RunLock:
    path: Path
    handle: TextIO | None

    def release(self) -> None:
        """Remove the file while still holding it (a run waiting to open it then sees it
        gone and makes its own), then let go."""
        if self.handle is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            self.handle.close()  # closing releases the flock
            self.handle = None


def acquire(profile_path: Path, command: str) -> RunLock:
    """Hold the profile folder's lock for this run, or raise InputError naming the holder.
    A folder golive cannot write to is not locked (nothing can be built there either)."""
    path = profile_path.parent / LOCK_NAME
    for _ in range(10):  # another run may remove the file between our open and our lock
        try:
            handle = path.open("a+", encoding="utf-8")  # "a+": never truncates the holder's
        except OSError:
            return RunLock(path, None)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().split(maxsplit=1)
            handle.close()
            raise InputError(
                f"another golive {holder[1].strip() if len(holder) > 1 else 'run'} is running "
                f"on this target (pid {holder[0] if holder else 'unknown'}); a second run "
                "would rebuild the target under it",
                file=profile_path,
                hint=f"wait for it or stop it, or run on a copy of {profile_path.parent}",
            ) from None
        if _same_file(handle, path):
            handle.truncate(0)
            handle.write(f"{os.getpid()} {command}\n")
            handle.flush()
            return RunLock(path, handle)
        handle.close()  # we locked a file its holder had just removed: open the new one
    raise InputError(f"could not lock {path}", hint="remove the file if no golive run is going")


def _same_file(handle: TextIO, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
    except FileNotFoundError:
        return False
