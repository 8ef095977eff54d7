"""Suggested follow-up questions: three next questions that fit an answer.

Made from the sections the answer cited, so they work the same with every backend (the
offline coach has no model to ask) and always lead back into the guide: after the risks,
how to answer them; after a strategy, how to start on it; then the coaching tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from thrive.base.schema import Answer, Passage

STARTERS = [
    "I write blog posts. Am I at risk?",
    "Suggest niches for me",
    "Build my 30-day plan",
]
# Asked when the answer's own sections are used up: the coaching questions every user has.
GENERAL = [
    "Which of my skills are most exposed to AI?",
    "Suggest niches for me",
    "Build my 30-day plan",
    "How do I stop competing on price with AI tools?",
]
# The order in which the answer's sections make good next questions.
_KIND_ORDER = {"strategy": 0, "action": 1, "threat": 2}


def _lower_title(title: str) -> str:
    """ "Build a Strong Personal Brand" -> "build a strong personal brand"; "GenAI" and
    "AI-Generated" keep their capitals where they are acronyms."""

    def word(w: str) -> str:
        parts = w.split("-")
        return "-".join(p.lower() if p[:1].isupper() and p[1:].islower() else p for p in parts)

    text = " ".join(word(w) for w in title.split())
    return re.sub(r"\byour\b", "my", text, flags=re.I)


def question_for(passage: Passage) -> str:
    """The natural next question about one section of the guide."""
    title = passage.title.strip().rstrip(":.")
    if passage.kind == "threat":
        return f"How do I protect my work against {_lower_title(title)}?"
    if passage.kind in ("strategy", "action"):
        return f"How do I {_lower_title(title)}?"
    return f"Tell me more about {title}"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def suggest(answer: Answer, asked: Iterable[str] = (), n: int = 3) -> list[str]:
    """`n` follow-up questions for this answer, none already asked in the conversation."""
    seen = {_norm(q) for q in asked}
    out: list[str] = []

    def add(question: str) -> None:
        if len(out) < n and _norm(question) not in seen:
            seen.add(_norm(question))
            out.append(question)

    if not answer.refused:
        cited = {c.section_id for c in answer.citations}
        ranked = sorted(
            (p for p in answer.passages if p.section_id in cited),
            key=lambda p: _KIND_ORDER.get(p.kind, 3),
        )
        kinds_used: set[str] = set()
        for passage in ranked:
            # One question per kind, so the three are not three variations of one topic.
            if passage.kind not in kinds_used and len(out) < n - 1:
                kinds_used.add(passage.kind)
                add(question_for(passage))
    for question in GENERAL if not answer.refused else STARTERS + GENERAL:
        add(question)
    return out
