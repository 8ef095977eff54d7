"""The page's text helpers: safe Markdown, paced streaming, labels; and the rule that no
page code renders raw HTML."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from thrive.ui.text import (
    backend_label,
    conversation_title,
    paced,
    plain,
    safe_markdown,
    safe_stream,
)

REPO = Path(__file__).resolve().parents[1]


# Every Python file that can draw the page: the entry point and the whole package (the UI
# lives in thrive/ui/, but a helper anywhere in thrive/ could be called from it).
def page_code() -> list[Path]:
    return [REPO / "app.py", *sorted((REPO / "src" / "thrive").rglob("*.py"))]


# Streamlit calls that put HTML on the page as it is: st.html, components.v1.html / iframe /
# declare_component (custom components), and anything called with unsafe_allow_html.
RAW_HTML_CALLS = {"html", "iframe", "declare_component"}


def raw_html(source: str) -> list[str]:
    """Where `source` renders raw HTML, one "line N: what" each."""
    found = []
    if "unsafe_allow_html" in source:  # as a keyword, in a dict of keywords, anywhere
        found += [
            f"line {n}: unsafe_allow_html"
            for n, line in enumerate(source.splitlines(), 1)
            if "unsafe_allow_html" in line
        ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in RAW_HTML_CALLS:
                found.append(f"line {node.lineno}: {ast.unparse(func)}(...)")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.startswith("streamlit.components")
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streamlit"):
            names = {a.name for a in node.names}
            if node.module.startswith("streamlit.components") or names & {"components", "html"}:
                found.append(f"line {node.lineno}: from {node.module} import {sorted(names)}")
    return found


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
    files = page_code()
    names = {p.relative_to(REPO).as_posix() for p in files}
    assert {
        "app.py",
        "src/thrive/__init__.py",
        "src/thrive/ui/chat.py",
        "src/thrive/ui/page_tools.py",
    } <= names
    offenders = {
        p.relative_to(REPO).as_posix(): found
        for p in files
        if (found := raw_html(p.read_text("utf-8")))
    }
    assert not offenders, f"raw HTML rendered in {offenders}"


@pytest.mark.parametrize(
    "snippet",
    [
        'st.markdown("<b>hi</b>", unsafe_allow_html=True)',
        "st.write(text, unsafe_allow_html=flag)",
        'col.caption(text, **{"unsafe_allow_html": True})',
        'st.html("<script>alert(1)</script>")',
        'import streamlit.components.v1 as components\ncomponents.html("<p>x</p>")',
        'from streamlit.components.v1 import html\nhtml("<p>x</p>")',
        "from streamlit import components",
        'st.components.v1.iframe("https://example.com")',
        'components.declare_component("widget", path="build")',
    ],
)
def test_the_scan_catches_each_way_of_rendering_raw_html(snippet: str) -> None:
    """The page's tool views with one such line added would fail the rule."""
    page_tools = (REPO / "src" / "thrive" / "ui" / "page_tools.py").read_text("utf-8")
    assert raw_html(page_tools) == []
    assert raw_html(f"{page_tools}\n{snippet}\n")


def test_the_scan_lets_safe_page_code_through() -> None:
    safe = (
        "import html\nimport streamlit as st\n"
        "st.markdown(safe_markdown(text))\n"
        'st.caption(html.escape(note))\nst.download_button("Plan", data, "plan.html")\n'
    )
    assert raw_html(safe) == []
