"""What the page shares across sessions, loaded once per process and only when first used.

Each cached getter is keyed by the settings it depends on, so that a process serving one
configuration (every real run) loads things once, while tests that point the page at
other folders get their own objects.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from thrive.base.errors import ThriveError
from thrive.base.schema import Profile
from thrive.base.settings import Settings, load_settings
from thrive.base.storage import LOCAL_USER, UserData
from thrive.coaching.coach import Coach
from thrive.ui.secrets import with_streamlit_secrets

if TYPE_CHECKING:
    from thrive.knowledge.corpus import Section

log = logging.getLogger(__name__)


@dataclass
class IndexState:
    """Which stores this process has already brought up to date (checked once per process)."""

    ready: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def _coach(key: str, _settings: Settings) -> Coach:
    # fallback=True: when the configured LLM fails, the offline coach answers, with a notice.
    return Coach.from_settings(_settings, fallback=True)


# One per user and database; cheap (the engine and its pool are shared per database URL).
@st.cache_resource(show_spinner=False, max_entries=1024)
def _user_data(data_dir: str, database_url: str | None, user_id: str) -> UserData:
    return UserData(Path(data_dir), user_id=user_id, database_url=database_url)


@st.cache_resource(show_spinner=False)
def index_state() -> IndexState:
    return IndexState()


class WarmUp:
    """Loads what answers need in a background thread, while the user reads and types: the
    store and the embedding model, then (for the offline coach) the vectors of the guide's
    sentences, a passage at a time. A question stops the sentence part: on 2 busy cores it
    takes ~12 s, and the answer embeds the few sentences it needs itself in ~1 s.

    Once the model is loaded, a second thread builds the coaching tools' exposure scorer
    (~3 s; every tool needs it, and two of the three starter prompts are tools). A question
    does not wait for it: each thread uses one core. A tool waits on the scorer's lock."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="thrive-warm-up", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.coach.warm_up(self._stop, on_loaded=self._start_tools)
        except Exception:  # the real call reports it; a warm-up has no one to tell
            log.debug("warm-up failed", exc_info=True)

    def _start_tools(self) -> None:
        threading.Thread(target=self._tools, name="thrive-warm-up-tools", daemon=True).start()

    def _tools(self) -> None:
        try:
            self.coach.warm_up_tools()
        except Exception:  # e.g. no guide: the tool itself says so when asked
            log.debug("warm-up of the coaching tools failed", exc_info=True)

    def finish(self) -> None:
        """A question is waiting: stop after the current passage and wait for the thread,
        so that two threads never load the model at once."""
        self._stop.set()
        self.thread.join()


@st.cache_resource(show_spinner=False)
def _warm_up(key: str, _coach: Coach) -> WarmUp:
    return WarmUp(_coach)


def store_key(settings: Settings) -> str:
    """Identifies one vector store and corpus: what an index check is about."""
    where = settings.chroma_url or str(Path(settings.vectorstore_dir).resolve())
    return f"{where}|{settings.collection}|{Path(settings.corpus_dir).resolve()}"


@dataclass
class PageContext:
    """Everything a part of the page needs: settings, the coach and the user's data."""

    settings: Settings
    coach: Coach
    data: UserData

    def profile(self) -> Profile:
        """The user's saved situation (empty when none was saved)."""
        try:
            return Profile.model_validate(self.data.load_profile())
        except ValueError:  # an old or hand-edited profile: coach without it
            return Profile()

    def warm_up(self) -> None:
        """Start loading the models in the background (once per process)."""
        _warm_up(store_key(self.settings), self.coach)

    def wait_until_warm(self) -> None:
        """Before answering: end the warm-up (see `WarmUp.finish`)."""
        _warm_up(store_key(self.settings), self.coach).finish()

    def guide_sections(self) -> dict[str, Section]:
        """The guide's sections by id, as written (Markdown), to show a cited passage."""
        try:
            return self.coach.sections()
        except (ThriveError, OSError):
            return {}


def context(user_id: str = LOCAL_USER) -> PageContext:
    """The page's context for this run, with `data` holding only `user_id`'s rows (the
    signed-in user's storage key; `local` without sign-in). Raises `ThriveError` or
    pydantic's `ValidationError` when the configuration cannot be used."""
    settings = with_streamlit_secrets(load_settings())
    key = settings.cache_key()  # the API key only as a digest: see Settings.cache_key
    data = _user_data(str(settings.data_dir), settings.database(), user_id)
    return PageContext(settings, _coach(key, settings), data)


def forget_loaded() -> None:
    """Drop the loaded coach and its warm-up: after a rebuild they hold a replaced index."""
    _coach.clear()
    _warm_up.clear()
