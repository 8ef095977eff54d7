"""The niche finder: specific, cited, not exposed, built on the person's own work."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from thrive.base.settings import Settings
from thrive.coaching.coach import Coach
from thrive.coaching.tools.niches import InvalidNiches, parse_draft
from thrive.knowledge.guide import STRATEGIES
from thrive.models.chat_model import ChatModelBackend

PROFILES: list[dict[str, Any]] = [
    {"skills": ["copywriting", "SEO"], "interests": ["fintech"], "experience_years": 6},
    {"skills": ["logo design", "illustration"], "interests": ["sustainable fashion", "healthcare"]},
    {"skills": ["basic data entry"], "services": ["bookkeeping"], "interests": ["small law firms"]},
    {"skills": ["Python"], "services": ["web scraping"], "goals": "fewer, bigger projects"},
    {"interests": ["education"], "goals": "move away from routine work"},
]
_GENERIC = {"and", "for", "the", "basic", "services", "work", "skills"}


def words_of(profile: dict[str, Any]) -> set[str]:
    """The telling words of a profile's skills, services and interests."""
    terms = [
        *profile.get("skills", []),
        *profile.get("services", []),
        *profile.get("interests", []),
    ]
    return {w for t in terms for w in re.findall(r"[a-z0-9]+", t.lower())} - _GENERIC


def names_profile(niche: str, profile: dict[str, Any]) -> bool:
    return bool(words_of(profile) & set(re.findall(r"[a-z0-9]+", niche.lower())))


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: "+".join(words_of(p))[:40])
def test_offline_niches_are_specific_cited_and_not_exposed(
    coach: Coach, profile: dict[str, Any]
) -> None:
    result = coach.niches(profile)
    assert len(result) >= 3
    names = [n.niche for n in result]
    assert len({n.lower() for n in names}) == len(names), f"duplicates: {names}"
    for niche in result:
        assert names_profile(niche.niche, profile), f"{niche.niche!r} names nothing of {profile}"
        assert niche.strategies and set(niche.strategies) <= set(STRATEGIES), niche
        assert len(niche.first_steps) == 3 and all(len(s) > 20 for s in niche.first_steps)
        assert niche.exposure in ("low", "medium"), niche
        assert niche.why and "[strategy-" in niche.why
    # The exposure shown is the exposure check's, not a label of the composer's own.
    checked = coach.exposure(names)
    assert [n.exposure for n in result] == [c.level for c in checked]


def test_niches_json_has_the_design_md_shape(coach: Coach) -> None:
    for item in coach.niches(PROFILES[0]).to_json():
        assert list(item) == ["niche", "why", "exposure", "strategies", "first_steps"]
        assert all(isinstance(s, str) for s in item["first_steps"])


def test_an_exposed_skill_is_lifted_not_repeated(coach: Coach) -> None:
    """Nobody is told to niche into "basic data entry": the qualifier goes, the skill stays."""
    result = coach.niches({"skills": ["basic data entry"], "interests": ["logistics"]})
    assert all("basic" not in n.niche.lower() for n in result)
    assert all(n.exposure != "high" for n in result)


def test_an_empty_profile_gets_the_guides_own_niches_and_says_so(coach: Coach) -> None:
    result = coach.niches({})
    assert result.generic and "empty" in result.notice
    names = [n.niche for n in result]
    assert len(names) >= 3
    assert "AI Ethics Consulting" in names and "Cybersecurity Content Writer" in names


def test_no_industry_falls_back_to_the_guides_and_says_so(coach: Coach) -> None:
    result = coach.niches({"skills": ["translation"]})
    assert "industry" in result.notice
    assert all("translation" in n.niche.lower() for n in result)


# -- with a language model (a fake chat model, not a mock) ---------------------------------

