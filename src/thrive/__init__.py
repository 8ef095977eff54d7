"""Thrive: a coaching assistant for freelancers facing generative AI, grounded in a guide.

Everything is one import away (`from thrive import Coach`), but loaded on first use:
`import thrive.settings` must not pay for chromadb and LangChain.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from thrive.coach import AnswerStream, Coach
    from thrive.errors import (
        BackendUnavailable,
        ConfigurationError,
        CorpusError,
        InputError,
        StoreError,
        ThriveError,
    )
    from thrive.ingest import IngestReport, ingest
    from thrive.schema import Answer, Citation, Passage, Profile
    from thrive.settings import Settings, load_settings

_WHERE = {
    "Answer": "thrive.schema",
    "AnswerStream": "thrive.coach",
    "BackendUnavailable": "thrive.errors",
    "Citation": "thrive.schema",
    "Coach": "thrive.coach",
    "ConfigurationError": "thrive.errors",
    "CorpusError": "thrive.errors",
    "IngestReport": "thrive.ingest",
    "InputError": "thrive.errors",
    "Passage": "thrive.schema",
    "Profile": "thrive.schema",
    "Settings": "thrive.settings",
    "StoreError": "thrive.errors",
    "ThriveError": "thrive.errors",
    "ingest": "thrive.ingest",
    "load_settings": "thrive.settings",
}
__all__ = [
    "Answer",
    "AnswerStream",
    "BackendUnavailable",
    "Citation",
    "Coach",
    "ConfigurationError",
    "CorpusError",
    "IngestReport",
    "InputError",
    "Passage",
    "Profile",
    "Settings",
    "StoreError",
    "ThriveError",
    "ingest",
    "load_settings",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'thrive' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value
