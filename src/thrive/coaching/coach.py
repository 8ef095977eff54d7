"""`Coach`: the one object the page, the CLI and Python callers use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from thrive.base.errors import BackendUnavailable, ConfigurationError, StoreError, ThriveError
from thrive.base.schema import Answer, Profile, WorkNote, as_profile
from thrive.base.settings import Settings, load_settings
from thrive.coaching.chain import (
    DECLINE_INJECTION,
    Prepared,
    build_prepare_chain,
    citations_for,
    filter_citations,
    system_prompt,
    tidy,
)
from thrive.coaching.output_guard import OutputGuard, urls_in
from thrive.coaching.tools import ActionPlan, ExposureScorer, NicheSuggestions, SkillExposure
from thrive.coaching.tools import build_plan as _build_plan
from thrive.coaching.tools import suggest_niches as _suggest_niches
from thrive.coaching.work import named_part, work_in
from thrive.knowledge import tuned
from thrive.knowledge.corpus import Section
from thrive.knowledge.guide import Guide, load_guide, read_sections
from thrive.knowledge.ingest import IngestReport, ingest
from thrive.knowledge.onet import OccupationView, occupation_view, task_index
from thrive.knowledge.retrieval import GuideSearcher, Hit, SearchResult
from thrive.models import Backend, create_backend, resolve_spec
from thrive.models.extractive import ExtractiveBackend, prefetch

FALLBACK_NOTICE = (
    "The configured LLM ({backend}) failed: {error} The offline coach answered instead."
)
CUT_NOTICE = (
    "The configured LLM ({backend}) stopped mid-answer: {error} Its unfinished text is "
    "marked as cut off; the offline coach answered in full below it."
)
CUT_MARK = "\n\n*(cut off: the model stopped here, unfinished)*\n\n**The offline coach:**\n\n"


class AnswerStream:
    """Iterate for the answer's text as it forms; `.answer` is the full `Answer` afterwards."""

    def __init__(self, tokens: Iterator[str]) -> None:
        self._tokens = tokens
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        return self._tokens


