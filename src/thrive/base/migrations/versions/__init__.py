"""One revision per schema change, oldest first (see each file's `down_revision`)."""
