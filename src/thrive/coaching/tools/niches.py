"""Niche finder: specific niches for this person, in the pattern of the guide's own examples.

The guide's niches combine a skill, an industry and something AI cannot do well:
"Cybersecurity Content Writer", "UX Design for Healthcare AI Applications", "AI Ethics
Consulting", "creative direction for marketing campaigns". Offline, each pattern below is
filled with the profile's skills and domains; every candidate is scored by the exposure
check and "high" ones are dropped, so a niche never lands back in automatable work.

With a generative backend the model writes the niches as JSON, validated by pydantic and by
the same checks (names the person's skill or domain, cites a strategy, three first steps,
not "high", no repeats); invalid output is retried once, then the offline result is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from thrive.base.errors import BackendUnavailable, ThriveError
from thrive.base.schema import AnswerRequest, Profile
from thrive.base.text import mentions
from thrive.coaching.tools.exposure import EXPOSED_CUES, ExposureScorer, Level
from thrive.knowledge.guide import Guide
from thrive.models.base import Backend

DEFAULT_COUNT = 4
MIN_COUNT = 3
# Used when the profile names skills but no industry: the industries of the guide's own
# niche examples ("UX Design for Healthcare AI Applications", "Cybersecurity Content Writer").
GUIDE_DOMAINS = ("healthcare", "cybersecurity")
_QUOTED = re.compile(r"[\"“]([^\"”]{4,80}?),?[\"”]")
_LABELLED = re.compile(r"^([A-Z][^:.]{3,60}):\s")
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*", re.I)
# Words too general to show that a niche is about the person's own skill or domain.
_GENERIC_WORDS = {
    "and", "for", "the", "with", "from", "into", "work", "services", "service", "tasks",
    "skills", "skill", "content", "freelance", "freelancer", "basic", "simple", "general",
    "generic", "routine", "repetitive", "entry-level",
}  # fmt: skip


@dataclass(frozen=True)
class Niche:
    """One suggested niche. `score` is its exposure score (0-100) behind `exposure`."""

    niche: str
    why: str
    exposure: Level
    strategies: list[str]
    first_steps: list[str]
    score: int = 0

    def to_json(self) -> dict[str, Any]:
        """The `thrive niches --json` item shape fixed in DESIGN.md."""
        return {
            "niche": self.niche,
            "why": self.why,
            "exposure": self.exposure,
            "strategies": list(self.strategies),
            "first_steps": list(self.first_steps),
        }


@dataclass
class NicheSuggestions:
    """The niches for one profile; iterate it like a list. `notice` explains a fallback."""

    niches: list[Niche]
    backend: str = "extractive"
    notice: str = ""
    generic: bool = False  # True when the profile was empty and the guide's own niches are shown

    def __iter__(self) -> Iterator[Niche]:
        return iter(self.niches)

    def __len__(self) -> int:
        return len(self.niches)

    def __getitem__(self, index: int) -> Niche:
        return self.niches[index]

    def to_json(self) -> list[dict[str, Any]]:
        return [n.to_json() for n in self.niches]

    def to_markdown(self) -> str:
        """A short Markdown summary, e.g. for the chat history."""
        lines = [self.notice, ""] if self.notice else []
        for n in self.niches:
            cites = " ".join(f"[{s}]" for s in n.strategies)
            lines.append(f"**{n.niche}** (exposure: {n.exposure}) {cites}  \n{n.why}")
            lines += [f"{i}. {step}" for i, step in enumerate(n.first_steps, 1)]
            lines.append("")
        return "\n".join(lines).strip()


# -- the guide's niche patterns ------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """A way the guide builds a niche. Names and steps are filled with {skill}/{domain}."""

    key: str
    name: str
    example: str  # the guide's own example of the pattern, quoted in the why
    source: str  # the section the example comes from
    reason: str
    strategies: tuple[str, ...]
    steps: tuple[str, str, str]
    needs_skill: bool = True


PATTERNS = (
    Pattern(
        "specialist",
        "{Skill} Specialist for {Domain}",
        "Cybersecurity Content Writer",
        "strategy-2",
        "deep {domain} knowledge turns {skill} into expert-level work that generic AI output "
        "cannot match",
        ("strategy-2", "strategy-1"),
        (
            "Write one in-depth {skill} piece on a hard {domain} question, using sources you "
            "checked yourself.",
            'Retitle your profile and portfolio "{niche}" and put that piece first.',
            "Pitch it to three {domain} companies that need specialised knowledge, not volume.",
        ),
    ),
    Pattern(
        "emerging-tech",
        "{Skill} for {Domain} AI Applications",
        "UX Design for Healthcare AI Applications",
        "strategy-2",
        "it pairs your {skill} with a specific industry and an emerging technology, where "
        "understanding people and context matters most",
        ("strategy-2", "strategy-6"),
        (
            "Try two AI products used in {domain} and note where their users still need a "
            "human {skill} judgement.",
            "Take a short course on AI in {domain} and list three problems your {skill} "
            "can solve there.",
            "Offer one {domain} AI team a small paid {skill} review to build a case study.",
        ),
    ),
    Pattern(
        "direction",
        "{Skill} Strategy and Direction for {Domain}",
        "creative direction for marketing campaigns",
        "strategy-7",
        "you set the vision and strategy for {domain} clients and let AI tools handle execution",
        ("strategy-7", "strategy-1", "strategy-3"),
        (
            "Turn one past {skill} job into a case study about the strategy behind it, not "
            "just the output.",
            "Offer a {domain} client a strategy session: their goals, audience and a plan "
            "where AI drafts and you direct.",
            "Price the work per project outcome rather than per deliverable.",
        ),
    ),
    Pattern(
        "ai-consulting",
        "AI Adoption Consulting for {Skill} in {Domain}",
        "AI Ethics Consulting",
        "strategy-2",
        "{domain} teams that use AI for {skill} need human judgement on quality, ethics and "
        "responsible implementation",
        ("strategy-7", "strategy-2", "strategy-3"),
        (
            "List how AI is changing {skill} in {domain} and the risks a client must manage "
            "(accuracy, bias, privacy).",
            "Turn that list into a one-page AI-readiness checklist and share it with two "
            "{domain} contacts.",
            'Package a fixed-price "responsible AI plan" for {skill} in {domain}.',
        ),
    ),
    Pattern(
        "partner",
        "Long-Term {Skill} Partner for {Domain} Businesses",
        "strong, long-term client relationships",
        "strategy-4",
        "{domain} clients pay for someone who understands their context, builds trust and "
        "tailors the work, which generic AI output does not",
        ("strategy-4", "strategy-5"),
        (
            "Ask two past or current {domain} clients what they would hand to a trusted "
            "{skill} partner.",
            "Design a monthly retainer around their answers: regular check-ins plus the "
            "{skill} work itself.",
            "Publish one post showing how you approach {skill} for {domain} businesses.",
        ),
    ),
    Pattern(
        "domain-ethics",
        "Responsible AI Consulting for {Domain}",
        "AI Ethics Consulting",
        "strategy-2",
        "{domain} businesses need help with the ethical challenges of AI implementation, "
        "which calls for judgement rather than generation",
        ("strategy-2", "strategy-7"),
        (
            "Read two recent reports on AI in {domain} and note the ethical questions they raise.",
            "Write a short guide answering one of those questions for {domain} businesses.",
            "Offer a free 30-minute AI risk review to three {domain} organisations.",
        ),
        needs_skill=False,
    ),
)


def _title(text: str) -> str:
    """Title case that keeps acronyms and brand spellings ("UX", "B2B SaaS") as written."""
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in text.split())


def core_skill(skill: str) -> str:
    """The skill without the qualifiers the guide uses for exposed work ("basic", ...)."""
    core = " ".join(EXPOSED_CUES.sub(" ", skill).split())
    return core if len(core) >= 3 else skill


def profile_terms(profile: Profile) -> list[str]:
    """The profile's skills, services and interests: what a niche must name."""
    return [*profile.work(), *profile.interests]


