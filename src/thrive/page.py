"""The Streamlit chat page (a face: only this and app.py import streamlit)."""

from __future__ import annotations

import streamlit as st

from thrive.coach import Coach
from thrive.errors import ThriveError
from thrive.ingest import ingest
from thrive.settings import load_settings


@st.cache_resource(show_spinner=False)
def get_coach() -> Coach:
    """One coach per process: the models and the store load once, on first use."""
    return Coach.from_settings(load_settings(), fallback=True)


def ensure_index(coach: Coach) -> None:
    if st.session_state.get("index_checked"):
        return
    with st.status("Preparing the guide...", expanded=False) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"Embedding {done}/{total} chunks")

        report = ingest(coach.settings, progress=progress)
        status.update(
            label=f"Guide ready ({report.unchanged + report.embedded} chunks).", state="complete"
        )
    st.session_state.index_checked = True


def main() -> None:
    st.set_page_config(page_title="Thrive — freelance coach", page_icon="🌱")
    st.title("Thrive")
    st.caption("Coaching for freelancers facing generative AI, grounded in the guide.")
    coach = get_coach()
    try:
        ensure_index(coach)
    except ThriveError as err:
        st.error(str(err))
        st.stop()
    messages = st.session_state.setdefault("messages", [])
    for message in messages:
        with st.chat_message(message["role"]):
            st.markdown(message["content"])
    question = st.chat_input("Describe your work or ask a question")
    if not question:
        return
    with st.chat_message("user"):
        st.markdown(question)
    history = [{"role": m["role"], "content": m["content"]} for m in messages]
    with st.chat_message("assistant"):
        try:
            stream = coach.stream(question, history=history)
            text = st.write_stream(stream)
        except ThriveError as err:
            st.error(str(err))
            return
        answer = stream.answer
        if answer is not None:
            if answer.notice:
                st.warning(answer.notice)
            for c in answer.citations:
                with st.expander(f"[{c.section_id}] {c.title}"):
                    st.markdown(c.snippet)
            st.caption(f"Answered by {answer.backend}")
    messages += [{"role": "user", "content": question}, {"role": "assistant", "content": str(text)}]
