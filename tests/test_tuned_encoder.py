"""The search encoder fine-tuned on the guide's question keys and outside topics
(knowledge/tuned.py)."""

from pathlib import Path

import numpy as np
import yaml

from thrive.base import embeddings
from thrive.evaluation import load_dataset
from thrive.knowledge import outside, tuned
from thrive.knowledge.corpus import chunk_sections, heading_of, read_corpus, tuning_pairs
from thrive.knowledge.retrieval import GuideSearcher


def _chunks(settings):
    return chunk_sections(read_corpus(settings.corpus_dir), settings.chunk_words)


def _keys(settings):
    return tuning_pairs(_chunks(settings))


def _pairs(settings):
    return tuned.training_pairs(_keys(settings), outside.training_pairs(settings.corpus_dir))


def test_ingest_leaves_a_tuned_encoder_for_the_guides_keys_and_outside_topics(guide_settings):
    keys, pairs = _keys(guide_settings), _pairs(guide_settings)
    examples = yaml.safe_load(
        (guide_settings.corpus_dir / "genai-threats-and-solutions.examples.yaml").read_text()
    )
    # 26 questions written for each of the guide's 21 sections, and each example question
    # once for every section it is labelled with.
    assert len(keys) == 21 * 26 + sum(len(e["sections"]) for e in examples)
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


DEV = Path(__file__).resolve().parents[1] / "evals" / "dev.jsonl"


def _nearest_target_accuracy(settings, cases, is_right):
    """(bundled model, tuned encoder): the share of `cases` (dev-split questions the encoder
    was not trained on) whose nearest training target (a section heading or an outside
    topic) `is_right(target, case)`."""
    pairs = _pairs(settings)
    trained_on = {q.strip().lower() for q, _ in pairs}
    cases = [c for c in cases if c.question.strip().lower() not in trained_on]
    assert len(cases) >= 100
    folder = tuned.folder_for(pairs)
    targets = sorted({t for _, t in pairs})
    questions = [c.question for c in cases]

    def accuracy(q, t):
        nearest = (q @ t.T).argmax(axis=1)
        return float(
            np.mean([is_right(targets[i], c) for i, c in zip(nearest, cases, strict=True)])
        )

    bundled = accuracy(embeddings.encode(questions), embeddings.encode(targets))
    return bundled, accuracy(tuned.encode(folder, questions), tuned.encode(folder, targets))


def test_the_tuned_encoder_brings_unseen_questions_nearer_their_sections(guide_settings):
    """The dev split's answerable questions, which it never trained on: the nearest heading
    is one of the question's gold sections for 0.64 of them, against 0.18 with the bundled
    model (measured on the 407 of 2026-12-03)."""
    section_of = {heading_of(c.metadata): c.metadata["section_id"] for c in _chunks(guide_settings)}
    answerable = [c for c in load_dataset(DEV) if c.kind == "answerable"]
    before, after = _nearest_target_accuracy(
        guide_settings, answerable, lambda t, c: section_of.get(t) in c.gold_sections
    )
    assert after > before + 0.3


def test_the_tuned_encoder_sets_unseen_outside_questions_apart(guide_settings):
    """The dev split's out-of-scope questions, none trained on: nearest an outside topic
    rather than a section heading for 0.99 of them, against 0.89 with the bundled model
    (measured on the 154 of 2026-12-03)."""
    outside_cases = [c for c in load_dataset(DEV) if c.kind == "out_of_scope"]
    before, after = _nearest_target_accuracy(
        guide_settings, outside_cases, lambda t, c: t.startswith("Outside the guide: ")
    )
    assert after > before + 0.05 and after >= 0.95


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


def test_the_training_estimate_grows_with_the_examples_and_is_never_zero():
    assert tuned.minutes_to_train(2) == 1
    assert tuned.minutes_to_train(4000) > tuned.minutes_to_train(1000) >= 1
    # The bundled guide's 3,924 pairs took 7.2 min at 2 epochs on 2 cores (2026-12-03).
    assert 5 <= tuned.minutes_to_train(3924) <= 10
