"""The plan outside the app: Markdown (with the ticks), an iCalendar file and a short
summary for the chat history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from icalendar import Calendar, Event

if TYPE_CHECKING:  # the model calls these; at run time they need only its attributes
    from thrive.coaching.tools.plan.model import ActionPlan


def plan_markdown(plan: ActionPlan) -> str:
    """The plan as a Markdown checklist, week by week, with its ticks."""
    lines = [
        f"# Your 30-day plan: {_day(plan.start)} to {_day(plan.end)}",
        "",
        "From the guide's seven action steps. Tick items as you go.",
    ]
    for week, items in plan.weeks():
        first, last = plan.week_span(week)
        lines += ["", f"## Week {week} ({_day(first)} – {_day(last)})", ""]
        for i in items:
            tick = "x" if i.done else " "
            lines.append(f"- [{tick}] **{_day(i.due)}: {i.title}** [{i.step}]  \n  {i.detail}")
    return "\n".join(lines) + "\n"


def plan_ics(plan: ActionPlan) -> bytes:
    """An iCalendar file: one all-day event per item, stable UIDs (re-imports update)."""
    cal = Calendar()
    cal.add("prodid", "-//Thrive//30-day action plan//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Thrive 30-day plan")
    stamp = datetime(plan.start.year, plan.start.month, plan.start.day, tzinfo=UTC)
    for i in plan.items:
        event = Event()
        event.add("uid", f"{i.id}.{plan.plan_id}@thrive")
        event.add("dtstamp", stamp)
        event.add("dtstart", i.due)
        event.add("dtend", i.due + timedelta(days=1))
        event.add("summary", f"{'✓ ' if i.done else ''}{i.title}")
        event.add("description", f"{i.detail}\n\nGuide: {plan.steps[i.step]} [{i.step}]")
        cal.add_component(event)
    return bytes(cal.to_ical())


def plan_summary(plan: ActionPlan) -> str:
    """A few lines of Markdown, e.g. for the chat history."""
    done = sum(i.done for i in plan.items)
    head = (
        f"Your 30-day plan, {_day(plan.start)} to {_day(plan.end)}: "
        f"{len(plan.items)} tasks over the guide's 7 action steps ({done} done)."
    )
    weeks = [
        f"- Week {w}: " + "; ".join(f"{i.title} [{i.step}]" for i in items)
        for w, items in plan.weeks()
    ]
    return "\n".join([head, "", *weeks])


def _day(d: date) -> str:
    return f"{d:%a} {d.day} {d:%b}"