VALID = {
    "niches": [
        {
            "niche": "Expert Fintech Content Strategy for Compliance Teams",
            "why": "Regulated fintech copy needs expert judgement [strategy-2].",
            "strategies": ["strategy-2", "strategy-1"],
            "first_steps": ["Study one regulation.", "Rewrite one page.", "Pitch two banks."],
        },
        {
            "niche": "Brand Strategy for Fintech Startups",
            "why": "Startups need positioning more than words [strategy-7].",
            "strategies": ["strategy-7"],
            "first_steps": ["Write a case study.", "Offer a workshop.", "Price by outcome."],
        },
        {
            "niche": "AI Ethics Consulting for Fintech Marketing",
            "why": "Marketing teams using AI need ethical guidance [strategy-2].",
            "strategies": ["strategy-2", "strategy-7"],
            "first_steps": ["List the risks.", "Draft a checklist.", "Offer a review."],
        },
    ]
}
EXPOSED = {
    "niches": [
        {**VALID["niches"][0], "niche": "Basic fintech product descriptions"},
        {**VALID["niches"][1], "niche": "Fintech social media graphics"},
        {**VALID["niches"][2], "niche": "Fintech data entry and email management"},
    ]
}
PROFILE = {"skills": ["copywriting"], "interests": ["fintech"]}


class PromptLog(BaseCallbackHandler):
    """Records the messages each model call was given."""

    def __init__(self) -> None:
        self.calls: list[list[BaseMessage]] = []

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        self.calls.append(messages[0])


def coach_with(
    settings: Settings, replies: Iterator[AIMessage], log: PromptLog | None = None
) -> Coach:
    model = GenericFakeChatModel(messages=replies, callbacks=[log] if log else None)
    return Coach(settings, backend=ChatModelBackend(model, "fake:niches"))


def test_llm_niches_are_used_when_valid(guide_settings: Settings) -> None:
    replies = iter([AIMessage("```json\n" + json.dumps(VALID) + "\n```")])
    result = coach_with(guide_settings, replies).niches(PROFILE)
    assert result.backend == "fake:niches" and not result.notice
    assert [n.niche for n in result] == [n["niche"] for n in VALID["niches"]]
    assert all(n.exposure != "high" for n in result)


def test_invalid_llm_output_is_retried_once(guide_settings: Settings) -> None:
    replies = iter([AIMessage("Here are some great niches for you!"), AIMessage(json.dumps(VALID))])
    log = PromptLog()
    result = coach_with(guide_settings, replies, log).niches(PROFILE)
    assert result.backend == "fake:niches"
    assert result[0].niche == VALID["niches"][0]["niche"]
    assert next(replies, None) is None  # both replies were used
    assert len(log.calls) == 2
    retry = log.calls[1]
    assert "great niches" in str(retry[-2].content)  # the bad reply, then what was wrong
    assert "not usable" in str(retry[-1].content) and "no JSON" in str(retry[-1].content)


def test_a_failing_model_falls_back_to_the_offline_niches(guide_settings: Settings) -> None:
    result = coach_with(guide_settings, iter([])).niches(PROFILE)  # the fake has nothing to say
    assert result.backend == "extractive" and "fake:niches" in result.notice
    assert len(result) >= 3


@pytest.mark.parametrize(
    "first,second",
    [
        ("not json at all", '{"niches": []}'),
        (json.dumps(EXPOSED), json.dumps(EXPOSED)),  # valid JSON, but routine work AI does
        (
            json.dumps({"niches": [{**n, "first_steps": ["one"]} for n in VALID["niches"]]}),
            json.dumps(
                {"niches": [{**n, "niche": f"Plumbing {i}"} for i, n in enumerate(VALID["niches"])]}
            ),
        ),
    ],
    ids=["no-json", "too-exposed", "bad-steps-then-off-profile"],
)
def test_invalid_llm_output_twice_falls_back_to_the_offline_niches(
    coach: Coach, guide_settings: Settings, first: str, second: str
) -> None:
    third = AIMessage(json.dumps(VALID))  # never reached: one retry only
    replies = iter([AIMessage(first), AIMessage(second), third])
    result = coach_with(guide_settings, replies).niches(PROFILE)
    assert result.backend == "extractive"
    assert "fake:niches gave no usable niches" in result.notice
    assert [n.to_json() for n in result] == coach.niches(PROFILE).to_json()
    assert next(replies) is third


def test_parse_draft_reports_what_is_wrong() -> None:
    with pytest.raises(InvalidNiches, match="no JSON"):
        parse_draft("sorry")
    with pytest.raises(InvalidNiches, match="first_steps"):
        parse_draft(json.dumps({"niches": [{**n, "first_steps": []} for n in VALID["niches"]]}))
    with pytest.raises(InvalidNiches, match="strategies"):
        parse_draft(json.dumps([{**n, "strategies": ["threat-1"]} for n in VALID["niches"]]))
    assert len(parse_draft("Sure:\n" + json.dumps(VALID["niches"])).niches) == 3
