"""The search encoder fine-tuned on the guide's question keys (knowledge/tuned.py)."""

import numpy as np

from thrive.base import embeddings
from thrive.knowledge import tuned
from thrive.knowledge.corpus import chunk_sections, read_corpus, tuning_pairs
from thrive.knowledge.retrieval import GuideSearcher


def _pairs(settings):
    return tuning_pairs(chunk_sections(read_corpus(settings.corpus_dir), settings.chunk_words))


def test_ingest_leaves_a_tuned_encoder_for_the_guides_keys(guide_settings):
    pairs = _pairs(guide_settings)
    assert len(pairs) >= 200  # 12 questions for each of the guide's 21 sections
    headings = {h for _, h in pairs}
    assert len(headings) == 21  # every section, by its heading as its chunks start
    assert any(h.startswith("Threat 1: ") for h in headings)
    assert tuned.is_built(tuned.folder_for(pairs))
    # Other keys name another folder: a change of the keys trains anew.
    assert tuned.folder_for(pairs[1:]) != tuned.folder_for(pairs)


def test_the_tuned_encoder_brings_a_key_closer_to_its_own_section(guide_settings):
    """What it was trained for: a question key nearer its section's heading than the
    bundled model puts it, on average over the keys."""
    pairs = _pairs(guide_settings)
    folder = tuned.folder_for(pairs)
    keys, headings = [k for k, _ in pairs], [h for _, h in pairs]
    heads = sorted(set(headings))
    gold = np.array([heads.index(h) for h in headings])

    def accuracy(k, h):
        return float(np.mean((k @ h.T).argmax(axis=1) == gold))

    before = accuracy(embeddings.encode(keys), embeddings.encode(heads))
    after = accuracy(tuned.encode(folder, keys), tuned.encode(folder, heads))
    assert after > before + 0.2


def test_the_searcher_reads_tuned_similarities_and_falls_back_without_them(guide_settings):
    searcher = GuideSearcher.open(guide_settings)
    assert searcher.tuned_keys() is not None
    question = "I transcribe interviews for a living. Are the robots coming for me?"
    sections, rows = searcher.ranker_rows(question)
    assert "threat-1" in sections
    built = searcher._tuned
    searcher._tuned = None  # as on a host where no encoder was built for these keys
    try:
        same_sections, fallback = searcher.ranker_rows(question)
        assert same_sections == sections
        assert not np.allclose(rows, fallback)  # the tuned columns were really the tuned model's
        hits = searcher.search(question, k=3).section_ids
        assert len(hits) == 3
    finally:
        searcher._tuned = built
