"""Aggregates with 95% bootstrap confidence intervals.

Cases are resampled with replacement (B = 2000, fixed seed, so a run is reproducible and
two runs of the same answers give the same interval) and the statistic is recomputed on
each resample; the interval is the 2.5th to 97.5th percentile of those values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

SEED = 20250101
RESAMPLES = 2000
T = TypeVar("T")


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


def bootstrap(
    items: Sequence[T],
    statistic: Callable[[list[T]], float | None],
    *,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> tuple[float, float] | None:
    """95% percentile-bootstrap interval of `statistic` over `items`; None with no items."""
    if not items:
        return None
    rng = np.random.default_rng(seed)
    n = len(items)
    values = []
    for row in rng.integers(0, n, size=(resamples, n)):
        value = statistic([items[i] for i in row])
        if value is not None:  # e.g. an AUC of a resample that drew one label only
            values.append(value)
    if not values:
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def mean_ci(values: Sequence[float], **kw: int) -> tuple[float, float] | None:
    """Bootstrap interval of the mean, vectorised (the common case)."""
    if not values:
        return None
    rng = np.random.default_rng(kw.get("seed", SEED))
    arr = np.asarray(values, dtype=float)
    idx = rng.integers(0, len(arr), size=(kw.get("resamples", RESAMPLES), len(arr)))
    low, high = np.percentile(arr[idx].mean(axis=1), [2.5, 97.5])
    return float(low), float(high)


def mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None