class Coach:
    """Grounded coaching from the guide. Build one with `Coach.from_settings()`."""

    def __init__(
        self,
        settings: Settings,
        backend: Backend | None = None,
        *,
        searcher: GuideSearcher | None = None,
        fallback: bool = False,
    ) -> None:
        self.settings = settings
        self._backend = backend
        self._searcher = searcher
        self._live_index = searcher is None  # follow the store's pointer (see `searcher`)
        self._index_lock = threading.Lock()
        self.fallback = fallback
        self._lock = threading.Lock()  # parts are built once even when sessions race
        self._prepare = build_prepare_chain(
            self._search,
            settings.max_input_chars,
            settings.max_answer_tokens,
            self._note_work,
            settings.context_tokens,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings | None = None,
        *,
        llm: str | None = None,
        fallback: bool = False,
        **overrides: Any,
    ) -> Coach:
        settings = settings or load_settings(**overrides)
        if llm:
            settings = settings.model_copy(update={"llm": llm})
        return cls(settings, fallback=fallback)

    # -- parts, loaded on first use --------------------------------------------------------

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = create_backend(self.settings.llm, self.settings)
        return self._backend

    @property
    def backend_name(self) -> str:
        """Which backend will answer (`auto` resolved), without building it."""
        if self._backend is not None:
            return self._backend.name
        return resolve_spec(self.settings.llm, self.settings)

    @property
    def searcher(self) -> GuideSearcher:
        """The searcher of the active index version. Each use reads the store's pointer (one
        small read), so a session moves to a new ingest, by this process or another, at its
        next question; a searcher passed in by hand stays as it is."""
        with self._index_lock:
            if self._searcher is None:
                self._searcher = GuideSearcher.open(self.settings)
            elif self._live_index:
                self._searcher = self._searcher.refreshed()
            return self._searcher

    def _searching(self, query: str, profile_text: str, k: int) -> SearchResult:
        try:
            return self.searcher.search(query, profile_text=profile_text, k=k)
        except StoreError:
            if not self._live_index:
                raise
            # The version was dropped between reading the pointer and querying it (two
            # ingests finished meanwhile): read the pointer again, once.
            with self._index_lock:
                self._searcher = GuideSearcher.open(self.settings)
            return self._searcher.search(query, profile_text=profile_text, k=k)

    # -- the index -------------------------------------------------------------------------

    def update_index(
        self,
        *,
        rebuild: bool = False,
        progress: Callable[[int, int], None] | None = None,
        on_wait: Callable[[], None] | None = None,
        wait_s: float = 120.0,
        on_tuning: Callable[[int], None] | None = None,
        on_tuning_wait: Callable[[], None] | None = None,
    ) -> IngestReport:
        """Bring the guide index up to date (only what changed; everything with `rebuild`).
        The next question searches the new index."""
        report = ingest(
            self.settings,
            rebuild=rebuild,
            progress=progress,
            wait_s=wait_s,
            on_wait=on_wait,
            on_tuning=on_tuning,
            on_tuning_wait=on_tuning_wait,
        )
        with self._index_lock:
            self._searcher, self._live_index = None, True
        return report

    @staticmethod
    def minutes_to_train(examples: int) -> int:
        """About how long fine-tuning the search encoder on `examples` takes on 2 cores."""
        return tuned.minutes_to_train(examples)

    @property
    def index_location(self) -> str:
        """Where the index lives: the Chroma server's URL or the embedded store's folder."""
        return self.settings.chroma_url or str(self.settings.vectorstore_dir)

    def warm_up(
        self, stop: threading.Event | None = None, on_loaded: Callable[[], None] | None = None
    ) -> None:
        """Load what answers need (store, embedding model and, for the offline coach, the
        vectors of the guide's sentences, a passage at a time until `stop` is set).
        `on_loaded` runs once the store and the model are up, before the sentences."""
        self.prepare("How does generative AI affect freelance writers?")
        if on_loaded is not None:
            on_loaded()
        if self.backend_name != "extractive":
            return
        for chunk in self.searcher.text_chunks:
            if stop is not None and stop.is_set():
                return
            prefetch([Hit(chunk, 0.0, 0.0).passage()])

    def warm_up_tools(self) -> None:
        """Build the coaching tools' exposure scorer and load the O*NET task index (every
        tool needs them)."""
        ExposureScorer.for_guide(self.guide)
        task_index()

    def sections(self) -> dict[str, Section]:
        """Every section of the guide(s) by id, as written (Markdown), to show a citation."""
        return read_sections(self.settings.corpus_dir)

    def _search(self, query: str, profile: Profile) -> SearchResult:
        return self._searching(query, profile.as_query(), self.settings.top_k)

    def _note_work(
        self, question: str, profile: Profile, earlier: list[str] | None = None
    ) -> WorkNote | None:
        """The person's work and its exposure, for the answer's opening; `earlier` are their
        earlier questions of the conversation, newest first."""
        work = work_in(question, profile, earlier or ())
        if not work:
            return None
        try:
            guide = self.guide
            exposure = ExposureScorer.for_guide(guide).score([work])[0]
        except ThriveError:  # no bundled guide, or not a usable skill: open without it
            return None
        return WorkNote(
            name=work,
            score=exposure.score,
            level=exposure.level,
            threats=[(sid, guide.title(sid)) for sid in exposure.threats],
            named_in_guide=guide.names(named_part(work, profile)),
        )

    def search(
        self, query: str, profile: Profile | dict[str, Any] | None = None, k: int | None = None
    ) -> SearchResult:
        return self._searching(query, as_profile(profile).as_query(), k or self.settings.top_k)

    # -- answering -------------------------------------------------------------------------

    def prepare(
        self,
        question: str,
        profile: Profile | dict[str, Any] | None = None,
        history: list[dict[str, str]] | None = None,
    ) -> Prepared:
        return self._prepare.invoke(
            {"question": question, "profile": as_profile(profile), "history": history or []}
        )

    def stream(
        self,
        question: str,
        profile: Profile | dict[str, Any] | None = None,
        history: list[dict[str, str]] | None = None,
    ) -> AnswerStream:
        """Tokens of the answer; the finished `Answer` is on `.answer` once iterated."""
        started = time.perf_counter()
        prepared = self.prepare(question, profile, history)  # raises InputError early
        stream = AnswerStream(iter(()))
        stream._tokens = self._generate(prepared, stream, started)
        return stream

    def ask(
        self,
        question: str,
        profile: Profile | dict[str, Any] | None = None,
        history: list[dict[str, str]] | None = None,
    ) -> Answer:
        stream = self.stream(question, profile, history)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def _generate(self, prepared: Prepared, out: AnswerStream, started: float) -> Iterator[str]:
        if prepared.refusal is not None:
            yield prepared.refusal
            out.answer = Answer(
                prepared.refusal,
                [],
                prepared.retrieved,
                True,
                self._backend_name(),
                latency_ms=_ms(started),
            )
            return
        assert prepared.request is not None
        allowed = set(prepared.retrieved)
        # Images, foreign links and HTML out; a recital of the system prompt stopped.
        guard = OutputGuard(system_prompt(), urls_in(p.text for p in prepared.passages))
        pieces: list[str] = []
        notice = ""
        backend = None
        try:
            backend = self.backend
            for piece in guard.filter(filter_citations(backend.stream(prepared.request), allowed)):
                pieces.append(piece)
                yield piece
        except (BackendUnavailable, ConfigurationError) as err:
            if not self.fallback:
                raise
            failed = backend.name if backend else self.settings.llm
            notice = FALLBACK_NOTICE.format(backend=failed, error=err)
            if pieces:
                # The start was shown already: marked as unfinished, then the offline coach's
                # whole answer, so that half an answer never passes for a whole one.
                notice = CUT_NOTICE.format(backend=failed, error=err)
                pieces.append(CUT_MARK)
                yield CUT_MARK
            backend = ExtractiveBackend()
            for piece in guard.filter(filter_citations(backend.stream(prepared.request), allowed)):
                pieces.append(piece)
                yield piece
        if guard.tripped:  # it began reciting its instructions: nothing of it is kept
            yield "\n\n" + DECLINE_INJECTION
            out.answer = Answer(
                DECLINE_INJECTION,
                [],
                prepared.retrieved,
                True,
                backend.name,
                latency_ms=_ms(started),
            )
            return
        text = tidy("".join(pieces))
        out.answer = Answer(
            text,
            citations_for(text, prepared.passages),
            prepared.retrieved,
            False,
            backend.name,
            notice=notice,
            latency_ms=_ms(started),
            passages=prepared.passages,
        )

    def _backend_name(self) -> str:
        return self._backend.name if self._backend else self.settings.llm

    @staticmethod
    def model_server_command(
        gguf: Path, *, host: str = "127.0.0.1", port: int = 8080, n_ctx: int = 4096
    ) -> list[str]:
        """The command line of llama.cpp's OpenAI-compatible server for a GGUF file, as
        `thrive serve-model` runs it (the faces reach the models layer only through here)."""
        from thrive.models.llamacpp import server_command

        return server_command(gguf, host=host, port=port, n_ctx=n_ctx)

    # -- coaching tools (thrive.coaching.tools): same guide, no vector store needed ----------------

    @property
    def guide(self) -> Guide:
        return load_guide(self.settings.corpus_dir)

    def exposure(self, skills: str | Iterable[str]) -> list[SkillExposure]:
        """Exposure of each skill to GenAI, 0-100 with level and cited sections. The score
        is deterministic: it is the same with every backend."""
        return ExposureScorer.for_guide(self.guide).score(skills)

    def occupation(self, text: str) -> OccupationView | None:
        """The O*NET occupation that best matches free text ("court interpreter"), with its
        human exposure rating and most and least exposed tasks; None when none is close."""
        return occupation_view(text)

    def niches(self, profile: Profile | dict[str, Any] | None = None) -> NicheSuggestions:
        """At least three niches for the profile; written by the LLM when one is configured
        (validated, retried once), else, or on failure, composed offline from the guide."""
        guide = self.guide
        scorer = ExposureScorer.for_guide(guide)
        try:
            backend: Backend | None = self.backend
        except (BackendUnavailable, ConfigurationError) as err:
            if not self.fallback:
                raise
            result = _suggest_niches(as_profile(profile), guide, scorer)
            result.notice = f"The configured LLM failed: {err} The offline coach answered."
            return result
        return _suggest_niches(as_profile(profile), guide, scorer, backend)

    def plan(
        self, profile: Profile | dict[str, Any] | None = None, start: date | None = None
    ) -> ActionPlan:
        """The guide's seven action steps as a dated 30-day plan from `start` (today).
        Ticks are not loaded here: `plan.load_progress(UserData(...))` adds them."""
        guide = self.guide
        return _build_plan(as_profile(profile), guide, ExposureScorer.for_guide(guide), start)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
