"""Whether a niche names the person's own skill or domain, and when two niches are the same."""

from __future__ import annotations

import re

from thrive.base.schema import Profile
from thrive.base.text import mentions
from thrive.coaching.tools.exposure import EXPOSED_CUES

_WORD = re.compile(r"[a-z0-9][a-z0-9+#.-]*", re.I)
# Words too general to show that a niche is about the person's own skill or domain.
_GENERIC_WORDS = {
    "and", "for", "the", "with", "from", "into", "work", "services", "service", "tasks",
    "skills", "skill", "content", "freelance", "freelancer", "basic", "simple", "general",
    "generic", "routine", "repetitive", "entry-level",
}  # fmt: skip


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


def name_key(name: str) -> str:
    """The name's words, lower-cased: two niches with the same key are the same niche."""
    return " ".join(_WORD.findall(name.lower()))
