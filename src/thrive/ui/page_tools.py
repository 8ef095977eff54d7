"""Page parts for the coaching tools: the exposure chart, niche cards and the plan.

A face module (it imports Streamlit); the page calls these wherever a tool's result is
shown, in the chat or elsewhere. Every function renders into the current Streamlit
container, so call it inside `st.chat_message(...)`, a tab or a column as needed.

Widget keys: every render function takes a `key` that must be unique on the page (e.g.
the chat message's id); the widgets it creates are keyed `f"{key}.<something>"`.

Skills, niche names and plan details carry the user's own words (and an LLM's): names are
shown as literal text (`plain`) and prose with image syntax disarmed (`safe_markdown`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import altair as alt
import streamlit as st

from thrive.base.storage import UserData
from thrive.coaching.intents import ToolResult
from thrive.coaching.tools import (
    EVIDENCE_CREDIT,
    ActionPlan,
    Niche,
    NicheSuggestions,
    SkillExposure,
    no_occupation_match,
)
from thrive.coaching.tools.exposure import LABEL_WORDS
from thrive.ui.text import plain, safe_markdown

if TYPE_CHECKING:
    from thrive.knowledge.onet import OccupationView

#: Where "Tell me more" leaves its question by default; the chat answers it on the next run.
#: The same key as the page's `thrive.ui.state.PENDING`.
PENDING_QUESTION = "thrive.pending_question"
LEVEL_COLOURS = {"high": "#d62728", "medium": "#ff9f1c", "low": "#2ca02c"}
# Streamlit badges, not emoji: emoji fonts are missing on many Linux desktops.
LEVEL_BADGES = {"high": "red", "medium": "orange", "low": "green"}
BAR_PX = 34  # one skill's row in the chart
AXIS_PX = 56  # the score axis and its title, inside the chart's height


def exposure_chart(results: Sequence[SkillExposure]) -> alt.Chart:
    """A horizontal bar chart of skills by exposure score (0-100), most exposed on top,
    coloured by level; the tooltip shows the level, the threats that drive the score,
    the strategies that answer it and the one-line why."""
    rows = [
        {
            "skill": r.skill,
            "score": r.score,
            "level": r.level,
            "threats": ", ".join(r.threats),
            "strategies": ", ".join(r.strategies),
            "why": r.why,
        }
        for r in results
    ]
    order = [r.skill for r in sorted(results, key=lambda r: -r.score)]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            x=alt.X("score:Q", title="Exposure to GenAI (0-100)", scale=alt.Scale(domain=[0, 100])),
            y=alt.Y("skill:N", title=None, sort=order),
            color=alt.Color(
                "level:N",
                title="Level",
                scale=alt.Scale(domain=list(LEVEL_COLOURS), range=list(LEVEL_COLOURS.values())),
            ),
            tooltip=[
                alt.Tooltip("skill:N", title="Skill"),
                alt.Tooltip("score:Q", title="Score"),
                alt.Tooltip("level:N", title="Level"),
                alt.Tooltip("threats:N", title="Threats"),
                alt.Tooltip("strategies:N", title="Strategies"),
                alt.Tooltip("why:N", title="Why"),
            ],
        )
        .properties(height=AXIS_PX + BAR_PX * max(2, len(rows)))
    )


def render_exposure(results: Sequence[SkillExposure], *, key: str = "exposure") -> None:
    """Render the exposure bar chart and, below it, each skill's why with its citations.

    `results` is what `Coach.exposure(skills)` returns. Nothing is rendered for an
    empty list but a short hint.
    """
    if not results:
        st.info("No skills to check yet: name them in the chat or in your profile.")
        return
    st.altair_chart(exposure_chart(results), width="stretch", key=f"{key}.chart")
    for r in sorted(results, key=lambda r: -r.score):
        badge = _badge(r.level, f"{r.level} · {r.score}/100")
        st.markdown(f"**{plain(r.skill)}** {badge}  \n{safe_markdown(r.why)}")
        if r.evidence:
            with st.expander(
                f"The O*NET tasks behind “{plain(r.skill)}”", icon=":material/fact_check:"
            ):
                st.markdown(
                    "\n".join(
                        f"- {plain(e.task)} · *{plain(e.occupation)}* · "
                        f"{_badge(EVIDENCE_LEVEL[e.label], LABEL_WORDS[e.label])} "
                        f"(similarity {e.similarity:.2f})"
                        for e in r.evidence
                    )
                )
    st.caption(plain(EVIDENCE_CREDIT))


def render_occupation(asked: str, view: OccupationView | None) -> None:
    """An occupation's human exposure rating and its most and least exposed tasks."""
    if view is None:
        st.info(plain(no_occupation_match(asked)))
        return
    occ = view.occupation
    st.markdown(
        f"**{plain(asked)}** → {plain(occ.title)} (O*NET {occ.soc_code}): "
        f"**{occ.human_beta:.0%}** of its work is exposed by the annotators' labels "
        f"(E1 + ½·E2; GPT-4 said {occ.gpt4_beta:.0%})."
    )
    most, least = st.columns(2)
    for column, heading, tasks in (
        (most, "Most exposed tasks", view.most_exposed),
        (least, "Least exposed tasks", view.least_exposed),
    ):
        column.markdown(f"**{heading}**\n" + "\n".join(f"- {plain(t.text)}" for t in tasks))
    st.caption(plain(view.credit))


