"""The frame around every page: who is signed in, configuration, the index check,
navigation, the sidebar."""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from thrive.base.errors import ThriveError
from thrive.ui import auth, navigation, privacy, resources, situation, startup, state
from thrive.ui.text import backend_label, plain


def settings_problem(err: ValidationError) -> str:
    """A pydantic error about the environment, as one sentence naming the variables."""
    problems = "; ".join(
        f"THRIVE_{'_'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
        for e in err.errors()
    )
    return f"A setting is invalid ({problems}). Fix it in your environment and restart Thrive."


def main() -> None:
    """Draw the page. `app.py` calls this on every run."""
    st.set_page_config(
        page_title="Thrive · coaching for freelancers",
        page_icon=":material/eco:",
        initial_sidebar_state="expanded",
    )
    who = auth.account()
    if who is None:  # the sign-in screen, or why sign-in cannot work, is drawn instead
        return
    try:
        ctx = resources.context(who.user_id)
    except ValidationError as err:
        st.error(settings_problem(err), icon=":material/settings:")
        return
    except ThriveError as err:  # e.g. the data folder cannot be written
        st.error(str(err), icon=":material/error:")
        return
    st.sidebar.markdown("### :material/eco: Thrive")
    auth.sidebar(who)
    startup.ensure_index(ctx)
    page = st.navigation(navigation.pages(), position="top")
    if state.take_chat_request():
        st.switch_page(navigation.chat_page())
    page.run()
    situation.sidebar(ctx)
    privacy.sidebar(ctx, who)
    backend = ctx.coach.backend_name
    st.sidebar.caption(f"Answers by {plain(backend_label(backend))}.")
