"""Alembic's entry point. Storage passes an open connection inside a transaction
(`config.attributes["connection"]`), so a migration commits whole or not at all."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Thrive's migrations run from thrive.base.storage (UserData), not from the alembic "
        "command line."
    )
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
