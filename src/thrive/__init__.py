"""Thrive: a coaching assistant for freelancers facing generative AI, grounded in a guide."""

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
