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
