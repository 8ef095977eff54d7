"""The tables, as SQLAlchemy Core sees them. The migrations in `thrive.base.migrations` build
exactly this schema (a test compares the two on SQLite and PostgreSQL).

Every row carries `user_id`: each person's data is theirs. Times are Unix seconds.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

USER_ID = 255  # long enough for an OIDC subject or an e-mail address

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("user_id", sa.String(USER_ID), primary_key=True),
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("updated", sa.Double, nullable=False),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(USER_ID), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("updated", sa.Double, nullable=False),
    sa.Index("conversations_by_user", "user_id", "updated"),
)

messages = sa.Table(
    "messages",
    metadata,
    # Insertion order: a question and its answer saved together share a timestamp.
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column(
        "conversation_id",
        sa.String(64),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("user_id", sa.String(USER_ID), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("meta", sa.Text, nullable=False, server_default="{}"),
    sa.Column("created", sa.Double, nullable=False),
    sa.CheckConstraint("role IN ('user', 'assistant')", name="messages_role"),
    sa.Index("messages_by_conversation", "conversation_id", "seq"),
    sa.Index("messages_by_user", "user_id"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column(
        "message_id",
        sa.String(64),
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("user_id", sa.String(USER_ID), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("created", sa.Double, nullable=False),
    sa.CheckConstraint("score IN (0, 1)", name="feedback_score"),
    sa.Index("feedback_by_user", "user_id"),
)

plan_items = sa.Table(
    "plan_items",
    metadata,
    sa.Column("user_id", sa.String(USER_ID), primary_key=True),
    sa.Column("plan_id", sa.String(255), primary_key=True),
    sa.Column("item_id", sa.String(255), primary_key=True),
    sa.Column("done", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated", sa.Double, nullable=False),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("user_id", sa.String(USER_ID), primary_key=True),
    sa.Column("plan_id", sa.String(255), primary_key=True),
    sa.Column("start", sa.String(10), nullable=False),  # ISO date
    sa.Column("updated", sa.Double, nullable=False),
)

# Children first: the order in which a user's rows are deleted.
USER_TABLES = (feedback, messages, conversations, profiles, plan_items, plans)
