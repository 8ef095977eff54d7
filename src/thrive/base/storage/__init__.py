"""What Thrive keeps for each user: profiles, conversations, messages with their feedback,
and plan progress. SQLAlchemy 2 over SQLite (`thrive.sqlite3` under THRIVE_DATA_DIR) or, when
THRIVE_DATABASE_URL names one, PostgreSQL; the schema is migrated by Alembic on first open.

    data = UserData(settings.data_dir, user_id="local", database_url=settings.database())

Every row belongs to a user id and every method sees only its user's rows. Writes that
belong together are one transaction, so a crash loses at most the write in flight.
"""

from thrive.base.storage._engine import dispose_all
from thrive.base.storage._userdata import (
    FILE_NAME,
    LOCAL_USER,
    Conversation,
    Message,
    UserData,
)

__all__ = ["FILE_NAME", "LOCAL_USER", "Conversation", "Message", "UserData", "dispose_all"]
