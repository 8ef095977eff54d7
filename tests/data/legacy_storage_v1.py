# The storage module as it was before SQLAlchemy and user ids (git show ebe30a3:src/thrive/base/storage.py),
# verbatim: tests/test_migrations.py writes a data file with it, as today's users have one.
# Do not edit: it stands for files already on people's disks.
"""What Thrive keeps for a user, in SQLite under THRIVE_DATA_DIR: profiles, conversations,
messages with their feedback, and plan progress.

sqlite3 from the standard library: one file, no server, transactions that survive a crash.
Every write is one transaction, so an interrupted write loses nothing that was saved.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from thrive.base.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    name TEXT PRIMARY KEY, data TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, created);
CREATE TABLE IF NOT EXISTS feedback (
    message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    score INTEGER NOT NULL CHECK (score IN (0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS plan_items (
    plan_id TEXT NOT NULL, item_id TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL, PRIMARY KEY (plan_id, item_id));
CREATE TABLE IF NOT EXISTS plans (
    plan_id TEXT PRIMARY KEY, start TEXT NOT NULL, updated REAL NOT NULL);
"""


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: float
    updated: float


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    role: str
    content: str
    meta: dict[str, Any]
    created: float
    feedback: int | None = None
    comment: str = ""


class UserData:
    """The user's saved data. One instance per data folder; safe across Streamlit threads."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "thrive.sqlite3"
        self._lock = threading.Lock()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(SCHEMA)
        except sqlite3.DatabaseError as err:
            raise StoreError(
                f"The data file {self.path} cannot be read ({err}).",
                fix=f"Move it aside (it is kept as it is) and restart: mv {self.path} "
                f"{self.path}.broken",
            ) from err
        except OSError as err:
            raise StoreError(
                f"Cannot write to {self.data_dir}: {err.strerror}.",
                fix="Set THRIVE_DATA_DIR to a writable folder.",
            ) from err

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self.path, timeout=10)
            try:
                db.execute("PRAGMA foreign_keys = ON")
                with db:  # one transaction: committed on success, rolled back on error
                    yield db
            finally:
                db.close()

    # -- profiles -------------------------------------------------------------------------

    def save_profile(self, data: dict[str, Any], name: str = "default") -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO profiles VALUES (?, ?, ?)",
                (name, json.dumps(data), time.time()),
            )

    def load_profile(self, name: str = "default") -> dict[str, Any]:
        with self._connect() as db:
            row = db.execute("SELECT data FROM profiles WHERE name = ?", (name,)).fetchone()
        return dict(json.loads(row[0])) if row else {}

    # -- conversations --------------------------------------------------------------------

    def new_conversation(self, title: str = "New conversation") -> Conversation:
        now = time.time()
        conv = Conversation(uuid.uuid4().hex, title[:120], now, now)
        with self._connect() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?)",
                (conv.id, conv.title, conv.created, conv.updated),
            )
        return conv

    def conversations(self) -> list[Conversation]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, title, created, updated FROM conversations ORDER BY updated DESC"
            ).fetchall()
        return [Conversation(*r) for r in rows]

    def rename_conversation(self, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())[:120]
        if not title:
            raise StoreError("A conversation needs a name.", fix="Type a name.")
        with self._connect() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete_conversation(self, conversation_id: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    def add_message(
        self, conversation_id: str, role: str, content: str, meta: dict[str, Any] | None = None
    ) -> Message:
        now = time.time()
        msg = Message(uuid.uuid4().hex, conversation_id, role, content, meta or {}, now)
        with self._connect() as db:
            db.execute(
                "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                (msg.id, conversation_id, role, content, json.dumps(msg.meta), now),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        return msg

    def messages(self, conversation_id: str) -> list[Message]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT m.id, m.conversation_id, m.role, m.content, m.meta, m.created, "
                "f.score, f.comment FROM messages m LEFT JOIN feedback f ON f.message_id = m.id "
                "WHERE m.conversation_id = ? ORDER BY m.created, m.rowid",
                (conversation_id,),
            ).fetchall()
        return [
            Message(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7] or "") for r in rows
        ]

    def set_feedback(self, message_id: str, score: int, comment: str = "") -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?)",
                (message_id, int(score), comment[:2000], time.time()),
            )

    def clear_feedback(self, message_id: str) -> None:
        """Forget the feedback on one answer (the user took their thumbs back)."""
        with self._connect() as db:
            db.execute("DELETE FROM feedback WHERE message_id = ?", (message_id,))

    def export_markdown(self, conversation_id: str) -> str:
        convs = {c.id: c for c in self.conversations()}
        title = convs[conversation_id].title if conversation_id in convs else "Conversation"
        lines = [f"# {title}", ""]
        for m in self.messages(conversation_id):
            lines += [f"**{'You' if m.role == 'user' else 'Thrive'}:**", "", m.content, ""]
        return "\n".join(lines)

    # -- plan progress --------------------------------------------------------------------

    def set_plan_item(self, plan_id: str, item_id: str, done: bool) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO plan_items VALUES (?, ?, ?, ?)",
                (plan_id, item_id, int(done), time.time()),
            )

    def plan_items(self, plan_id: str) -> dict[str, bool]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT item_id, done FROM plan_items WHERE plan_id = ?", (plan_id,)
            ).fetchall()
        return {r[0]: bool(r[1]) for r in rows}

    def plan_start(self, plan_id: str) -> date | None:
        """The day this plan was started (see `start_plan`), or None if it never was."""
        with self._connect() as db:
            row = db.execute("SELECT start FROM plans WHERE plan_id = ?", (plan_id,)).fetchone()
        return date.fromisoformat(row[0]) if row else None

    def start_plan(self, plan_id: str, start: date) -> None:
        """Start (or start again) a plan on `start`, so it keeps its dates on later days.
        Ticks from an earlier run of the same plan are cleared."""
        with self._connect() as db:
            db.execute("DELETE FROM plan_items WHERE plan_id = ?", (plan_id,))
            db.execute(
                "INSERT OR REPLACE INTO plans VALUES (?, ?, ?)",
                (plan_id, start.isoformat(), time.time()),
            )

    # -- everything -----------------------------------------------------------------------

    def delete_everything(self) -> None:
        """Delete all of the user's data: Thrive's database and its journal files. Only
        Thrive's own files go, so a data folder shared with other files is safe to point at."""
        with self._lock:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        with self._connect() as db:
            db.executescript(SCHEMA)
