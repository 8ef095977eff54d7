"""The coaching tools: skill exposure check, niche finder and 30-day action plan.

Each works from the guide's own text (threats, strategies, action steps), so every result
cites the sections it rests on, and each runs offline; an LLM backend may only improve the
niche finder's wording, never the exposure score.
"""

from thrive.coaching.tools.exposure import (
    EVIDENCE_CREDIT,
    ExposureScorer,
    SkillExposure,
    no_occupation_match,
    parse_skills,
)
from thrive.coaching.tools.niches import Niche, NicheSuggestions, suggest_niches
from thrive.coaching.tools.plan import ActionPlan, PlanItem, build_plan

__all__ = [
    "EVIDENCE_CREDIT",
    "ActionPlan",
    "ExposureScorer",
    "Niche",
    "NicheSuggestions",
    "PlanItem",
    "SkillExposure",
    "build_plan",
    "no_occupation_match",
    "parse_skills",
    "suggest_niches",
]
