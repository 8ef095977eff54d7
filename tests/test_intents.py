"""Chat messages that ask for a coaching tool reach it; ordinary questions do not."""

from __future__ import annotations

import pytest

from thrive.coaching.coach import Coach
from thrive.coaching.intents import detect_intent, run_intent, skills_in


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("Which of my skills are at risk?", "exposure"),
        ("which of my skills are most exposed to AI?", "exposure"),
        ("Are copywriting and SEO at risk?", "exposure"),
        ("Is my logo design work safe from AI?", "exposure"),
        ("check these skills: logo design; UX research", "exposure"),
        ("Suggest niches", "niches"),
        ("What niche should I choose?", "niches"),
        ("Give me some niche ideas", "niches"),
        ("Make me a plan", "plan"),
        ("Give me a 30-day plan", "plan"),
        ("Can you build me an action plan for next month", "plan"),
        ("Am I at risk?", None),
        ("Should I niche down?", None),
        ("How do I stop competing on price with AI tools?", None),
        ("What skills should I learn?", None),
        ("I do not want a plan", None),
        ("What is the capital of France?", None),
    ],
)
def test_detect_intent(message: str, intent: str | None) -> None:
    assert detect_intent(message) == intent


@pytest.mark.parametrize(
    ("message", "skills"),
    [
        ("Are copywriting and SEO at risk?", ["copywriting", "SEO"]),
        ("Is my logo design work safe from AI?", ["logo design"]),
        ("check these: logo design; UX research", ["logo design", "UX research"]),
        ("Which of my skills are at risk?", []),
    ],
)
def test_skills_named_in_the_message(message: str, skills: list[str]) -> None:
    assert skills_in(message) == skills


def test_exposure_uses_the_named_skills_else_the_profile(coach: Coach) -> None:
    named = run_intent(coach, "exposure", "Are logo design and UX research at risk?")
    assert named.exposure is not None
    assert [r.skill for r in named.exposure] == ["logo design", "UX research"]
    assert "| logo design |" in named.text and "[threat-1]" in named.text
    from_profile = run_intent(
        coach, "exposure", "Which of my skills are at risk?", {"skills": "SEO"}
    )
    assert from_profile.exposure is not None and from_profile.exposure[0].skill == "SEO"


def test_exposure_without_skills_asks_for_them(coach: Coach) -> None:
    result = run_intent(coach, "exposure", "Which of my skills are at risk?", {})
    assert not result.complete and "Tell me which skills" in result.text


def test_niches_and_plan_run_for_the_profile(coach: Coach) -> None:
    profile = {"skills": ["copywriting"], "interests": ["fintech"]}
    niches = run_intent(coach, "niches", "suggest niches", profile)
    assert niches.niches is not None and len(niches.niches) >= 3
    assert niches.niches[0].niche in niches.text
    plan = run_intent(coach, "plan", "make me a plan", profile)
    assert plan.plan is not None and "30-day plan" in plan.text
