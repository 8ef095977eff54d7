"""The coaching tools' page parts, rendered by Streamlit's AppTest in tiny scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from thrive.base.storage import UserData
from thrive.coaching.coach import Coach
from thrive.ui.page_tools import PENDING_QUESTION, exposure_chart

TIMEOUT = 30  # the first run imports Streamlit's and Altair's modules

# The scripts below run as their own source text, so their parameters carry no annotations
# (the names would not be defined there).


def exposure_app(results) -> None:  # type: ignore[no-untyped-def]
    from thrive.ui.page_tools import render_exposure

    render_exposure(results, key="exp")


def niches_app(niches) -> None:  # type: ignore[no-untyped-def]
    from thrive.ui.page_tools import render_niches

    render_niches(niches, key="nic")


def plan_app(plan, data_dir) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from thrive.base.storage import UserData
    from thrive.ui.page_tools import render_plan

    render_plan(plan, UserData(Path(data_dir)), key="plan")


def test_exposure_chart_has_skills_scores_levels_and_cited_threats(coach: Coach) -> None:
    results = coach.exposure(["basic data entry", "AI ethics consulting"])
    spec: dict[str, Any] = exposure_chart(results).to_dict()
    rows = spec["data"]["values"]
    assert [r["skill"] for r in rows] == ["basic data entry", "AI ethics consulting"]
    assert rows[0]["threats"].startswith("threat-")
    tooltip = {t["field"] for t in spec["encoding"]["tooltip"]}
    assert {"skill", "score", "level", "threats", "why"} <= tooltip
    assert spec["encoding"]["color"]["field"] == "level"
    assert spec["encoding"]["y"]["sort"] == ["basic data entry", "AI ethics consulting"]


def test_render_exposure_shows_the_chart_and_the_reasons(coach: Coach) -> None:
    results = coach.exposure(["logo design", "branding strategy"])
    at = AppTest.from_function(exposure_app, args=(results,), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    text = " ".join(m.value for m in at.markdown)
    assert "logo design" in text and "[threat-1]" in text


def test_niche_cards_with_tell_me_more(coach: Coach) -> None:
    niches = coach.niches({"skills": ["copywriting"], "interests": ["fintech"]})
    at = AppTest.from_function(niches_app, args=(niches,), default_timeout=TIMEOUT).run()
    assert not at.exception
    buttons = [b for b in at.button if b.label == "Tell me more"]
    assert len(buttons) == len(niches) >= 3
    text = " ".join(m.value for m in at.markdown)
    assert all(n.niche in text for n in niches)
    buttons[1].click().run()
    assert niches[1].niche in at.session_state[PENDING_QUESTION]


def test_plan_checkboxes_save_their_state_and_downloads_exist(coach: Coach, tmp_path: Path) -> None:
    plan = coach.plan({"skills": ["illustration"]})
    at = AppTest.from_function(plan_app, args=(plan, str(tmp_path)), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert len(at.checkbox) == len(plan.items)
    assert len(at.get("download_button")) == 2
    at.checkbox(key=f"plan.{plan.plan_id}.niche-choose").check().run()
    assert UserData(tmp_path).plan_items(plan.plan_id) == {"niche-choose": True}
    # A new session (a restart) shows the saved tick.
    again = AppTest.from_function(plan_app, args=(plan, str(tmp_path)), default_timeout=TIMEOUT)
    again.run()
    assert again.checkbox(key=f"plan.{plan.plan_id}.niche-choose").value is True
    assert again.checkbox(key=f"plan.{plan.plan_id}.tools-try").value is False
