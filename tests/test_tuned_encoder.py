"""The search encoder fine-tuned on the guide's question keys and outside topics
(knowledge/tuned.py)."""

import numpy as np

from thrive.base import embeddings
from thrive.knowledge import tuned
from thrive.knowledge.corpus import chunk_sections, read_corpus, tuning_pairs
from thrive.knowledge.retrieval import GuideSearcher


def _keys(settings):
    return tuning_pairs(chunk_sections(read_corpus(settings.corpus_dir), settings.chunk_words))


def _pairs(settings):
    return tuned.training_pairs(_keys(settings), settings.corpus_dir)


def test_ingest_leaves_a_tuned_encoder_for_the_guides_keys_and_outside_topics(guide_settings):
    keys, pairs = _keys(guide_settings), _pairs(guide_settings)
    assert len(keys) >= 200  # 12 questions for each of the guide's 21 sections
    headings = {h for _, h in keys}
    assert len(headings) == 21  # every section, by its heading as its chunks start
    assert any(h.startswith("Threat 1: ") for h in headings)
    assert pairs[: len(keys)] == keys
    outside = {h for _, h in pairs[len(keys) :]}
    assert "Outside the guide: tax filing and deductions" in outside and len(outside) >= 30
    assert tuned.is_built(tuned.folder_for(pairs))
    # Other keys, or other topics, name another folder: a change of either trains anew.
    assert tuned.folder_for(pairs[1:]) != tuned.folder_for(pairs)
    assert tuned.folder_for(pairs[:-1]) != tuned.folder_for(pairs)


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


def test_the_tuned_encoder_sets_outside_questions_apart_from_the_guide(guide_settings):
    """An outside-topic question nearer its own topic than any section heading: the bundled
    model often puts "deduct my ChatGPT subscription" nearer a section on AI tools."""
    pairs = _pairs(guide_settings)
    folder = tuned.folder_for(pairs)
    targets = sorted({h for _, h in pairs})
    outside = [(q, h) for q, h in pairs if h.startswith("Outside the guide: ")]
    questions = [q for q, _ in outside]
    gold = np.array([targets.index(h) for _, h in outside])

    def accuracy(q, t):
        return float(np.mean((q @ t.T).argmax(axis=1) == gold))

    before = accuracy(embeddings.encode(questions), embeddings.encode(targets))
    after = accuracy(tuned.encode(folder, questions), tuned.encode(folder, targets))
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
