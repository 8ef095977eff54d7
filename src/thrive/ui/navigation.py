"""The app's pages: the chat first, then the coaching tools. Both are listed in `pages()`.

A page is a function that draws itself: it gets what it needs from `resources.context()`,
may add to the sidebar (its items come first, above "Your situation"), and never calls
`st.stop()`, so the shared sidebar below it is always drawn.
"""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from thrive.ui import chat, tools


def chat_page() -> StreamlitPage:
    """The chat, the default page."""
    return st.Page(chat.render, title="Chat", icon=":material/forum:", default=True)


def tools_page() -> StreamlitPage:
    """The coaching tools: exposure check, niche finder, 30-day plan."""
    return st.Page(tools.render, title="Tools", icon=":material/handyman:", url_path="tools")


def pages() -> list[StreamlitPage]:
    """Every page, in menu order. With one page the menu is hidden."""
    return [chat_page(), tools_page()]
