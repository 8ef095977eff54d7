"""The user's saved data, on SQLite and on a real PostgreSQL (the `user_db` fixture)."""

import socket
from datetime import date

import pytest

from thrive.base.errors import StoreError
from thrive.base.storage import UserData


def test_conversations_messages_and_feedback_survive_a_restart(user_db):
    data = user_db.open()
    conv = data.new_conversation("Am I at risk?")
    question = data.add_message(conv.id, "user", "I design logos. Am I at risk?")
    answer = data.add_message(conv.id, "assistant", "Yes [threat-1].", {"backend": "extractive"})
    data.set_feedback(answer.id, 0, "too generic")
    data.save_profile({"skills": ["logo design"]})

    again = user_db.open()
    assert [c.title for c in again.conversations()] == ["Am I at risk?"]
    messages = again.messages(conv.id)
    assert [m.id for m in messages] == [question.id, answer.id]
    assert messages[1].meta == {"backend": "extractive"}
    assert (messages[1].feedback, messages[1].comment) == (0, "too generic")
    assert again.load_profile() == {"skills": ["logo design"]}


def test_the_old_one_argument_constructor_is_the_local_user_on_sqlite(tmp_path):
    data = UserData(tmp_path)
    data.save_profile({"goals": "keep going"})
    assert data.user_id == "local" and (tmp_path / "thrive.sqlite3").exists()
    assert UserData(tmp_path, user_id="local").load_profile() == {"goals": "keep going"}


def test_rename_export_and_delete_a_conversation(user_db):
    data = user_db.open()
    conv = data.new_conversation()
    data.add_message(conv.id, "user", "Which niche fits me?")
    data.rename_conversation(conv.id, "  Niches   for me ")
    assert data.conversations()[0].title == "Niches for me"
    exported = data.export_markdown(conv.id)
    assert exported.startswith("# Niches for me") and "Which niche fits me?" in exported
    with pytest.raises(StoreError, match="needs a name"):
        data.rename_conversation(conv.id, "   ")
    data.delete_conversation(conv.id)
    assert data.conversations() == [] and data.messages(conv.id) == []


def test_feedback_can_be_changed_and_taken_back(user_db):
    data = user_db.open()
    conv = data.new_conversation()
    answer = data.add_message(conv.id, "assistant", "Niche down [strategy-2].")
    data.set_feedback(answer.id, 1)
    data.set_feedback(answer.id, 0, "changed my mind")
    assert (data.messages(conv.id)[0].feedback, data.messages(conv.id)[0].comment) == (
        0,
        "changed my mind",
    )
    data.clear_feedback(answer.id)
    assert data.messages(conv.id)[0].feedback is None


def test_the_most_recently_active_conversation_comes_first(user_db):
    data = user_db.open()
    older = data.new_conversation("older")
    data.new_conversation("newer")
    data.add_message(older.id, "user", "back to this one")
    assert [c.title for c in data.conversations()] == ["older", "newer"]


def test_messages_keep_their_order_when_saved_in_quick_succession(user_db):
    data = user_db.open()
    conv = data.new_conversation()
    for i in range(30):
        data.add_exchange(conv.id, f"question {i}", f"answer {i}")
    contents = [m.content for m in data.messages(conv.id)]
    assert contents == [f"{kind} {i}" for i in range(30) for kind in ("question", "answer")]


def test_a_question_and_its_answer_are_saved_together_or_not_at_all(user_db):
    data = user_db.open()
    conv = data.new_conversation()
    q, a = data.add_exchange(conv.id, "Am I at risk?", "Partly [threat-1].", {"backend": "x"})
    assert [(m.role, m.content) for m in data.messages(conv.id)] == [
        ("user", "Am I at risk?"),
        ("assistant", "Partly [threat-1]."),
    ]
    # The answer's metadata cannot be saved: the question, written first, is rolled back too.
    with pytest.raises(TypeError):
        data.add_exchange(conv.id, "And now?", "Answer", {"not json": object()})
    assert [m.id for m in data.messages(conv.id)] == [q.id, a.id]


