"""Niche finder: specific niches for this person, in the pattern of the guide's own examples.

The guide's niches combine a skill, an industry and something AI cannot do well:
"Cybersecurity Content Writer", "UX Design for Healthcare AI Applications", "AI Ethics
Consulting", "creative direction for marketing campaigns". Offline (`offline`), each
pattern of `catalogue` is filled with the profile's skills and domains; every candidate is
scored by the exposure check and "high" ones are dropped, so a niche never lands back in
automatable work.

With a generative backend (`llm`) the model writes the niches as JSON, validated by pydantic
and by the same checks (names the person's skill or domain, cites a strategy, three first steps,
not "high", no repeats); invalid output is retried once, then the offline result is used.
"""

from thrive.coaching.tools.niches.llm import (
    DraftNiche,
    DraftNiches,
    InvalidNiches,
    check_draft,
    llm_niches,
    parse_draft,
)
from thrive.coaching.tools.niches.offline import offline_niches
from thrive.coaching.tools.niches.suggest import suggest_niches
from thrive.coaching.tools.niches.types import DEFAULT_COUNT, MIN_COUNT, Niche, NicheSuggestions

__all__ = [
    "DEFAULT_COUNT",
    "MIN_COUNT",
    "DraftNiche",
    "DraftNiches",
    "InvalidNiches",
    "Niche",
    "NicheSuggestions",
    "check_draft",
    "llm_niches",
    "offline_niches",
    "parse_draft",
    "suggest_niches",
]
