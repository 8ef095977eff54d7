"""One message on the page: its text (or a coaching tool's result) and, for an answer, the
notice, the cited passages, who answered, the feedback thumbs and, under the latest answer,
follow-up questions."""

from __future__ import annotations

from typing import Any

import streamlit as st

from thrive.base.schema import Answer
from thrive.base.storage import Message, UserData
from thrive.ui import state, tool_results
from thrive.ui.resources import PageContext
from thrive.ui.text import backend_label, plain, safe_markdown

LABEL_TITLE_CHARS = 24  # two citations fit on a line of the chat column
AVATARS = {"user": ":material/person:", "assistant": ":material/eco:"}


def answer_meta(answer: Answer, followups: list[str]) -> dict[str, Any]:
    """What is stored with an answer, so the page can show it again exactly as it was."""
    return {
        "backend": answer.backend,
        "notice": answer.notice,
        "refused": answer.refused,
        "retrieved": answer.retrieved,
        "citations": answer.to_json()["citations"],
        "latency_ms": answer.latency_ms,
        "followups": followups,
    }


def render_message(ctx: PageContext, message: Message, *, latest: bool) -> None:
    """A stored message, as the user saw it when it was new."""
    with st.chat_message(message.role, avatar=AVATARS[message.role]):
        tool = tool_results.result_of(message.meta) if message.role == "assistant" else None
        if tool is not None:
            tool_results.show(ctx, message.id, tool)
        else:
            st.markdown(safe_markdown(message.content))
        if message.role == "assistant":
            render_extras(
                ctx,
                message.id,
                message.meta,
                feedback=message.feedback,
                comment=message.comment,
                latest=latest,
            )


def render_extras(
    ctx: PageContext,
    message_id: str,
    meta: dict[str, Any],
    *,
    feedback: int | None,
    comment: str,
    latest: bool,
) -> None:
    """Everything under an answer's text. Call inside its `st.chat_message`."""
    if meta.get("notice"):
        st.warning(meta["notice"], icon=":material/warning:")
    citations = meta.get("citations") or []
    if citations:
        _citations(ctx, citations)
    _footer(ctx.data, message_id, meta, feedback, comment)
    followups = meta.get("followups") or []
    if latest and followups:
        _followups(message_id, followups)


def _citations(ctx: PageContext, citations: list[dict[str, str]]) -> None:
    sections = ctx.guide_sections()
    st.caption("Sources in the guide")
    with st.container(horizontal=True, gap="small"):
        for cite in citations:
            section_id = cite["section_id"]
            title = cite.get("title") or section_id
            short = (
                title if len(title) <= LABEL_TITLE_CHARS else title[: LABEL_TITLE_CHARS - 1] + "…"
            )
            with st.popover(
                plain(f"[{section_id}] {short}"), icon=":material/menu_book:", help=plain(title)
            ):
                section = sections.get(section_id)
                label = section.label if section else ""
                st.markdown(f"**{plain(f'{label}: {title}' if label else title)}**")
                if section is not None:
                    st.markdown(safe_markdown(section.text))
                    if section.doc_title:
                        st.caption(f"From the guide “{plain(section.doc_title)}”")
                else:  # the guide changed since this answer: its snippet is all we have
                    st.markdown(safe_markdown(cite.get("snippet", "")))


def _cut(text: str, limit: int) -> str:
    """`text` cut at a word to at most `limit` characters, with an ellipsis."""
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return f"{cut}…"


def _footer(
    data: UserData, message_id: str, meta: dict[str, Any], feedback: int | None, comment: str
) -> None:
    score_key = f"thrive.feedback.{message_id}"
    comment_key = f"thrive.comment.{message_id}"
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        score = st.feedback(
            "thumbs",
            key=score_key,
            default=feedback,
            on_change=_save_score,
            args=(data, message_id, score_key, comment_key),
        )
        seconds = float(meta.get("latency_ms") or 0) / 1000
        timing = f" · {seconds:.1f} s" if seconds else ""
        # A coaching tool names itself: no chain or backend answered the question.
        made_by = (
            meta.get("made_by") or f"Answered by {backend_label(str(meta.get('backend', '?')))}"
        )
        st.caption(f"{plain(str(made_by))}{timing}")
    if score is not None:
        if comment_key not in st.session_state:
            st.session_state[comment_key] = comment
        st.text_input(
            "Comment on this answer (optional)",
            key=comment_key,
            max_chars=2000,
            placeholder="What helped, or what was missing? Press Enter to save.",
            label_visibility="collapsed",
            on_change=_save_comment,
            args=(data, message_id, score_key, comment_key),
        )


def _save_score(data: UserData, message_id: str, score_key: str, comment_key: str) -> None:
    score = st.session_state.get(score_key)
    if score is None:
        data.clear_feedback(message_id)
    else:
        data.set_feedback(message_id, int(score), str(st.session_state.get(comment_key) or ""))


def _save_comment(data: UserData, message_id: str, score_key: str, comment_key: str) -> None:
    score = st.session_state.get(score_key)
    if score is not None:
        data.set_feedback(message_id, int(score), str(st.session_state.get(comment_key) or ""))
        st.toast("Thanks: your comment is saved with this answer.", icon=":material/check:")


def _followups(message_id: str, followups: list[str]) -> None:
    st.caption("Ask next")
    with st.container(horizontal=True, gap="small"):
        for i, question in enumerate(followups):
            st.button(
                plain(question),
                key=f"thrive.followup.{message_id}.{i}",
                icon=":material/arrow_forward:",
                on_click=state.ask,
                args=(question,),
            )
