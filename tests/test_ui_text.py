"""The page's text helpers: safe Markdown, paced streaming, labels; and the rule that no
page code renders raw HTML."""

from __future__ import annotations

import re
from pathlib import Path

from thrive.ui.text import (
    backend_label,
    conversation_title,
    paced,
    plain,
    safe_markdown,
    safe_stream,
)

UI = Path(__file__).resolve().parents[1] / "src" / "thrive" / "ui"


def test_images_are_disarmed_and_other_markdown_kept() -> None:
    text = "**Risk** [threat-1]\n\n![pixel](https://evil.example/p.png?q=secret)"
    safe = safe_markdown(text)
    assert "**Risk** [threat-1]" in safe
    assert "![" not in safe and "!\\[pixel]" in safe


def test_an_image_opener_split_across_tokens_is_caught() -> None:
    tokens = ["See this!", "[x](http://e/a.png) and ", "that!", " Done!"]
    out = "".join(safe_stream(tokens))
    assert "![" not in out
    assert out == "See this!\\[x](http://e/a.png) and that! Done!"


def test_paced_joins_tokens_that_arrive_faster_than_the_page_updates() -> None:
    times = iter([0.0, 0.01, 0.02, 0.03, 0.2, 0.21])
    pieces = list(
        paced(["a ", "b ", "c ", "d ", "e ", "f"], per_second=10, clock=lambda: next(times))
    )
    assert pieces == ["a ", "b c d e ", "f"]
    assert "".join(pieces) == "a b c d e f"


def test_plain_shows_user_text_literally() -> None:
    assert plain("I write blog posts. Am I at risk?") == "I write blog posts. Am I at risk?"
    assert (
        plain("**bold** [link](http://x) <b> $x$")
        == "\\*\\*bold\\*\\* \\[link\\](http://x) \\<b\\> \\$x\\$"
    )
    assert plain("# Title") == "\\# Title"
    assert plain("1. first") == "1\\. first"
    assert plain("  many\n lines ") == "many lines"


def test_conversation_title_is_the_question_cut_at_a_word() -> None:
    assert conversation_title("  Am I   at risk? ") == "Am I at risk?"
    long = "I write blog posts and product descriptions for small shops, am I at risk from AI?"
    title = conversation_title(long)
    assert title.endswith("…") and len(title) <= 61 and long.startswith(title[:-1])
    assert conversation_title("") == "New conversation"


def test_backend_label_names_the_offline_coach() -> None:
    assert "offline coach" in backend_label("extractive")
    assert backend_label("openai:gpt-4o-mini") == "openai:gpt-4o-mini"


def test_no_page_code_renders_raw_html() -> None:
    sources = {p.name: p.read_text("utf-8") for p in UI.glob("*.py")}
    assert "chat.py" in sources
    offenders = {
        name
        for name, text in sources.items()
        if re.search(r"unsafe_allow_html\s*=\s*True|st\.html\(|components\.v1|\.html\(", text)
    }
    assert not offenders, f"raw HTML rendered in {sorted(offenders)}"
