"""The user's saved data in SQLite."""

import pytest

from thrive.base.errors import StoreError
from thrive.base.storage import UserData


def test_conversations_messages_and_feedback_survive_a_restart(tmp_path):
    data = UserData(tmp_path)
    conv = data.new_conversation("Am I at risk?")
    question = data.add_message(conv.id, "user", "I design logos. Am I at risk?")
    answer = data.add_message(conv.id, "assistant", "Yes [threat-1].", {"backend": "extractive"})
    data.set_feedback(answer.id, 0, "too generic")
    data.save_profile({"skills": ["logo design"]})

    again = UserData(tmp_path)
    assert [c.title for c in again.conversations()] == ["Am I at risk?"]
    messages = again.messages(conv.id)
    assert [m.id for m in messages] == [question.id, answer.id]
    assert messages[1].meta == {"backend": "extractive"}
    assert (messages[1].feedback, messages[1].comment) == (0, "too generic")
    assert again.load_profile() == {"skills": ["logo design"]}


def test_rename_export_and_delete_a_conversation(tmp_path):
    data = UserData(tmp_path)
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


def test_plan_progress_is_kept(tmp_path):
    UserData(tmp_path).set_plan_item("plan-1", "week-1-a", True)
    assert UserData(tmp_path).plan_items("plan-1") == {"week-1-a": True}


def test_delete_everything_removes_all_of_thrives_data_and_nothing_else(tmp_path):
    other = tmp_path / "my-notes.txt"
    other.write_text("not Thrive's")
    data = UserData(tmp_path)
    conv = data.new_conversation()
    data.add_message(conv.id, "user", "hello there")
    data.save_profile({"skills": ["seo"]})
    data.set_plan_item("p", "i", True)
    data.delete_everything()
    again = UserData(tmp_path)
    assert again.conversations() == [] and again.load_profile() == {}
    assert again.plan_items("p") == {}
    assert other.read_text() == "not Thrive's"


def test_a_corrupt_data_file_is_reported_and_kept(tmp_path):
    (tmp_path / "thrive.sqlite3").write_bytes(b"garbage, not a database" * 100)
    with pytest.raises(StoreError, match="Move it aside"):
        UserData(tmp_path)
    assert (tmp_path / "thrive.sqlite3").read_bytes().startswith(b"garbage")
