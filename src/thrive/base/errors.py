"""Thrive's errors. Every message says what happened and what to do next.

    ThriveError
     ├── ConfigurationError   a setting is missing or wrong (key, model name, path)
     ├── BackendUnavailable   the LLM backend could not be reached or loaded
     ├── StoreError           the vector store is missing, locked or broken
     ├── CorpusError          a guide file cannot be read or parsed
     └── InputError           the user's input is empty, too long, binary or malformed

They are raised deep down and translated to text only at the edges (CLI, page).
"""

from __future__ import annotations


class ThriveError(Exception):
    """Base of all of Thrive's errors: `str(err)` is the full user-facing message."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} {fix}" if fix else message)


class ConfigurationError(ThriveError):
    """A setting is missing or wrong."""


class BackendUnavailable(ThriveError):
    """The LLM backend could not be reached, started or loaded."""


class StoreError(ThriveError):
    """The vector store is missing, locked or unreadable."""


class CorpusError(ThriveError):
    """A guide file cannot be read or parsed."""


class InputError(ThriveError):
    """The user's input cannot be used as it is."""
