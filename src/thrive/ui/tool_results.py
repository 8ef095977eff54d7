"""The coaching tools' results on the page: run for this user, kept with a chat message,
shown again as they were.

A tool's answer is stored like any answer (its Markdown `text` is the message content, for
the history and the export) and its result goes in the message's meta
(`ToolResult.to_json`). A restored conversation shows the same chart, niche cards and dated
plan without running the tool again; only the plan's ticks are read fresh (saved apart).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import streamlit as st

from thrive.coaching.followups import GENERAL
from thrive.coaching.intents import Intent, ToolResult, detect_intent, run_intent
from thrive.coaching.tools.plan import plan_start
from thrive.ui import (
    page_tools,
    state,
)
from thrive.ui.resources import PageContext
from thrive.ui.text import backend_label, safe_markdown

log = logging.getLogger(__name__)

SPINNERS: dict[Intent, str] = {
    "exposure": "Scoring your skills against the guide…",
    "niches": "Finding niches that fit you…",
    "plan": "Dating the guide's action steps for you…",
}
NAMES: dict[Intent, str] = {
    "exposure": "exposure check",
    "niches": "niche finder",
    "plan": "30-day plan",
}
INTROS: dict[Intent, str] = {
    "exposure": "How exposed each skill is to generative AI, scored against the work the "
    "guide names as exposed and as safe. Hover over a bar to see the threats behind it.",
    "niches": "Niches in the guide's pattern: your skill, an industry, and what AI cannot do. "
    "**Tell me more** opens a chat about one.",
    "plan": "The guide's seven action steps, dated for you. Tick what you have done: your "
    "ticks are saved.",
}
SNIPPET_CHARS = 300


def run(ctx: PageContext, intent: Intent, question: str) -> ToolResult:
    """Run the tool a chat message asks for, for the saved situation. Asking for a plan
    shows the running one; a new or ended one starts today."""
    profile = ctx.profile()
    start = None
    if intent == "plan":
        start = plan_start(ctx.data, profile, date.today(), renew_ended=True)
    return run_intent(ctx.coach, intent, question, profile, start=start)


def followups(intent: Intent, asked: list[str], n: int = 3) -> list[str]:
    """Next questions after a tool: the other tools first, none already asked."""
    seen = {" ".join(q.lower().split()) for q in asked}
    fresh = [q for q in GENERAL if " ".join(q.lower().split()) not in seen]
    return [q for q in fresh if detect_intent(q) != intent][:n]


def cited_sections(result: ToolResult) -> list[str]:
    """The guide sections a result rests on, in the order it names them."""
    ids: list[str] = []
    if result.exposure is not None:
        ranked = sorted(result.exposure, key=lambda r: -r.score)
        ids = [s for r in ranked for s in r.threats] + [s for r in ranked for s in r.strategies]
    elif result.niches is not None:
        ids = [s for n in result.niches for s in n.strategies]
    elif result.plan is not None:
        ids = sorted({i.step for i in result.plan.items})
    return list(dict.fromkeys(ids))


def made_by(result: ToolResult) -> str:
    """Who made the result, for the line under it (tools answer without the chain)."""
    if result.niches is not None:
        return f"Niches by {backend_label(result.niches.backend)}"
    if result.intent == "exposure":
        return "Scored by the exposure check (the same with every backend)"
    if result.intent == "plan":
        return "Planned from the guide's action steps (no LLM)"
    return f"The {NAMES[result.intent]}"


def meta_of(
    ctx: PageContext, result: ToolResult, next_questions: list[str], latency_ms: float
) -> dict[str, Any]:
    """What is stored with a tool's answer: the result itself, the guide sections it
    cites (openable like an answer's), who made it and the follow-up questions."""
    sections = ctx.guide_sections()
    citations = []
    for section_id in cited_sections(result):
        section = sections.get(section_id)
        citations.append(
            {
                "section_id": section_id,
                "title": section.title if section else section_id,
                "snippet": section.text[:SNIPPET_CHARS] if section else "",
            }
        )
    return {
        "tool": result.to_json(),
        "backend": result.niches.backend if result.niches is not None else "thrive-tools",
        "made_by": made_by(result),
        "citations": citations,
        "latency_ms": latency_ms,
        "followups": next_questions,
    }


def result_of(meta: dict[str, Any]) -> ToolResult | None:
    """The tool result kept in a message's meta, or None for an ordinary answer."""
    data = meta.get("tool")
    if not data:
        return None
    try:
        return ToolResult.from_json(data)
    except ValueError:  # written by another version: the message's Markdown text remains
        log.warning("a stored tool result cannot be read", exc_info=True)
        return None


def show(ctx: PageContext, message_id: str, result: ToolResult) -> None:
    """A tool's result inside its chat message: the chart, the cards or the plan."""
    if not result.complete:  # the tool needs input first: its text says which
        st.markdown(safe_markdown(result.text))
        return
    st.markdown(INTROS[result.intent])
    page_tools.render_tool_result(
        result, ctx.data, key=f"thrive.tool.{message_id}", on_more=chat_about
    )


def chat_about(question: str) -> None:
    """ "Tell me more" on a niche: a new chat that asks `question`. Its own conversation, so
    the question and its answer are on screen at once (the cards may be far up a long
    conversation), named after the niche. A button callback."""
    state.open_conversation(None)
    state.ask(question)