def test_a_message_for_a_deleted_conversation_is_refused_clearly(user_db):
    data = user_db.open()
    conv = data.new_conversation()
    data.delete_conversation(conv.id)
    with pytest.raises(StoreError, match="not found"):
        data.add_message(conv.id, "user", "hello?")
    with pytest.raises(StoreError, match="not found"):
        data.add_exchange(conv.id, "hello?", "hi")
    assert data.messages(conv.id) == []


def test_plan_progress_is_kept(user_db):
    user_db.open().set_plan_item("plan-1", "week-1-a", True)
    user_db.open().set_plan_item("plan-1", "week-1-b", True)
    user_db.open().set_plan_item("plan-1", "week-1-b", False)
    assert user_db.open().plan_items("plan-1") == {"week-1-a": True, "week-1-b": False}


def test_starting_a_plan_again_keeps_the_new_start_and_clears_old_ticks(user_db):
    data = user_db.open()
    assert data.plan_start("plan-1") is None
    data.start_plan("plan-1", date(2026, 1, 5))
    data.set_plan_item("plan-1", "week-1-a", True)
    data.set_plan_item("plan-2", "week-1-a", True)
    data.start_plan("plan-1", date(2026, 2, 2))
    again = user_db.open()
    assert again.plan_start("plan-1") == date(2026, 2, 2)
    assert again.plan_items("plan-1") == {}
    assert again.plan_items("plan-2") == {"week-1-a": True}


def test_delete_everything_removes_all_of_thrives_data_and_nothing_else(user_db):
    user_db.data_dir.mkdir(parents=True, exist_ok=True)
    other = user_db.data_dir / "my-notes.txt"
    other.write_text("not Thrive's")
    data = user_db.open()
    conv = data.new_conversation()
    answer = data.add_message(conv.id, "assistant", "hello there")
    data.set_feedback(answer.id, 1)
    data.save_profile({"skills": ["seo"]})
    data.set_plan_item("p", "i", True)
    data.start_plan("p2", date(2026, 1, 1))
    data.delete_everything()
    again = user_db.open()
    assert again.conversations() == [] and again.load_profile() == {}
    assert again.plan_items("p") == {} and again.plan_start("p2") is None
    assert set(again.counts().values()) == {0}
    assert other.read_text() == "not Thrive's"
    # Usable at once: the next conversation is saved as before.
    again.add_message(again.new_conversation().id, "user", "starting over")
    assert len(user_db.open().conversations()) == 1


def test_a_corrupt_data_file_is_reported_and_kept(tmp_path):
    (tmp_path / "thrive.sqlite3").write_bytes(b"garbage, not a database" * 100)
    with pytest.raises(StoreError, match="Move it aside") as caught:
        UserData(tmp_path)
    assert str(tmp_path / "thrive.sqlite3") in str(caught.value)
    assert (tmp_path / "thrive.sqlite3").read_bytes().startswith(b"garbage")


def test_an_unwritable_data_folder_names_the_setting(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="THRIVE_DATA_DIR"):
        UserData(blocker / "data")


def test_an_unreachable_postgresql_names_the_fix_and_not_the_password(tmp_path):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://thrive:s3cret-pw@127.0.0.1:{port}/thrive"
    with pytest.raises(StoreError, match="Cannot reach the database") as caught:
        UserData(tmp_path, database_url=url)
    assert "THRIVE_DATABASE_URL" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


@pytest.mark.parametrize(
    "template",
    [
        "postgresql+psycopg://thrive:p@ss:{secret}@127.0.0.1:{port}/thrive",  # '@' not escaped
        "postgresql+psycopg://thrive@127.0.0.1:{port}/thrive?password={secret}",
    ],
)
def test_a_password_in_a_malformed_or_query_url_is_never_shown(tmp_path, template):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = template.format(secret="w0rdS3cret", port=port)
    with pytest.raises(StoreError) as caught:
        UserData(tmp_path, database_url=url)
    assert "database" in str(caught.value).lower()  # says which setting is at fault
    assert "w0rdS3cret" not in f"{caught.value} {caught.value.fix}"


def test_a_database_url_of_another_kind_is_refused_with_the_fix(tmp_path):
    with pytest.raises(StoreError, match="postgresql\\+psycopg://"):
        UserData(tmp_path, database_url="mysql://me@localhost/thrive")
    with pytest.raises(StoreError, match="THRIVE_DATABASE_URL"):
        UserData(tmp_path, database_url="not a url at all")
