"""Saved conversations: the list in the sidebar, and rename, export and delete for the
open one, above its messages."""

from __future__ import annotations

import re

import streamlit as st

from thrive.base.errors import ThriveError
from thrive.base.storage import Conversation, UserData
from thrive.ui import state
from thrive.ui.resources import PageContext
from thrive.ui.text import plain

LIST_HEIGHT = 320  # px; a longer list scrolls inside the sidebar
SCROLL_AFTER = 8


def sidebar(ctx: PageContext, current: str | None) -> None:
    """ "New chat" and the past conversations, newest first; the open one highlighted."""
    conversations = ctx.data.conversations()
    with st.sidebar:
        st.button(
            "New chat",
            key="thrive.new_chat",
            icon=":material/add_comment:",
            width="stretch",
            on_click=state.open_conversation,
            args=(None,),
        )
        if not conversations:
            return
        st.caption("Conversations")
        box = st.container(height=LIST_HEIGHT if len(conversations) > SCROLL_AFTER else "content")
        for conv in conversations:
            box.button(
                plain(conv.title),
                key=f"thrive.open.{conv.id}",
                type="primary" if conv.id == current else "tertiary",
                icon=":material/chat_bubble:",
                width="stretch",
                on_click=state.open_conversation,
                args=(conv.id,),
            )


def header(ctx: PageContext, conv_id: str) -> None:
    """The open conversation's title and its actions: rename, export, delete."""
    conv = next((c for c in ctx.data.conversations() if c.id == conv_id), None)
    if conv is None:
        return
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.markdown(f"#### {plain(conv.title)}", width="stretch")
        _rename(ctx.data, conv)
        st.download_button(
            "Export",
            data=ctx.data.export_markdown(conv.id),
            file_name=f"thrive-{_slug(conv.title)}.md",
            mime="text/markdown",
            icon=":material/download:",
            key=f"thrive.export.{conv.id}",
            on_click="ignore",
            help="Download this conversation as a Markdown file.",
        )
        with st.popover("Delete", icon=":material/delete:", key=f"thrive.delete_menu.{conv.id}"):
            st.markdown("Delete this conversation and the feedback you gave in it?")
            st.button(
                "Delete conversation",
                key=f"thrive.delete.{conv.id}",
                type="primary",
                on_click=_delete,
                args=(ctx.data, conv.id),
            )


def _rename(data: UserData, conv: Conversation) -> None:
    key = f"thrive.rename.{conv.id}"
    if key not in st.session_state:
        st.session_state[key] = conv.title
    with st.popover("Rename", icon=":material/edit:", key=f"thrive.rename_menu.{conv.id}"):
        st.text_input("Name", key=key, max_chars=120)
        st.button(
            "Save name",
            key=f"thrive.rename_save.{conv.id}",
            on_click=_save_name,
            args=(data, conv.id, key),
        )


def _save_name(data: UserData, conv_id: str, key: str) -> None:
    try:
        data.rename_conversation(conv_id, str(st.session_state.get(key) or ""))
    except ThriveError as err:
        state.flash(str(err), "error")
        return
    state.flash("Renamed.")


def _delete(data: UserData, conv_id: str) -> None:
    data.delete_conversation(conv_id)
    state.open_conversation(None)
    state.flash("The conversation was deleted.")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:50] or "conversation"