# The badge colour of a human label: the same scale as the levels'.
EVIDENCE_LEVEL = {"E1": "high", "E2": "medium", "E0": "low"}


def _badge(level: str, text: str) -> str:
    return f":{LEVEL_BADGES[level]}-badge[{text}]"


def tell_me_more_question(niche: Niche) -> str:
    """The chat question a niche card's "Tell me more" asks."""
    return (
        f'Tell me more about the niche "{niche.niche}" for me: why it suits me, how exposed '
        "it is to AI, and how to get started."
    )


def _queue_question(question: str) -> None:
    st.session_state[PENDING_QUESTION] = question


def render_niches(
    suggestions: NicheSuggestions | Sequence[Niche],
    *,
    key: str = "niches",
    on_more: Callable[[str], None] | None = None,
) -> None:
    """Render one bordered card per niche (name, exposure, cited strategies, why, three
    first steps) with a "Tell me more" button.

    The button calls `on_more(question)` (e.g. the page's `state.ask`) in its on_click
    callback; by default it stores the question in `st.session_state[PENDING_QUESTION]`
    for the chat to answer on the next run. A `NicheSuggestions` notice (empty profile,
    LLM fallback) is shown above the cards.
    """
    notice = getattr(suggestions, "notice", "")
    if notice:
        st.info(safe_markdown(notice))
    ask = on_more or _queue_question
    for i, niche in enumerate(suggestions):
        with st.container(border=True, key=f"{key}.card.{i}"):
            st.markdown(f"**{plain(niche.niche)}**")
            cites = " ".join(f"[{s}]" for s in niche.strategies)
            st.caption(f"{_badge(niche.exposure, f'exposure: {niche.exposure}')} {cites}")
            st.markdown(safe_markdown(niche.why))
            st.markdown("\n".join(f"{n}. {plain(s)}" for n, s in enumerate(niche.first_steps, 1)))
            st.button(
                "Tell me more",
                key=f"{key}.more.{i}",
                on_click=ask,
                args=(tell_me_more_question(niche),),
                help="Ask the coach about this niche in the chat",
            )


def _save_tick(data: UserData, plan_id: str, item_id: str, widget: str) -> None:
    data.set_plan_item(plan_id, item_id, bool(st.session_state[widget]))


def render_plan(plan: ActionPlan, data: UserData, *, key: str = "plan") -> None:
    """Render the 30-day plan week by week with one checkbox per item, and download
    buttons for Markdown and .ics.

    Ticks are read from and saved to `data` (`UserData`) under `plan.plan_id` as soon as
    a box changes, so they survive a restart. `plan` is what `Coach.plan(profile)` returns.
    """
    plan = plan.load_progress(data)
    done = sum(i.done for i in plan.items)
    st.markdown(
        f"**Your 30-day plan**: {plan.start:%a %d %b} to {plan.end:%a %d %b}, "
        f"{done}/{len(plan.items)} done"
    )
    st.progress(done / len(plan.items) if plan.items else 0.0)
    for week, items in plan.weeks():
        first, last = plan.week_span(week)
        st.markdown(f"**Week {week}** ({first:%d %b} – {last:%d %b})")
        for item in items:
            widget = f"{key}.{plan.plan_id}.{item.id}"
            # The saved tick wins over this session's: one plan may be on the page twice
            # (asked for twice in a chat) and ticked in either.
            st.session_state[widget] = item.done
            st.checkbox(
                f"{item.due:%a %d %b}: {plain(item.title)} [{item.step}]",
                key=widget,
                on_change=_save_tick,
                args=(data, plan.plan_id, item.id, widget),
            )
            st.caption(safe_markdown(item.detail))
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "Download Markdown",
            data=plan.to_markdown(),
            file_name="thrive-30-day-plan.md",
            mime="text/markdown",
            icon=":material/download:",
            key=f"{key}.markdown",
            on_click="ignore",
        )
        st.download_button(
            "Download calendar (.ics)",
            data=plan.to_ics(),
            file_name="thrive-30-day-plan.ics",
            mime="text/calendar",
            icon=":material/calendar_month:",
            key=f"{key}.ics",
            on_click="ignore",
        )


def render_tool_result(
    result: ToolResult,
    data: UserData,
    *,
    key: str,
    on_more: Callable[[str], None] | None = None,
) -> None:
    """Render whatever `thrive.coaching.intents.run_intent` produced: the chart, the cards or the
    plan; when the tool needed more input, its `text` (what to give)."""
    if result.exposure is not None:
        render_exposure(result.exposure, key=key)
    elif result.niches is not None:
        render_niches(result.niches, key=key, on_more=on_more)
    elif result.plan is not None:
        render_plan(result.plan, data, key=key)
    else:
        st.markdown(safe_markdown(result.text))
