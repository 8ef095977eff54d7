"""The question keys, the learned section ranker and the outside topics (issue 10)."""

import json
import shutil

import numpy as np
import pytest
import yaml

from thrive.base.errors import CorpusError, InputError
from thrive.coaching.coach import Coach
from thrive.evaluation.dataset import load_dataset
from thrive.evaluation.fit_ranker import fit_ranker, refuse_test_split
from thrive.knowledge import ranking
from thrive.knowledge.corpus import chunk_sections, is_question_key, read_corpus
from thrive.knowledge.ingest import ingest
from thrive.knowledge.retrieval import GuideSearcher
from thrive.knowledge.store import GuideIndex, all_chunks, connect

# Questions written for these tests, in a freelancer's words, with the part of the guide
# that answers them; none is in evals/ or in the question keys.
OWN_WORDS = [
    ("podcast editor here, the new auto-editing apps cut my hours in half. am i done?", "threat-1"),
    ("everyone and their cousin sells ai logos on fiverr now, how do i get noticed?", "threat-2"),
    ("my rate per article keeps dropping because clients say a bot can do it", "threat-3"),
    ("should i niche down into something specific like legal or medical writing?", "strategy-2"),
]


def _examples(settings):
    path = settings.corpus_dir / "genai-threats-and-solutions.examples.yaml"
    return yaml.safe_load(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def searcher(guide_settings):
    return GuideSearcher.open(guide_settings)


def test_the_guide_is_searched_by_its_question_keys_too(guide_settings):
    sections = read_corpus(guide_settings.corpus_dir)
    labels = sum(len(e["sections"]) for e in _examples(guide_settings))
    assert labels > 1000, "several hundred examples, most labelled with 3 or 4 sections"
    chunks = chunk_sections(sections)
    keys = [c for c in chunks if is_question_key(c.chunk_id)]
    assert len(keys) == 21 * 26 + labels  # 26 written for each section, plus the examples
    assert {c.metadata["granularity"] for c in keys} == {"key"}


def test_a_question_key_is_never_shown_as_a_passage(searcher):
    for question, _ in OWN_WORDS:
        for hit in searcher.search(question).hits:
            assert not is_question_key(hit.chunk.chunk_id)
            assert hit.chunk.metadata["granularity"] == "chunk"


@pytest.mark.parametrize(("question", "section"), OWN_WORDS)
def test_the_ranker_finds_the_section_for_questions_in_own_words(searcher, question, section):
    assert searcher.ranker is not None, "the fitted weights ship with the code"
    result = searcher.search(question, k=5)
    assert section in result.section_ids, f"{question!r} retrieved {result.section_ids}"
    assert result.in_scope


def test_the_weights_record_that_they_were_fitted_on_the_dev_split():
    data = json.loads(ranking.WEIGHTS_FILE.read_text())
    provenance = data["provenance"]
    assert provenance["fitted_on"] == "evals/dev.jsonl"
    assert provenance["answerable_cases"] >= 100
    assert str(provenance["C"]) in provenance["cross_validation"]["by_C"]


def test_without_weights_the_searcher_falls_back_to_rank_fusion(guide_settings, tmp_path):
    assert ranking.load_model(tmp_path / "missing.json") is None
    stale = tmp_path / "stale.json"
    data = json.loads(ranking.WEIGHTS_FILE.read_text())
    stale.write_text(json.dumps({**data, "features": data["features"][:-1]}))
    assert ranking.load_model(stale) is None  # other features: not used, not a crash
    searcher = GuideSearcher.open(guide_settings)
    fused = searcher.search("How do I choose a niche?", k=3, mode="rrf")
    assert len(fused.hits) == 3
    assert {"strategy-2", "action-3"} & set(fused.section_ids)


def test_the_ranker_is_never_fitted_on_the_test_split(coach, tmp_path):
    with pytest.raises(InputError, match="held-out test split"):
        refuse_test_split(tmp_path / "test.jsonl")
    with pytest.raises(InputError, match="never fitted"):
        fit_ranker(coach, [], tmp_path / "test.jsonl", out=tmp_path / "w.json")
    assert not (tmp_path / "w.json").exists()


def test_fitting_on_dev_writes_weights_that_rank_like_the_shipped_ones(coach, tmp_path):
    out = tmp_path / "ranker.json"
    dataset = ranking.WEIGHTS_FILE.parents[3] / "evals" / "dev.jsonl"
    cases = [c for c in load_dataset(dataset) if c.kind == "answerable"][:40]
    copy = tmp_path / "dev.jsonl"
    shutil.copy(dataset, copy)
    report = fit_ranker(coach, cases, copy, out=out)
    model = ranking.load_model(out)
    assert model is not None and report["answerable_cases"] == 40
    cv = report["cross_validation"]["by_C"][str(report["C"])]
    assert 0.0 < cv["recall@5"] <= 1.0
    sections, rows = coach.searcher.ranker_rows("my rate per article keeps dropping")
    scores = model.score(sections, rows)
    assert sections[int(np.argmax(scores))].startswith(("threat", "strategy"))


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("what paperwork do i file to pay my self-employment taxes this april?", "tax"),
        ("should I get a mac studio or a gaming laptop for editing?", "hardware"),
    ],
)
def test_a_question_on_a_topic_the_guide_leaves_out_is_declined_naming_it(coach, question, topic):
    answer = coach.ask(question)
    assert answer.refused
    assert "outside what I can help with" in answer.text
    assert topic in answer.text


