"""The task index: the 19,265 shipped task vectors, nearest-task search and occupation matching.

A cached matrix rather than a Chroma collection: 19k x 384 float32 is 30 MB, one matmul finds
the nearest tasks of ten skills in a few milliseconds, and excluding an occupation (for the
leave-occupation-out evaluation) is a column mask, which an ANN store cannot do exactly.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import Stemmer

from thrive.base import embeddings
from thrive.base.errors import ConfigurationError
from thrive.knowledge.onet.build import SIDECAR, TASK_VECTORS, TITLE_VECTORS, sidecar_for
from thrive.knowledge.onet.tasks import (
    Occupation,
    Task,
    data_dir,
    load_occupations,
    load_tasks,
)

# Occupation matching: similarity = TITLE_WEIGHT * cos(query, title) + (1 - TITLE_WEIGHT) *
# cos(query, centroid of the occupation's task vectors) + LEXICAL_WEIGHT * the share of the
# query's word stems found in the title. Set on the 26 hand-written lay job names of
# MATCH_DEV in tests/test_onet.py (top-1 right): title alone 20/26; 0.7 title + 0.3 centroid
# 21/26; with the lexical share at 0.1, 23/26 (MiniLM alone puts "court interpreter" nearer
# "Judicial Law Clerks" and "chef" nearer "Cooks, Restaurant"). Misses left: "SEO
# specialist" and "UX designer" (acronyms the model does not know), "truck driver" -> Light
# rather than Heavy Truck Drivers.
TITLE_WEIGHT = 0.7
LEXICAL_WEIGHT = 0.1
# Below this combined similarity there is no match. On MATCH_DEV the lowest right match
# scored 0.454 and six gibberish / non-job strings at most 0.32: 0.40 sits between.
MATCH_THRESHOLD = 0.40
# Words that say nothing about which occupation is meant.
_STOP = frozenset(
    "a an and or of the for in to on with all other except including freelance "
    "self-employed independent my i am work as".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_FIX = "Run `python -m thrive.knowledge.onet.build` to rebuild the shipped vectors."


@dataclass(frozen=True)
class TaskHit:
    """A task near a query, with its cosine similarity."""

    task: Task
    similarity: float


@dataclass(frozen=True)
class OccupationMatch:
    """An O*NET occupation matched to free text, with the combined similarity."""

    occupation: Occupation
    similarity: float


def _load_npy(name: str) -> np.ndarray:
    path = data_dir().joinpath(name)
    try:
        with path.open("rb") as fh:
            return np.asarray(np.load(fh, allow_pickle=False))
    except FileNotFoundError as err:
        raise ConfigurationError(f"The O*NET vector file {name} is missing.", fix=_FIX) from err


def _check_sidecar(tasks: Sequence[Task], titles: Sequence[str]) -> None:
    """Refuse vectors that were built for other rows, another model or another size."""
    try:
        found = json.loads(data_dir().joinpath(SIDECAR).read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigurationError(
            f"The O*NET vector sidecar {SIDECAR} is missing.", fix=_FIX
        ) from err
    expected = sidecar_for([t.text for t in tasks], list(titles))
    wrong = [key for key, value in expected.items() if found.get(key) != value]
    if wrong:
        raise ConfigurationError(
            f"The shipped O*NET vectors do not match the shipped tasks ({', '.join(wrong)} "
            f"differ: e.g. {wrong[0]} is {found.get(wrong[0])!r}, "
            f"expected {expected[wrong[0]]!r}).",
            fix=_FIX,
        )


class TaskIndex:
    """Every O*NET task and occupation with its unit vector. Build once: `task_index()`."""

    def __init__(
        self,
        tasks: Sequence[Task],
        task_vectors: np.ndarray,
        occupations: Sequence[Occupation],
        title_vectors: np.ndarray,
    ) -> None:
        if len(tasks) != len(task_vectors) or len(occupations) != len(title_vectors):
            raise ConfigurationError(
                f"{len(task_vectors)} task vectors for {len(tasks)} tasks, {len(title_vectors)} "
                f"title vectors for {len(occupations)} occupations.",
                fix=_FIX,
            )
        self.tasks = tuple(tasks)
        self.occupations = tuple(occupations)
        # float32 once: float16 matmuls are slow on CPUs, and 30 MB is affordable.
        self.matrix = np.ascontiguousarray(task_vectors, dtype=np.float32)
        self.soc_codes = np.array([t.soc_code for t in self.tasks])
        self.values = np.array([t.human_value for t in self.tasks], dtype=np.float32)
        # One stable sort groups the rows by occupation (a mask per code would be 923 passes).
        codes, inverse = np.unique(self.soc_codes, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(codes) + 1))
        self._rows_of: dict[str, np.ndarray] = {
            str(c): order[bounds[i] : bounds[i + 1]] for i, c in enumerate(codes.tolist())
        }
        self._title_stems = [_stems(o.title) for o in self.occupations]
        titles = np.asarray(title_vectors, dtype=np.float32)
        centroids = np.stack([self._centroid(o.soc_code) for o in self.occupations])
        self._occupation_vectors = (titles, centroids)

    @classmethod
    def load(cls) -> TaskIndex:
        """The shipped data and vectors, checked against their sidecar."""
        tasks, occupations = load_tasks(), load_occupations()
        _check_sidecar(tasks, [o.title for o in occupations])
        return cls(tasks, _load_npy(TASK_VECTORS), occupations, _load_npy(TITLE_VECTORS))

    def _centroid(self, soc: str) -> np.ndarray:
        rows = self._rows_of.get(soc)
        if rows is None or not len(rows):
            return np.zeros(self.matrix.shape[1], dtype=np.float32)
        mean = self.matrix[rows].mean(axis=0)
        return np.asarray(mean / max(float(np.linalg.norm(mean)), 1e-12), dtype=np.float32)

    def rows_of(self, soc_code: str) -> np.ndarray:
        """Row numbers of one occupation's tasks (empty for an unknown code)."""
        return self._rows_of.get(soc_code, np.zeros(0, dtype=np.int64))

    def nearest_arrays(
        self, query_vectors: np.ndarray, k: int, exclude_soc: Collection[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers and similarities (n, k) of each query's k nearest tasks, best first."""
        queries = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
        sims = queries @ self.matrix.T
        for soc in exclude_soc or ():
            sims[:, self.rows_of(soc)] = -np.inf
        k = max(0, min(k, sims.shape[1] - sum(len(self.rows_of(s)) for s in exclude_soc or ())))
        if k == 0:
            return np.zeros((len(queries), 0), dtype=np.int64), np.zeros((len(queries), 0))
        # A partition finds the k-th best value in O(n) per row instead of a full sort. Ties
        # (one task text listed under several occupations has one vector) are broken by row
        # number, so a query gives the same tasks alone as in a batch, whose vectors differ
        # from it in the last bits and would make argpartition pick other tied rows.
        kth = -np.partition(-sims, k - 1, axis=1)[:, k - 1]
        rows = np.empty((len(queries), k), dtype=np.int64)
        for i, floor in enumerate(kth):
            candidates = np.flatnonzero(sims[i] >= floor)
            rows[i] = candidates[np.lexsort((candidates, -sims[i, candidates]))[:k]]
        return rows, np.take_along_axis(sims, rows, axis=1)

    def nearest(
        self, query_vectors: np.ndarray, k: int, exclude_soc: Collection[str] | None = None
    ) -> list[list[TaskHit]]:
        """Per query, the k most similar tasks (cosine), leaving out `exclude_soc`'s tasks."""
        rows, sims = self.nearest_arrays(query_vectors, k, exclude_soc)
        return [
            [TaskHit(self.tasks[r], float(s)) for r, s in zip(row, sim, strict=True)]
            for row, sim in zip(rows.tolist(), sims.tolist(), strict=True)
        ]

    def match_scores(self, text: str, query_vector: np.ndarray) -> np.ndarray:
        """Combined similarity of one query (its text and unit vector) to every occupation."""
        titles, centroids = self._occupation_vectors
        query = np.asarray(query_vector, dtype=np.float32).reshape(-1)
        dense = TITLE_WEIGHT * (titles @ query) + (1 - TITLE_WEIGHT) * (centroids @ query)
        words = _stems(text)
        if not words:
            return np.asarray(dense)
        share = np.array([len(words & title) / len(words) for title in self._title_stems])
        return np.asarray(dense + LEXICAL_WEIGHT * share)

    def match_occupations(
        self, text: str, limit: int = 3, threshold: float = MATCH_THRESHOLD
    ) -> list[OccupationMatch]:
        """The best O*NET occupations for free text ("court interpreter"), best first;
        an empty list when none reaches `threshold`."""
        text = " ".join(text.split())
        if not text:
            return []
        sims = self.match_scores(text, embeddings.encode([text])[0])
        order = np.argsort(-sims, kind="stable")[:limit]
        return [
            OccupationMatch(self.occupations[i], float(sims[i]))
            for i in order.tolist()
            if sims[i] >= threshold
        ]

    def match_occupation(
        self, text: str, threshold: float = MATCH_THRESHOLD
    ) -> OccupationMatch | None:
        """The best occupation for free text, or None below `threshold`."""
        matches = self.match_occupations(text, limit=1, threshold=threshold)
        return matches[0] if matches else None


_stemmer = Stemmer.Stemmer("english")
_stem_lock = threading.Lock()


def _stems(text: str) -> frozenset[str]:
    """Content-word stems: "Interpreters and Translators" -> {"interpret", "translat"}."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    with _stem_lock:  # a PyStemmer object is not documented as thread-safe
        return frozenset(_stemmer.stemWords(words))


_index: TaskIndex | None = None
_index_lock = threading.Lock()


def task_index() -> TaskIndex:
    """The shared index, loaded on first use (thread-safe; ~0.5 s: CSV, vectors, centroids)."""
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:  # another thread may have loaded it while this one waited
                _index = TaskIndex.load()
    return _index
