"""Hybrid retrieval over the guide: dense (Chroma) and lexical (BM25) fused by reciprocal
rank fusion, enriched by the user's profile, with an out-of-scope signal.

The lexical index is built once per collection version, saved beside it and loaded by every
later open (lexical.py); the dense side is a plain Chroma query on precomputed vectors. A
searcher belongs to one version: `refreshed` (one small read of the store's pointer, made
before each question) hands over to the version an ingest activated since.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS
from chromadb.api.models.Collection import Collection
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from thrive.base import embeddings
from thrive.base.schema import Passage
from thrive.base.settings import Settings
from thrive.knowledge import ranking, tuned
from thrive.knowledge.corpus import KEY, is_question_key, tuning_pairs
from thrive.knowledge.lexical import ChunkTable, LexicalIndex, open_lexical, prune_lexical
from thrive.knowledge.outside import MARGIN as OUTSIDE_MARGIN
from thrive.knowledge.outside import OutsideTopics, load_outside
from thrive.knowledge.store import (
    GuideIndex,
    StoredChunk,
    check_embedded,
    connect,
    store_identity,
    translated,
    where,
)
from thrive.knowledge.structure import guide_sentences

log = logging.getLogger(__name__)
__all__ = ["GuideSearcher", "Hit", "HybridRetriever", "LexicalIndex", "SearchResult", "to_document"]

# hybrid: the learned ranker over every signal (ranking.py), or rank fusion without its
# weights file; rrf: rank fusion of dense and BM25; dense, bm25: one side alone.
Mode = Literal["hybrid", "rrf", "dense", "bm25"]
# Words that make a short question ("Am I at risk?", "What should I do?") about the user's
# freelance work, so its scope is judged with their profile instead of on its own. They are
# the guide's own vocabulary for its subject (risk, threat, clients, rates, niche, brand,
# skills, learning, automation ...), written from the guide, not from eval cases.
COACHING_WORDS = frozenset(
    """
    risk risky risks safe safer threat threats threatened worry worried future career job jobs
    work working freelance freelancing freelancer clients client rates rate prices price pay
    income niche niches plan plans brand portfolio replace replaced replacing ai genai automate
    automated automation skills skill exposed exposure start next step steps focus learn
    learning specialise specialize business services service compete competition stand out
""".split()
)
FILLER_WORDS = frozenset(
    """
    do does doing should could would can will shall must might may help need needs know think
    get go make best now first way something anything thing things else really about me my
    mine myself please tell say suggest give show
""".split()
)
# Rank fusion (mode "rrf", and "hybrid" without the ranker's weights), calibrated on the dev
# split (evals/dev.jsonl, its first 55 cases; study of K in {10, 60} x profile weight in
# {0.5, 1} x lexical weight in {0.3, 0.6, 1}): K=10, profile 1.0, lexical 0.3 gave hit@1
# 0.636, recall@5 0.726, MRR 0.736 against 0.527 / 0.689 / 0.662 for the textbook RRF (K=60,
# equal weights). Never tuned on evals/test.jsonl.
RRF_K = 10  # smaller than Cormack et al.'s 60: the top ranks of a 21-section guide matter most
PROFILE_WEIGHT = 1.0  # question + profile counts as much as the question alone
LEXICAL_WEIGHT = 0.3  # BM25 only nudges: on paraphrased questions it mostly adds noise
# Hits per run the ranker reads: every chunk of the bundled guide (622 with its keys, 21 of
# them text chunks, one per section: a cut below that would drop a section's text signal);
# on a large corpus the sections past these hits are scored as just after the last one.
RANKER_HITS = 1000
# Sections ranked after the k hits, kept in SearchResult.reserve: for the bundled guide's 21
# sections at the default k=5, all the rest, so an answer about someone's work finds the
# best-ranked strategy and action step it lacks (chain.for_work).
RESERVE = 16


@dataclass(frozen=True)
class Hit:
    chunk: StoredChunk
    score: float  # fused RRF score
    similarity: float  # cosine similarity of the chunk to the question (dense)

    @property
    def section_id(self) -> str:
        return str(self.chunk.metadata.get("section_id", ""))

    def passage(self) -> Passage:
        """The hit as a backend sees it: its body (chunks are embedded with their heading
        in front) and the guide's structure as sentences."""
        meta = self.chunk.metadata
        title = str(meta.get("section_title", ""))
        text = self.chunk.text
        head, sep, body = text.partition(f"{title}. ")
        text = body if sep and len(head) < 30 else text
        return Passage(
            section_id=self.section_id,
            title=title,
            kind=str(meta.get("kind", "section")),
            text=text,
            score=self.score,
            sentences=guide_sentences(text),
        )


