"""Retrieval quality on questions written as a freelancer would ask them, not as headings."""

import pytest

from thrive.knowledge.retrieval import GuideSearcher

# (question, the section that answers it)
PARAPHRASES = [
    ("Can software now write the product blurbs I get paid for?", "threat-1"),
    ("Will a chatbot take over my virtual assistant work like booking meetings?", "threat-1"),
    (
        "Anyone with ChatGPT now calls themselves a writer. How do I deal with that crowd?",
        "threat-2",
    ),
    ("Small shops just use DIY tools instead of paying a designer", "threat-2"),
    (
        "Clients want to pay less for social media posts because machines make them cheaply",
        "threat-3",
    ),
    ("Is AI-written text accurate and original enough to hand to a client?", "threat-4"),
    ("Could publishing machine-made articles hurt my reputation through plagiarism?", "threat-4"),
    ("The software I'm good at might not matter in a few years", "threat-5"),
    ("What services should I offer that AI cannot easily replicate?", "strategy-1"),
    ("Should I stop being a generalist and pick one specialty?", "strategy-2"),
    ("How can I use AI to draft faster without losing my own voice?", "strategy-3"),
    ("How do I keep clients coming back and build trust with them?", "strategy-4"),
    ("Do I need a portfolio site and a presence on social media?", "strategy-5"),
    ("How much time should I spend learning new tools every week?", "strategy-6"),
    ("What kind of projects pay more and resist automation?", "strategy-7"),
    ("How do I figure out which of my services a machine could do?", "action-1"),
    ("How do I find out which people skills I still lack?", "action-2"),
    ("What is the main takeaway: adapt and lean on human value?", "summary"),
]


@pytest.fixture(scope="module")
def searcher(guide_settings):
    return GuideSearcher.open(guide_settings)


@pytest.mark.parametrize(("question", "section"), PARAPHRASES)
def test_the_right_section_is_in_the_top_5(searcher, question, section):
    result = searcher.search(question, k=5)
    assert section in result.section_ids, f"{question!r} retrieved {result.section_ids}"
    assert result.in_scope


def test_hit_rate_at_1_is_high(searcher):
    top = [searcher.search(q, k=5).section_ids[0] == s for q, s in PARAPHRASES]
    assert sum(top) / len(top) >= 0.6, f"hit@1 {sum(top)}/{len(top)}"


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "Give me a recipe for lasagna",
        "Who won the football world cup in 2018?",
        "What's the weather like tomorrow?",
        "Tell me a joke about cats",
    ],
)
def test_unrelated_questions_are_flagged_out_of_scope(searcher, question):
    assert not searcher.search(question).in_scope


def test_the_profile_enriches_but_does_not_replace_the_question(searcher):
    question = "Which of these threats apply to someone like me?"
    plain = searcher.search(question, k=5).section_ids
    designer = searcher.search(
        question, profile_text="logo design social media graphics", k=5
    ).section_ids
    assert plain != designer
    assert any(s in designer[:3] for s in ("threat-1", "threat-2", "threat-3"))
    # the scope signal comes from the question alone
    assert not searcher.search("lasagna recipe", profile_text="copywriting blog posts").in_scope


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_returns_k_hits(searcher, mode):
    result = searcher.search("How do I choose a niche?", k=3, mode=mode)
    assert len(result.hits) == 3
    assert "strategy-2" in result.section_ids or "action-3" in result.section_ids


def test_a_blank_question_finds_nothing(searcher):
    result = searcher.search("   ")
    assert result.hits == [] and not result.in_scope


def test_the_lexical_index_is_built_once_per_corpus_version(guide_settings, searcher):
    assert GuideSearcher.open(guide_settings) is searcher


def test_a_searcher_loaded_from_the_saved_index_answers_as_a_freshly_built_one(fresh_settings):
    from thrive.knowledge import lexical
    from thrive.knowledge.ingest import ingest
    from thrive.knowledge.store import GuideIndex, all_chunks, connect, lexical_root

    ingest(fresh_settings)  # saves the version's BM25 index beside it
    (saved,) = lexical_root(fresh_settings).glob("*@*")
    GuideSearcher._cache.clear()
    loaded = GuideSearcher.open(fresh_settings)
    collection = GuideIndex(connect(fresh_settings), fresh_settings.collection).require_active()
    built = GuideSearcher(collection, all_chunks(collection), fresh_settings.scope_threshold)
    # Without settings it has no corpus folder: no outside topics, no tuned encoder, and a
    # tax question is not declined as outside the guide (only the scope threshold judges).
    assert built.tuned_keys() is None and built.outside_topics() is None
    assert built.search("Can I deduct my ChatGPT subscription from my taxes?").outside_topic is None
    built._tuned_read = False  # looked up again below, now with settings
    built.settings = fresh_settings  # as `open` does: its corpus names the tuned encoder
    assert built.tuned_keys() is not None and built.outside_topics() is not None
    assert list(loaded.chunks) == list(built.chunks)
    for question, _ in PARAPHRASES[:8]:
        for mode in ("bm25", "hybrid"):
            assert loaded.search(question, mode=mode).hits == built.search(question, mode=mode).hits
    # a damaged saved index is built again, never served
    (saved / lexical.TEXTS).write_bytes(b"\x00garbage")
    (saved / lexical.OFFSETS).write_bytes(b"not numpy")
    GuideSearcher._cache.clear()
    again = GuideSearcher.open(fresh_settings)
    assert list(again.chunks) == list(built.chunks)
    assert (
        again.search(PARAPHRASES[0][0]).section_ids == built.search(PARAPHRASES[0][0]).section_ids
    )
