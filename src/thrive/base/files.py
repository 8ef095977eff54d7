"""Files written whole or not at all: a reader (or a crash) never sees half a report."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["build_folder_once", "write_atomic"]
# FileLock guards processes; these, the threads of one process: one lock per folder, so
# building one (a training of some minutes) never holds up another (the ONNX export it may need).
_build_locks: dict[Path, threading.Lock] = {}
_build_locks_guard = threading.Lock()


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


def build_folder_once(
    folder: Path,
    is_done: Callable[[Path], bool],
    build: Callable[[Path], None],
    timeout: float,
    on_wait: Callable[[], None] | None = None,
) -> Path:
    """`folder`, built by `build(work)` first if no process has built it yet.

    `build` fills a temporary folder beside `folder`, which is renamed into place when it
    returns, so a crash leaves nothing half-built where `folder` is looked for (a killed
    process may leave its `.tmp-*` folder beside it). Under a file lock, so two processes
    never build it at once: the second waits, then uses the first one's. `is_done` tells a
    finished folder (one whose last-written file exists) from one left by a copy by hand.
    `on_wait()` is called once if another thread or process is building it: the caller
    can say why it waits."""
    if is_done(folder):
        return folder
    from filelock import FileLock, Timeout

    with _build_locks_guard:
        lock = _build_locks.setdefault(folder, threading.Lock())
    told = False

    def waiting() -> None:
        nonlocal told
        if on_wait and not told:
            on_wait()
        told = True

    if not lock.acquire(blocking=False):
        waiting()
        lock.acquire()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        file_lock = FileLock(str(folder) + ".lock")
        try:
            file_lock.acquire(timeout=0)
        except Timeout:
            waiting()
            file_lock.acquire(timeout=timeout)
        try:
            if not is_done(folder):
                shutil.rmtree(folder, ignore_errors=True)
                work = Path(tempfile.mkdtemp(prefix=f"{folder.name}.tmp-", dir=folder.parent))
                try:
                    build(work)
                    work.rename(folder)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        finally:
            file_lock.release()
    finally:
        lock.release()
    return folder
