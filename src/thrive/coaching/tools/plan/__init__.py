"""The 30-day action plan: the guide's seven action steps, dated week by week for one person.

Each item has a stable id ("assess-score", "niche-choose", ...) so that its checkbox state,
saved per plan in `UserData`, survives restarts and a plan rebuilt from the same profile.
The plan id is derived from the profile alone: the same person gets the same progress back
whatever day the plan is shown. Exports: Markdown (with the ticks) and an iCalendar file.
"""

from thrive.coaching.tools.plan.builder import build_plan, human_centric_list, skill_gaps
from thrive.coaching.tools.plan.model import DAYS, ActionPlan, PlanItem, plan_id_for
from thrive.coaching.tools.plan.progress import plan_start

__all__ = [
    "DAYS",
    "ActionPlan",
    "PlanItem",
    "build_plan",
    "human_centric_list",
    "plan_id_for",
    "plan_start",
    "skill_gaps",
]
