""" "Your data": where it is kept, and deleting all of it."""

from __future__ import annotations

import streamlit as st

from thrive.base.storage import UserData
from thrive.ui import state
from thrive.ui.resources import PageContext
from thrive.ui.text import plain

CONFIRM = "thrive.delete_all.confirm"


def sidebar(ctx: PageContext) -> None:
    """What is kept and where; "Delete all my data" behind a confirmation."""
    with st.sidebar.expander("Your data", icon=":material/shield_person:"):
        st.caption(
            "Your situation, conversations and feedback are kept only on this computer, in "
            f"{plain(str(ctx.data.data_dir.resolve()))}. Nothing is sent anywhere unless "
            "you configure an online LLM."
        )
        confirmed = st.checkbox("I understand this cannot be undone", key=CONFIRM)
        st.button(
            "Delete all my data",
            key="thrive.delete_all",
            type="primary",
            icon=":material/delete_forever:",
            disabled=not confirmed,
            on_click=_delete_all,
            args=(ctx.data,),
        )


def _delete_all(data: UserData) -> None:
    data.delete_everything()
    state.forget_session()
    state.flash("All your data was deleted: your situation, conversations and feedback.")
