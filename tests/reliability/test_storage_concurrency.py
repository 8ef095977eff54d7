"""Concurrent writers: 20 users writing at once through UserData, on SQLite (WAL) and on a
real PostgreSQL. Every message is kept, in order, and none lands in another user's data."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from thrive.base.storage import UserData

USERS = 20
EXCHANGES = 15  # per user: 15 questions and 15 answers, plus a few single messages


def test_twenty_users_writing_at_once_keep_every_message_and_only_their_own(user_db):
    user_db.open()  # create (and migrate) the database before the rush
    start = threading.Barrier(USERS)
    errors: list[BaseException] = []
    convs: dict[str, list[str]] = {}

    def write(user: str) -> None:
        try:
            data: UserData = user_db.open(user)
            start.wait(timeout=60)
            mine = [data.new_conversation(f"{user} #{n}").id for n in range(2)]
            convs[user] = mine
            for i in range(EXCHANGES):
                conv = mine[i % 2]
                if i % 3 == 0:
                    data.add_message(conv, "user", f"{user} q{i}")
                    data.add_message(conv, "assistant", f"{user} a{i}", {"user": user})
                else:
                    data.add_exchange(conv, f"{user} q{i}", f"{user} a{i}", {"user": user})
                data.save_profile({"occupation": user, "last": i})
                data.set_plan_item("plan-1", f"item-{i}", True)
        except BaseException as err:  # reported below, with the user it happened to
            errors.append(err)

    threads = [threading.Thread(target=write, args=(f"user-{n:02d}",)) for n in range(USERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not [t for t in threads if t.is_alive()], "a writer hung"
    assert errors == []

    kept = crossed = 0
    for user, mine in convs.items():
        data = user_db.open(user)
        assert sorted(c.id for c in data.conversations()) == sorted(mine)
        for parity, conv in enumerate(mine):
            expected = [
                f"{user} {kind}{i}" for i in range(parity, EXCHANGES, 2) for kind in ("q", "a")
            ]
            got = data.messages(conv)
            assert [m.content for m in got] == expected, user
            kept += len(got)
            crossed += sum(1 for m in got if m.meta.get("user", user) != user)
        assert data.load_profile() == {"occupation": user, "last": EXCHANGES - 1}
        assert len(data.plan_items("plan-1")) == EXCHANGES
    assert (kept, crossed) == (USERS * EXCHANGES * 2, 0)

    # And the database as a whole holds exactly those rows: nothing extra, nothing lost.
    url = user_db.url or f"sqlite:///{user_db.data_dir / 'thrive.sqlite3'}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT user_id, content FROM messages")).all()
    finally:
        engine.dispose()
    assert len(rows) == USERS * EXCHANGES * 2
    assert all(content.startswith(f"{user} ") for user, content in rows)
