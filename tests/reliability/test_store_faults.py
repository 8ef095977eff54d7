"""Store faults: a deleted, truncated or corrupted `vectorstore/` gives one clear message
naming `thrive ingest --rebuild`, which restores it (the broken store moved aside, never
deleted); an ingest killed with SIGKILL leaves the previous index in use."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys

import pytest

from reliability.index_tools import cli_env, thrive
from thrive.base.errors import StoreError
from thrive.coaching.coach import Coach
from thrive.knowledge.ingest import ingest
from thrive.knowledge.store import GuideIndex, connect

QUESTION = "Will clients pay me less because of AI?"


def delete(store):
    shutil.rmtree(store)


def truncate(store):
    db = store / "chroma.sqlite3"
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])


def garble(store):
    db = store / "chroma.sqlite3"
    data = bytearray(db.read_bytes())
    data[: 64 * 1024] = b"\x8f garbage \x00" * (64 * 1024 // 11) + b"\x00" * (64 * 1024 % 11)
    db.write_bytes(bytes(data))


FAULTS = {"deleted": delete, "truncated": truncate, "garbage": garble}


def broken_store_moved_aside(settings):
    return sorted(settings.vectorstore_dir.parent.glob("vectorstore.broken-*"))


@pytest.mark.parametrize("fault", FAULTS)
def test_the_cli_names_the_fix_and_rebuild_restores_the_store(fresh_settings, fault):
    ingest(fresh_settings)
    FAULTS[fault](fresh_settings.vectorstore_dir)
    ask = thrive(fresh_settings, "ask", QUESTION, "--json")
    assert ask.returncode == 1, ask.stdout
    assert "thrive ingest --rebuild" in ask.stderr and "Traceback" not in ask.stderr
    assert len(ask.stderr.strip().splitlines()) <= 3  # one message, not a dump

    rebuilt = thrive(fresh_settings, "ingest", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "(full rebuild)" in rebuilt.stdout
    if fault != "deleted":
        assert "moved to" in rebuilt.stdout.replace("\n", " ")
        (kept,) = broken_store_moved_aside(fresh_settings)
        assert (kept / "chroma.sqlite3").exists()  # kept for inspection, not deleted
    ask = thrive(fresh_settings, "ask", QUESTION, "--json")
    assert ask.returncode == 0, ask.stderr
    assert "threat-3" in json.loads(ask.stdout)["retrieved"][:3]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_under_a_running_coach_is_one_store_error_and_a_rebuild_heals_it(
    fresh_settings, fault
):
    ingest(fresh_settings)
    coach = Coach.from_settings(fresh_settings, llm="extractive")
    expected = coach.ask(QUESTION).retrieved
    FAULTS[fault](fresh_settings.vectorstore_dir)
    with pytest.raises(StoreError, match="thrive ingest --rebuild"):
        coach.ask(QUESTION)
    with pytest.raises(StoreError, match="thrive ingest --rebuild"):
        Coach.from_settings(fresh_settings, llm="extractive").ask(QUESTION)

    report = coach.update_index(rebuild=True)
    assert report.rebuilt and (fault == "deleted" or report.moved_aside)
    assert coach.ask(QUESTION).retrieved == expected
    assert Coach.from_settings(fresh_settings, llm="extractive").ask(QUESTION).retrieved == expected


KILLABLE_INGEST = """
import sys, time
from thrive.base.settings import load_settings
from thrive.knowledge.ingest import ingest

def progress(done, total):
    print(done, total, flush=True)
    time.sleep(0.5)  # slow enough to be killed half-way

ingest(load_settings(), rebuild=True, progress=progress)
print("finished", flush=True)
"""


def test_an_ingest_killed_half_way_leaves_the_previous_index_in_use(fresh_settings):
    ingest(fresh_settings)
    index = GuideIndex(connect(fresh_settings), fresh_settings.collection)
    before = index.active_name()
    coach = Coach.from_settings(fresh_settings, llm="extractive")
    expected = coach.ask(QUESTION).retrieved

    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_INGEST],
        env=cli_env(fresh_settings),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until it has stored some of the new version
        if int(line.split()[0]) > 0:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert index.active_name() == before
    assert coach.ask(QUESTION).retrieved == expected
    ask = thrive(fresh_settings, "ask", QUESTION, "--json")
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["retrieved"] == expected
    # the lock died with it, and the next rebuild drops the half-filled version
    again = thrive(fresh_settings, "ingest", "--rebuild", "--wait", "5")
    assert again.returncode == 0, again.stderr
    assert index.versions() == [before, index.active_name()]
    assert coach.ask(QUESTION).retrieved == expected
