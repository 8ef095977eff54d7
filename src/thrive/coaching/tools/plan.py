"""The 30-day action plan: the guide's seven action steps, dated week by week for one person.

Each item has a stable id ("assess-score", "niche-choose", ...) so that its checkbox state,
saved per plan in `UserData`, survives restarts and a plan rebuilt from the same profile.
The plan id is derived from the profile alone: the same person gets the same progress back
whatever day the plan is shown. Exports: Markdown (with the ticks) and an iCalendar file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from icalendar import Calendar, Event

from thrive.base import embeddings
from thrive.base.errors import InputError
from thrive.base.schema import Profile
from thrive.base.storage import UserData
from thrive.coaching.tools.exposure import ExposureScorer, SkillExposure
from thrive.coaching.tools.niches import offline_niches
from thrive.knowledge.guide import Guide

DAYS = 30
_EMPHASIS = re.compile(r"Emphasize (.+?)\.", re.I)


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
        return self.with_progress(data.plan_items(self.plan_id))

    def mark(self, data: UserData, item_id: str, done: bool = True) -> ActionPlan:
        """Save one tick (or untick) and return the updated plan."""
        self.item(item_id)  # an unknown id is an error, not a silent no-op
        data.set_plan_item(self.plan_id, item_id, done)
        return self.with_progress({item_id: done})

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
        lines = [
            f"# Your 30-day plan: {_day(self.start)} to {_day(self.end)}",
            "",
            "From the guide's seven action steps. Tick items as you go.",
        ]
        for week, items in self.weeks():
            first, last = self.week_span(week)
            lines += ["", f"## Week {week} ({_day(first)} – {_day(last)})", ""]
            for i in items:
                tick = "x" if i.done else " "
                lines.append(f"- [{tick}] **{_day(i.due)}: {i.title}** [{i.step}]  \n  {i.detail}")
        return "\n".join(lines) + "\n"

    def to_ics(self) -> bytes:
        """An iCalendar file: one all-day event per item, stable UIDs (re-imports update)."""
        cal = Calendar()
        cal.add("prodid", "-//Thrive//30-day action plan//EN")
        cal.add("version", "2.0")
        cal.add("x-wr-calname", "Thrive 30-day plan")
        stamp = datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC)
        for i in self.items:
            event = Event()
            event.add("uid", f"{i.id}.{self.plan_id}@thrive")
            event.add("dtstamp", stamp)
            event.add("dtstart", i.due)
            event.add("dtend", i.due + timedelta(days=1))
            event.add("summary", f"{'✓ ' if i.done else ''}{i.title}")
            event.add("description", f"{i.detail}\n\nGuide: {self.steps[i.step]} [{i.step}]")
            cal.add_component(event)
        return bytes(cal.to_ical())

    def to_summary(self) -> str:
        """A few lines of Markdown, e.g. for the chat history."""
        done = sum(i.done for i in self.items)
        head = (
            f"Your 30-day plan, {_day(self.start)} to {_day(self.end)}: "
            f"{len(self.items)} tasks over the guide's 7 action steps ({done} done)."
        )
        weeks = [
            f"- Week {w}: " + "; ".join(f"{i.title} [{i.step}]" for i in items)
            for w, items in self.weeks()
        ]
        return "\n".join([head, "", *weeks])


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"


def plan_id_for(profile: Profile) -> str:
    """Stable for the same profile, so saved ticks come back."""
    digest = hashlib.sha256(profile.model_dump_json().encode()).hexdigest()
    return f"plan-{digest[:12]}"


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
