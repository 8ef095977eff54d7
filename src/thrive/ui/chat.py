"""The chat page: the open conversation, the question box, streamed answers. A message that
asks for a coaching tool ("Which of my skills are at risk?", "Suggest niches for me",
"Build my 30-day plan") gets the tool's result instead of the chain's answer."""

from __future__ import annotations

import logging
import time

import streamlit as st

from thrive.base.errors import InputError, ThriveError
from thrive.base.storage import Message
from thrive.coaching.followups import STARTERS, suggest
from thrive.coaching.intents import Intent, detect_intent
from thrive.coaching.safety import clean_question
from thrive.ui import answer, auth, conversations, resources, startup, state, tool_results
from thrive.ui.text import conversation_title, paced, safe_markdown, safe_stream

log = logging.getLogger(__name__)
PLACEHOLDER = "Describe your work, or ask what to do about AI"


def render() -> None:
    """Draw the chat page and answer the question asked in this run, if any."""
    ctx = resources.context(auth.user_id())
    conv_id = state.current_conversation(ctx.data)
    conversations.sidebar(ctx, conv_id)
    problem = startup.index_error()
    # Read the box first: when a question is on its way, the older answers lose their
    # follow-up buttons before they are drawn.
    typed = st.chat_input(PLACEHOLDER, key="thrive.question", disabled=problem is not None)
    pending = state.take_pending()
    question = typed or pending
    _flash()
    if problem:
        _index_problem(ctx, problem)
        question = None
    messages = ctx.data.messages(conv_id) if conv_id else []
    if conv_id:
        conversations.header(ctx, conv_id)
    elif not question:
        _empty_state(ctx)
    latest = messages[-1].id if messages and messages[-1].role == "assistant" else None
    for message in messages:
        answer.render_message(ctx, message, latest=message.id == latest and not question)
    if question:
        _respond(ctx, conv_id, messages, question)


def _flash() -> None:
    note = state.take_flash()
    if note:
        kind, text = note
        (st.error if kind == "error" else st.success)(text)


def _empty_state(ctx: resources.PageContext) -> None:
    st.title("Thrive", anchor=False)
    st.markdown(
        "Coaching for freelancers facing generative AI. Tell me what you do and what worries "
        "you: I answer from the guide *GenAI Threats to Freelancing & How to Thrive*, show "
        "the passages I used, and suggest what to do next."
    )
    if ctx.profile().is_empty:
        st.info(
            "Fill in **Your situation** in the sidebar, and the advice will fit your work.",
            icon=":material/person_edit:",
        )
    st.caption("Try one of these")
    with st.container(horizontal=True, gap="small"):
        for i, prompt in enumerate(STARTERS):
            st.button(
                prompt,
                key=f"thrive.starter.{i}",
                icon=":material/lightbulb:",
                on_click=state.ask,
                args=(prompt,),
            )


def _index_problem(ctx: resources.PageContext, problem: str) -> None:
    st.error(problem, title="The guide cannot be searched right now", icon=":material/error:")
    with st.container(horizontal=True, gap="small"):
        st.button(
            "Try again",
            key="thrive.index_retry",
            icon=":material/refresh:",
            on_click=_index_action,
            args=("retry",),
        )
        if not ctx.settings.uses_server_store:
            st.button(
                "Rebuild the index",
                key="thrive.index_rebuild",
                icon=":material/build:",
                help="Moves the current store aside (it is kept) and builds a new one from "
                "the guide.",
                on_click=_index_action,
                args=("rebuild",),
            )
    st.caption("Your conversations, situation and data stay available meanwhile.")


def _index_action(action: str) -> None:
    st.session_state[state.INDEX_ACTION] = action


def _respond(
    ctx: resources.PageContext, conv_id: str | None, messages: list[Message], question: str
) -> None:
    try:
        question = clean_question(question, ctx.settings.max_input_chars)
    except InputError as err:
        st.warning(str(err), title="Not sent", icon=":material/block:")
        return
    created = conv_id is None
    if conv_id is None:
        conv_id = ctx.data.new_conversation(conversation_title(question)).id
        state.open_conversation(conv_id)
    ctx.data.add_message(conv_id, "user", question)
    with st.chat_message("user", avatar=answer.AVATARS["user"]):
        st.markdown(safe_markdown(question))
    intent = detect_intent(question)
    with st.chat_message("assistant", avatar=answer.AVATARS["assistant"]):
        if intent is None:
            answered = _answer(ctx, conv_id, messages, question)
        else:
            answered = _use_tool(ctx, conv_id, messages, question, intent)
    if created and answered:
        st.rerun()  # the new conversation's title and its place in the list


def _asked(messages: list[Message], question: str) -> list[str]:
    return [m.content for m in messages if m.role == "user"] + [question]


def _unexpected(err: Exception, doing: str) -> None:
    """The edge of the app: say so plainly, keep the page."""
    st.error(
        f"Something went wrong while {doing} ({type(err).__name__}: {err}). Your question "
        "is saved; ask again, and restart Thrive if it keeps happening.",
        icon=":material/error:",
    )


def _answer(
    ctx: resources.PageContext, conv_id: str, messages: list[Message], question: str
) -> bool:
    """Stream the chain's answer, save it, draw what goes under it. False on failure."""
    history = [{"role": m.role, "content": m.content} for m in messages]
    try:
        with st.spinner("Reading the guide…"):
            ctx.wait_until_warm()
            stream = ctx.coach.stream(question, profile=ctx.profile(), history=history)
        st.write_stream(safe_stream(paced(stream)))
    except ThriveError as err:
        st.error(str(err), icon=":material/error:")
        return False
    except Exception as err:
        log.exception("answering failed")
        _unexpected(err, "answering")
        return False
    result = stream.answer
    if result is None:  # the stream was not read to its end
        return False
    meta = answer.answer_meta(result, suggest(result, _asked(messages, question)))
    saved = ctx.data.add_message(conv_id, "assistant", result.text, meta)
    answer.render_extras(ctx, saved.id, meta, feedback=None, comment="", latest=True)
    return True


def _use_tool(
    ctx: resources.PageContext,
    conv_id: str,
    messages: list[Message],
    question: str,
    intent: Intent,
) -> bool:
    """Run the coaching tool the question asks for, save its result with the answer and
    show it (chart, cards or plan). False on failure."""
    started = time.perf_counter()
    try:
        with st.spinner(tool_results.SPINNERS[intent]):
            ctx.wait_until_warm()  # the warm-up thread builds the tools' scorer first
            result = tool_results.run(ctx, intent, question)
    except ThriveError as err:
        st.error(str(err), icon=":material/error:")
        return False
    except Exception as err:
        log.exception("the %s failed", tool_results.NAMES[intent])
        _unexpected(err, f"running the {tool_results.NAMES[intent]}")
        return False
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    next_questions = tool_results.followups(intent, _asked(messages, question))
    meta = tool_results.meta_of(ctx, result, next_questions, latency_ms)
    saved = ctx.data.add_message(conv_id, "assistant", result.text, meta)
    tool_results.show(ctx, saved.id, result)
    answer.render_extras(ctx, saved.id, meta, feedback=None, comment="", latest=True)
    return True
