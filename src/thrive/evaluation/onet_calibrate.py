"""Choose the evidence score's constants on the DEV occupations only.

`python -m thrive.evaluation.onet_calibrate` prints, as JSON, the leave-occupation-out AUCs
of every (k, temperature) tried and of every guide blend weight at the best pair, all on DEV
(see `thrive.evaluation.onet.is_dev`). The chosen values are then written by hand, with the
figure they got, next to the constants in `thrive.knowledge.onet.evidence`: a person reads
the table before a number changes, and the held-out sets are never looked at here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from thrive.base.settings import load_settings
from thrive.evaluation.onet import K_MAX, Progress, guide_scores, is_dev, loo_neighbours
from thrive.evaluation.onet_stats import pair_aucs
from thrive.knowledge.onet.evidence import weighted_scores
from thrive.knowledge.onet.index import task_index

KS = (5, 10, 20, 30, 50, 75, 100, 150, K_MAX)
TEMPERATURES: tuple[float | None, ...] = (None, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01)
GUIDE_WEIGHTS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def calibrate(
    progress: Progress | None = None, socs: Sequence[str] | None = None
) -> dict[str, Any]:
    """The grid on DEV (or on `socs`, for tests), best pair by AUC E1 > E0 first."""
    index = task_index()
    dev = [s for s in dict.fromkeys(index.soc_codes.tolist()) if is_dev(s)]
    chosen = list(socs) if socs is not None else dev
    nb = loo_neighbours(index, chosen, progress)
    labels = np.array([index.tasks[r].human_label for r in nb.rows.tolist()])
    values = index.values[nb.neighbour_rows]
    grid = []
    for k in KS:
        for temperature in TEMPERATURES:
            scores = weighted_scores(nb.similarities[:, :k], values[:, :k], temperature)
            e1, e12 = pair_aucs(labels, scores)
            grid.append({"k": k, "temperature": temperature, "auc_e1_e0": e1, "auc_e12_e0": e12})
    best = max(grid, key=lambda row: (row["auc_e1_e0"] or 0.0, row["auc_e12_e0"] or 0.0))
    evidence = weighted_scores(
        nb.similarities[:, : best["k"]], values[:, : best["k"]], best["temperature"]
    )
    guide = guide_scores(index, nb.rows, load_settings().corpus_dir) / 100
    blends = []
    for weight in GUIDE_WEIGHTS:
        e1, e12 = pair_aucs(labels, (1 - weight) * evidence + weight * guide)
        blends.append({"guide_weight": weight, "auc_e1_e0": e1, "auc_e12_e0": e12})
    best_blend = max(blends, key=lambda row: (row["auc_e1_e0"] or 0.0, row["auc_e12_e0"] or 0.0))
    return {
        "set": "dev",
        "n_occupations": len(chosen),
        "n_tasks": len(labels),
        "grid": grid,
        "best": best,
        "blends": blends,
        "best_blend": best_blend,
    }


def main() -> int:
    def progress(stage: str, done: int, total: int) -> None:
        print(f"\r{stage}: {done}/{total}", end="", file=sys.stderr)

    result = calibrate(progress)
    print(file=sys.stderr)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
