"""The plan's ticks, saved per plan id in `UserData`, so they survive restarts and a plan
rebuilt from the same profile."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from thrive.base.schema import Profile
from thrive.base.storage import UserData

if TYPE_CHECKING:  # the model calls these; at run time they need only its methods
    from thrive.coaching.tools.plan.model import ActionPlan


def saved_progress(plan: ActionPlan, data: UserData) -> ActionPlan:
    """This plan with the ticks saved for it."""
    return plan.with_progress(data.plan_items(plan.plan_id))


def mark_item(plan: ActionPlan, data: UserData, item_id: str, done: bool = True) -> ActionPlan:
    """Save one tick (or untick) and return the updated plan."""
    plan.item(item_id)  # an unknown id is an error, not a silent no-op
    data.set_plan_item(plan.plan_id, item_id, done)
    return plan.with_progress({item_id: done})


def plan_start(data: UserData, profile: Profile, today: date, *, renew_ended: bool) -> date:
    """The day this profile's plan started, so its dates stay put on later days (the page
    and `thrive plan` share it). A plan never started starts `today`; so does an ended one
    when `renew_ended` (without its old ticks)."""
    from thrive.coaching.tools.plan.model import DAYS, plan_id_for

    plan_id = plan_id_for(profile)
    start = data.plan_start(plan_id)
    ended = start is not None and today > start + timedelta(days=DAYS - 1)
    if start is None or (ended and renew_ended):
        # A plan with no start day may still have ticks (saved by `thrive plan` before it
        # kept start days): they stay.
        data.start_plan(plan_id, today, keep_ticks=start is None)
        return today
    return start
