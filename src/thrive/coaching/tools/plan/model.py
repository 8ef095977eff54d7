"""The plan's data: dated `PlanItem`s in an `ActionPlan`, and the plan id derived from the
profile alone, so that the same person gets the same saved ticks back whatever day the plan
is shown. Its exports and its saved progress live in `exports` and `progress`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from thrive.base.errors import InputError
from thrive.base.schema import Profile
from thrive.base.storage import UserData
from thrive.coaching.tools.plan.exports import plan_ics, plan_markdown, plan_summary
from thrive.coaching.tools.plan.progress import mark_item, saved_progress

DAYS = 30


@dataclass(frozen=True)
class PlanItem:
    """One dated task; `step` is the guide's action step it carries out ("action-3")."""

    id: str
    step: str
    due: date
    title: str
    detail: str
    done: bool = False

    def week(self, start: date) -> int:
        return min(4, (self.due - start).days // 7 + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "step": self.step,
            "due": self.due.isoformat(),
            "title": self.title,
            "detail": self.detail,
            "done": self.done,
        }


@dataclass(frozen=True)
class ActionPlan:
    """A dated 30-day plan; `end` is the last day (start + 29)."""

    plan_id: str
    start: date
    items: tuple[PlanItem, ...]
    steps: Mapping[str, str]  # action step id -> its title in the guide

    @property
    def end(self) -> date:
        return self.start + timedelta(days=DAYS - 1)

    def weeks(self) -> list[tuple[int, list[PlanItem]]]:
        """Items grouped by week 1-4 (week 4 runs to day 30)."""
        grouped: dict[int, list[PlanItem]] = {w: [] for w in range(1, 5)}
        for item in self.items:
            grouped[item.week(self.start)].append(item)
        return list(grouped.items())

    def week_span(self, week: int) -> tuple[date, date]:
        first = self.start + timedelta(days=7 * (week - 1))
        last = self.end if week == 4 else first + timedelta(days=6)
        return first, last

    def item(self, item_id: str) -> PlanItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InputError(
            f"The plan has no item {item_id!r}.",
            fix=f"Use one of: {', '.join(i.id for i in self.items)}.",
        )

    # -- progress, saved in UserData -----------------------------------------------------

    def with_progress(self, done: Mapping[str, bool]) -> ActionPlan:
        items = tuple(replace(i, done=bool(done.get(i.id, i.done))) for i in self.items)
        return replace(self, items=items)

    def load_progress(self, data: UserData) -> ActionPlan:
        """This plan with the ticks saved for it."""
        return saved_progress(self, data)

    def mark(self, data: UserData, item_id: str, done: bool = True) -> ActionPlan:
        """Save one tick (or untick) and return the updated plan."""
        return mark_item(self, data, item_id, done)

    # -- outputs -------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """`thrive plan --json`: the plan, week by week, with each item's saved state."""
        return {
            "plan_id": self.plan_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "steps": dict(self.steps),
            "weeks": [
                {
                    "week": week,
                    "start": self.week_span(week)[0].isoformat(),
                    "end": self.week_span(week)[1].isoformat(),
                    "items": [i.to_json() for i in items],
                }
                for week, items in self.weeks()
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActionPlan:
        """The plan `to_json` wrote, exactly: same dates, items and ticks (e.g. a plan kept
        with a chat message, shown again on a later day). Raises `ValueError` for other data."""
        try:
            items = tuple(
                PlanItem(
                    str(i["id"]),
                    str(i["step"]),
                    date.fromisoformat(i["due"]),
                    str(i["title"]),
                    str(i["detail"]),
                    bool(i.get("done", False)),
                )
                for week in data["weeks"]
                for i in week["items"]
            )
            steps = {str(k): str(v) for k, v in data["steps"].items()}
            return cls(str(data["plan_id"]), date.fromisoformat(data["start"]), items, steps)
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"Not a plan written by ActionPlan.to_json: {err!r}") from err

    def to_markdown(self) -> str:
        return plan_markdown(self)

    def to_ics(self) -> bytes:
        """An iCalendar file: one all-day event per item, stable UIDs (re-imports update)."""
        return plan_ics(self)

    def to_summary(self) -> str:
        """A few lines of Markdown, e.g. for the chat history."""
        return plan_summary(self)


def plan_id_for(profile: Profile) -> str:
    """Stable for the same profile, so saved ticks come back."""
    digest = hashlib.sha256(profile.model_dump_json().encode()).hexdigest()
    return f"plan-{digest[:12]}"
