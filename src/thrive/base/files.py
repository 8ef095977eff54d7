"""Files written whole or not at all: a reader (or a crash) never sees half a report."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], content: str | bytes, *, mode: int = 0o644) -> Path:
    """Write `content` (text as UTF-8) to `path` through a temporary file in the same folder,
    fsynced and then renamed over `path`. If anything fails, the old file is left as it was.
    Creates the parent folder. Returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    # Same folder: os.replace is atomic only within one file system.
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp makes files private; reports and exports are for sharing
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)  # the rename itself survives a power cut
    return target


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS or file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
