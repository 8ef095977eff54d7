"""The offline coach applies the guide to the person's work: it names it, gives its
exposure and the threats behind it, and says when the guide does not name that work."""

import re

import pytest

from thrive.base.schema import Profile
from thrive.coaching.chain import for_work, unique_passages
from thrive.coaching.work import named_part, work_in
from thrive.knowledge.retrieval import Hit, SearchResult


@pytest.mark.parametrize(
    ("question", "work"),
    [
        ("I'm a freelance translator. Should I be worried?", "translator"),
        ("I'm a voice-over artist. What now?", "voice-over artist"),
        ("As a transcriptionist I'm losing work to automatic captions.", "transcriptionist"),
        ("I edit wedding videos. Do AI editing apps threaten me?", "editing wedding videos"),
        ("Most of my gigs are simple data entry. What is my outlook?", "data entry"),
        ("I am a UX researcher and wonder about AI", "UX researcher"),
        ("I'm an illustrator doing children's book art. Am I doomed?", "illustrator"),
        ("I do bookkeeping for small businesses. What should I do this month?", "bookkeeping"),
        ("If I'm a translator, should I worry?", "translator"),
        ("I do data entry already. Is that a dead end?", "data entry"),  # not "... already"
    ],
)
def test_the_work_a_question_names_is_found(question, work):
    assert work_in(question, Profile()) == work


def test_whether_the_guide_names_the_work_depends_on_what_is_made_not_the_verb(coach):
    guide = coach.guide
    assert guide.names(named_part("selling blog posts", Profile()))  # the guide names blog posts
    assert not guide.names(named_part("editing wedding videos", Profile()))
    assert not guide.names(named_part("translator", Profile()))
    assert named_part("tutoring", Profile()) == "tutoring"  # a bare verb is the work itself
    # The profile's own wording is kept whole.
    assert named_part("managing editor", Profile(occupation="managing editor")) == (
        "managing editor"
    )


def test_without_work_in_the_question_the_profile_speaks():
    assert work_in("Am I at risk?", Profile(occupation="court interpreter")) == "court interpreter"
    assert work_in("Am I at risk?", Profile(skills=["logo design"])) == "logo design"
    assert work_in("Am I at risk?", Profile()) is None
    assert work_in("As a freelancer, what should I do?", Profile()) is None


@pytest.mark.parametrize(
    "question",
    [
        "What should I do this month?",
        "What should I do first?",
        "What do I do now?",
        "Pretend I'm a client who found a cheaper AI illustrator. Why would I stay with you?",
        "I'm a bit worried about my job.",
        "What would deeper, research-heavy writing look like, instead of the articles I do now?",
    ],
)
def test_a_question_about_doing_or_a_supposed_role_names_no_work(question):
    """ "this month", "first" or "client" are not the person's work: the profile speaks."""
    assert work_in(question, Profile()) is None
    assert work_in(question, Profile(occupation="translator")) == "translator"


def test_a_follow_up_keeps_the_work_named_earlier_in_the_conversation():
    earlier = ["Thanks.", "I'm a voice-over artist doing audiobooks."]  # newest first
    assert work_in("What should I do first?", Profile(), earlier) == "voice-over artist"
    assert work_in("I'm a tutor now. What first?", Profile(), earlier) == "tutor"


def test_a_follow_up_answer_opens_with_the_work_from_the_conversation(coach):
    history = [
        {"role": "user", "content": "I'm a voice-over artist doing audiobooks."},
        {"role": "assistant", "content": "Here is what the guide says about this."},
    ]
    answer = coach.ask("What should I do first?", history=history)
    assert answer.text.startswith("**Your work: voice-over artist.**"), answer.text[:200]


def test_the_answer_opens_with_the_work_its_exposure_and_the_guides_silence(coach):
    answer = coach.ask("I'm a voice-over artist. What now?")
    opening = answer.text.split("\n\n")[0]
    assert opening.startswith("**Your work: voice-over artist.**")
    assert any(level in opening for level in ("**high**", "**medium**", "**low**"))
    assert "/100" in opening
    assert "does not name this work" in opening
    assert "[" in opening  # the closest parts of the guide are cited
    # every citation in the answer is of a retrieved section
    assert {c.section_id for c in answer.citations} <= set(answer.retrieved)


def test_work_the_guide_names_is_not_called_unnamed(coach):
    answer = coach.ask("Most of my gigs are simple data entry. What is my outlook?")
    opening = answer.text.split("\n\n")[0]
    assert opening.startswith("**Your work: data entry.**")
    assert "does not name" not in opening


def test_an_answer_about_someones_work_always_says_what_to_do_about_it(coach):
    # The top five for this question are action steps and a threat; a strategy comes from
    # the search's reserve, after them, and is cited.
    answer = coach.ask("I do bookkeeping for small businesses. What should I do this month?")
    assert "**What to do about it**" in answer.text
    cited = {c.section_id for c in answer.citations}
    assert any(s.startswith("strategy-") for s in cited), answer.text
    assert cited <= set(answer.retrieved)
    assert len(answer.retrieved) == 6 and answer.retrieved[-1].startswith("strategy-")
    assert not any(s.startswith("strategy-") for s in answer.retrieved[:5])


def test_the_reserve_adds_a_strategy_and_a_step_only_where_none_was_retrieved(coach):
    chunks = {c.metadata["section_id"]: c for c in coach.searcher.text_chunks}

    def hits(*ids):
        return [Hit(chunks[i], 0.0, 0.0) for i in ids]

    def ids(hits, reserve):
        result = SearchResult(hits, 0.5, True, None, reserve)
        top = unique_passages(result.hits)
        return [p.section_id for p in top + for_work(top, result)]

    reserve = hits("threat-2", "action-2", "strategy-3", "strategy-1", "action-4")
    # Each missing kind once, its best-ranked reserve section, in the reserve's order.
    assert ids(hits("threat-1"), reserve) == ["threat-1", "action-2", "strategy-3"]
    assert ids(hits("action-1", "threat-1"), reserve) == ["action-1", "threat-1", "strategy-3"]
    assert ids(hits("action-1", "strategy-2"), reserve) == ["action-1", "strategy-2"]
    assert ids(hits("threat-1"), hits("threat-2")) == ["threat-1"]  # nothing to add
    assert ids(hits("threat-1"), []) == ["threat-1"]  # an empty reserve adds nothing


def test_the_next_step_for_work_the_guide_does_not_name_is_one_of_its_action_steps(coach):
    # Not an example of a strategy, which is about work the guide names ("Offer freelance
    # services in AI strategy consulting ..." told to a bookkeeper).
    answer = coach.ask("I'm a bookkeeper. Is AI coming for my clients?")
    assert "does not name" in answer.text.split("\n\n")[0]
    step = answer.text.split("**Your next step this month**\n- ")[1].split("\n")[0]
    assert re.search(r"\[action-\d\]$", step), answer.text
    assert {c.section_id for c in answer.citations} <= set(answer.retrieved)
    # This question's top five hold no action step: the step came from the reserve.
    assert not any(s.startswith("action-") for s in answer.retrieved[:5])
    assert answer.retrieved[5].startswith("action-")


def test_without_named_work_no_strategy_is_added(coach):
    answer = coach.ask("What should I do this month?")
    assert len(answer.retrieved) == 5
