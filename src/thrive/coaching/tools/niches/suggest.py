"""The niche finder's one entry point: the model's niches when they pass, else the offline ones."""

from __future__ import annotations

from thrive.base.errors import ThriveError
from thrive.base.schema import Profile
from thrive.coaching.tools.exposure import ExposureScorer
from thrive.coaching.tools.niches.llm import InvalidNiches, llm_niches
from thrive.coaching.tools.niches.offline import offline_niches
from thrive.coaching.tools.niches.types import DEFAULT_COUNT, NicheSuggestions
from thrive.knowledge.guide import Guide
from thrive.models.base import Backend


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
