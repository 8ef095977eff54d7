"""The evaluation datasets: their schema checks, and the committed dev and test splits."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from thrive.evaluation.dataset import (
    AnswerableCase,
    DatasetError,
    check_sections,
    fingerprint,
    load_dataset,
    select,
)
from thrive.knowledge.corpus import read_corpus

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "evals" / "dev.jsonl"  # for calibration
TEST = REPO / "evals" / "test.jsonl"  # held out, for reports only: never tune on it
SPLITS = [DEV, TEST]
GOOD = {
    "id": "q1",
    "kind": "answerable",
    "question": "Am I at risk?",
    "gold_sections": ["threat-1"],
}


def write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ({"id": "x", "kind": "chitchat", "question": "hi"}, "line 2: kind 'chitchat' is not one of"),
        ({**GOOD, "id": "q2", "gold_sections": []}, "line 2 (q2): gold_sections"),
        ({**GOOD, "id": "q2", "key_points": ["(unclosed"]}, "is not a valid regex"),
        ({**GOOD, "id": "q2", "history": [{"role": "bot", "content": "x"}]}, "history.0.role"),
        ({**GOOD, "id": "q2", "extra": 1}, "line 2 (q2): extra"),
        ({"id": "e", "kind": "exposure", "skills": {"a": "high", "b": "high"}}, "two different labels"),
        ({"id": "e", "kind": "exposure", "skills": {"a": "high", "b": "risky"}}, "skills.b"),
        (GOOD, "line 2: id 'q1' is already used on line 1"),
    ],
)  # fmt: skip
def test_a_bad_case_is_reported_with_its_line_and_field(tmp_path, line, message):
    with pytest.raises(DatasetError) as err:
        load_dataset(write(tmp_path, GOOD, line))
    assert message in str(err.value)
    assert "DESIGN.md" in str(err.value) or "own id" in str(err.value)


def test_tags_and_an_occupation_are_kept(tmp_path):
    profile = {"occupation": "voice-over artist", "skills": ["narration"]}
    case = {**GOOD, "tags": ["plain", "voice_over"], "profile": profile}
    (loaded,) = load_dataset(write(tmp_path, case))
    assert loaded.tags == ["plain", "voice_over"]
    assert isinstance(loaded, AnswerableCase) and loaded.profile == profile
    with pytest.raises(DatasetError, match="tags"):
        load_dataset(write(tmp_path, {**GOOD, "tags": "plain"}))
    # Tags are content: they change the fingerprint.
    assert fingerprint([loaded]) != fingerprint(load_dataset(write(tmp_path, GOOD)))


def test_blank_lines_and_comments_are_skipped_and_lines_are_remembered(tmp_path):
    cases = load_dataset(write(tmp_path, "// a comment", "", GOOD))
    assert [(c.id, c.line) for c in cases] == [("q1", 3)]


def test_missing_or_empty_files_are_explained(tmp_path):
    with pytest.raises(DatasetError, match="Cannot read the dataset"):
        load_dataset(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="has no cases"):
        load_dataset(write(tmp_path, ""))


def test_gold_sections_must_exist_in_the_guide(tmp_path):
    cases = load_dataset(write(tmp_path, {**GOOD, "gold_sections": ["threat-9"]}))
    with pytest.raises(DatasetError, match="line 1 \\(q1\\): gold section threat-9"):
        check_sections(cases, {"threat-1", "threat-2"})


def test_select_keeps_the_first_cases_of_each_kind():
    cases = load_dataset(DEV)
    subset = select(cases, 1)
    assert Counter(c.kind for c in subset) == dict.fromkeys(Counter(c.kind for c in cases), 1)
    assert fingerprint(subset) != fingerprint(cases)


# -- the committed splits --------------------------------------------------------------------


@pytest.fixture(scope="module", params=SPLITS, ids=lambda p: p.name)
def split(request):
    return request.param, load_dataset(request.param)


def test_the_dev_split_has_enough_cases_of_every_kind():
    cases = load_dataset(DEV)
    kinds = Counter(c.kind for c in cases)
    assert len(cases) >= 40
    assert set(kinds) == {"answerable", "out_of_scope", "injection", "exposure", "niches"}
    answerable = [c for c in cases if isinstance(c, AnswerableCase)]
    assert sum(1 for c in answerable if c.history) >= 3, "follow-ups judged in context"
    assert sum(1 for c in answerable if c.profile) >= 3, "questions the profile decides"
    assert all(c.key_points for c in answerable)


def test_the_test_split_is_held_out_and_tagged():
    """The numbers issue 10 asks of the held-out split."""
    cases = load_dataset(TEST)
    tags = Counter((c.kind, t) for c in cases for t in c.tags)
    assert len(cases) >= 120 and all(c.tags for c in cases)
    assert tags[("answerable", "plain")] >= 60
    assert tags[("answerable", "near_miss")] >= 40
    assert tags[("out_of_scope", "off_topic")] >= 15
    assert tags[("injection", "attack")] >= 20
    assert all(c.key_points for c in cases if isinstance(c, AnswerableCase))
    shared = {c.question for c in cases if hasattr(c, "question")} & {
        c.question for c in load_dataset(DEV) if hasattr(c, "question")
    }
    # One trivia question was written into both splits independently (dev o07, test t-o16).
    assert shared <= {"How many moons does Jupiter have?"}, shared


def test_gold_sections_are_sections_of_the_bundled_guide(split):
    path, cases = split
    known = {s.section_id for s in read_corpus(REPO / "corpus")}
    check_sections(cases, known, str(path))


def test_questions_are_paraphrased_not_copied_headings(split):
    _, cases = split
    titles = [s.title.lower() for s in read_corpus(REPO / "corpus") if len(s.title.split()) >= 3]
    for case in cases:
        question = getattr(case, "question", "").lower()
        copied = [t for t in titles if t in question]
        assert not copied, f"{case.id} copies the heading {copied[0]!r}"
