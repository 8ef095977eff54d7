"""Each row belongs to a user: the first schema under Alembic.

A new database gets the tables. A SQLite file written before Alembic (the same six tables,
no `alembic_version`, no user ids) is adopted: its tables are renamed aside, the new ones
created, every row copied as user `local`, and the old tables dropped, all in one
transaction, so an interrupted upgrade leaves the file as it was.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LOCAL = "local"  # the one user of a single-person install, before sign-in
LEGACY = ("profiles", "conversations", "messages", "feedback", "plan_items", "plans")
USER_ID = 255

# How each legacy table's rows become rows of the new one. A message or a feedback item
# whose parent is gone could never be shown, so only rows with a parent are copied.
COPY = {
    "profiles": "INSERT INTO profiles (user_id, name, data, updated) "
    "SELECT :user, name, data, updated FROM legacy_profiles",
    "conversations": "INSERT INTO conversations (id, user_id, title, created, updated) "
    "SELECT id, :user, title, created, updated FROM legacy_conversations",
    "messages": "INSERT INTO messages (id, conversation_id, user_id, role, content, meta, "
    "created) SELECT id, conversation_id, :user, role, content, meta, created "
    "FROM legacy_messages WHERE conversation_id IN (SELECT id FROM conversations) "
    "ORDER BY created, rowid",  # the old order of a conversation becomes `seq`
    "feedback": "INSERT INTO feedback (message_id, user_id, score, comment, created) "
    "SELECT message_id, :user, score, comment, created FROM legacy_feedback "
    "WHERE message_id IN (SELECT id FROM messages)",
    "plan_items": "INSERT INTO plan_items (user_id, plan_id, item_id, done, updated) "
    "SELECT :user, plan_id, item_id, done, updated FROM legacy_plan_items",
    "plans": "INSERT INTO plans (user_id, plan_id, start, updated) "
    "SELECT :user, plan_id, start, updated FROM legacy_plans",
}


def upgrade() -> None:
    bind = op.get_bind()
    legacy = [t for t in LEGACY if sa.inspect(bind).has_table(t)]
    if legacy:
        # Index names are global in SQLite; the new messages table has its own.
        op.execute("DROP INDEX IF EXISTS messages_by_conversation")
        for name in legacy:
            op.rename_table(name, f"legacy_{name}")
    _create_tables()
    for name in LEGACY:  # parents before children
        if name in legacy:
            bind.execute(sa.text(COPY[name]), {"user": LOCAL})
    for name in reversed(LEGACY):  # children before parents
        if name in legacy:
            op.drop_table(f"legacy_{name}")


def downgrade() -> None:
    raise NotImplementedError(
        "The schema before user ids holds one person's data; going back would merge or drop "
        "other users' rows. Restore a backup of the database instead."
    )


def _user() -> sa.Column[str]:
    return sa.Column("user_id", sa.String(USER_ID), nullable=False)


def _create_tables() -> None:
    op.create_table(
        "profiles",
        sa.Column("user_id", sa.String(USER_ID), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated", sa.Double, nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        _user(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("created", sa.Double, nullable=False),
        sa.Column("updated", sa.Double, nullable=False),
    )
    op.create_index("conversations_by_user", "conversations", ["user_id", "updated"])
    op.create_table(
        "messages",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "conversation_id",
            sa.String(64),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        _user(),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created", sa.Double, nullable=False),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="messages_role"),
    )
    op.create_index("messages_by_conversation", "messages", ["conversation_id", "seq"])
    op.create_index("messages_by_user", "messages", ["user_id"])
    op.create_table(
        "feedback",
        sa.Column(
            "message_id",
            sa.String(64),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _user(),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("created", sa.Double, nullable=False),
        sa.CheckConstraint("score IN (0, 1)", name="feedback_score"),
    )
    op.create_index("feedback_by_user", "feedback", ["user_id"])
    op.create_table(
        "plan_items",
        sa.Column("user_id", sa.String(USER_ID), primary_key=True),
        sa.Column("plan_id", sa.String(255), primary_key=True),
        sa.Column("item_id", sa.String(255), primary_key=True),
        sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated", sa.Double, nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("user_id", sa.String(USER_ID), primary_key=True),
        sa.Column("plan_id", sa.String(255), primary_key=True),
        sa.Column("start", sa.String(10), nullable=False),
        sa.Column("updated", sa.Double, nullable=False),
    )