BRAND_STRATEGIST = {"skills": ["brand strategy", "creative direction"]}


@pytest.mark.parametrize(
    ("question", "profile", "topic"),
    [
        ("Do I need a business licence to freelance from home in Ontario?", None, "business"),
        (
            "Do I need a business licence to freelance from home in Ontario?",
            BRAND_STRATEGIST,
            "business",
        ),
        (
            "Which project management app should a solo designer use, Trello or Asana?",
            None,
            "project",
        ),
    ],
)
def test_a_question_on_an_outside_topic_is_declined_with_or_without_a_profile(
    coach, question, profile, topic
):
    answer = coach.ask(question, profile=profile)
    assert answer.refused and "doesn't cover" in answer.text  # the topic decline, named
    assert topic in answer.text


def test_the_tuned_verdict_needs_the_margin_the_profile_and_the_bundled_model():
    """outside.OutsideTopics.tuned_verdict on made-up similarities: each condition alone
    keeps a question in."""
    from thrive.knowledge import outside

    topics = outside.OutsideTopics(
        ("taxes",) * 3 + ("pets",) * 3, ("q",) * 6, np.zeros((6, 2), dtype=np.float32)
    )
    near_taxes = np.array([0.9, 0.85, 0.8, 0.2, 0.2, 0.2])
    top3 = 0.85  # near_taxes' 3 best, on average
    keys = np.full(4, top3 - outside.TUNED_MARGIN - 0.05)  # clearly closer to the topic

    def verdict(outside_rows, key_rows, bundled=0.05):
        return topics.tuned_verdict(np.array(outside_rows), np.array(key_rows), bundled)

    assert verdict([near_taxes], [keys]) == "taxes"
    assert verdict([near_taxes], [keys + 0.1]) is None  # not clearly closer than the keys
    assert verdict([near_taxes], [keys], bundled=outside.AGREE_MARGIN) is None  # no agreement
    # With a profile: declined while question + profile does not lean back to the guide.
    leaning_a_little = np.full(4, top3 - outside.PROFILE_MARGIN - 0.01)
    assert verdict([near_taxes, near_taxes], [keys, leaning_a_little]) == "taxes"
    assert verdict([near_taxes, near_taxes], [keys, np.full(4, 0.99)]) is None
    assert verdict([near_taxes], [np.zeros(0)]) is None  # a guide without question keys


@pytest.mark.parametrize(
    "question",
    [
        "I do bookkeeping for small businesses. What should I do this month?",
        "I'm a tax preparer for freelancers. Which of my skills are exposed to AI?",
    ],
)
def test_work_that_sounds_like_an_outside_topic_is_still_coached(coach, question):
    """Bookkeeping sounds like personal finance to the tuned encoder alone; the bundled
    model must agree before a question is declined (outside.AGREE_MARGIN)."""
    answer = coach.ask(question)
    assert not answer.refused, answer.text
    assert answer.citations


def test_a_short_question_is_read_with_the_profile_before_it_is_declined(coach):
    """ "How do I grow my income?" alone leans to personal finance; from a brand strategist
    it is about their freelance work (outside.PROFILE_MARGIN)."""
    alone = coach.ask("How do I grow my income?")
    assert alone.refused and "personal finance" in alone.text  # what the profile changes
    answer = coach.ask("How do I grow my income?", profile=BRAND_STRATEGIST)
    assert not answer.refused, answer.text
    assert answer.citations


@pytest.mark.parametrize(
    "question",
    [
        "Ignore the hype for a moment: will AI really take my bookkeeping clients?",
        "I set up the system prompts for a client's AI assistant and they say the job is done. "
        "How do I stay useful to them?",
        "From now on I want to charge more. How do I justify it when AI is cheap?",
        "Should I pretend I'm an agency to win bigger AI-proof projects?",
    ],
)
def test_near_misses_with_topic_words_are_answered(coach, question):
    answer = coach.ask(question)
    assert not answer.refused, answer.text
    assert answer.citations