@dataclass
class SearchResult:
    hits: list[Hit]
    best_similarity: float
    in_scope: bool
    # Set when the question is about a topic the guide leaves out (outside.py), e.g. taxes.
    outside_topic: str | None = None
    # The next best sections after the hits, best first: for an answer that needs a kind of
    # section the hits lack (the coach's strategies for a named kind of work).
    reserve: list[Hit] = field(default_factory=list)

    @property
    def section_ids(self) -> list[str]:
        return list(dict.fromkeys(h.section_id for h in self.hits))


class GuideSearcher:
    """Everything a query needs, loaded once: the collection, its chunks and the BM25 index."""

    _cache: ClassVar[dict[tuple[str, str], GuideSearcher]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        collection: Collection,
        chunks: Sequence[StoredChunk],
        scope_threshold: float = 0.22,
        lexical: LexicalIndex | None = None,
    ) -> None:
        self.collection = collection
        table = chunks if isinstance(chunks, ChunkTable) else ChunkTable.of(list(chunks))
        self._table = table
        self.chunks: Sequence[StoredChunk] = table
        self.position = {cid: i for i, cid in enumerate(table.ids)}
        # A hit on a line key stands for its section: the section's first text chunk.
        self.section_chunk: dict[str, int] = {}
        for i, (section, is_key) in enumerate(zip(table.section_ids, table.is_key, strict=True)):
            if not is_key:
                self.section_chunk.setdefault(section, i)
        self.lexical = lexical if lexical is not None else LexicalIndex([c.text for c in table])
        self.granularity = [
            "question" if is_question_key(cid) else "line" if is_key else "chunk"
            for cid, is_key in zip(table.ids, table.is_key, strict=True)
        ]
        kinds: dict[str, set[str]] = {}
        for section, g in zip(table.section_ids, self.granularity, strict=True):
            kinds.setdefault(section, set()).add(g)
        self.kinds_of = {section: frozenset(g) for section, g in kinds.items()}
        self.ranker = ranking.load_model()
        self._key_classifier: ranking.KeyClassifier | None = None
        self._tuned_key_classifier: ranking.KeyClassifier | None = None
        self._classifier_lock = threading.Lock()  # first questions at once build each once
        self._tuned: tuple[Path, list[int], np.ndarray] | None = None
        self._tuned_read = False  # read once per searcher, at its first question
        self._tuned_lock = threading.Lock()  # two first questions at once read it once
        self._outside: OutsideTopics | None = None
        self._outside_lock = threading.Lock()
        self._outside_tuned: np.ndarray | None = None  # its questions by the tuned encoder
        self.scope_threshold = scope_threshold
        self.version = str((collection.metadata or {}).get("corpus_version", ""))
        self._index: GuideIndex | None = None  # set by `open`: how `refreshed` reads the pointer
        self._identity: tuple[int, int] | None = None
        self.settings: Settings | None = None

    @classmethod
    def open(cls, settings: Settings) -> GuideSearcher:
        """The searcher for the active version; reused while that version is active."""
        index = GuideIndex(connect(settings, create=False), settings.collection)
        collection = index.require_active()
        store = f"{where(settings)}|{settings.collection}"
        version = str((collection.metadata or {}).get("corpus_version", ""))
        key = (store, f"{collection.name}@{version}")
        with cls._lock:
            if key not in cls._cache:
                # A new version (or a rebuild) replaces the store's old searcher: a long-running
                # page that sees many re-ingests must not keep every old BM25 index alive.
                for old in [k for k in cls._cache if k[0] == store]:
                    del cls._cache[old]
                with translated(settings):
                    chunks, lexical = open_lexical(settings, collection)
                searcher = cls(collection, chunks, settings.scope_threshold, lexical)
                searcher._index = index
                searcher._identity = store_identity(settings)
                searcher.settings = settings
                cls._cache[key] = searcher
                # Another host's ingest made this version: drop the saved indexes of the
                # versions it dropped (the ingesting host prunes its own).
                with translated(settings):
                    prune_lexical(settings, index.versions())
            return cls._cache[key]

    def refreshed(self) -> GuideSearcher:
        """This searcher while its version is active, else the searcher of the version the
        pointer names now: a session moves to a new ingest at its next question."""
        settings = self.settings
        if settings is None or self._index is None:
            return self  # built by hand, not from a store
        if not settings.chroma_url:
            check_embedded(settings)  # raises when the store was removed
            if store_identity(settings) != self._identity:  # rebuilt by another process
                return GuideSearcher.open(settings)
        with translated(settings):
            name = self._index.active_name()
        return self if name == self.collection.name else GuideSearcher.open(settings)

    def _translated(self) -> AbstractContextManager[None]:
        return translated(self.settings) if self.settings is not None else nullcontext()

    @property
    def text_chunks(self) -> list[StoredChunk]:
        """The chunks a passage is made of (not the line keys)."""
        return [self.chunks[i] for i, is_key in enumerate(self._table.is_key) if not is_key]

    def section_text(self, section_id: str) -> str:
        table = self._table
        return "\n".join(
            table[i].text
            for i, (sid, is_key) in enumerate(zip(table.section_ids, table.is_key, strict=True))
            if sid == section_id and not is_key
        )

    def _dense(self, vectors: np.ndarray, n: int) -> list[list[tuple[int, float]]]:
        """One run of (position, similarity) per vector, from a single Chroma query: each
        call has a fixed cost (~1 ms), so the profile's vector rides along with the question's."""
        with self._translated():
            got = self.collection.query(
                query_embeddings=vectors, n_results=min(n, len(self.chunks)), include=["distances"]
            )  # type: ignore[list-item]
        return [
            [
                (self.position[i], 1.0 - float(d))
                for i, d in zip(ids, dists, strict=True)
                if i in self.position
            ]
            for ids, dists in zip(got["ids"], got["distances"] or [], strict=True)
        ]

    def search(
        self, question: str, *, profile_text: str = "", k: int = 5, mode: Mode = "hybrid"
    ) -> SearchResult:
        """The k best chunks for the question, the profile nudging the order."""
        if not self.chunks or not question.strip():
            return SearchResult([], 0.0, False)
        ranked = mode == "hybrid" and self.ranker is not None
        # The ranker reads every section's keys, so it asks for many more hits than k.
        n = min(len(self.chunks), RANKER_HITS) if ranked else max(4 * k, 20)
        queries = [question] + ([f"{question} {profile_text}"] if profile_text else [])
        vectors = embeddings.encode(queries)
        # The question's own dense run is always made: it carries the scope signal.
        dense_runs = self._dense(vectors, n)
        question_dense = dense_runs[0]
        dense = dense_runs if mode != "bm25" else []
        lexical = [self.lexical.search(q, n) for q in queries] if mode != "dense" else []
        # The scope signal uses the question alone, so a profile cannot make chit-chat relevant.
        similarity = dict(question_dense)
        best = max(similarity.values(), default=0.0)
        in_scope = best >= self.scope_threshold or self._coaching_question(
            question, dense_runs[1] if profile_text else None
        )
        tuned_vectors = self._tuned_vectors(queries) if ranked or in_scope else None
        outside_topic = self._outside_topic(vectors[0], best, tuned_vectors) if in_scope else None
        in_scope = in_scope and outside_topic is None
        if ranked:
            hits = self._ranked(queries, vectors, dense_runs, lexical, k + RESERVE, tuned_vectors)
            return SearchResult(hits[:k], best, in_scope, outside_topic, hits[k:])

        fused: dict[int, float] = {}
        for runs, side in ((dense, 1.0), (lexical, LEXICAL_WEIGHT)):
            for j, run in enumerate(runs):
                weight = side * (1.0 if j == 0 else PROFILE_WEIGHT)
                for rank, (pos, _) in enumerate(run):
                    fused[pos] = fused.get(pos, 0.0) + weight / (RRF_K + rank + 1)
        # One hit per section (its best chunk): k distinct passages say more than k
        # fragments of the same one, and citations are per section anyway.
        order, seen = [], set()
        for p in sorted(fused, key=lambda p: (-fused[p], p)):
            section = self.chunks[p].metadata.get("section_id")
            if section not in seen:
                seen.add(section)
                order.append(p)
            if len(order) == k + RESERVE:
                break
        similarity.update(self._similarities(vectors[0], [p for p in order if p not in similarity]))
        hits = [Hit(self._shown(p), fused[p], similarity.get(p, 0.0)) for p in order]
        return SearchResult(hits[:k], best, in_scope, outside_topic, hits[k:])

    def _outside_topic(
        self, vector: np.ndarray, best: float, tuned_vectors: np.ndarray | None
    ) -> str | None:
        """The topic the guide leaves out that the question is clearly about, if any: by the
        tuned encoder, which learned the outside topics beside the guide's keys, where it
        is built; else by the bundled model."""
        topics = self.outside_topics()
        if topics is None:
            return None
        topic, similarity = topics.closest(vector)
        found = self.tuned_keys()
        if tuned_vectors is not None and found is not None:
            folder, _, keys = found
            if self._outside_tuned is None:
                self._outside_tuned = tuned.chunk_vectors(folder, list(topics.questions))
            outside = self._outside_tuned
            return topics.tuned_verdict(
                tuned_vectors @ outside.T, tuned_vectors @ keys.T, similarity - best
            )
        return topic if similarity - best > OUTSIDE_MARGIN else None

    def outside_topics(self) -> OutsideTopics | None:
        """The corpus's outside topics, read once per searcher: the same reading names the
        tuned encoder (tuned_keys) and judges the questions. None without settings (a
        searcher built by hand has no corpus folder)."""
        if self.settings is None:
            return None
        with self._outside_lock:
            if self._outside is None:
                self._outside = load_outside(Path(self.settings.corpus_dir))
        return self._outside

    def signals(
        self,
        queries: list[str],
        vectors: np.ndarray,
        dense_runs: list[list[tuple[int, float]]],
        lexical: list[list[tuple[int, float]]],
        tuned_vectors: np.ndarray | None = None,
    ) -> ranking.Signals:
        """The runs as the ranker reads them."""
        if tuned_vectors is None:
            tuned_vectors = self._tuned_vectors(queries)
        tuned_classifier = self.tuned_key_classifier()
        return ranking.Signals(
            dense=[dict(run) for run in dense_runs],
            lexical=[[p for p, _ in run] for run in lexical],
            key_class=self.key_classifier().log_proba(vectors),
            tuned=self._tuned_runs(tuned_vectors),
            tuned_key_class=(
                tuned_classifier.log_proba(tuned_vectors)
                if tuned_classifier is not None and tuned_vectors is not None
                else ()
            ),
        )

    def tuned_keys(self) -> tuple[Path, list[int], np.ndarray] | None:
        """The tuned encoder of this index's question keys (and the corpus's outside topics),
        the keys' positions and tuned vectors; None when none has been built for them (the
        bundled model stands in). Looked up once per searcher; a broken outside file raises
        here, and is looked at again at the next question."""
        with self._tuned_lock:
            if not self._tuned_read:
                positions = [i for i, g in enumerate(self.granularity) if g == "question"]
                topics = self.outside_topics()  # None: no corpus folder, so no encoder for it
                found = None
                if positions and topics is not None:
                    keys = tuning_pairs(self.chunks[i] for i in positions)
                    pairs = tuned.training_pairs(keys, topics.training_pairs())
                    folder = tuned.folder_for(pairs)
                    if tuned.is_built(folder):
                        vectors = tuned.chunk_vectors(folder, [k for k, _ in keys])
                        found = (folder, positions, vectors)
                    else:
                        log.warning(
                            "No search encoder has been tuned on this machine for this guide's "
                            "question keys and outside topics as they are now (new keys, an "
                            "edited *.outside.yaml, or no ingest yet); searching with the bundled "
                            "model alone. Run `thrive ingest` to tune it (once; about %d "
                            "minutes on 2 cores).",
                            tuned.minutes_to_train(len(pairs)),
                        )
                self._tuned, self._tuned_read = found, True
        return self._tuned

    def _tuned_vectors(self, queries: list[str]) -> np.ndarray | None:
        found = self.tuned_keys()
        return None if found is None else tuned.encode(found[0], queries)

    def _tuned_runs(self, tuned_vectors: np.ndarray | None) -> list[dict[int, float]]:
        found = self.tuned_keys()
        if found is None or tuned_vectors is None:
            return []
        _, positions, keys = found
        sims = tuned_vectors @ keys.T
        return [dict(zip(positions, map(float, row), strict=True)) for row in sims]

    def ranker_rows(self, question: str, profile_text: str = "") -> tuple[list[str], np.ndarray]:
        """(candidate sections, their ranker features) for a question: what the ranker
        scores, and what `thrive eval --fit-ranker` fits it on."""
        queries = [question] + ([f"{question} {profile_text}"] if profile_text else [])
        vectors = embeddings.encode(queries)
        n = min(len(self.chunks), RANKER_HITS)
        dense_runs = self._dense(vectors, n)
        lexical = [self.lexical.search(q, n) for q in queries]
        return self._features(self.signals(queries, vectors, dense_runs, lexical))

    def _features(self, signals: ranking.Signals) -> tuple[list[str], np.ndarray]:
        return ranking.features(signals, self._table.section_ids, self.granularity, self.kinds_of)

    def _ranked(
        self,
        queries: list[str],
        vectors: np.ndarray,
        dense_runs: list[list[tuple[int, float]]],
        lexical: list[list[tuple[int, float]]],
        k: int,
        tuned_vectors: np.ndarray | None = None,
    ) -> list[Hit]:
        assert self.ranker is not None
        signals = self.signals(queries, vectors, dense_runs, lexical, tuned_vectors)
        sections, rows = self._features(signals)
        scores = self.ranker.score(sections, rows)
        order = sorted(range(len(sections)), key=lambda i: (-scores[i], sections[i]))[:k]
        # Per section, in one pass over the question's run: its text chunk closest to the
        # question (the one shown) and its best similarity of any kind.
        closest: dict[str, tuple[float, int]] = {}
        reached: dict[str, float] = {}
        for p, sim in signals.dense[0].items():
            section = self._table.section_ids[p]
            reached[section] = max(reached.get(section, sim), sim)
            if self.granularity[p] == "chunk" and sim > closest.get(section, (-2.0, p))[0]:
                closest[section] = (sim, p)
        hits = []
        for i in order:
            section = sections[i]
            # Shown: the section's text chunk closest to the question (else its first).
            position = (
                closest[section][1] if section in closest else self.section_chunk.get(section)
            )
            if position is None:
                continue
            hits.append(Hit(self.chunks[position], float(scores[i]), reached.get(section, 0.0)))
        return hits

    def key_classifier(self) -> ranking.KeyClassifier:
        """Fitted once per searcher from the stored vectors of the question keys."""
        with self._classifier_lock:
            if self._key_classifier is None:
                ids = [
                    cid
                    for cid, g in zip(self._table.ids, self.granularity, strict=True)
                    if g == "question"
                ]
                if ids:
                    with self._translated():
                        got = self.collection.get(ids=ids, include=["embeddings"])  # type: ignore[list-item]
                    # In id order: the same index gives the same rows, so its kept weights are found.
                    order = sorted(range(len(got["ids"])), key=got["ids"].__getitem__)
                    vectors = np.asarray(got["embeddings"], dtype=np.float32)[order]
                    labels = [self._table.section_ids[self.position[got["ids"][j]]] for j in order]
                else:
                    vectors, labels = np.zeros((0, 1), dtype=np.float32), []
                self._key_classifier = ranking.KeyClassifier(vectors, labels)
            return self._key_classifier

    def tuned_key_classifier(self) -> ranking.KeyClassifier | None:
        """The same classifier over the tuned encoder's key vectors (None without a tuned
        encoder): it reads the question as the encoder trained on these keys does."""
        found = self.tuned_keys()
        if found is None:
            return None
        with self._classifier_lock:
            if self._tuned_key_classifier is None:
                _, positions, vectors = found
                labels = [self._table.section_ids[p] for p in positions]
                self._tuned_key_classifier = ranking.KeyClassifier(
                    vectors, labels, c=ranking.C_TUNED_KEYS
                )
            return self._tuned_key_classifier

    def _shown(self, position: int) -> StoredChunk:
        chunk = self.chunks[position]
        if chunk.metadata.get("granularity") != KEY:
            return chunk
        return self.chunks[self.section_chunk.get(str(chunk.metadata.get("section_id")), position)]

    def _coaching_question(
        self, question: str, profile_run: list[tuple[int, float]] | None
    ) -> bool:
        """A short question with no topic but the user's own work is in scope: with a profile
        when question plus profile fits the guide, without one when it names coaching words."""
        words = {
            w
            for w in re.findall(r"[a-z]+", question.lower())
            if w not in STOPWORDS_EN_PLUS and w not in FILLER_WORDS
        }
        if not words <= COACHING_WORDS:
            return False  # it has a topic of its own (lasagna, jokes): judged on that alone
        if profile_run is not None:
            return max((s for _, s in profile_run), default=0.0) >= self.scope_threshold
        return bool(words)

    def _similarities(self, vector: np.ndarray, positions: list[int]) -> dict[int, float]:
        """Similarity of lexical-only hits to the question, from their stored vectors."""
        if not positions:
            return {}
        ids = [self.chunks[p].chunk_id for p in positions]
        with self._translated():
            got = self.collection.get(ids=ids, include=["embeddings"])  # type: ignore[list-item]
        stored = np.asarray(got["embeddings"], dtype=np.float32)
        sims = stored @ vector
        return {self.position[i]: float(s) for i, s in zip(got["ids"], sims, strict=True)}


def to_document(hit: Hit) -> Document:
    meta: dict[str, Any] = {
        **hit.chunk.metadata,
        "chunk_id": hit.chunk.chunk_id,
        "score": hit.score,
        "similarity": hit.similarity,
    }
    return Document(page_content=hit.chunk.text, metadata=meta, id=hit.chunk.chunk_id)


class HybridRetriever(BaseRetriever):
    """The guide as a LangChain retriever. `invoke(query, k=3)` overrides `k` per call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: GuideSearcher
    k: int = 5
    mode: Mode = "hybrid"
    profile_text: str = ""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        result = self.searcher.search(
            query, profile_text=self.profile_text, k=k or self.k, mode=self.mode
        )
        return [to_document(h) for h in result.hits]
