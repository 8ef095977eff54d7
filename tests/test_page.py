"""The chat page, driven by `streamlit.testing.v1.AppTest` through the repository's app.py.

Every test points the page at the session's index of the bundled guide (read only) and at a
data folder of its own, through the same environment variables a user would set.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from page_driver import APP, ask, open_page
from thrive.base.settings import Settings
from thrive.base.storage import UserData
from thrive.coaching.followups import STARTERS
from thrive.ui import situation
from thrive.ui.privacy import CONFIRM

QUESTION = "I write blog posts and product descriptions. Am I at risk?"


def answers(at: AppTest) -> list:
    return [m for m in at.chat_message if m.name == "assistant"]


def answer_text(at: AppTest, i: int = -1) -> str:
    return answers(at)[i].markdown[0].value


def buttons(at: AppTest) -> dict[str, object]:
    return {b.label: b for b in at.button}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


# -- chat ----------------------------------------------------------------------------------


def test_empty_state_offers_starter_prompts_that_ask(data_dir: Path) -> None:
    at = open_page()
    assert not at.chat_message
    labels = buttons(at)
    assert all(prompt in labels for prompt in STARTERS)
    labels[STARTERS[0]].click().run()  # type: ignore[attr-defined]
    assert not at.exception
    assert [m.markdown[0].value for m in at.chat_message if m.name == "user"] == [STARTERS[0]]
    assert "[threat-" in answer_text(at)


def test_answer_streams_with_citations_backend_and_follow_ups(data_dir: Path) -> None:
    at = ask(open_page(), QUESTION)
    reply = answers(at)[-1]
    assert "[threat-1]" in reply.markdown[0].value or "[threat-3]" in reply.markdown[0].value
    # Each citation opens to the guide's passage, as written in the guide.
    popovers = reply.get("popover")
    assert popovers, "no citation under the answer"
    labels = [p.proto.popover.label for p in popovers]
    assert any(label.startswith("\\[threat-") for label in labels), labels
    passages = " ".join(md.value for p in popovers for md in p.markdown)
    assert "The Threat:" in passages
    assert any("Answered by the offline coach" in c.value for c in reply.caption)
    follow_ups = [b for b in reply.button if b.key and b.key.startswith("thrive.followup.")]
    assert len(follow_ups) == 3
    # The conversation is saved, the answer with its citations and backend.
    conv = UserData(data_dir).conversations()
    assert len(conv) == 1 and conv[0].title == QUESTION
    saved = UserData(data_dir).messages(conv[0].id)
    assert [m.role for m in saved] == ["user", "assistant"]
    assert saved[1].meta["backend"] == "extractive" and saved[1].meta["citations"]


def test_follow_up_button_asks_it_and_moves_the_buttons(data_dir: Path) -> None:
    at = ask(open_page(), QUESTION)
    follow_up = next(b for b in at.button if b.key and b.key.startswith("thrive.followup."))
    follow_up.click().run()
    assert not at.exception
    assert len(answers(at)) == 2
    first, second = answers(at)
    assert not [b for b in first.button if b.key and b.key.startswith("thrive.followup.")]
    assert len([b for b in second.button if b.key and b.key.startswith("thrive.followup.")]) == 3


def test_over_long_input_is_refused_with_a_message(data_dir: Path) -> None:
    at = ask(open_page(), "Am I at risk? " * 400)  # 5,600 characters; the cap is 4,000
    assert not answers(at)
    assert any("the limit is 4,000" in w.value for w in at.warning)
    assert UserData(data_dir).conversations() == []


def test_markup_in_a_question_is_shown_as_text(data_dir: Path) -> None:
    at = ask(open_page(), "Is ![x](http://127.0.0.1:9/track.png) writing at risk from AI?")
    shown = next(m for m in at.chat_message if m.name == "user").markdown[0].value
    assert "!\\[x]" in shown  # an image in Markdown is shown as its text, and loads nothing


# -- your situation ------------------------------------------------------------------------


def test_profile_is_saved_and_used_by_the_coach(data_dir: Path) -> None:
    at = open_page()
    at.text_input(key=situation.SKILLS).input("copywriting, SEO")
    at.number_input(key=situation.YEARS).set_value(6)
    at.text_area(key=situation.GOALS).input("keep my rates")
    buttons(at)["Save"].click().run()  # type: ignore[attr-defined]
    assert not at.exception
    saved = UserData(data_dir).load_profile()
    assert saved["skills"] == ["copywriting", "SEO"] and saved["experience_years"] == 6
    ask(at, "Am I at risk from AI?")
    assert answer_text(at).startswith("**Your work: copywriting.**")  # the saved skills
    # A new session shows the saved situation in the form.
    again = open_page()
    assert again.text_input(key=situation.SKILLS).value == "copywriting, SEO"
    assert any("Coaching you as" in c.value for c in again.sidebar.caption)


# -- conversations -------------------------------------------------------------------------


def test_conversation_is_restored_after_a_restart(data_dir: Path) -> None:
    ask(open_page(), QUESTION)
    conv = UserData(data_dir).conversations()[0]

    restarted = open_page()  # a new session of the page on the same data folder
    assert not restarted.chat_message  # a fresh chat, the old one in the list
    restarted.button(key=f"thrive.open.{conv.id}").click().run()
    assert [m.name for m in restarted.chat_message] == ["user", "assistant"]
    assert restarted.chat_message[0].markdown[0].value == QUESTION

    # A reload keeps the open conversation: its id is in the URL.
    reloaded = AppTest.from_file(str(APP), default_timeout=180)
    reloaded.query_params["c"] = conv.id
    reloaded.run()
    assert [m.name for m in reloaded.chat_message] == ["user", "assistant"]


def test_rename_export_and_delete_a_conversation(data_dir: Path) -> None:
    at = ask(open_page(), QUESTION)
    conv = UserData(data_dir).conversations()[0]
    at.text_input(key=f"thrive.rename.{conv.id}").input("My blog work")
    at.button(key=f"thrive.rename_save.{conv.id}").click().run()
    assert UserData(data_dir).conversations()[0].title == "My blog work"

    export = at.get("download_button")[0].proto
    assert export.label == "Export"
    markdown = UserData(data_dir).export_markdown(conv.id)
    assert markdown.startswith("# My blog work") and QUESTION in markdown

    at.button(key=f"thrive.delete.{conv.id}").click().run()
    assert not at.exception
    assert UserData(data_dir).conversations() == []
    assert not at.chat_message
    assert any("deleted" in s.value for s in at.success)


def test_feedback_and_comment_are_stored_with_the_answer(data_dir: Path) -> None:
    at = ask(open_page(), QUESTION)
    conv = UserData(data_dir).conversations()[0]
    answer_id = UserData(data_dir).messages(conv.id)[1].id

    at.feedback(key=f"thrive.feedback.{answer_id}").set_value(1).run()
    assert UserData(data_dir).messages(conv.id)[1].feedback == 1
    at.text_input(key=f"thrive.comment.{answer_id}").input("Clear next step").run()
    saved = UserData(data_dir).messages(conv.id)[1]
    assert (saved.feedback, saved.comment) == (1, "Clear next step")

    at.feedback(key=f"thrive.feedback.{answer_id}").set_value(None).run()
    assert UserData(data_dir).messages(conv.id)[1].feedback is None  # thumbs taken back
    at.feedback(key=f"thrive.feedback.{answer_id}").set_value(0).run()
    assert UserData(data_dir).messages(conv.id)[1].feedback == 0
    # The thumbs are shown again in a later session.
    later = open_page()
    later.button(key=f"thrive.open.{conv.id}").click().run()
    assert later.feedback(key=f"thrive.feedback.{answer_id}").value == 0


def test_delete_all_my_data_leaves_nothing_behind(data_dir: Path) -> None:
    at = open_page()
    at.text_input(key=situation.SKILLS).input("copywriting")
    buttons(at)["Save"].click().run()  # type: ignore[attr-defined]
    ask(at, QUESTION)
    data = UserData(data_dir)
    answer_id = data.messages(data.conversations()[0].id)[1].id
    at.feedback(key=f"thrive.feedback.{answer_id}").set_value(1).run()

    assert at.button(key="thrive.delete_all").disabled  # not without the confirmation
    at.checkbox(key=CONFIRM).check().run()
    at.button(key="thrive.delete_all").click().run()
    assert not at.exception

    assert data.conversations() == [] and data.load_profile() == {}
    # Only the database (with its write-ahead log) is left, and the words are gone from it.
    files = {p.name: p.read_bytes() for p in data_dir.iterdir()}
    assert set(files) <= {"thrive.sqlite3", "thrive.sqlite3-wal", "thrive.sqlite3-shm"}
    assert not [name for name, content in files.items() if b"copywriting" in content]
    assert not at.chat_message
    assert at.text_input(key=situation.SKILLS).value == ""
    assert any("All your data was deleted" in s.value for s in at.success)
    assert not open_page().chat_message


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("llm", "base_url", "reason"),
    [
        ("openai-compatible:x", "closed", "Cannot reach the LLM server"),
        ("openai:gpt-4o-mini", None, "OPENAI_API_KEY is not set"),
    ],
    ids=["dead-server", "missing-key"],
)
def test_a_failing_llm_falls_back_to_the_offline_coach_with_a_notice(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, llm: str, base_url: str | None, reason: str
) -> None:
    monkeypatch.setenv("THRIVE_LLM", llm)
    if base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    at = ask(open_page(), QUESTION)
    reply = answers(at)[-1]
    assert "[threat-" in reply.markdown[0].value
    notices = [w.value for w in reply.warning]
    assert len(notices) == 1 and reason in notices[0] and "offline coach answered" in notices[0]
    assert any("Answered by the offline coach" in c.value for c in reply.caption)
    assert not at.error


def test_a_broken_store_shows_one_message_and_the_page_stays_usable(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "broken-store"
    store.mkdir()
    (store / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(store))
    at = open_page()
    assert len(at.error) == 1 and "thrive ingest --rebuild" in at.error[0].value
    assert at.chat_input[0].disabled
    # The rest of the page works: the situation can be saved.
    at.text_input(key=situation.SKILLS).input("copywriting")
    buttons(at)["Save"].click().run()  # type: ignore[attr-defined]
    assert UserData(data_dir).load_profile()["skills"] == ["copywriting"]
    assert len(at.error) == 1
    # "Rebuild the index" moves the broken store aside and builds a new one, visibly.
    at.button(key="thrive.index_rebuild").click().run()
    assert not at.exception and not at.error
    assert any(s.label.startswith("Guide ready") for s in at.status)
    assert list(tmp_path.glob("broken-store.broken-*"))
    assert "[threat-" in answer_text(ask(at, QUESTION))


def test_invalid_settings_show_one_message_naming_the_variable(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THRIVE_TOP_K", "0")
    at = open_page()
    assert len(at.error) == 1 and "THRIVE_TOP_K" in at.error[0].value
    assert "restart Thrive" in at.error[0].value


# -- start-up ------------------------------------------------------------------------------


def test_first_run_builds_the_index_with_visible_progress(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(tmp_path / "empty-store"))
    at = open_page()
    assert not at.error
    labels = [s.label for s in at.status]
    assert len(labels) == 1 and re.match(r"Guide ready: \d+ passages indexed in ", labels[0])
    assert at.status[0].state == "complete"
    assert "[threat-" in answer_text(ask(at, QUESTION))


def test_the_index_is_checked_once_per_process_not_per_session(
    data_dir: Path, guide_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from thrive.coaching.coach import Coach

    store = tmp_path / "store-copy"  # a store this process has not checked yet
    shutil.copytree(guide_settings.vectorstore_dir, store)
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(store))
    calls: list[bool] = []
    real = Coach.update_index

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(True)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Coach, "update_index", counting)
    first = open_page()
    assert not first.status  # nothing to embed: no progress shown
    second = open_page()  # another browser session of the same process
    assert len(calls) == 1
    assert "[threat-" in answer_text(ask(second, QUESTION))
