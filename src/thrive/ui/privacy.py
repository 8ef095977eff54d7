""" "Your data": what is kept, where, for whom, and deleting all of it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st

from thrive.base.storage import UserData
from thrive.ui import state
from thrive.ui.auth import Account
from thrive.ui.resources import PageContext
from thrive.ui.text import plain

CONFIRM = "thrive.delete_all.confirm"
WHAT = (
    "your situation (profile), your conversations and their messages, your feedback on "
    "answers, and the progress of your plan"
)


def where_kept(data_dir: Path, database_url: str | None) -> str:
    """Where the data lives, for people: the SQLite file, or the shared database's host.
    Never the URL itself: it may carry a user name and password."""
    if not database_url:
        return f"in the SQLite file {Path(data_dir, 'thrive.sqlite3').resolve()} on this computer"
    parts = urlsplit(database_url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a malformed port: name the host alone
        host, port = parts.hostname, None
    if not host:  # e.g. a local socket
        return "in the shared database"
    name = parts.path.lstrip("/")
    return f"in the shared database on {host}{f':{port}' if port else ''}" + (
        f", database {name}" if name else ""
    )


def sidebar(ctx: PageContext, who: Account) -> None:
    """What is kept, where and for whom; "Delete all my data" behind a confirmation."""
    with st.sidebar.expander("Your data", icon=":material/shield_person:"):
        database_url = ctx.settings.database()
        st.caption(
            f"Kept for {plain(who.whose)}: {WHAT}. "
            f"Where: {plain(where_kept(ctx.data.data_dir, database_url))}. "
            "Nothing is sent anywhere else unless you configure an online LLM, which then "
            "receives your questions and situation."
        )
        if who.signed_in:
            st.caption("Only you see these, and deleting them leaves everyone else's data.")
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
    state.flash(
        "All your data was deleted: your situation, conversations, feedback and plan progress."
    )
