"""The offline composer: each of the guide's patterns filled with the profile's skills and
domains; every candidate is scored by the exposure check and "high" ones are dropped, so a
niche never lands back in automatable work."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from thrive.base.schema import Profile
from thrive.coaching.tools.exposure import ExposureScorer, Level
from thrive.coaching.tools.niches.catalogue import (
    GUIDE_DOMAINS,
    PATTERNS,
    Pattern,
    guide_examples,
    human_centric_skills,
)
from thrive.coaching.tools.niches.matching import core_skill, name_key
from thrive.coaching.tools.niches.types import DEFAULT_COUNT, MIN_COUNT, Niche, NicheSuggestions
from thrive.knowledge.guide import Guide


def _title(text: str) -> str:
    """Title case that keeps acronyms and brand spellings ("UX", "B2B SaaS") as written."""
    return " ".join(w[:1].upper() + w[1:] if w.islower() else w for w in text.split())


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
            key = name_key(candidate.name)
            if exposure.level == "high" or key in seen:
                continue
            if one_per_pattern and candidate.pattern.key in used_patterns:
                continue
            seen.add(key)
            used_patterns.add(candidate.pattern.key)
            chosen.append(_niche_of(candidate, exposure.level, exposure.score))
    if len(chosen) < MIN_COUNT:  # only possible with a very unusual guide
        extra = _guide_niches(guide, scorer, count).niches
        chosen += [n for n in extra if name_key(n.niche) not in seen][: MIN_COUNT - len(chosen)]
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
