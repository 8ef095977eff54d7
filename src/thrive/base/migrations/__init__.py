"""Alembic migrations of Thrive's database, run by `thrive.base.storage` when a database is
first opened (no alembic.ini needed). `versions/` holds one file per schema change."""
