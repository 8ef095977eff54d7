"""With a language model: the prompt, the JSON it must write, the checks it must pass
(names the person's skill or domain, cites a strategy, three first steps, not "high", no
repeats), and one retry with the validation error."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from thrive.base.errors import BackendUnavailable, ThriveError
from thrive.base.schema import AnswerRequest, Profile
from thrive.coaching.tools.exposure import ExposureScorer
from thrive.coaching.tools.niches.matching import name_key, names_profile, profile_terms
from thrive.coaching.tools.niches.types import MIN_COUNT, Niche
from thrive.knowledge.guide import Guide
from thrive.models.base import Backend

StrategyId = Literal[
    "strategy-1", "strategy-2", "strategy-3", "strategy-4", "strategy-5", "strategy-6", "strategy-7"
]
Step = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=300)]


class DraftNiche(BaseModel):
    """One niche as the model must write it."""

    model_config = ConfigDict(extra="ignore")
    niche: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=120)]
    why: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=800)]
    strategies: list[StrategyId] = Field(min_length=1, max_length=4)
    first_steps: list[Step] = Field(min_length=3, max_length=3)


class DraftNiches(BaseModel):
    model_config = ConfigDict(extra="ignore")
    niches: list[DraftNiche] = Field(min_length=MIN_COUNT, max_length=6)


class InvalidNiches(ValueError):
    """The model's output failed validation; the message is fed back to it once."""


_SYSTEM = """You help a freelancer find niches where human expertise beats generative AI.
Use only the guide passages given. A good niche combines one of the person's skills with an
industry and something AI cannot do well, like the guide's "Cybersecurity Content Writer"
or "UX Design for Healthcare AI Applications".
Reply with JSON only, no prose, exactly in this shape:
{"niches": [{"niche": "short name", "why": "one or two sentences",
  "strategies": ["strategy-2"], "first_steps": ["step 1", "step 2", "step 3"]}]}
Rules: exactly 3 niches; every niche name contains one of the person's skills or
industries word for word; "why" is one sentence; "strategies" holds ids from the list
given; exactly three concrete first steps of under 20 words each; no two niches alike;
nothing routine or template-like that AI already does. Keep the whole reply short."""


def _messages(profile: Profile, guide: Guide) -> list[tuple[str, str]]:
    strategies = "\n".join(f"- strategy-{n}: {guide.title(f'strategy-{n}')}" for n in range(1, 8))
    passages = "\n".join(f"[{sid}] {guide.text(sid)}" for sid in ("strategy-1", "strategy-2"))
    terms = "; ".join(profile_terms(profile)) or "none given"
    user = (
        f"The person: {profile.describe()}\nTheir skills and industries: {terms}\n\n"
        f"Strategy ids:\n{strategies}\n\nGuide passages:\n{passages}\n\nJSON:"
    )
    return [("system", _SYSTEM), ("human", user)]


def parse_draft(text: str) -> DraftNiches:
    """The JSON object (or bare list) in a model's reply, validated. Raises `InvalidNiches`."""
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise InvalidNiches("The reply holds no JSON.")
    try:
        data, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as err:
        raise InvalidNiches(f"The JSON does not parse: {err.msg} at character {err.pos}.") from err
    if isinstance(data, list):
        data = {"niches": data}
    try:
        return DraftNiches.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()[:5]
        )
        raise InvalidNiches(f"The JSON does not fit the schema: {problems}.") from err


def check_draft(draft: DraftNiches, profile: Profile, scorer: ExposureScorer) -> list[Niche]:
    """Apply the rules pydantic cannot: names the profile, no repeats, not "high"."""
    names = [n.niche for n in draft.niches]
    keys = [name_key(n) for n in names]
    if len(set(keys)) < len(keys):
        raise InvalidNiches("Two niches are the same; make each one different.")
    if profile_terms(profile):
        missing = [n for n in names if not names_profile(n, profile)]
        if missing:
            raise InvalidNiches(
                f"These niche names do not name the person's skills or industries: "
                f"{'; '.join(missing)}."
            )
    scored = scorer.score(names)
    niches = [
        Niche(d.niche, d.why, e.level, list(dict.fromkeys(d.strategies)), d.first_steps, e.score)
        for d, e in zip(draft.niches, scored, strict=True)
        if e.level != "high"
    ]
    if len(niches) < MIN_COUNT:
        high = [e.skill for e in scored if e.level == "high"]
        raise InvalidNiches(
            f"These niches are routine work AI already does: {'; '.join(high)}. Suggest more "
            "specialised, human-centric ones."
        )
    return niches


def llm_niches(
    profile: Profile, guide: Guide, scorer: ExposureScorer, backend: Backend
) -> list[Niche]:
    """Ask the model, retrying once with the validation error. Raises `InvalidNiches` or
    `ThriveError` when no usable niches came back."""
    messages = _messages(profile, guide)
    error: InvalidNiches | None = None
    for _attempt in range(2):
        request = AnswerRequest("niches", [], profile, [], messages, max_tokens=1024)
        try:
            reply = backend.complete(request)
        except ThriveError:
            raise
        except Exception as err:  # a model's own failure: the offline niches still serve
            raise BackendUnavailable(
                f"{backend.name} failed while writing niches: {err}",
                fix="Try again, or use THRIVE_LLM=extractive.",
            ) from err
        try:
            return check_draft(parse_draft(reply), profile, scorer)
        except InvalidNiches as err:
            error = err
            messages = [
                *messages,
                ("assistant", reply[:4000]),  # a role both LangChain and llama.cpp know
                ("human", f"That reply was not usable: {err} Reply again with the JSON only."),
            ]
    assert error is not None
    raise error
