""" "Your situation": the sidebar form for the user's profile. Saved in `UserData`, read by
the coach with every question (it enriches retrieval and the prompt)."""

from __future__ import annotations

import streamlit as st

from thrive.base.schema import Profile
from thrive.base.storage import UserData
from thrive.ui.resources import PageContext
from thrive.ui.text import plain

SKILLS = "thrive.profile.skills"
SERVICES = "thrive.profile.services"
OCCUPATION = "thrive.profile.occupation"
INTERESTS = "thrive.profile.interests"
YEARS = "thrive.profile.years"
GOALS = "thrive.profile.goals"


def _fill_fields(profile: Profile) -> None:
    """Put the saved profile into the form, once per session (later the user's edits win)."""
    if SKILLS in st.session_state:
        return
    st.session_state[OCCUPATION] = profile.occupation
    st.session_state[SKILLS] = ", ".join(profile.skills)
    st.session_state[SERVICES] = ", ".join(profile.services)
    st.session_state[INTERESTS] = ", ".join(profile.interests)
    st.session_state[YEARS] = profile.experience_years
    st.session_state[GOALS] = profile.goals


def sidebar(ctx: PageContext) -> None:
    """The form, open while the profile is empty, with a one-line summary once saved."""
    profile = ctx.profile()
    _fill_fields(profile)
    with st.sidebar.expander(
        "Your situation", expanded=profile.is_empty, icon=":material/person_edit:"
    ):
        st.caption("What you do and where you want to go. The coach applies the guide to it.")
        with st.form("thrive.situation", border=False):
            st.text_input(
                "Occupation", key=OCCUPATION, max_chars=200, placeholder="e.g. court interpreter"
            )
            st.text_input("Skills", key=SKILLS, max_chars=500, placeholder="e.g. copywriting, SEO")
            st.text_input(
                "Services you sell",
                key=SERVICES,
                max_chars=500,
                placeholder="e.g. blog posts, product descriptions",
            )
            st.text_input(
                "Interests and industries",
                key=INTERESTS,
                max_chars=500,
                placeholder="e.g. healthcare, fintech",
            )
            st.number_input("Years of experience", min_value=0, max_value=80, step=1, key=YEARS)
            st.text_area(
                "Goals",
                key=GOALS,
                max_chars=1000,
                height=80,
                placeholder="e.g. keep my rates and move into strategy work",
            )
            st.form_submit_button(
                "Save", type="primary", icon=":material/save:", on_click=_save, args=(ctx.data,)
            )
    if not profile.is_empty:
        st.sidebar.caption(f"Coaching you as: {plain(profile.describe())}")


def _save(data: UserData) -> None:
    years = st.session_state.get(YEARS)
    profile = Profile.model_validate(  # "a, b; c" is split into a list by the model
        {
            "occupation": " ".join(str(st.session_state.get(OCCUPATION) or "").split()),
            "skills": st.session_state.get(SKILLS) or "",
            "services": st.session_state.get(SERVICES) or "",
            "interests": st.session_state.get(INTERESTS) or "",
            "experience_years": int(years) if years is not None else None,
            "goals": " ".join(str(st.session_state.get(GOALS) or "").split()),
        }
    )
    data.save_profile(profile.model_dump())
    st.toast("Your situation is saved: the next answers use it.", icon=":material/check:")
