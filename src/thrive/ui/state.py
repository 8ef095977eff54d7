"""What the page remembers for one browser session, and the one door to ask the coach.

Keys live in `st.session_state` under the `thrive.` prefix. The open conversation is also
kept in the URL (`?c=<id>`), so reloading the page keeps the user where they were.
"""

from __future__ import annotations

import streamlit as st

from thrive.base.storage import UserData

CONVERSATION = "thrive.conversation"  # id of the open conversation; None: a new chat
PENDING = "thrive.pending_question"  # a question to answer on the next run
FLASH = "thrive.flash"  # a one-time confirmation for the next run
INDEX_ERROR = "thrive.index_error"  # why the guide index is not usable, for this session
INDEX_ACTION = "thrive.index_action"  # "retry" or "rebuild", asked for by a button
OPEN_CHAT = "thrive.open_chat"  # another page asked for the chat page on the next run
PREFIX = "thrive."


def current_conversation(data: UserData) -> str | None:
    """The open conversation's id, or None for a new chat. A new session opens the one
    named in the URL, if it still exists."""
    ids = {c.id for c in data.conversations()}
    if CONVERSATION not in st.session_state:
        wanted = st.query_params.get("c")
        st.session_state[CONVERSATION] = wanted if wanted in ids else None
    conv_id = st.session_state[CONVERSATION]
    if conv_id is not None and conv_id not in ids:  # deleted, e.g. in another tab
        open_conversation(None)
        return None
    if conv_id and st.query_params.get("c") != conv_id:  # the URL lost it on another page
        st.query_params["c"] = conv_id
    return str(conv_id) if conv_id else None


def open_conversation(conv_id: str | None) -> None:
    """Show this conversation (None: a new, empty chat)."""
    st.session_state[CONVERSATION] = conv_id
    if conv_id:
        st.query_params["c"] = conv_id
    else:
        st.query_params.pop("c", None)


def ask(question: str) -> None:
    """Have the chat answer `question` on the next run, as if the user had typed it.

    Buttons call this from `on_click` (starter prompts, follow-ups); other pages can too.
    """
    st.session_state[PENDING] = question


def start_chat(question: str) -> None:
    """Open a new chat that asks `question` (e.g. a tool's "tell me more" button). The
    frame switches to the chat page on the next run (see `take_chat_request`)."""
    open_conversation(None)
    ask(question)
    st.session_state[OPEN_CHAT] = True


def take_chat_request() -> bool:
    """Whether a page asked for the chat page (see `start_chat`), once."""
    return bool(st.session_state.pop(OPEN_CHAT, False))


def take_pending() -> str | None:
    """The question queued by `ask`, once."""
    value = st.session_state.pop(PENDING, None)
    return str(value) if value else None


def flash(message: str, kind: str = "success") -> None:
    """Show `message` once, on the next run: a confirmation, or ("error") what went wrong
    in a button's callback."""
    st.session_state[FLASH] = (kind, message)


def take_flash() -> tuple[str, str] | None:
    """The (kind, message) left by `flash`, once."""
    value = st.session_state.pop(FLASH, None)
    return (str(value[0]), str(value[1])) if value else None


def forget_session() -> None:
    """Drop everything this session remembers (after the user deleted their data)."""
    for key in list(st.session_state):
        if str(key).startswith(PREFIX):
            del st.session_state[key]
    st.query_params.clear()
