"""Index versions: an ingest never pulls the index from under a running session.

Every ingest fills a new collection version and moves the store's pointer; the version it
replaced is kept; a session (a Coach) reads the pointer before each question and moves on.
"""

from __future__ import annotations

import threading

from reliability.index_tools import RARE, add_rare_section, thrive, thrive_bg
from thrive.coaching.coach import Coach
from thrive.knowledge.ingest import ingest
from thrive.knowledge.retrieval import GuideSearcher
from thrive.knowledge.store import GuideIndex, connect

QUESTION = "Will clients pay me less because of AI?"


def versions(settings):
    return GuideIndex(connect(settings), settings.collection).versions()


def active_name(settings):
    return GuideIndex(connect(settings), settings.collection).active_name()


def test_a_session_answers_during_and_after_a_rebuild_and_moves_on_at_its_next_question(
    fresh_settings,
):
    ingest(fresh_settings)
    coach = Coach.from_settings(fresh_settings, llm="extractive")
    before = coach.ask(QUESTION)
    first_version = coach.searcher.collection.name
    old_searcher = GuideSearcher.open(fresh_settings)
    during: list[tuple[str, list[str]]] = []

    def ask_mid_way(done, total):
        if done and not during:  # the new version is half-filled: sessions keep the old one
            during.append((coach.searcher.collection.name, coach.ask(QUESTION).retrieved))

    report = ingest(fresh_settings, rebuild=True, progress=ask_mid_way)
    assert report.rebuilt and during == [(first_version, before.retrieved)]

    # the old version is kept, so a searcher still on it answers...
    assert first_version in versions(fresh_settings)
    assert old_searcher.search(QUESTION).section_ids[:3] == before.retrieved[:3]
    # ...and at the next question the session is on the new one
    after = coach.ask(QUESTION)
    assert coach.searcher.collection.name == active_name(fresh_settings) != first_version
    assert after.retrieved == before.retrieved and not after.refused
    assert old_searcher.refreshed().collection.name == active_name(fresh_settings)


def test_an_incremental_ingest_is_a_new_version_too_and_old_versions_are_dropped(fresh_settings):
    ingest(fresh_settings)
    coach = Coach.from_settings(fresh_settings, llm="extractive")
    assert RARE not in coach.searcher.section_text(f"{RARE}-pricing")
    names = [active_name(fresh_settings)]
    add_rare_section(fresh_settings)
    report = ingest(fresh_settings)
    assert not report.rebuilt and report.added == 1 and report.embedded == 1  # the rest copied
    names.append(active_name(fresh_settings))
    assert names[0] != names[1]
    assert f"{RARE}-pricing" in coach.search(f"{RARE} clients").section_ids[:1]
    (fresh_settings.corpus_dir / "pricing-notes.md").unlink()
    ingest(fresh_settings)
    names.append(active_name(fresh_settings))
    assert versions(fresh_settings) == names[1:]  # the active one and the one it replaced
    assert f"{RARE}-pricing" not in coach.search(f"{RARE} clients").section_ids


def test_a_running_coach_sees_a_cli_ingest_at_its_next_question(fresh_settings):
    ingest(fresh_settings)
    coach = Coach.from_settings(fresh_settings, llm="extractive")
    assert f"{RARE}-pricing" not in coach.ask(f"How do I price {RARE} clients?").retrieved
    add_rare_section(fresh_settings)
    done = thrive(fresh_settings, "ingest")
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout
    answer = coach.ask(f"How do I price {RARE} clients?")
    assert answer.retrieved[0] == f"{RARE}-pricing"


def test_two_ingests_at_once_take_turns_and_sessions_never_see_a_missing_collection(
    fresh_settings,
):
    ingest(fresh_settings)
    coach = Coach.from_settings(fresh_settings, llm="extractive")
    expected = coach.ask(QUESTION).retrieved
    errors: list[BaseException] = []
    answers: list[list[str]] = []
    stop = threading.Event()

    def keep_asking():
        while not stop.is_set():
            try:
                answers.append(coach.ask(QUESTION).retrieved)
            except BaseException as err:  # any error at all is the failure under test
                errors.append(err)
                return

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        procs = [thrive_bg(fresh_settings, "ingest", "--rebuild") for _ in range(2)]
        outs = [p.communicate(timeout=600) for p in procs]
    finally:
        stop.set()
        asker.join()
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert sum("Another ingest is running" in err for _, err in outs) == 1  # one waited
    assert all("(full rebuild)" in out for out, _ in outs)
    assert errors == [] and answers and all(a == expected for a in answers)
    assert len(versions(fresh_settings)) == 2
    assert coach.ask(QUESTION).retrieved == expected
