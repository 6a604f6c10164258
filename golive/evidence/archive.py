"""The bundle's tar.gz, written deterministically and read back defensively.

Written: members sorted by name, every one a regular file with one fixed mtime, mode 0644,
uid/gid 0 and no user or group names, gzip with no name and a fixed mtime in its header: the
same members make the same bytes. Read: only regular files with safe relative names, each
at most MAX_MEMBER bytes, into memory (nothing is extracted to disk).
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from pathlib import Path

from golive.errors import InputError
from golive.evidence.layout import SAFE_NAME

MAX_MEMBER = 256 * 1024 * 1024  # a report folder's Locust CSVs stay far below this


def write(path: Path, members: dict[str, bytes], mtime: int) -> None:
    """Write `members` (name -> bytes) as a tar.gz at `path`, atomically (a temporary
    sibling, then os.replace: reports/writer.py)."""
    from golive.reports.writer import atomic_write_bytes

    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=mtime) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(members):
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def read(path: Path) -> dict[str, bytes]:
    """Every member of the bundle at `path` by name; InputError naming the bundle (and the
    member) when it is not a readable tar.gz of plain files."""
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for info in tar:
                name = info.name
                if not info.isfile() or not SAFE_NAME.match(name) or name in members:
                    raise _bad(path, f"member {name!r} is not a plain file with a safe name")
                if info.size > MAX_MEMBER:
                    raise _bad(path, f"member {name} is larger than {MAX_MEMBER} bytes")
                handle = tar.extractfile(info)
                members[name] = handle.read() if handle is not None else b""
    except FileNotFoundError:
        raise InputError("no such bundle", file=path) from None
    except IsADirectoryError:
        raise InputError("a folder, not a bundle", file=path, hint=_HINT) from None
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
        raise _bad(path, f"not a readable tar.gz ({exc})") from None
    return members


_HINT = "name a golive-evidence-*.tar.gz written by `golive gate --bundle`"


def _bad(path: Path, message: str) -> InputError:
    return InputError(f"not a golive evidence bundle: {message}", file=path, hint=_HINT)
