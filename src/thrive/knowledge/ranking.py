"""Ranking the guide's sections for a question: a small logistic model over retrieval signals.

Each candidate section gets a row of signals, from the dense and lexical runs the searcher
already makes: the best and top-3 cosine similarity of its question keys, line keys and text
chunks (to the question alone and to question + profile), the same relative to the best
section, its best BM25 rank, and how likely a classifier of the question keys thinks the
section is (one classifier over the bundled model's key vectors, one over the tuned
encoder's), and the question-key similarities from the tuned search encoder (tuned.py).
A logistic model weighs them, with a learned bias per section id (some parts of
the guide answer many more questions than others).

Why a learned model and not fixed fusion weights: reciprocal rank fusion with weights picked
on the dev split stalled at recall@5 ~0.70 there; the same signals weighed by a model fitted
on the dev split reach ~0.77 in 5-fold cross-validation on it. The weights live in
`ranker.json`, written by `thrive eval --fit-ranker` from `evals/dev.jsonl` only; the file
records the split, its hash and the cross-validated figures. Without the file the searcher
falls back to rank fusion.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from thrive.base import onnx_engine
from thrive.base.files import write_atomic
from thrive.base.versions import installed_version

WEIGHTS_FILE = Path(__file__).with_name("ranker.json")
GRANULARITIES = ("question", "line", "chunk")
RUNS = ("q", "qp")  # the question alone; question + profile (the question again without one)
DENSE = [f"{run}_{g}_{stat}" for run in RUNS for g in GRANULARITIES for stat in ("max", "top3")]
# The question-key similarities again, from the tuned encoder (tuned.py).
TUNED = [f"tuned_{run}_question_{stat}" for run in RUNS for stat in ("max", "top3")]
TUNED_FALLBACK = [DENSE.index(name.removeprefix("tuned_")) for name in TUNED]  # same, bundled
FEATURES = (
    *DENSE,
    *(f"{name}_rel" for name in DENSE),
    *TUNED,
    *(f"{name}_rel" for name in TUNED),
    "q_bm25",
    "qp_bm25",
    "q_keyclass",
    "qp_keyclass",
    "q_tuned_keyclass",
    "qp_tuned_keyclass",
)
# C=10 (weak regularisation) for the key classifier over the bundled model's vectors: the
# keys are many and written to be clean. Not tuned: the ranker above it weighs its output by
# dev cross-validation.
C_KEYS = 10.0
# C=1 for the classifier over the tuned encoder's key vectors, chosen on the dev split's
# 5-fold cross-validation of the ranker (ranker C=1; classifier C in {0.1, 0.3, 1, 10}: hit@1
# 0.864 / 0.867 / 0.872 / 0.858, against 0.858 without this classifier in the same run): the
# tuned encoder was trained on these keys, so they sit in tight clusters and a weakly
# regularised fit is overconfident.
C_TUNED_KEYS = 1.0
log = logging.getLogger(__name__)
Run = TypeVar("Run")  # one run's findings: a map of similarities, or a ranked list
RRF_K = 10  # the lexical signal is 1 / (RRF_K + rank), K as in retrieval.py (set on dev)


class KeyClassifier:
    """Which section a question belongs to, learned from the sections' question keys.

    A nearest-key match only sees the closest key; a linear classifier over all of a
    section's keys learns what they share. Fitted from the index's key vectors, because it
    depends on nothing else, and kept in the user's cache folder under a digest of those
    vectors and labels: refitting on the bundled guide's ~2,800 keys takes ~3 s on 2 cores,
    and importing scikit-learn ~3 s more, in every process that opens a searcher. Predicting
    from the kept weights is one matrix product and a log-softmax, written here for that
    reason (tests/test_ranking.py checks it against scikit-learn's own)."""

    FORMAT = 1  # bump when what is fitted changes: old weights are then ignored

    def __init__(
        self,
        vectors: np.ndarray,
        sections: Sequence[str],
        cache_dir: Path | None = None,
        c: float = C_KEYS,
    ) -> None:
        self.c = c
        self.sections = sorted(set(sections))
        self._coef: np.ndarray | None = None
        self._intercept: np.ndarray | None = None
        if len(self.sections) < 2:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        fitter = installed_version("scikit-learn")
        digest = hashlib.sha256(f"{self.FORMAT}|{c}|{fitter}|".encode())
        digest.update(vectors.tobytes())
        digest.update("\x00".join(sections).encode("utf-8", "surrogatepass"))
        self.weights_file = (cache_dir or onnx_engine.cache_root()) / (
            f"keyclass-{digest.hexdigest()[:16]}.npz"
        )
        if not self._load():
            self._fit(vectors, sections)

    def _load(self) -> bool:
        try:
            with np.load(self.weights_file, allow_pickle=False) as saved:
                coef, intercept, classes = saved["coef"], saved["intercept"], saved["classes"]
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            return False  # none yet, or unreadable: fitted again and written anew
        if sorted(map(str, classes)) != self.sections:
            return False
        self._coef, self._intercept = coef, intercept
        self.sections = [str(c) for c in classes]
        return True

    def _fit(self, vectors: np.ndarray, sections: Sequence[str]) -> None:
        from sklearn.linear_model import LogisticRegression  # only when there are keys

        model = LogisticRegression(C=self.c, max_iter=5000).fit(vectors, list(sections))
        self._coef = np.asarray(model.coef_, dtype=np.float64)
        self._intercept = np.asarray(model.intercept_, dtype=np.float64)
        self.sections = [str(c) for c in model.classes_]
        out = io.BytesIO()
        np.savez(out, coef=self._coef, intercept=self._intercept, classes=np.array(self.sections))
        try:
            write_atomic(self.weights_file, out.getvalue())
        except OSError as err:  # a read-only cache: fitted again next time, nothing lost
            log.warning("Key classifier weights not saved in %s (%s).", self.weights_file, err)

    def log_proba(self, vectors: np.ndarray) -> list[dict[str, float]]:
        if self._coef is None or self._intercept is None:
            return [{} for _ in range(len(vectors))]
        logits = np.asarray(vectors, dtype=np.float64) @ self._coef.T + self._intercept
        if logits.shape[1] == 1:  # two sections: scikit-learn's binary model, p = sigmoid
            logits = np.hstack([np.zeros_like(logits), logits])
        top = logits.max(axis=1, keepdims=True)
        rows = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
        return [dict(zip(self.sections, map(float, row), strict=True)) for row in rows]


@dataclass(frozen=True)
class Signals:
    """What the searcher's runs found, per chunk position."""

    dense: Sequence[Mapping[int, float]]  # one map per run: position -> cosine similarity
    lexical: Sequence[Sequence[int]]  # one ranked list of positions per run
    key_class: Sequence[Mapping[str, float]]  # one map per run: section -> log-probability
    # One map per run from the tuned encoder; empty when there is none (the dense maps
    # stand in for it).
    tuned: Sequence[Mapping[int, float]] = ()
    # One map per run from the classifier over the tuned encoder's key vectors; empty when
    # there is no tuned encoder (the bundled classifier's maps stand in for it).
    tuned_key_class: Sequence[Mapping[str, float]] = ()


def features(
    signals: Signals,
    section_of: Sequence[str],
    granularity_of: Sequence[str],
    kinds_of: Mapping[str, frozenset[str]] | None = None,
) -> tuple[list[str], np.ndarray]:
    """(candidate sections, one row of FEATURES each). A section no run reached gets each
    run's lowest value, as if it came just after the last hit.

    `kinds_of` names the granularities each section has in the index. A section without
    question or line keys (a guide dropped into corpus/ without a sidecar, or not in the
    bundled guide's shape) takes its text chunks' similarities for the missing signals and
    the median class score: it must compete on what it says, not lose for what it lacks."""
    kinds_of = kinds_of or {}
    keyed = {s for s, kinds in kinds_of.items() if "question" in kinds}
    runs = _two(signals.dense)
    lexical = _two(signals.lexical)
    key_class = _two(signals.key_class)
    tuned_key_class = _two(signals.tuned_key_class or signals.key_class)
    candidates = sorted(
        {section_of[p] for run in runs for p in run} | {section_of[p] for r in lexical for p in r}
    )
    index = {s: i for i, s in enumerate(candidates)}
    dense = _granular(runs, index, section_of, granularity_of, kinds_of)
    # Without a tuned encoder, or for a section without keys, the bundled model's question
    # columns stand in.
    tuned = dense[:, TUNED_FALLBACK].copy()
    if signals.tuned:
        tuned_runs = _two(signals.tuned)
        for j, run in enumerate(tuned_runs):
            found: dict[str, list[float]] = {}
            for p, sim in run.items():
                found.setdefault(section_of[p], []).append(sim)
            for s, i in index.items():
                if s in found:
                    sims = sorted(found[s], reverse=True)
                    tuned[i, 2 * j], tuned[i, 2 * j + 1] = sims[0], float(np.mean(sims[:3]))
    rel = dense - dense.max(axis=0, keepdims=True)
    tuned_rel = tuned - tuned.max(axis=0, keepdims=True)
    bm25 = np.zeros((len(candidates), 2))
    for j, ranked in enumerate(lexical):
        for rank, p in enumerate(ranked):
            i = index[section_of[p]]
            bm25[i, j] = max(bm25[i, j], 10.0 / (RRF_K + rank + 1))
    classes = np.empty((len(candidates), 4))
    for j, probs in enumerate([*key_class, *tuned_key_class]):
        floor = min(probs.values(), default=0.0)
        middle = float(np.median(list(probs.values()))) if probs else 0.0
        for s, i in index.items():
            classes[i, j] = max(probs.get(s, floor if s in keyed else middle), -50.0)
    return candidates, np.hstack([dense, rel, tuned, tuned_rel, bm25, classes])


def _two(runs: Sequence[Run]) -> list[Run]:
    """The question's run and the question + profile run (the question's again without one)."""
    return [*runs, *([runs[0]] * (2 - len(runs)))]


def _granular(
    runs: Sequence[Mapping[int, float]],
    index: Mapping[str, int],
    section_of: Sequence[str],
    granularity_of: Sequence[str],
    kinds_of: Mapping[str, frozenset[str]],
) -> np.ndarray:
    """Per candidate section and run: the best and top-3 mean similarity of each granularity."""
    out = np.empty((len(index), len(DENSE)))
    column = 0
    for run in runs:
        floor = min(run.values(), default=0.0)
        found: dict[tuple[str, str], list[float]] = {}
        for p, sim in run.items():
            found.setdefault((section_of[p], granularity_of[p]), []).append(sim)
        for g in GRANULARITIES:
            for s, i in index.items():
                lacks = g != "chunk" and g not in kinds_of.get(s, frozenset())
                own = found.get((s, g)) or (found.get((s, "chunk")) if lacks else None)
                sims = sorted(own or [floor], reverse=True)
                out[i, column] = sims[0]
                out[i, column + 1] = float(np.mean(sims[:3]))
            column += 2
    return out


@dataclass(frozen=True)
class RankerModel:
    """Standardised features times weights, plus a bias per section id."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    section_bias: dict[str, float]
    provenance: dict[str, Any] = field(default_factory=dict)

    def score(self, sections: Sequence[str], rows: np.ndarray) -> np.ndarray:
        z = (rows - self.mean) / self.scale
        bias = np.array([self.section_bias.get(s, 0.0) for s in sections])
        return np.asarray(z @ self.coef + bias + self.intercept)

    def to_json(self) -> dict[str, Any]:
        return {
            "provenance": self.provenance,
            "features": list(FEATURES),
            "mean": self.mean.round(6).tolist(),
            "scale": self.scale.round(6).tolist(),
            "coef": self.coef.round(6).tolist(),
            "intercept": round(self.intercept, 6),
            "section_bias": {k: round(v, 6) for k, v in sorted(self.section_bias.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RankerModel:
        if list(data["features"]) != list(FEATURES):
            raise ValueError("the weights were fitted on other features")
        return cls(
            np.asarray(data["mean"], dtype=float),
            np.asarray(data["scale"], dtype=float),
            np.asarray(data["coef"], dtype=float),
            float(data["intercept"]),
            {str(k): float(v) for k, v in data["section_bias"].items()},
            dict(data.get("provenance", {})),
        )


def load_model(path: Path = WEIGHTS_FILE) -> RankerModel | None:
    """The fitted ranker, or None (rank fusion is used) when the file is missing or stale."""
    try:
        return RankerModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def fit(
    rows: Sequence[tuple[Sequence[str], np.ndarray, Sequence[int]]],
    c: float,
    provenance: Mapping[str, Any] | None = None,
) -> RankerModel:
    """A model from (candidate sections, their features, 1 if gold else 0) per question.

    The section bias is a one-hot column per section id, so the logistic model learns it
    with the rest; it is folded out of the weights afterwards."""
    from sklearn.linear_model import LogisticRegression

    ids = sorted({s for sections, _, _ in rows for s in sections})
    X = np.vstack([r for _, r, _ in rows])
    y = np.concatenate([np.asarray(labels) for _, _, labels in rows])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    onehot = np.vstack(
        [np.eye(len(ids))[[ids.index(s) for s in sections]] for sections, _, _ in rows]
    )
    model = LogisticRegression(C=c, max_iter=5000).fit(np.hstack([(X - mean) / scale, onehot]), y)
    coef = model.coef_[0]
    n = len(FEATURES)
    return RankerModel(
        mean,
        scale,
        coef[:n],
        float(model.intercept_[0]),
        dict(zip(ids, map(float, coef[n:]), strict=True)),
        dict(provenance or {}),
    )