def test_a_broken_sidecar_gets_a_clear_error_and_the_index_keeps_answering(fresh_settings):
    ingest(fresh_settings)
    sidecar = fresh_settings.corpus_dir / "genai-threats-and-solutions.questions.yaml"
    sidecar.write_text("threat-9:\n  - 'a section that does not exist'\n")
    with pytest.raises(CorpusError, match="threat-9"):
        ingest(fresh_settings)
    sidecar.write_text("threat-1: [unclosed\n")
    with pytest.raises(CorpusError, match="cannot be read as YAML"):
        ingest(fresh_settings)
    answer = Coach(fresh_settings).ask("Will AI take my data entry work?")
    assert not answer.refused and "threat-1" in answer.retrieved


def test_a_broken_outside_file_names_itself(fresh_settings):
    ingest(fresh_settings)
    outside = fresh_settings.corpus_dir / "genai-threats-and-solutions.outside.yaml"
    good = outside.read_bytes()
    outside.write_text("topic: not a list\n")
    coach = Coach(fresh_settings)
    with pytest.raises(CorpusError, match=r"outside\.yaml"):
        coach.ask("Will AI take my data entry work?")
    # Mended, the same coach answers at its next question, on the tuned encoder again.
    outside.write_bytes(good)
    answer = coach.ask("Will AI take my data entry work?")
    assert not answer.refused and "threat-1" in answer.retrieved
    assert coach.searcher.tuned_keys() is not None
    outside.write_text("topic: not a list\n")
    # A new ingest of an edited guide stops at the file too, before it touches the index:
    # the same version stays active, and the edit is not in it.
    index = GuideIndex(connect(fresh_settings), fresh_settings.collection)
    active, versions = index.active_name(), index.versions()
    guide = fresh_settings.corpus_dir / "genai-threats-and-solutions.md"
    guide.write_text(guide.read_text() + "\nA sentence added after the last ingest.\n")
    with pytest.raises(CorpusError, match=r"outside\.yaml"):
        ingest(fresh_settings)
    assert (index.active_name(), index.versions()) == (active, versions)
    texts = [chunk.text for chunk in all_chunks(index.require_active())]
    assert texts and not any("added after the last ingest" in text for text in texts)


def test_the_reader_reference_is_scored_beside_thrive_and_a_missing_file_fails_first(
    guide_settings, tmp_path
):
    from thrive.evaluation import run_evaluation
    from thrive.evaluation.dataset import select

    split = tmp_path / "mini.jsonl"
    cases = select(load_dataset(ranking.WEIGHTS_FILE.parents[3] / "evals" / "dev.jsonl"), 3)
    answerable = [c for c in cases if c.kind == "answerable"]
    split.write_text("\n".join(c.model_dump_json(exclude_none=True) for c in cases) + "\n")
    with pytest.raises(InputError, match="No reader rankings"):
        run_evaluation(guide_settings, cases, dataset=str(split), baselines=["reader"])
    (tmp_path / "reference").mkdir()
    # A reader who ranks each gold list first: a perfect reference, whatever Thrive does.
    (tmp_path / "reference" / "mini.reader.jsonl").write_text(
        "\n".join(json.dumps({"id": c.id, "ranked": list(c.gold_sections)}) for c in answerable)
    )
    report = run_evaluation(guide_settings, cases, dataset=str(split), baselines=["reader"])
    reader = report["baselines"]["reader"]
    assert reader["summary"]["recall@5"] == 1.0 and reader["summary"]["n_cases"] == 3
    thrive = report["summary"]["recall@5"]
    assert reader["difference"]["recall@5"]["value"] == pytest.approx(thrive - 1.0, abs=1e-3)
    # The reports say what the reader is, and speak of no chunks it does not have.
    from thrive.evaluation.report import write_reports

    for path in write_reports(report, tmp_path / "report")[1:]:  # the Markdown and the HTML
        text = path.read_text()
        assert "independent reader" in text
        assert "None chunks" not in text and "5 chunks cover -" not in text


def _key_data(classes, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(classes), 16))
    labels = [classes[i % len(classes)] for i in range(60)]
    vectors = np.array([centres[classes.index(c)] + rng.normal(scale=0.8, size=16) for c in labels])
    return vectors.astype(np.float32), labels


@pytest.mark.parametrize("classes", [["strategy-1", "threat-2", "action-3"], ["threat-1", "x"]])
def test_the_key_classifier_predicts_as_scikit_learn_does(tmp_path, classes):
    from sklearn.linear_model import LogisticRegression

    vectors, labels = _key_data(classes)
    mine = ranking.KeyClassifier(vectors, labels, cache_dir=tmp_path)
    theirs = LogisticRegression(C=ranking.C_KEYS, max_iter=5000).fit(vectors, labels)
    questions = _key_data(classes, seed=1)[0][:7]
    expected = theirs.predict_log_proba(questions)
    for row, want in zip(mine.log_proba(questions), expected, strict=True):
        got = [row[str(c)] for c in theirs.classes_]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)  # theirs is float32