def names_profile(text: str, profile: Profile) -> bool:
    """True if `text` names one of the profile's skills or domains (or a telling word of one)."""
    terms = profile_terms(profile)
    return mentions(text, [*terms, *map(core_skill, terms)], _GENERIC_WORDS)


def _normal(name: str) -> str:
    return " ".join(_WORD.findall(name.lower()))


@dataclass
class _Candidate:
    pattern: Pattern
    skill: str
    domain: str
    name: str = field(init=False)

    def __post_init__(self) -> None:
        # "Consulting & Strategy Strategy and Direction": a word the skill ends with and the
        # pattern repeats is said once.
        self.name = re.sub(r"\b(\w+) \1\b", r"\1", self.fill(self.pattern.name), flags=re.I)

    def fill(self, template: str, **extra: str) -> str:
        return template.format(
            skill=self.skill,
            Skill=_title(self.skill),
            domain=self.domain,
            Domain=_title(self.domain),
            **extra,
        )


def offline_niches(
    profile: Profile, guide: Guide, scorer: ExposureScorer, count: int = DEFAULT_COUNT
) -> NicheSuggestions:
    """Compose niches from the guide's patterns and the profile, without any model."""
    skills = [core_skill(s) for s in profile.work()][:4]
    domains = list(profile.interests[:3])
    if not skills and not domains:
        return _guide_niches(guide, scorer, count)
    notice = ""
    if not skills:
        skills = human_centric_skills(guide)
        notice = (
            "Your profile names no skills, so these niches use the guide's human-centric "
            "ones; add your skills for niches built on your own work."
        )
    if not domains:
        domains = list(GUIDE_DOMAINS)
        notice = (
            "Your profile names no industry, so these niches use the guide's examples "
            "(healthcare, cybersecurity); add your interests for niches in your own field."
        )
    candidates = []
    # Round-robin over skills and domains so the niches spread across the person's work.
    for i, pattern in enumerate(PATTERNS):
        pairs = [(s, d) for s in (skills if pattern.needs_skill else [""]) for d in domains]
        if pattern.needs_skill and not skills:
            continue
        pairs = pairs[i % len(pairs) :] + pairs[: i % len(pairs)]
        candidates += [_Candidate(pattern, s, d) for s, d in pairs]
    scored = scorer.score([c.name for c in candidates])
    chosen: list[Niche] = []
    seen: set[str] = set()
    used_patterns: set[str] = set()
    # First pass: one niche per pattern; second pass fills up if patterns ran out.
    for one_per_pattern in (True, False):
        for candidate, exposure in zip(candidates, scored, strict=True):
            if len(chosen) >= count:
                break
            key = _normal(candidate.name)
            if exposure.level == "high" or key in seen:
                continue
            if one_per_pattern and candidate.pattern.key in used_patterns:
                continue
            seen.add(key)
            used_patterns.add(candidate.pattern.key)
            chosen.append(_niche_of(candidate, exposure.level, exposure.score))
    if len(chosen) < MIN_COUNT:  # only possible with a very unusual guide
        extra = _guide_niches(guide, scorer, count).niches
        chosen += [n for n in extra if _normal(n.niche) not in seen][: MIN_COUNT - len(chosen)]
    return NicheSuggestions(chosen, notice=notice)


