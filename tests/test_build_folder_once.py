"""build_folder_once: the ONNX export and the tuned encoder are built by one caller only,
and a failed build leaves nothing that would be taken for a finished one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from thrive.base.files import build_folder_once


def _done(folder: Path) -> bool:
    return (folder / "manifest").is_file()


def test_callers_at_once_build_it_once_and_all_get_the_result(tmp_path):
    builds: list[int] = []
    started = threading.Barrier(4)

    def build(work: Path) -> None:
        builds.append(1)
        (work / "model").write_text("weights")
        (work / "manifest").write_text("{}")

    results: list[Path] = []

    def call() -> None:
        started.wait()
        results.append(build_folder_once(tmp_path / "model", _done, build, timeout=60))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert results == [tmp_path / "model"] * 4
    assert (tmp_path / "model" / "model").read_text() == "weights"


def test_a_failed_build_leaves_no_folder_and_the_next_call_builds_again(tmp_path):
    def crash(work: Path) -> None:
        (work / "model").write_text("half")
        raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError):
        build_folder_once(tmp_path / "model", _done, crash, timeout=60)
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []

    def build(work: Path) -> None:
        (work / "manifest").write_text("{}")

    assert _done(build_folder_once(tmp_path / "model", _done, build, timeout=60))


def test_a_folder_without_its_manifest_is_rebuilt(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "stray").write_text("copied by hand, unfinished")

    def build(work: Path) -> None:
        (work / "manifest").write_text("{}")

    folder = build_folder_once(tmp_path / "model", _done, build, timeout=60)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest"]


def test_a_caller_that_waits_for_another_build_is_told_and_a_failed_build_frees_the_lock(
    tmp_path,
):
    from filelock import FileLock

    building, release = threading.Event(), threading.Event()
    told: list[str] = []

    def slow(work: Path) -> None:
        building.set()
        release.wait(30)
        (work / "manifest").write_text("{}")

    first = threading.Thread(
        target=build_folder_once,
        args=(tmp_path / "model", _done, slow, 60, lambda: told.append("first")),
    )
    first.start()
    assert building.wait(30)
    waiter = threading.Thread(
        target=build_folder_once,
        args=(tmp_path / "model", _done, slow, 60, lambda: told.append("second")),
    )
    waiter.start()
    while not told and waiter.is_alive():
        waiter.join(0.05)
    release.set()
    first.join()
    waiter.join()
    assert told == ["second"]  # the builder is not told it waits; the waiter is, once

    def crash(work: Path) -> None:
        raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError):
        build_folder_once(tmp_path / "other", _done, crash, timeout=60)
    # Another process (here: another lock object, another file handle) can take it at once.
    FileLock(str(tmp_path / "other") + ".lock").acquire(timeout=0)
