"""Building the plan: the guide's seven action steps, dated week by week for one person,
filled with their exposure check, niches and skill gaps. No model is involved."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from thrive.base import embeddings
from thrive.base.schema import Profile
from thrive.coaching.tools.exposure import ExposureScorer, SkillExposure
from thrive.coaching.tools.niches.offline import offline_niches
from thrive.coaching.tools.plan.model import DAYS, ActionPlan, PlanItem, plan_id_for
from thrive.knowledge.guide import Guide

_EMPHASIS = re.compile(r"Emphasize (.+?)\.", re.I)


def human_centric_list(guide: Guide) -> list[str]:
    """The skills strategy 1 tells freelancers to emphasise ("creativity, critical ...")."""
    match = _EMPHASIS.search(guide.text("strategy-1"))
    if not match:
        return ["creativity", "critical thinking", "strategic problem-solving", "communication"]
    items = re.split(r",\s*(?:and\s+)?|\s+and\s+", match.group(1))
    return [i.strip() for i in items if i.strip()]


def skill_gaps(profile: Profile, guide: Guide, n: int = 2) -> list[str]:
    """The human-centric skills furthest from what the person does now (action step 2)."""
    candidates = human_centric_list(guide)
    work = profile.work()
    if not work:
        return candidates[:n]
    sims = embeddings.encode(candidates) @ embeddings.encode(work).T
    closeness = sims.max(axis=1)
    order = np.argsort(closeness, kind="stable")
    return [candidates[i] for i in order[:n]]


def _exposure_line(results: Sequence[SkillExposure]) -> str:
    ranked = sorted(results, key=lambda r: -r.score)
    listed = ", ".join(f"{r.skill} ({r.level}, {r.score})" for r in ranked)
    return f"Exposure check: {listed}. Be honest and realistic about the top one."


def build_plan(
    profile: Profile, guide: Guide, scorer: ExposureScorer, start: date | None = None
) -> ActionPlan:
    """The guide's seven action steps as a dated plan for this profile, from `start`
    (default today). Deterministic: no model is involved."""
    start = start or date.today()
    work = profile.work()
    exposures = scorer.score(work) if work else []
    exposed = max(exposures, key=lambda r: r.score).skill if exposures else "your main service"
    niches = [n.niche for n in offline_niches(profile, guide, scorer, count=3)]
    niche = niches[0] if niches else "your niche"
    field = profile.interests[0] if profile.interests else "your field"
    gaps = skill_gaps(profile, guide)
    gap_text = " and ".join(gaps)
    skills_known = ", ".join(human_centric_list(guide))

    def on(day: int) -> date:
        return start + timedelta(days=day)

    items = [
        PlanItem(
            "assess-score",
            "action-1",
            on(0),
            "Score your skills for AI exposure",
            _exposure_line(exposures)
            if exposures
            else "List the services you sell, then run the exposure check on them.",
        ),
        PlanItem(
            "assess-tasks",
            "action-1",
            on(2),
            "Split your work into what AI can do and what needs you",
            f"For {exposed}, write down which parts a GenAI tool could do today and which "
            "need your judgement, taste or client knowledge.",
        ),
        PlanItem(
            "gaps-pick",
            "action-2",
            on(4),
            "Pick two human-centric skills to strengthen",
            f"Of the guide's list ({skills_known}), the furthest from your current work are "
            f"{gap_text}. Note one way to practise each this month.",
        ),
        PlanItem(
            "niche-choose",
            "action-3",
            on(7),
            "Choose your niche",
            f"Candidates: {'; '.join(niches)}. Pick the one where your expertise matters "
            "most and AI is least able to replace it.",
        ),
        PlanItem(
            "tools-try",
            "action-4",
            on(9),
            "Try a GenAI tool on a real task",
            f"Use one on a real piece of {exposed} work for the first draft or the repetitive "
            "part, then add your expertise. Note what it does well and where it fails.",
        ),
        PlanItem(
            "niche-test",
            "action-3",
            on(11),
            "Test your niche with three potential clients",
            f"Describe {niche} (or the niche you chose) to three people in {field} and write "
            "down what they would pay a human for.",
        ),
        PlanItem(
            "brand-plan",
            "action-5",
            on(14),
            "Write your personal branding plan",
            "A headline, a portfolio page and one thought-leadership topic for your niche, "
            f"showing your human strengths ({gaps[0] if gaps else 'judgement'}, experience).",
        ),
        PlanItem(
            "learning-schedule",
            "action-6",
            on(16),
            "Block weekly learning time",
            f"Put two hours a week in your calendar for {gap_text} and the AI tools of "
            f"{field}; book one course or webinar now.",
        ),
        PlanItem(
            "brand-publish",
            "action-5",
            on(18),
            "Publish one piece of thought leadership",
            "A post, article or video with your own perspective on your niche, shared where "
            "your clients read.",
        ),
        PlanItem(
            "projects-list",
            "action-7",
            on(21),
            "List complex, strategic projects you could lead",
            f"Five projects in {field} that need strategy, judgement or complex problem "
            "solving rather than volume.",
        ),
        PlanItem(
            "projects-pitch",
            "action-7",
            on(24),
            "Pitch two complex or strategic projects",
            "Send two proposals that sell the outcome and your judgement, with AI handling "
            "the routine parts.",
        ),
        PlanItem(
            "learning-review",
            "action-6",
            on(27),
            "Review what you learned",
            "What did the learning hours and the tool trial change? Adjust your services "
            "and prices to match.",
        ),
        PlanItem(
            "assess-rescore",
            "action-1",
            on(DAYS - 1),
            "Re-run the exposure check and plan the next 30 days",
            "Score your services again, including the new niche, and keep what worked.",
        ),
    ]
    steps = {f"action-{n}": guide.title(f"action-{n}") for n in range(1, 8)}
    return ActionPlan(plan_id_for(profile), start, tuple(items), steps)
