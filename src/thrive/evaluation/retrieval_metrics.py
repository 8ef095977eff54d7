"""Retrieval metrics (hit@1, recall@k, MRR, nDCG@k) computed by ir-measures.

ir-measures wraps trec_eval's reference implementations, so the numbers mean exactly what
they mean in the IR literature; this module only maps rankings and gold sections to its
qrels and runs, and returns per-query values (for bootstrap intervals) as well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ir_measures
from ir_measures import RR, R, Success, nDCG


def summary_measures(k: int) -> dict[str, Any]:
    """The summary's retrieval keys: `hit@1` is trec_eval's Success@1, `mrr` the mean RR."""
    return {"hit@1": Success @ 1, f"recall@{k}": R @ k, "mrr": RR, f"ndcg@{k}": nDCG @ k}


def cutoff_measures(k: int) -> dict[str, Any]:
    """Every measure cut at rank k, for the metrics-by-k chart and the sweep."""
    return {
        f"hit@{k}": Success @ k,
        f"recall@{k}": R @ k,
        f"mrr@{k}": RR @ k,
        f"ndcg@{k}": nDCG @ k,
    }


def per_query(
    rankings: Mapping[str, Sequence[str]],
    gold: Mapping[str, Sequence[str]],
    measures: Mapping[str, Any],
) -> dict[str, dict[str, float]]:
    """{query id: {name: value}} for every query in `gold`.

    A query with an empty ranking (e.g. an answerable question the coach refused) scores 0
    on everything rather than being left out, which would flatter the average.
    """
    by_measure = {str(m): name for name, m in measures.items()}
    qrels = [
        ir_measures.Qrel(qid, sid, 1) for qid, sections in gold.items() for sid in set(sections)
    ]
    run = [
        # Scores only need to fall with rank (trec_eval sorts by score, then by doc id).
        ir_measures.ScoredDoc(qid, sid, float(len(ranking) - rank))
        for qid, ranking in rankings.items()
        if qid in gold
        for rank, sid in enumerate(dict.fromkeys(ranking))
    ]
    out = {qid: dict.fromkeys(measures, 0.0) for qid in gold}
    if run:
        for metric in ir_measures.iter_calc(list(measures.values()), qrels, run):
            out[metric.query_id][by_measure[str(metric.measure)]] = float(metric.value)
    return out
