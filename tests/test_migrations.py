"""Alembic migrations: a data file from before user ids is adopted with nothing lost, and a
new database (SQLite or PostgreSQL) gets exactly the schema the code uses.

The old file is written at test time by the storage code as it was before Alembic:
`tests/data/legacy_storage_v1.py` is that module verbatim (`git show
ebe30a3:src/thrive/base/storage.py`), so the test reads a file made by the real old code.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from thrive.base.errors import StoreError
from thrive.base.storage import UserData, dispose_all
from thrive.base.storage._tables import metadata

LEGACY = Path(__file__).parent / "data" / "legacy_storage_v1.py"


def _legacy_module():
    spec = importlib.util.spec_from_file_location("legacy_storage_v1", LEGACY)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def _write_legacy_file(folder: Path) -> dict:
    """A data file as today's users have it, with one of everything; returns what went in."""
    old = _legacy_module().UserData(folder)
    first = old.new_conversation("Am I at risk?")
    q1 = old.add_message(first.id, "user", "I design logos. Am I at risk?")
    a1 = old.add_message(first.id, "assistant", "Partly [threat-1].", {"backend": "extractive"})
    old.set_feedback(a1.id, 0, "too generic")
    second = old.new_conversation("Niches")
    q2 = old.add_message(second.id, "user", "Which niche fits me?")
    a2 = old.add_message(second.id, "assistant", "Brand strategy [strategy-2].")
    old.set_feedback(a2.id, 1)
    old.save_profile({"occupation": "designer", "skills": ["logo design"]})
    old.save_profile({"goals": "a second profile"}, name="other")
    old.start_plan("plan-1", date(2026, 1, 5))
    old.set_plan_item("plan-1", "week-1-a", True)
    old.set_plan_item("plan-1", "week-1-b", False)
    return {
        "conversations": {first.id: [q1.id, a1.id], second.id: [q2.id, a2.id]},
        "updated": {c.id: c.updated for c in old.conversations()},
    }


def test_a_file_written_before_user_ids_is_migrated_with_nothing_lost(tmp_path):
    before = _write_legacy_file(tmp_path)
    raw = sqlite3.connect(tmp_path / "thrive.sqlite3")
    assert "alembic_version" not in {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    raw.close()

    data = UserData(tmp_path)  # the first open migrates
    convs = data.conversations()
    assert [c.title for c in convs] == ["Niches", "Am I at risk?"]
    assert {c.id: c.updated for c in convs} == before["updated"]
    for conv_id, ids in before["conversations"].items():
        assert [m.id for m in data.messages(conv_id)] == ids
    risk = data.messages(next(c.id for c in convs if c.title == "Am I at risk?"))
    assert [m.role for m in risk] == ["user", "assistant"]
    assert risk[1].meta == {"backend": "extractive"}
    assert (risk[1].feedback, risk[1].comment) == (0, "too generic")
    niches = data.messages(next(c.id for c in convs if c.title == "Niches"))
    assert niches[1].feedback == 1
    assert data.load_profile() == {"occupation": "designer", "skills": ["logo design"]}
    assert data.load_profile("other") == {"goals": "a second profile"}
    assert data.plan_start("plan-1") == date(2026, 1, 5)
    assert data.plan_items("plan-1") == {"week-1-a": True, "week-1-b": False}
    # Every old row now belongs to `local`, and to nobody else.
    assert data.counts() == {
        "feedback": 2,
        "messages": 4,
        "conversations": 2,
        "profiles": 2,
        "plan_items": 2,
        "plans": 1,
    }
    assert set(data.for_user("someone-else").counts().values()) == {0}

    # The migrated file keeps working, and a restart does not migrate again.
    data.add_message(convs[0].id, "user", "after the upgrade")
    dispose_all()
    again = UserData(tmp_path)
    assert again.messages(convs[0].id)[-1].content == "after the upgrade"
    raw = sqlite3.connect(tmp_path / "thrive.sqlite3")
    assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not [r for r in raw.execute("SELECT name FROM sqlite_master") if "legacy" in r[0]]
    raw.close()


def _schema_differences(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def test_a_new_database_gets_exactly_the_schema_the_code_uses(user_db):
    data = user_db.open()
    data.save_profile({"skills": ["seo"]})
    url = user_db.url or f"sqlite:///{user_db.data_dir / 'thrive.sqlite3'}"
    assert _schema_differences(url) == []


def test_the_adopted_legacy_file_has_the_same_schema_as_a_new_one(tmp_path):
    _write_legacy_file(tmp_path)
    UserData(tmp_path)
    assert _schema_differences(f"sqlite:///{tmp_path / 'thrive.sqlite3'}") == []


def test_a_database_from_a_newer_thrive_is_refused_clearly_and_kept(tmp_path):
    data = UserData(tmp_path)
    data.save_profile({"skills": ["seo"]})
    dispose_all()
    raw = sqlite3.connect(tmp_path / "thrive.sqlite3")
    with raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    raw.close()
    with pytest.raises(StoreError, match="newer version of Thrive"):
        UserData(tmp_path)
    raw = sqlite3.connect(tmp_path / "thrive.sqlite3")
    assert raw.execute("SELECT count(*) FROM profiles").fetchone() == (1,)
    raw.close()
