"""The "Tools" page: the exposure check, the niche finder and the 30-day plan for the saved
situation, one tab each. "Tell me more" on a niche opens a new chat about it.

Only the open tab runs (`st.tabs(on_change="rerun")`): the niches may ask an LLM. Niches
and the plan are kept for the session while the situation stays the same, so ticking a
box does not make them again.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from thrive.base.errors import InputError, ThriveError
from thrive.base.schema import Profile
from thrive.coaching.tools import ActionPlan, NicheSuggestions, parse_skills
from thrive.ui import auth, page_tools, resources, state, tool_results
from thrive.ui.resources import PageContext

TAB = "thrive.tools.tab"
TABS = ("Skill exposure", "Niche finder", "30-day plan")
SKILLS = "thrive.tools.skills"  # the skills box
SKILLS_SEED = "thrive.tools.skills_seed"  # the profile's skills it was filled with
CHECKED = "thrive.tools.checked"  # the skills last checked, for when the tab comes back
NICHES = "thrive.tools.niches_kept"  # (profile JSON, NicheSuggestions)
PLAN = "thrive.tools.plan_kept"  # (profile JSON, start, ActionPlan)
MORE = "thrive.tools.more"  # a niche's "Tell me more" question, to open in the chat


def render() -> None:
    """Draw the Tools page."""
    question = st.session_state.pop(MORE, None)
    if question:
        _open_chat(str(question))
    ctx = resources.context(auth.user_id())
    profile = ctx.profile()
    st.title("Coaching tools", anchor=False)
    st.markdown(
        "Three tools built on the guide *GenAI Threats to Freelancing & How to Thrive*: "
        "check how exposed your skills are, find a niche, and plan your next 30 days."
    )
    if profile.is_empty:
        st.info(
            "Fill in **Your situation** in the sidebar: the niches and the plan are made for it.",
            icon=":material/person_edit:",
        )
    exposure, niches, plan = st.tabs(list(TABS), key=TAB, on_change="rerun")
    try:
        if exposure.open:
            with exposure:
                _exposure(ctx, profile)
        if niches.open:
            with niches:
                _niches(ctx, profile)
        if plan.open:
            with plan:
                _plan(ctx, profile)
    except ThriveError as err:  # e.g. the guide is missing: say what to do, keep the page
        st.error(str(err), icon=":material/error:")


def _open_chat(question: str) -> None:
    # The frame switches pages (this module cannot import the page list that lists it).
    state.start_chat(question)
    st.rerun()


def _tell_me_more(question: str) -> None:
    # A callback cannot switch pages: the next run does (see `render`).
    st.session_state[MORE] = question


def _seed_skills(profile: Profile) -> None:
    """Fill the skills box with the saved situation's skills: in a new session, and again
    when the situation changes; else keep what the user typed (the box is dropped while
    another tab is open)."""
    seed = "; ".join(profile.work())
    if st.session_state.get(SKILLS_SEED) != seed:
        st.session_state[SKILLS_SEED] = seed
        st.session_state[SKILLS] = seed
    elif SKILLS not in st.session_state:
        st.session_state[SKILLS] = st.session_state.get(CHECKED, seed)


def _exposure(ctx: PageContext, profile: Profile) -> None:
    st.caption(
        "How exposed each skill is to generative AI (0–100): the human labels of the O*NET "
        "tasks nearest to it, blended with the work the guide names as exposed and as safe. "
        "The same with every backend."
    )
    if profile.occupation:
        with st.spinner("Looking up your occupation…"):
            page_tools.render_occupation(
                profile.occupation, ctx.coach.occupation(profile.occupation)
            )
    _seed_skills(profile)
    with st.form("thrive.tools.exposure_form", border=False):
        st.text_input(
            "Skills to check",
            key=SKILLS,
            max_chars=2000,
            placeholder="e.g. copywriting; SEO; logo design",
            help='Separate skills with ";" or ",".',
        )
        st.form_submit_button("Check", type="primary", icon=":material/insights:")
    text = str(st.session_state.get(SKILLS) or "")
    st.session_state[CHECKED] = text
    if not text.strip():
        st.info("Name a few skills above, or save them in **Your situation** in the sidebar.")
        return
    try:
        skills = parse_skills(text)
    except InputError as err:
        st.warning(str(err), icon=":material/block:")
        return
    with st.spinner(tool_results.SPINNERS["exposure"]):
        ctx.wait_until_warm()
        results = ctx.coach.exposure(skills)
    page_tools.render_exposure(results, key="thrive.tools.exposure")


def _niches(ctx: PageContext, profile: Profile) -> None:
    st.caption(
        "Specific niches in the guide's pattern (your skill, an industry, what AI cannot "
        "do) for your situation, each with three first steps."
    )
    key = profile.model_dump_json()
    kept = st.session_state.get(NICHES)
    if kept and kept[0] == key:
        found: NicheSuggestions = kept[1]
    else:
        with st.spinner(tool_results.SPINNERS["niches"]):
            ctx.wait_until_warm()
            found = ctx.coach.niches(profile)
        st.session_state[NICHES] = (key, found)
    page_tools.render_niches(found, key="thrive.tools.niches", on_more=_tell_me_more)


def _plan(ctx: PageContext, profile: Profile) -> None:
    st.caption(
        "The guide's seven action steps as a dated plan for you. Your ticks are saved; "
        "the plan keeps its dates until it ends."
    )
    today = date.today()
    start = tool_results.plan_start(ctx.data, profile, today, renew_ended=False)
    key = profile.model_dump_json()
    kept = st.session_state.get(PLAN)
    if kept and kept[:2] == (key, start):
        plan: ActionPlan = kept[2]
    else:
        with st.spinner(tool_results.SPINNERS["plan"]):
            ctx.wait_until_warm()
            plan = ctx.coach.plan(profile, start=start)
        st.session_state[PLAN] = (key, start, plan)
    if plan.end < today:
        st.info(
            f"This plan ended on {plan.end:%a %d %b}. Start a new one to get the next 30 "
            "days (its ticks start empty).",
            icon=":material/event_available:",
        )
        st.button(
            "Start a new 30-day plan",
            key="thrive.tools.plan_restart",
            icon=":material/restart_alt:",
            on_click=_restart_plan,
            args=(ctx, plan.plan_id),
        )
    page_tools.render_plan(plan, ctx.data, key="thrive.tools.plan")


def _restart_plan(ctx: PageContext, plan_id: str) -> None:
    ctx.data.start_plan(plan_id, date.today())
