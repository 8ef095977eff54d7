"""Suggested follow-up questions."""

from __future__ import annotations

from thrive.base.schema import Answer, Citation, Passage
from thrive.coaching.followups import GENERAL, STARTERS, question_for, suggest


def passage(section_id: str, kind: str, title: str) -> Passage:
    return Passage(section_id, title, kind, "text")


PASSAGES = [
    passage("threat-3", "threat", "Devaluation of Certain Skills and Pricing Pressure"),
    passage("strategy-5", "strategy", "Build a Strong Personal Brand and Online Presence"),
    passage("action-3", "action", "Choose a Niche (or Refine Your Existing One)"),
    passage("strategy-1", "strategy", "Focus on High-Value, Human-Centric Skills"),
]


def answer(cited: list[str], refused: bool = False) -> Answer:
    citations = [Citation(p.section_id, p.title, "") for p in PASSAGES if p.section_id in cited]
    return Answer(
        "...", citations, [p.section_id for p in PASSAGES], refused, "extractive", passages=PASSAGES
    )


def test_questions_read_naturally() -> None:
    assert question_for(PASSAGES[0]) == (
        "How do I protect my work against devaluation of certain skills and pricing pressure?"
    )
    assert question_for(PASSAGES[2]) == "How do I choose a niche (or refine my existing one)?"
    assert question_for(PASSAGES[3]) == "How do I focus on high-value, human-centric skills?"
    assert question_for(
        passage("threat-4", "threat", "Quality and Ethical Concerns with AI-Generated Content")
    ).endswith("quality and ethical concerns with AI-generated content?")


def test_three_follow_ups_from_the_cited_sections_strategy_first() -> None:
    out = suggest(answer(["threat-3", "strategy-5", "strategy-1"]))
    assert len(out) == 3 and len(set(out)) == 3
    assert out[0] == "How do I build a strong personal brand and online presence?"
    assert "pricing pressure" in out[1]  # a threat, not a second strategy
    assert out[2] in GENERAL


def test_questions_already_asked_are_not_suggested_again() -> None:
    asked = ["how do I build a strong personal brand and online presence", GENERAL[0]]
    out = suggest(answer(["strategy-5", "threat-3"]), asked=asked)
    assert len(out) == 3
    assert not any("personal brand" in q for q in out) and GENERAL[0] not in out


def test_a_declined_question_gets_the_starter_prompts() -> None:
    assert suggest(answer([], refused=True)) == STARTERS
