"""The search encoder fine-tuned on the guide's question keys and outside topics
(knowledge/tuned.py)."""

import numpy as np

from thrive.base import embeddings
from thrive.knowledge import outside, tuned
from thrive.knowledge.corpus import chunk_sections, read_corpus, tuning_pairs
from thrive.knowledge.retrieval import GuideSearcher


def _keys(settings):
    return tuning_pairs(chunk_sections(read_corpus(settings.corpus_dir), settings.chunk_words))


def _pairs(settings):
    return tuned.training_pairs(_keys(settings), outside.training_pairs(settings.corpus_dir))


def test_ingest_leaves_a_tuned_encoder_for_the_guides_keys_and_outside_topics(guide_settings):
    keys, pairs = _keys(guide_settings), _pairs(guide_settings)
    assert len(keys) == 21 * 26  # 26 questions for each of the guide's 21 sections
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


def _own_target_accuracy(settings, chosen):
    """(bundled model, tuned encoder): the share of `chosen` training pairs whose question
    is nearest its own target among all the targets trained on (headings and topics)."""
    pairs = _pairs(settings)
    folder = tuned.folder_for(pairs)
    targets = sorted({t for _, t in pairs})
    questions = [q for q, _ in chosen]
    gold = np.array([targets.index(t) for _, t in chosen])

    def accuracy(q, t):
        return float(np.mean((q @ t.T).argmax(axis=1) == gold))

    bundled = accuracy(embeddings.encode(questions), embeddings.encode(targets))
    return bundled, accuracy(tuned.encode(folder, questions), tuned.encode(folder, targets))


def test_the_tuned_encoder_brings_a_key_closer_to_its_own_section(guide_settings):
    """What it was trained for: a question key nearer its section's heading than the
    bundled model puts it, on average over the keys."""
    before, after = _own_target_accuracy(guide_settings, _keys(guide_settings))
    assert after > before + 0.2


def test_the_tuned_encoder_sets_outside_questions_apart_from_the_guide(guide_settings):
    """An outside-topic question nearer its own topic than any section heading: the bundled
    model often puts "deduct my ChatGPT subscription" nearer a section on AI tools."""
    outside = [(q, t) for q, t in _pairs(guide_settings) if t.startswith("Outside the guide: ")]
    before, after = _own_target_accuracy(guide_settings, outside)
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


def test_the_training_is_announced_only_by_the_call_that_trains(tmp_path):
    """`thrive ingest` says "Fine-tuning the search encoder…" when it trains, and stays
    quiet when the encoder for these pairs is already built (by it or another process)."""
    pairs = [
        ("Will AI take my data entry work?", "Threat 1: automation"),
        ("How do I choose a niche?", "Action 3: choose a niche"),
    ]
    announced: list[int] = []
    folder = tuned.ensure_built(pairs, cache_dir=tmp_path, on_train=announced.append)
    assert announced == [2] and folder is not None and tuned.is_built(folder)
    assert tuned.ensure_built(pairs, cache_dir=tmp_path, on_train=announced.append) == folder
    assert announced == [2]
