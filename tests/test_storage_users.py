"""Each person's data is theirs: one user's UserData never shows or changes another's rows
(on SQLite and on PostgreSQL). Another user's ids are simply unknown: reading finds nothing,
deleting does nothing, changing raises StoreError "not found"."""

from __future__ import annotations

from datetime import date

import pytest

from thrive.base.errors import StoreError
from thrive.base.storage import UserData


def _fill(data: UserData, who: str) -> tuple[str, str]:
    conv = data.new_conversation(f"{who}'s question")
    _, answer = data.add_exchange(conv.id, f"{who} asks", f"answer for {who}", {"who": who})
    data.set_feedback(answer.id, 1, f"{who} liked it")
    data.save_profile({"occupation": f"{who}'s job"})
    data.start_plan("plan-1", date(2026, 3, 2))
    data.set_plan_item("plan-1", "week-1-a", True)
    return conv.id, answer.id


def test_two_users_each_see_only_their_own_data(user_db):
    ana, ben = user_db.open("ana"), user_db.open("ben")
    ana_conv, _ = _fill(ana, "ana")
    ben_conv, _ = _fill(ben, "ben")
    ben.set_plan_item("plan-1", "week-1-b", True)  # same plan id, other ticks

    assert [c.title for c in ana.conversations()] == ["ana's question"]
    assert [c.title for c in ben.conversations()] == ["ben's question"]
    assert [m.content for m in ana.messages(ana_conv)] == ["ana asks", "answer for ana"]
    assert ana.messages(ben_conv) == [] and ben.messages(ana_conv) == []
    assert ana.load_profile() == {"occupation": "ana's job"}
    assert ben.load_profile() == {"occupation": "ben's job"}
    assert ana.plan_items("plan-1") == {"week-1-a": True}
    assert ben.plan_items("plan-1") == {"week-1-a": True, "week-1-b": True}
    assert "ben" not in ana.export_markdown(ben_conv)
    assert ana.export_markdown(ana_conv).startswith("# ana's question")
    assert user_db.open().conversations() == []  # the local user has nothing


def test_another_users_ids_cannot_be_changed(user_db):
    ana, ben = user_db.open("ana"), user_db.open("ben")
    ana_conv, ana_answer = _fill(ana, "ana")

    with pytest.raises(StoreError, match="not found"):
        ben.rename_conversation(ana_conv, "taken over")
    with pytest.raises(StoreError, match="not found"):
        ben.add_message(ana_conv, "user", "injected by ben")
    with pytest.raises(StoreError, match="not found"):
        ben.add_exchange(ana_conv, "injected", "by ben")
    with pytest.raises(StoreError, match="not found"):
        ben.set_feedback(ana_answer, 0, "ben's opinion")
    ben.clear_feedback(ana_answer)  # nothing to clear for ben: does nothing
    ben.delete_conversation(ana_conv)  # not ben's: does nothing

    assert [c.title for c in ana.conversations()] == ["ana's question"]
    messages = ana.messages(ana_conv)
    assert [m.content for m in messages] == ["ana asks", "answer for ana"]
    assert (messages[1].feedback, messages[1].comment) == (1, "ana liked it")
    assert ben.conversations() == [] and set(ben.counts().values()) == {0}


def test_starting_a_plan_again_clears_only_that_users_ticks(user_db):
    ana, ben = user_db.open("ana"), user_db.open("ben")
    _fill(ana, "ana")
    _fill(ben, "ben")
    ben.start_plan("plan-1", date(2026, 4, 6))
    assert ben.plan_items("plan-1") == {} and ben.plan_start("plan-1") == date(2026, 4, 6)
    assert ana.plan_items("plan-1") == {"week-1-a": True}
    assert ana.plan_start("plan-1") == date(2026, 3, 2)


def test_deleting_all_my_data_keeps_everyone_elses(user_db):
    ana, ben, local = user_db.open("ana"), user_db.open("ben"), user_db.open()
    _fill(ana, "ana")
    ben_conv, _ = _fill(ben, "ben")
    _fill(local, "local")
    before = ben.counts()

    ana.delete_everything()

    assert set(ana.counts().values()) == {0}
    assert ana.conversations() == [] and ana.load_profile() == {}
    assert ana.plan_items("plan-1") == {} and ana.plan_start("plan-1") is None
    assert ben.counts() == before and local.counts() == before
    assert [m.content for m in ben.messages(ben_conv)] == ["ben asks", "answer for ben"]
    assert ben.load_profile() == {"occupation": "ben's job"}


def test_for_user_opens_the_same_database_as_another_user(user_db):
    ana = user_db.open("ana")
    conv = ana.new_conversation("mine")
    ben = ana.for_user("ben")
    assert ben.user_id == "ben" and ben.conversations() == []
    assert [c.id for c in ben.for_user("ana").conversations()] == [conv.id]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 256])
def test_a_user_id_must_be_given(tmp_path, bad):
    with pytest.raises(StoreError, match="user id"):
        UserData(tmp_path, user_id=bad)


def test_deleted_text_is_gone_from_the_sqlite_files_on_disk(tmp_path):
    """ "Delete all my data" on a shared file: the words are gone from the disk too, not only
    from the page (secure_delete, then a checkpoint that empties the write-ahead log)."""
    ana, ben = UserData(tmp_path, "ana"), UserData(tmp_path, "ben")
    secret = "ana-private-ZQX-4471 my client list"
    conv = ana.new_conversation("private")
    ana.add_exchange(conv.id, secret, f"about {secret}")
    ana.save_profile({"goals": secret})
    ben.add_message(ben.new_conversation("ben's").id, "user", "ben stays")
    files = [p for p in tmp_path.iterdir() if p.name.startswith("thrive.sqlite3")]
    assert any(b"ZQX-4471" in p.read_bytes() for p in files)  # the check can see it

    ana.delete_everything()

    for path in tmp_path.iterdir():
        if path.name.startswith("thrive.sqlite3"):
            assert b"ZQX-4471" not in path.read_bytes(), path.name
    assert [c.title for c in ben.conversations()] == ["ben's"]
