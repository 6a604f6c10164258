"""What the target wrote to its log files while golive acted: sizes before, lines after.

    watch = LogWatch.start([Path(".build/shop.log")])
    ...                                   # golive pays an order
    found = watch.lines_with(["pi_123"])  # the lines written since start() naming pi_123

Only the bytes appended since `start()` are read (at most MAX_READ per file, from the end
of what was there): the check judges what this payment made the app log, never an older
run's lines. A file replaced since (another inode: rotated) or that shrank (truncated) is
read from its start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_READ = 16 * 1024 * 1024


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


@dataclass
class LogWatch:
    paths: list[Path]
    before: dict[Path, int | None] = field(default_factory=dict)
    inodes: dict[Path, int | None] = field(default_factory=dict)

    @classmethod
    def start(cls, paths: list[Path]) -> LogWatch:
        return cls(paths, {p: _size(p) for p in paths}, {p: _inode(p) for p in paths})

    def sizes(self) -> list[dict[str, object]]:
        """Each file: its size before and now (None: it did not exist)."""
        return [
            {"file": str(p), "bytes_before": self.before[p], "bytes_now": _size(p)}
            for p in self.paths
        ]

    def _offset(self, path: Path, now: int) -> int:
        start = self.before[path] or 0
        if now < start or _inode(path) != self.inodes[path]:
            return 0  # truncated, or rotated since
        return start

    def grew(self) -> bool:
        """Something was written since start() to at least one of the files."""
        return any((now := _size(p)) is not None and now > self._offset(p, now) for p in self.paths)

    def new_lines(self) -> list[tuple[Path, str]]:
        out: list[tuple[Path, str]] = []
        for path in self.paths:
            now = _size(path)
            if now is None:
                continue
            start = max(self._offset(path, now), now - MAX_READ)
            with path.open("rb") as handle:
                handle.seek(start)
                chunk = handle.read(now - start)
            out.extend((path, line) for line in chunk.decode("utf-8", "replace").splitlines())
        return out

    def lines_with(self, *needles: str) -> list[tuple[Path, str]]:
        """The new lines that contain every one of `needles`."""
        return [(p, line) for p, line in self.new_lines() if all(n in line for n in needles)]
