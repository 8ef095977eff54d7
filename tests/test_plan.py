"""The 30-day action plan: the guide's seven steps, dated, ticked, exported."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from thrive.base.errors import InputError
from thrive.base.storage import UserData
from thrive.coaching.coach import Coach
from thrive.knowledge.guide import ACTIONS

PROFILE = {"skills": ["logo design", "illustration"], "interests": ["healthcare"]}
START = date(2026, 3, 2)


def test_all_seven_action_steps_are_in_the_plan(coach: Coach) -> None:
    plan = coach.plan(PROFILE, start=START)
    assert {i.step for i in plan.items} == set(ACTIONS)
    assert list(plan.steps) == list(ACTIONS)
    assert plan.steps["action-3"].startswith("Choose a Niche")


@pytest.mark.parametrize("start", [None, START], ids=["today", "given"])
def test_dates_fall_inside_the_next_30_days(coach: Coach, start: date | None) -> None:
    plan = coach.plan(PROFILE, start=start)
    first = start or date.today()
    assert plan.start == first and plan.end == first + timedelta(days=29)
    dues = [i.due for i in plan.items]
    assert all(first <= d <= plan.end for d in dues)
    assert dues == sorted(dues)
    assert [w for w, items in plan.weeks() if items] == [1, 2, 3, 4]


def test_the_plan_is_personal(coach: Coach) -> None:
    plan = coach.plan(PROFILE, start=START)
    text = " ".join(i.detail for i in plan.items)
    assert "logo design" in text and "healthcare" in text
    verdict = coach.exposure(["logo design"])[0]  # the exposure check's verdict, as it is
    assert f"logo design ({verdict.level}, {verdict.score})" in plan.item("assess-score").detail


def test_item_ids_and_plan_id_are_stable(coach: Coach) -> None:
    a = coach.plan(PROFILE, start=START)
    b = coach.plan(PROFILE, start=START + timedelta(days=5))
    assert a.plan_id == b.plan_id
    assert [i.id for i in a.items] == [i.id for i in b.items]
    assert len({i.id for i in a.items}) == len(a.items)
    assert coach.plan({"skills": ["SEO"]}).plan_id != a.plan_id


def test_ticks_survive_a_restart(coach: Coach, tmp_path: Path) -> None:
    plan = coach.plan(PROFILE, start=START)
    plan.mark(UserData(tmp_path), "niche-choose")
    plan.mark(UserData(tmp_path), "tools-try", True)
    plan.mark(UserData(tmp_path), "tools-try", False)
    reopened = coach.plan(PROFILE, start=START).load_progress(UserData(tmp_path))  # new process
    assert {i.id for i in reopened.items if i.done} == {"niche-choose"}
    other = coach.plan({"skills": ["SEO"]}).load_progress(UserData(tmp_path))
    assert not any(i.done for i in other.items)  # ticks belong to their own plan


def test_an_unknown_item_is_an_error_that_lists_the_ids(coach: Coach, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="niche-choose"):
        coach.plan(PROFILE).mark(UserData(tmp_path), "no-such-item")


def test_the_ics_parses_and_holds_one_event_per_item(coach: Coach) -> None:
    plan = coach.plan(PROFILE, start=START).with_progress({"assess-score": True})
    calendar = Calendar.from_ical(plan.to_ics())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == len(plan.items)
    assert len({str(e["UID"]) for e in events}) == len(events)
    for event, item in zip(events, plan.items, strict=True):
        assert event.decoded("DTSTART") == item.due
        assert event.decoded("DTEND") == item.due + timedelta(days=1)
        assert item.title in str(event["SUMMARY"])
        assert item.step in str(event["DESCRIPTION"])
    assert str(events[0]["SUMMARY"]).startswith("✓")


def test_markdown_shows_weeks_dates_and_ticks(coach: Coach) -> None:
    plan = coach.plan(PROFILE, start=START).with_progress({"gaps-pick": True})
    md = plan.to_markdown()
    assert md.startswith("# Your 30-day plan: Mon 2 Mar to Tue 31 Mar")
    assert [f"## Week {w}" in md for w in range(1, 5)] == [True] * 4
    assert md.count("- [x]") == 1 and md.count("- [ ] ") == len(plan.items) - 1
    assert all(f"[{a}]" in md for a in ACTIONS)


def test_an_empty_profile_still_gets_a_full_plan(coach: Coach) -> None:
    plan = coach.plan({}, start=START)
    assert {i.step for i in plan.items} == set(ACTIONS)
    assert "List the services you sell" in plan.item("assess-score").detail
