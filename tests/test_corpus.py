from pathlib import Path

import pytest

from thrive.base.errors import CorpusError
from thrive.knowledge.corpus import chunk_sections, read_corpus, read_guide

REPO = Path(__file__).resolve().parents[1]
FIXED_IDS = (
    ["overview"]
    + [f"threat-{i}" for i in range(1, 6)]
    + [f"strategy-{i}" for i in range(1, 8)]
    + [f"action-{i}" for i in range(1, 8)]
    + ["summary"]
)


def test_all_21_fixed_section_ids_in_order():
    sections = read_corpus(REPO / "corpus")
    assert [s.section_id for s in sections] == FIXED_IDS


def test_sections_have_the_guides_titles_and_kinds():
    by_id = {s.section_id: s for s in read_corpus(REPO / "corpus")}
    assert by_id["threat-1"].title == "Automation of Tasks and Job Displacement"
    assert by_id["threat-5"].title.startswith("Skill Obsolescence")
    assert by_id["strategy-2"].title == "Niche Down and Specialize Deeply"
    assert by_id["strategy-7"].title == "Focus on Complex, Creative, and Strategic Work"
    assert by_id["action-3"].title.startswith("Choose a Niche")
    assert "Adaptability and Human Value" in by_id["summary"].title
    assert {s.kind for s in by_id.values()} == {
        "overview",
        "threat",
        "strategy",
        "action",
        "summary",
    }
    assert "data entry" in by_id["threat-1"].text
    assert "Cybersecurity Content Writer" in by_id["strategy-2"].text
    # front matter is metadata, not text
    assert all("permalink" not in s.text for s in by_id.values())
    assert by_id["overview"].doc_title == "GenAI Threats to Freelancing & How to Thrive"


def test_every_chunk_carries_its_metadata():
    chunks = chunk_sections(read_corpus(REPO / "corpus"))
    assert {c.section_id for c in chunks} == set(FIXED_IDS)
    for chunk in chunks:
        for key in ("section_id", "section_title", "kind", "source", "content_hash"):
            assert chunk.metadata[key], (chunk.chunk_id, key)
        assert chunk.metadata["source"] == "genai-threats-and-solutions.md"
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_long_sections_are_split_further():
    sections = read_corpus(REPO / "corpus")
    chunks = chunk_sections(sections, chunk_words=50)
    assert len(chunks) > len(sections)
    assert max(len(c.text.split()) for c in chunks) < 50 + 20  # chunk plus its heading


def test_another_guide_gets_slug_ids(tmp_path):
    (tmp_path / "pricing.md").write_text(
        "---\ntitle: Pricing in the AI era\n---\n# Pricing\n\n## Value-based pricing\n"
        "Charge for outcomes.\n\n## Retainers\nSell ongoing work.\n",
        "utf-8",
    )
    sections = read_guide(tmp_path / "pricing.md")
    assert [s.section_id for s in sections] == ["value-based-pricing", "retainers"]
    assert all(s.kind == "section" and s.doc_title == "Pricing in the AI era" for s in sections)


def test_slug_ids_never_collide_with_the_guides(tmp_path):
    (tmp_path / "genai-threats-and-solutions.md").write_text(
        (REPO / "corpus" / "genai-threats-and-solutions.md").read_text("utf-8"), "utf-8"
    )
    (tmp_path / "extra.md").write_text("## Summary\nMore text here.\n", "utf-8")
    ids = [s.section_id for s in read_corpus(tmp_path)]
    assert len(ids) == len(set(ids))
    assert "summary-2" in ids


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01binary", "binary"),
        (b"---\ntitle: [unclosed\n---\ntext", "front matter"),
        (b"\xff\xfe\xfa not utf8", "UTF-8"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.md"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message):
        read_guide(path)


def test_empty_corpus_says_what_to_do(tmp_path):
    with pytest.raises(CorpusError, match="Markdown"):
        read_corpus(tmp_path)


def _guide_with_examples(tmp_path: Path, examples: str) -> Path:
    guide = tmp_path / "pricing.md"
    guide.write_text(
        "# Pricing\n\n## Value pricing\nCharge for outcomes.\n\n## Retainers\nSell ongoing work.\n",
        "utf-8",
    )
    (tmp_path / "pricing.examples.yaml").write_text(examples, "utf-8")
    return guide


def test_a_labelled_example_is_a_key_of_every_section_it_names(tmp_path):
    guide = _guide_with_examples(
        tmp_path,
        "- question: 'Clients want a monthly deal, what do I charge?'\n"
        "  sections: [retainers, value-pricing]\n"
        "- question: 'Is hourly billing dead?'\n  sections: [value-pricing]\n",
    )
    keys = {s.section_id: s.questions for s in read_guide(guide)}
    assert keys["value-pricing"] == (
        "Clients want a monthly deal, what do I charge?",
        "Is hourly billing dead?",
    )
    assert keys["retainers"] == ("Clients want a monthly deal, what do I charge?",)
    ids = [c.chunk_id for c in chunk_sections(read_guide(guide)) if "#q" in c.chunk_id]
    assert len(ids) == len(set(ids)) == 3


def test_the_bundled_examples_add_keys_across_sections():
    sections = read_corpus(REPO / "corpus")
    keys = [q for s in sections for q in s.questions]
    shared = {q for q in keys if keys.count(q) > 1}
    assert len(shared) > 300  # examples labelled with several sections
    assert all(len(s.questions) > 26 for s in sections)


@pytest.mark.parametrize(
    ("examples", "message"),
    [
        ("- question: 'What now?'\n  sections: [pricing-9]\n", "pricing-9"),
        ("- question: 'What now?'\n  sections: []\n", "question, sections"),
        ("- question: ''\n  sections: [retainers]\n", "question, sections"),
        ("question: 'not a list'\n", "question, sections"),
        ("- question: [unclosed\n", "cannot be read as YAML"),
    ],
)
def test_a_broken_examples_file_names_what_is_wrong(tmp_path, examples, message):
    guide = _guide_with_examples(tmp_path, examples)
    with pytest.raises(CorpusError, match=message) as caught:
        read_guide(guide)
    assert "pricing.examples.yaml" in str(caught.value)
