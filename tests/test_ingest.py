import subprocess
import sys

import pytest

from thrive.base import embeddings
from thrive.base.errors import StoreError
from thrive.knowledge.corpus import chunk_sections, read_corpus
from thrive.knowledge.ingest import ingest, lock_path
from thrive.knowledge.retrieval import GuideSearcher
from thrive.knowledge.store import GuideIndex, all_chunks, connect


def guide_chunks(settings):
    """How many chunks the bundled guide makes: its 21 sections' text and their line keys."""
    return len(chunk_sections(read_corpus(settings.corpus_dir), settings.chunk_words))


def stored_ids(settings):
    collection = GuideIndex(connect(settings), settings.collection).require_active()
    return {c.chunk_id for c in all_chunks(collection)}


def test_second_ingest_embeds_nothing(fresh_settings):
    n = guide_chunks(fresh_settings)
    assert n > 21  # every section's text, and the lines of the structured ones as keys
    first = ingest(fresh_settings)
    assert first.rebuilt and first.added == n and first.embedded == n
    second = ingest(fresh_settings)
    assert second.embedded == 0 and second.deleted == 0 and second.unchanged == n
    assert not second.rebuilt


def test_editing_one_section_re_embeds_only_its_chunks(fresh_settings):
    ingest(fresh_settings)
    guide = fresh_settings.corpus_dir / "genai-threats-and-solutions.md"
    text = guide.read_text("utf-8")
    guide.write_text(
        text.replace("Select a specialized niche", "Pick one specialized niche"), "utf-8"
    )
    report = ingest(fresh_settings)
    # the section's chunk and the line key of the edited line, nothing else
    assert (report.added, report.updated, report.deleted) == (0, 2, 0)
    searcher = GuideSearcher.open(fresh_settings)
    assert "Pick one specialized niche" in searcher.section_text("action-3")


def test_a_deleted_files_chunks_disappear(fresh_settings):
    extra = fresh_settings.corpus_dir / "pricing.md"
    extra.write_text("# Pricing\n\n## Value pricing\nCharge for outcomes, not hours.\n", "utf-8")
    ingest(fresh_settings)
    assert "value-pricing#0" in stored_ids(fresh_settings)
    extra.unlink()
    report = ingest(fresh_settings)
    assert report.deleted == 1
    assert "value-pricing#0" not in stored_ids(fresh_settings)
    assert len(stored_ids(fresh_settings)) == guide_chunks(fresh_settings)


def test_a_new_embedding_model_forces_a_rebuild(fresh_settings, monkeypatch):
    # Without the sidecars there is no search encoder to train for the new model's name
    # (minutes for the bundled guide's keys): the index is what this test is about.
    for sidecar in fresh_settings.corpus_dir.glob("*.yaml"):
        sidecar.unlink()
    ingest(fresh_settings)
    monkeypatch.setattr(embeddings, "MODEL_NAME", "another-model")
    report = ingest(fresh_settings)
    assert report.rebuilt and report.embedded == guide_chunks(fresh_settings)


def test_an_interrupted_rebuild_leaves_the_old_index_usable(fresh_settings):
    ingest(fresh_settings)

    def killed(done, total):
        if done:
            raise KeyboardInterrupt  # as if the process died half-way

    with pytest.raises(KeyboardInterrupt):
        ingest(fresh_settings, rebuild=True, progress=killed)
    result = GuideSearcher.open(fresh_settings).search("Will clients pay me less?")
    assert result.hits and "threat-3" in result.section_ids[:3]
    assert ingest(fresh_settings).embedded == 0  # and the old index is still complete


def hold_lock(settings, seconds):
    """Another process holding the ingest lock, as a second `thrive ingest` would."""
    code = (
        f"from filelock import FileLock; import time, sys; l = FileLock({str(lock_path(settings))!r});"
        f"l.acquire(); print('held', flush=True); time.sleep({seconds})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_concurrent_ingest_waits_then_stops_with_a_message(fresh_settings):
    holder = hold_lock(fresh_settings, 30)
    waited = []
    try:
        with pytest.raises(StoreError, match="Another ingest"):
            ingest(fresh_settings, wait_s=0.3, on_wait=lambda: waited.append(True))
    finally:
        holder.kill()
    assert waited == [True]


def test_a_concurrent_ingest_proceeds_once_the_first_is_done(fresh_settings):
    holder = hold_lock(fresh_settings, 1)
    waited = []
    report = ingest(fresh_settings, wait_s=60, on_wait=lambda: waited.append(True))
    holder.wait()
    assert waited == [True] and report.embedded == guide_chunks(fresh_settings)


def test_a_broken_store_is_reported_and_rebuilt_without_deleting_it(fresh_settings):
    fresh_settings.vectorstore_dir.mkdir(parents=True)
    (fresh_settings.vectorstore_dir / "chroma.sqlite3").write_bytes(b"this is not a database")
    with pytest.raises(StoreError, match="ingest --rebuild"):
        ingest(fresh_settings)
    report = ingest(fresh_settings, rebuild=True)
    assert report.moved_aside and report.embedded == guide_chunks(fresh_settings)
    kept = list(fresh_settings.vectorstore_dir.parent.glob("vectorstore.broken-*"))
    assert kept and (kept[0] / "chroma.sqlite3").read_bytes() == b"this is not a database"