def _niche_of(candidate: _Candidate, level: Level, score: int) -> Niche:
    pattern = candidate.pattern
    what = "your {skill} and {domain} know-how" if candidate.skill else "your {domain} focus"
    why = candidate.fill(
        f"Combines {what} in the pattern of the guide's "
        f'"{pattern.example}" [{pattern.source}]: {pattern.reason}.'
    )
    steps = [candidate.fill(s, niche=candidate.name) for s in pattern.steps]
    strategies = list(dict.fromkeys([pattern.source, *pattern.strategies]))
    strategies = [s for s in strategies if s.startswith("strategy-")]
    return Niche(candidate.name, why, level, strategies, steps, score)


def human_centric_skills(guide: Guide) -> list[str]:
    """The guide's labelled examples of human-centric work ("Strategic Content Creation",
    "Complex Design Solutions", ...), lower-cased for use as skills."""
    labels = [m.group(1) for m in map(_LABELLED.match, guide.lines("strategy-1")) if m]
    return [label.lower() for label in labels] or ["strategy consulting"]


def guide_examples(guide: Guide) -> list[tuple[str, str]]:
    """The niches the guide itself names (quoted in strategy 2), with their sentences."""
    out = []
    for line in guide.lines("strategy-2"):
        for name in _QUOTED.findall(line):
            out.append((name.strip(), line))
    return out


def _guide_niches(guide: Guide, scorer: ExposureScorer, count: int) -> NicheSuggestions:
    """For an empty profile: the guide's own example niches, with generic first steps."""
    examples = guide_examples(guide)[:count]
    scored = scorer.score([name for name, _ in examples]) if examples else []
    niches = [
        Niche(
            name,
            f"An example niche from the guide [strategy-2]: {line}",
            exposure.level,
            ["strategy-2", "strategy-1"],
            [
                f'Write down what you already know that relates to "{name}".',
                "Read three recent articles or job posts in this niche and note the problems "
                "clients describe.",
                "Talk to one person working in it about what clients pay a human for.",
            ],
            exposure.score,
        )
        for (name, line), exposure in zip(examples, scored, strict=True)
        if exposure.level != "high"
    ]
    return NicheSuggestions(
        niches,
        notice="Your profile is empty, so these are the guide's own example niches. Add your "
        "skills and interests for niches built on your work.",
        generic=True,
    )


# -- with a language model -----------------------------------------------------------------

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
    keys = [_normal(n) for n in names]
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


def suggest_niches(
    profile: Profile,
    guide: Guide,
    scorer: ExposureScorer,
    backend: Backend | None = None,
    count: int = DEFAULT_COUNT,
) -> NicheSuggestions:
    """Niches for the profile: from the model when `backend` is generative (validated,
    retried once), else, or when that fails, composed offline from the guide."""
    if backend is None or not backend.generative or profile.is_empty:
        return offline_niches(profile, guide, scorer, count)
    try:
        niches = llm_niches(profile, guide, scorer, backend)
    except (InvalidNiches, ThriveError) as err:
        offline = offline_niches(profile, guide, scorer, count)
        offline.notice = " ".join(
            filter(
                None,
                [
                    f"{backend.name} gave no usable niches ({err}); these are the offline coach's.",
                    offline.notice,
                ],
            )
        )
        return offline
    return NicheSuggestions(niches[:count], backend=backend.name)
