"""`UserData`: one user's profiles, conversations, messages with their feedback, and plan
progress, in the shared database. Every query is scoped to the user's id."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from thrive.base.errors import StoreError
from thrive.base.storage import _engine
from thrive.base.storage._tables import (
    USER_ID,
    USER_TABLES,
    conversations,
    feedback,
    messages,
    plan_items,
    plans,
    profiles,
)

FILE_NAME = "thrive.sqlite3"
LOCAL_USER = "local"  # the one user when no sign-in is configured
TITLE_CHARS = 120
COMMENT_CHARS = 2000
ROLES = ("user", "assistant")


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
    """One user's saved data. Cheap to create: every instance on the same database shares one
    engine (connection pool), so one per user and request is fine; safe across threads.

    `database_url` (THRIVE_DATABASE_URL) names a shared database, e.g.
    `postgresql+psycopg://user@host/thrive`; without it the data is the SQLite file
    `thrive.sqlite3` in `data_dir`. Ids of another user's conversations and messages are
    unknown here: reading them finds nothing, deleting them does nothing, and changing them
    (rename, add a message, feedback) raises StoreError."""

    def __init__(
        self,
        data_dir: Path | str,
        user_id: str = LOCAL_USER,
        database_url: str | None = None,
    ) -> None:
        if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > USER_ID:
            raise StoreError(
                f"A user id must be 1 to {USER_ID} characters of text, not {user_id!r}.",
                fix="Pass the signed-in user's id (or 'local').",
            )
        self.data_dir = Path(data_dir)
        self.user_id = user_id
        self.database_url = database_url or None
        self.path = self.data_dir / FILE_NAME  # the SQLite file, when no database_url
        if self.database_url:
            self._url = self.database_url
        else:
            try:
                self.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(
                    f"Cannot write to {self.data_dir}: {err.strerror}.",
                    fix="Set THRIVE_DATA_DIR to a writable folder.",
                ) from err
            self._url = _engine.sqlite_url(self.path)
        self._engine = _engine.engine_for(self._url)

    def for_user(self, user_id: str) -> UserData:
        """The same database seen as another user."""
        return UserData(self.data_dir, user_id, self.database_url)

    @property
    def location(self) -> str:
        """Where the data is kept, as it may be shown to the user (no password)."""
        if self.database_url:
            return f"the database {_engine.shown(self.database_url)}"
        return f"the file {self.path.resolve()}"

    def _read(self) -> contextlib.AbstractContextManager[Connection]:
        return _engine.reading(self._engine, self._url)

    def _write(self) -> contextlib.AbstractContextManager[Connection]:
        return _engine.writing(self._engine, self._url)

    # -- profiles -------------------------------------------------------------------------

    def save_profile(self, data: dict[str, Any], name: str = "default") -> None:
        with self._write() as db:
            _upsert(
                db,
                profiles,
                {"user_id": self.user_id, "name": name},
                {"data": json.dumps(data), "updated": time.time()},
            )

    def load_profile(self, name: str = "default") -> dict[str, Any]:
        with self._read() as db:
            row = db.execute(
                sa.select(profiles.c.data).where(
                    profiles.c.user_id == self.user_id, profiles.c.name == name
                )
            ).first()
        return dict(json.loads(row[0])) if row else {}

    # -- conversations --------------------------------------------------------------------

    def new_conversation(self, title: str = "New conversation") -> Conversation:
        now = time.time()
        conv = Conversation(uuid.uuid4().hex, title[:TITLE_CHARS], now, now)
        with self._write() as db:
            db.execute(
                conversations.insert().values(
                    id=conv.id,
                    user_id=self.user_id,
                    title=conv.title,
                    created=now,
                    updated=now,
                )
            )
        return conv

    def conversations(self) -> list[Conversation]:
        """The user's conversations, the most recently active first."""
        c = conversations.c
        with self._read() as db:
            rows = db.execute(
                sa.select(c.id, c.title, c.created, c.updated)
                .where(c.user_id == self.user_id)
                .order_by(c.updated.desc(), c.created.desc())
            ).all()
        return [Conversation(*r) for r in rows]

    def rename_conversation(self, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())[:TITLE_CHARS]
        if not title:
            raise StoreError("A conversation needs a name.", fix="Type a name.")
        with self._write() as db:
            done = db.execute(
                conversations.update()
                .where(self._owns(conversation_id))
                .values(title=title, updated=time.time())
            )
            if done.rowcount == 0:
                raise _not_found("conversation")

    def delete_conversation(self, conversation_id: str) -> None:
        """Delete a conversation with its messages and feedback (nothing if it is not the
        user's)."""
        with self._write() as db:
            db.execute(conversations.delete().where(self._owns(conversation_id)))

    def add_message(
        self, conversation_id: str, role: str, content: str, meta: dict[str, Any] | None = None
    ) -> Message:
        with self._write() as db:
            return self._insert_messages(db, conversation_id, [(role, content, meta)])[0]

    def add_exchange(
        self,
        conversation_id: str,
        question: str,
        answer: str,
        meta: dict[str, Any] | None = None,
    ) -> tuple[Message, Message]:
        """Save a question and its answer in one transaction: both or neither."""
        with self._write() as db:
            q, a = self._insert_messages(
                db, conversation_id, [("user", question, None), ("assistant", answer, meta)]
            )
        return q, a

    def _insert_messages(
        self,
        db: Connection,
        conversation_id: str,
        items: list[tuple[str, str, Mapping[str, Any] | None]],
    ) -> list[Message]:
        now = time.time()
        # The update is the ownership check, and on PostgreSQL it locks the conversation
        # against a delete racing with this insert.
        touched = db.execute(
            conversations.update().where(self._owns(conversation_id)).values(updated=now)
        )
        if touched.rowcount == 0:
            raise _not_found("conversation")
        saved = []
        for role, content, meta in items:
            if role not in ROLES:
                raise StoreError(f"A message's role is one of {ROLES}, not {role!r}.")
            msg = Message(uuid.uuid4().hex, conversation_id, role, content, dict(meta or {}), now)
            db.execute(
                messages.insert().values(
                    id=msg.id,
                    conversation_id=conversation_id,
                    user_id=self.user_id,
                    role=role,
                    content=content,
                    meta=json.dumps(msg.meta),
                    created=now,
                )
            )
            saved.append(msg)
        return saved

    def messages(self, conversation_id: str) -> list[Message]:
        """The messages of one of the user's conversations, in order, with their feedback."""
        m, f = messages.c, feedback.c
        with self._read() as db:
            rows = db.execute(
                sa.select(
                    m.id,
                    m.conversation_id,
                    m.role,
                    m.content,
                    m.meta,
                    m.created,
                    f.score,
                    f.comment,
                )
                .select_from(messages.outerjoin(feedback, f.message_id == m.id))
                .where(m.conversation_id == conversation_id, m.user_id == self.user_id)
                .order_by(m.seq)
            ).all()
        return [
            Message(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6], r[7] or "") for r in rows
        ]

    def set_feedback(self, message_id: str, score: int, comment: str = "") -> None:
        if int(score) not in (0, 1):
            raise StoreError(f"Feedback is 1 (helpful) or 0 (not helpful), not {score!r}.")
        with self._write() as db:
            mine = db.execute(
                sa.select(messages.c.id).where(
                    messages.c.id == message_id, messages.c.user_id == self.user_id
                )
            ).first()
            if mine is None:
                raise _not_found("answer")
            _upsert(
                db,
                feedback,
                {"message_id": message_id},
                {
                    "user_id": self.user_id,
                    "score": int(score),
                    "comment": comment[:COMMENT_CHARS],
                    "created": time.time(),
                },
            )

    def clear_feedback(self, message_id: str) -> None:
        """Forget the feedback on one answer (the user took their thumbs back)."""
        with self._write() as db:
            db.execute(
                feedback.delete().where(
                    feedback.c.message_id == message_id, feedback.c.user_id == self.user_id
                )
            )

    def export_markdown(self, conversation_id: str) -> str:
        convs = {c.id: c for c in self.conversations()}
        title = convs[conversation_id].title if conversation_id in convs else "Conversation"
        lines = [f"# {title}", ""]
        for m in self.messages(conversation_id):
            lines += [f"**{'You' if m.role == 'user' else 'Thrive'}:**", "", m.content, ""]
        return "\n".join(lines)

    # -- plan progress --------------------------------------------------------------------

    def set_plan_item(self, plan_id: str, item_id: str, done: bool) -> None:
        with self._write() as db:
            _upsert(
                db,
                plan_items,
                {"user_id": self.user_id, "plan_id": plan_id, "item_id": item_id},
                {"done": bool(done), "updated": time.time()},
            )

    def plan_items(self, plan_id: str) -> dict[str, bool]:
        p = plan_items.c
        with self._read() as db:
            rows = db.execute(
                sa.select(p.item_id, p.done).where(p.user_id == self.user_id, p.plan_id == plan_id)
            ).all()
        return {r[0]: bool(r[1]) for r in rows}

    def plan_start(self, plan_id: str) -> date | None:
        """The day this plan was started (see `start_plan`), or None if it never was."""
        with self._read() as db:
            row = db.execute(
                sa.select(plans.c.start).where(
                    plans.c.user_id == self.user_id, plans.c.plan_id == plan_id
                )
            ).first()
        return date.fromisoformat(row[0]) if row else None

    def start_plan(self, plan_id: str, start: date, *, keep_ticks: bool = False) -> None:
        """Start (or start again) a plan on `start`, so it keeps its dates on later days.
        Ticks from an earlier run of the same plan are cleared, in the same transaction,
        unless `keep_ticks` (a plan ticked before start days were saved gets its first)."""
        with self._write() as db:
            if not keep_ticks:
                db.execute(
                    plan_items.delete().where(
                        plan_items.c.user_id == self.user_id, plan_items.c.plan_id == plan_id
                    )
                )
            _upsert(
                db,
                plans,
                {"user_id": self.user_id, "plan_id": plan_id},
                {"start": start.isoformat(), "updated": time.time()},
            )

    # -- everything -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """How many rows of each kind the user has (for a "Your data" panel)."""
        with self._read() as db:
            return {
                t.name: int(
                    db.scalar(
                        sa.select(sa.func.count()).select_from(t).where(t.c.user_id == self.user_id)
                    )
                    or 0
                )
                for t in USER_TABLES
            }

    def delete_everything(self) -> None:
        """Delete all of this user's data, in one transaction. Other users' rows, and other
        files in the data folder, stay."""
        with self._write() as db:
            for table in USER_TABLES:
                db.execute(table.delete().where(table.c.user_id == self.user_id))
        if self._engine.dialect.name == "sqlite":
            # secure_delete zeroed the pages in the log; copy them into the file and empty
            # the log, so the deleted text is gone from disk and not only from queries.
            # Outside any transaction (a checkpoint cannot run inside one); best effort.
            with contextlib.suppress(Exception):
                raw = self._engine.raw_connection()
                try:
                    raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
                finally:
                    raw.close()

    def _owns(self, conversation_id: str) -> sa.ColumnElement[bool]:
        return sa.and_(
            conversations.c.id == conversation_id, conversations.c.user_id == self.user_id
        )


def _not_found(what: str) -> StoreError:
    return StoreError(
        f"That {what} was not found: it was deleted, or it is not yours.",
        fix="Reload the page to see your conversations as they are now.",
    )


def _upsert(
    db: Connection, table: sa.Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """Insert a row or, when its key exists, update it: one statement, safe under races."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values({**key, **values})
    db.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=dict(values)))
