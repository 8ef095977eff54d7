"""Whether an answer is the one asked for, in the load test (no locust here, so tests can
import it). Every request carries a marker unique to its user and request; an answer that
names another request's marker is cross-talk: one request's state served to another."""

from __future__ import annotations

import re

MARKER = re.compile(r"\bmk\d+x\d+\b")


def marker(user: int, request: int) -> str:
    return f"mk{user}x{request}"


def problem(text: str, expected_start: str, own: str) -> str | None:
    """Why `text` is not the answer to the request marked `own`, or None. "cross-talk:"
    when it names another request's marker; "wrong answer:" when it does not open as
    expected (the marker's own opening)."""
    foreign = set(MARKER.findall(text)) - {own}
    if foreign:
        return f"cross-talk: the answer names {sorted(foreign)}, asked with {own}"
    if not text.startswith(expected_start):
        return f"wrong answer: expected it to open with {expected_start!r}: {text[:120]!r}"
    return None
