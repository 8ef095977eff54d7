"""Thrive: a coaching assistant for freelancers facing generative AI, grounded in a guide.

Everything is one import away (`from thrive import Coach`), but loaded on first use:
`import thrive.base.settings` must not pay for chromadb and LangChain.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from thrive.base.errors import (
        BackendUnavailable,
        ConfigurationError,
        CorpusError,
        InputError,
        StoreError,
        ThriveError,
    )
    from thrive.base.schema import Answer, Citation, Passage, Profile
    from thrive.base.settings import Settings, load_settings
    from thrive.coaching.coach import AnswerStream, Coach
    from thrive.knowledge.ingest import IngestReport, ingest

_WHERE = {
    "Answer": "thrive.base.schema",
    "AnswerStream": "thrive.coaching.coach",
    "BackendUnavailable": "thrive.base.errors",
    "Citation": "thrive.base.schema",
    "Coach": "thrive.coaching.coach",
    "ConfigurationError": "thrive.base.errors",
    "CorpusError": "thrive.base.errors",
    "IngestReport": "thrive.knowledge.ingest",
    "InputError": "thrive.base.errors",
    "Passage": "thrive.base.schema",
    "Profile": "thrive.base.schema",
    "Settings": "thrive.base.settings",
    "StoreError": "thrive.base.errors",
    "ThriveError": "thrive.base.errors",
    "ingest": "thrive.knowledge.ingest",
    "load_settings": "thrive.base.settings",
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
