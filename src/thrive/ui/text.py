"""Text shown on the page, made safe and short. Pure functions: no Streamlit here.

Streamlit never renders raw HTML unless asked to (and the page never asks), so what is
left to guard against is Markdown that makes the browser fetch something by itself: an
image `![](https://...)` in an answer would load, unasked, from any server an LLM or a
guide names. Images are shown as their literal text instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator

_IMAGE = re.compile(r"!\[")
# Inline formatting, links, HTML-looking tags, tables, strike-through and LaTeX ($x$).
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>|~$])")
# Block syntax only counts at the start of a line: headings, lists, quotes.
_MARKDOWN_BLOCK = re.compile(r"^(\s*)([#>+-])")
_ORDERED_LIST = re.compile(r"^(\s*\d+)([.)])")
TITLE_CHARS = 60
# At most this many page updates a second while an answer streams. Each update re-sends and
# re-renders the whole answer so far, so word-by-word updates of a fast backend cost more
# than they show (measured: ~40 ms a word on a busy 2-core machine).
UPDATES_PER_S = 20


def safe_markdown(text: str) -> str:
    """Markdown with image syntax disarmed: `![alt](url)` shows as text, loads nothing."""
    return _IMAGE.sub(r"!\\[", text)


def safe_stream(tokens: Iterable[str]) -> Iterator[str]:
    """`safe_markdown` for a token stream: a trailing `!` waits for the next token, so an
    image opener split across two tokens is caught too."""
    held = ""
    for token in tokens:
        text = held + token
        held = "!" if text.endswith("!") else ""
        text = text[:-1] if held else text
        if text:
            yield safe_markdown(text)
    if held:
        yield held


def paced(
    tokens: Iterable[str],
    per_second: float = UPDATES_PER_S,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[str]:
    """Tokens joined into pieces at most `per_second` apart: an LLM's answer still appears
    as it is written, and an answer that is ready at once is not replayed word by word."""
    interval = 1.0 / per_second
    pending = ""
    last = float("-inf")
    for token in tokens:
        pending += token
        now = clock()
        if now - last >= interval:
            yield pending
            pending = ""
            last = now
    if pending:
        yield pending


def plain(text: str) -> str:
    """User text as literal Markdown (for titles and labels): no formatting, no links."""
    text = _MARKDOWN_INLINE.sub(r"\\\1", " ".join(text.split()))
    text = _MARKDOWN_BLOCK.sub(r"\1\\\2", text)
    return _ORDERED_LIST.sub(r"\1\\\2", text)


def conversation_title(question: str) -> str:
    """A conversation's first name: its first question, cut at a word near 60 characters."""
    words = " ".join(question.split())
    if len(words) <= TITLE_CHARS:
        return words or "New conversation"
    cut = words[:TITLE_CHARS].rsplit(" ", 1)[0] or words[:TITLE_CHARS]
    return cut.rstrip(",.;:!?-") + "…"


def backend_label(name: str) -> str:
    """How the page names the backend that answered."""
    if name == "extractive":
        return "the offline coach (extractive, no LLM)"
    return name