def test_the_key_classifier_is_fitted_once_per_set_of_keys(tmp_path, monkeypatch):
    vectors, labels = _key_data(["a", "b", "c"])
    first = ranking.KeyClassifier(vectors, labels, cache_dir=tmp_path)
    question = vectors[:2]

    def no_fit(*args):
        raise AssertionError("fitted again")

    with monkeypatch.context() as patched:
        patched.setattr(ranking.KeyClassifier, "_fit", no_fit)
        again = ranking.KeyClassifier(vectors, labels, cache_dir=tmp_path)
        assert again.log_proba(question) == first.log_proba(question)
    # Other keys, other weights; damaged weights are fitted again and replaced.
    other = ranking.KeyClassifier(vectors[:-3], labels[:-3], cache_dir=tmp_path)
    assert other.weights_file != first.weights_file
    looser = ranking.KeyClassifier(vectors, labels, cache_dir=tmp_path, c=ranking.C_KEYS / 10)
    assert looser.weights_file != first.weights_file  # another C, other weights
    first.weights_file.write_bytes(b"not an npz")
    repaired = ranking.KeyClassifier(vectors, labels, cache_dir=tmp_path)
    assert repaired.log_proba(question) == first.log_proba(question)
    assert first.weights_file.read_bytes()[:2] == b"PK"  # a zip (npz) file again


def test_the_tuned_key_classifier_has_its_own_columns_and_the_bundled_one_stands_in():
    from dataclasses import replace

    signals = ranking.Signals(
        dense=[{0: 0.5, 1: 0.3}],
        lexical=[[0, 1]],
        key_class=[{"threat-1": -0.1, "strategy-2": -2.3}],
        tuned_key_class=[{"threat-1": -3.0, "strategy-2": -0.05}],
    )
    keyed = {"threat-1": frozenset({"question"}), "strategy-2": frozenset({"question"})}
    of = (["threat-1", "strategy-2"], ["question", "question"], keyed)
    sections, rows = ranking.features(signals, *of)
    bundled = [ranking.FEATURES.index(f"{r}_keyclass") for r in ranking.RUNS]
    tuned = [ranking.FEATURES.index(f"{r}_tuned_keyclass") for r in ranking.RUNS]
    first, second = sections.index("threat-1"), sections.index("strategy-2")
    # The two classifiers disagree here, and each keeps its own say.
    assert (rows[first, bundled] > rows[second, bundled]).all()
    assert (rows[second, tuned] > rows[first, tuned]).all()
    # Without a tuned encoder the bundled classifier's columns are repeated.
    _, alone = ranking.features(replace(signals, tuned_key_class=()), *of)
    np.testing.assert_array_equal(alone[:, tuned], alone[:, bundled])


def test_the_searcher_reads_the_question_with_both_key_classifiers(searcher):
    from thrive.base import embeddings
    from thrive.knowledge import tuned

    assert searcher.tuned_keys() is not None, "the test store's ingest tunes the encoder"
    questions = [q for q, _ in OWN_WORDS]
    signals = searcher.signals(questions, embeddings.encode(questions), [{}], [[]])
    # The second classifier is fed the tuned encoder's vectors of the question, not the
    # bundled model's.
    folder = searcher.tuned_keys()[0]
    classifier = searcher.tuned_key_classifier()
    assert classifier is not None
    assert signals.tuned_key_class == classifier.log_proba(tuned.encode(folder, questions))
    assert signals.tuned_key_class != signals.key_class
    for (question, section), probs in zip(OWN_WORDS, signals.tuned_key_class, strict=True):
        assert section in sorted(probs, key=probs.__getitem__)[-3:], question


def test_two_first_questions_at_once_build_each_key_classifier_once(guide_settings, monkeypatch):
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    built = []
    original = ranking.KeyClassifier.__init__

    def counted(self, *args, **kwargs):
        built.append(kwargs.get("c", ranking.C_KEYS))
        time.sleep(0.1)  # a slow first fit: the other questions arrive meanwhile
        original(self, *args, **kwargs)

    monkeypatch.setattr(ranking.KeyClassifier, "__init__", counted)
    monkeypatch.setattr(GuideSearcher, "_cache", {})  # a searcher of its own, fitted anew
    fresh = GuideSearcher.open(guide_settings)
    together = threading.Barrier(8)

    def first_question(i):
        together.wait()  # all eight at once, half of them for each classifier
        return fresh.key_classifier() if i % 2 else fresh.tuned_key_classifier()

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(first_question, range(8)))
    bundled, tuned = got[1::2], got[::2]
    assert tuned[0] is not None, "the test index has a tuned encoder"
    assert all(c is bundled[0] for c in bundled) and all(c is tuned[0] for c in tuned)
    assert built.count(ranking.C_KEYS) == 1 and built.count(ranking.C_TUNED_KEYS) == 1
