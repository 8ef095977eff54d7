"""Nothing lost: a writer killed with SIGKILL in the middle of saving loses at most the
exchange in flight, and the database opens intact; reports and exports are replaced whole
or not at all."""

from __future__ import annotations

import errno
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from thrive.base.files import write_atomic
from thrive.base.storage import UserData

HERE = Path(__file__).parent
ROUNDS = 3


def _run_and_kill(args: list[str], after_lines: int) -> list[int]:
    """Start a writer, SIGKILL it once it has reported `after_lines` writes (plus a random
    moment, to land anywhere in the next one); return every number it reported."""
    proc = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    reported: list[int] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            reported.append(int(line))
            if len(reported) >= after_lines:
                time.sleep(random.uniform(0, 0.02))
                proc.send_signal(signal.SIGKILL)
                break
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the writer died on its own: {err[-2000:]}"
    # Lines still in the pipe were printed after their commit: they count as reported.
    return reported + [int(n) for n in rest.split()]


def test_a_writer_killed_mid_write_loses_at_most_the_message_in_flight(user_db):
    user_db.open()  # the schema exists before the first writer starts
    reported: set[int] = set()
    next_number = 0
    for round_ in range(ROUNDS):
        numbers = _run_and_kill(
            [
                str(HERE / "storage_writer.py"),
                str(user_db.data_dir),
                user_db.url or "",
                str(next_number),
            ],
            after_lines=random.randint(3, 12),
        )
        reported |= set(numbers)
        in_flight = max(numbers) + 1

        if user_db.kind == "sqlite":
            raw = sqlite3.connect(user_db.data_dir / "thrive.sqlite3")
            assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            raw.close()
        data = user_db.open("writer")
        (conv,) = data.conversations()
        messages = data.messages(conv.id)
        stored = [m.meta["n"] for m in messages if m.role == "assistant"]
        # Every exchange is whole: a question never without its answer.
        assert [m.content.split()[0] for m in messages] == [
            f"{kind}{n}" for n in stored for kind in ("q", "a")
        ]
        assert reported <= set(stored), f"round {round_}: reported but lost"
        assert set(stored) - reported <= {in_flight}, f"round {round_}: unexpected rows"
        reported = set(stored)  # an in-flight exchange that made it is kept from now on
        next_number = max(stored) + 1
    assert len(reported) >= ROUNDS * 3


def test_a_killed_rewrite_leaves_the_old_file_or_the_new_one_never_half(tmp_path):
    target = tmp_path / "report.json"
    size = 4_000_000
    for _ in range(ROUNDS):
        numbers = _run_and_kill(
            [str(HERE / "file_writer.py"), str(target), str(size)],
            after_lines=random.randint(2, 6),
        )
        content = target.read_bytes()
        assert len(content) == size and len(set(content)) == 1  # one whole generation
        assert content[0] in {ord("A") + n % 26 for n in (max(numbers), max(numbers) + 1)}


def test_a_failing_write_keeps_the_old_file_and_leaves_no_debris(tmp_path, monkeypatch):
    target = tmp_path / "baseline.json"
    write_atomic(target, '{"hit@1": 0.9}\n')

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # the OS boundary: a full disk
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, '{"hit@1": 0.1, "half": "')
    monkeypatch.undo()
    assert target.read_text() == '{"hit@1": 0.9}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


def test_an_atomic_write_creates_its_folder_and_is_readable_by_others(tmp_path):
    path = write_atomic(tmp_path / "out" / "plan.ics", b"BEGIN:VCALENDAR\r\n")
    assert path.read_bytes() == b"BEGIN:VCALENDAR\r\n"
    assert path.stat().st_mode & 0o044 == 0o044  # a shared report, not a private temp file
    write_atomic(path, "replaced")
    assert path.read_text() == "replaced"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    data = UserData(tmp_path)
    conv = data.new_conversation()
    answer = data.add_message(conv.id, "assistant", "an answer")
    data.set_feedback(answer.id, 1)
    raw = sqlite3.connect(tmp_path / "thrive.sqlite3")
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()
    data.delete_conversation(conv.id)  # the cascade needs foreign keys on
    assert data.counts()["feedback"] == 0 and data.counts()["messages"] == 0
