"""`thrive eval --fit-ranker`: fit the section ranker (thrive.knowledge.ranking) on the dev
split, after choosing its regularisation by cross-validation on the same split.

The held-out test split is refused: its figures are reported, never fitted on. The
cross-validated figures (each dev question ranked by a model that never saw it) are what the
ranker is expected to do on new questions, and they are saved with the weights.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from thrive.base.errors import InputError
from thrive.base.files import write_atomic
from thrive.coaching.coach import Coach
from thrive.evaluation.dataset import AnswerableCase, Case
from thrive.evaluation.retrieval_metrics import per_query, summary_measures
from thrive.knowledge import ranking

C_GRID = (0.03, 0.1, 0.3, 1.0)  # regularisation strengths the cross-validation chooses from
FOLDS, SEEDS = 5, (0, 1, 2)
Row = tuple[list[str], np.ndarray, list[int]]


def refuse_test_split(dataset: Path) -> None:
    if "test" in dataset.name:
        raise InputError(
            f"{dataset} is the held-out test split: the ranker is never fitted on it.",
            fix="Fit on the dev split: thrive eval --fit-ranker (evals/dev.jsonl).",
        )


def ranker_rows(coach: Coach, cases: Sequence[Case]) -> tuple[list[str], list[Row]]:
    """(case ids, rows) for the answerable cases: each question as the chain searches it
    (its standalone form, with the profile's text), its candidate sections and labels."""
    ids, rows = [], []
    for case in cases:
        if not isinstance(case, AnswerableCase):
            continue
        history = [t.model_dump() for t in case.history]
        prepared = coach.prepare(case.question, case.profile, history)
        sections, features = coach.searcher.ranker_rows(
            prepared.standalone, prepared.profile.as_query()
        )
        gold = set(case.gold_sections)
        ids.append(case.id)
        rows.append((sections, features, [int(s in gold) for s in sections]))
    return ids, rows


def _scores(ids: list[str], rows: list[Row], ranked: list[list[str]]) -> dict[str, float]:
    gold = {
        qid: [s for s, y in zip(r[0], r[2], strict=True) if y]
        for qid, r in zip(ids, rows, strict=True)
    }
    runs = dict(zip(ids, ranked, strict=True))
    values = per_query(runs, gold, summary_measures(5))
    return {
        m: float(np.mean([v[m] for v in values.values()])) for m in ("hit@1", "recall@5", "mrr")
    }


def cross_validate(ids: list[str], rows: list[Row], c: float) -> dict[str, float]:
    """Mean over SEEDS of the FOLDS-fold figures: each question ranked by a model fitted on
    the other folds."""
    results = []
    for seed in SEEDS:
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        ranked: list[list[str]] = [[] for _ in rows]
        for fold in range(FOLDS):
            held = set(order[fold::FOLDS])
            model = ranking.fit([r for i, r in enumerate(rows) if i not in held], c)
            for i in held:
                sections, features, _ = rows[i]
                scores = model.score(sections, features)
                ranked[i] = [sections[j] for j in np.argsort(-scores, kind="stable")[:5]]
        results.append(_scores(ids, rows, ranked))
    return {m: round(float(np.mean([r[m] for r in results])), 4) for m in results[0]}


def fit_ranker(
    coach: Coach,
    cases: Sequence[Case],
    dataset: Path,
    out: Path = ranking.WEIGHTS_FILE,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Choose C by cross-validation, fit on every dev question, write `out`; the report."""
    refuse_test_split(dataset)
    say = progress or (lambda _: None)
    say("Reading the retrieval signals of each dev question")
    ids, rows = ranker_rows(coach, cases)
    if len(rows) < 2 * FOLDS:
        raise InputError(
            f"{dataset} has {len(rows)} answerable cases; the ranker needs at least {2 * FOLDS}.",
            fix="Fit on the dev split, evals/dev.jsonl.",
        )
    grid = {}
    for c in C_GRID:
        say(f"Cross-validating C={c}")
        grid[str(c)] = cross_validate(ids, rows, c)
    best = max(C_GRID, key=lambda c: (grid[str(c)]["recall@5"], grid[str(c)]["mrr"]))
    provenance = {
        "fitted_on": dataset.as_posix(),
        "dataset_sha256": hashlib.sha256(dataset.read_bytes()).hexdigest(),
        "answerable_cases": len(rows),
        "C": best,
        "cross_validation": {"folds": FOLDS, "seeds": list(SEEDS), "by_C": grid},
        "command": "thrive eval --fit-ranker",
    }
    model = ranking.fit(rows, best, provenance)
    write_atomic(out, json.dumps(model.to_json(), indent=1) + "\n")
    return {**provenance, "weights_file": str(out)}
