"""Metrics of the O*NET evaluation: ROC AUC over label pairs and bootstrap intervals that
resample occupations (the tasks of one occupation are not independent)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import rankdata

from thrive.evaluation.stats import bootstrap

RESAMPLES = 1000
SEED = 20240101


def auc(positive: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC of `scores` for the boolean `positive` (ties count half); None without both
    classes. The Mann-Whitney rank form rather than sklearn's roc_auc_score, though sklearn
    is installed: both give the same number (a test checks it), but sklearn validates its
    input on every call (~8 ms) and the bootstrap makes ~20,000 calls."""
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)  # average ranks: a tie between classes counts half
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def pair_aucs(labels: np.ndarray, scores: np.ndarray) -> tuple[float | None, float | None]:
    """(AUC E1 > E0, AUC E1-or-E2 > E0) against the human labels."""
    e1_e0 = labels != "E2"
    return auc(labels[e1_e0] == "E1", scores[e1_e0]), auc(labels != "E0", scores)


def summarise(
    labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, resamples: int = RESAMPLES
) -> dict[str, Any]:
    """AUCs and 95% intervals that resample the groups (occupations) with replacement."""
    members = [np.flatnonzero(groups == g) for g in dict.fromkeys(groups.tolist())]

    def at(which: int) -> Callable[[list[int]], float | None]:
        def statistic(sample: list[int]) -> float | None:
            rows = np.concatenate([members[i] for i in sample])
            return pair_aucs(labels[rows], scores[rows])[which]

        return statistic

    e1_e0, e12_e0 = pair_aucs(labels, scores)
    items = list(range(len(members)))
    ci1 = bootstrap(items, at(0), resamples=resamples, seed=SEED)
    ci12 = bootstrap(items, at(1), resamples=resamples, seed=SEED)
    return {
        "auc_e1_e0": _round(e1_e0),
        "auc_e12_e0": _round(e12_e0),
        "ci95_e1_e0": [_round(v) for v in ci1] if ci1 else None,
        "ci95_e12_e0": [_round(v) for v in ci12] if ci12 else None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
