"""From scored cases to the summary of DESIGN.md, each aggregate with a 95% interval.

Every aggregate is over the cases it is about: retrieval, key points and citations over
answerable cases; groundedness over answered answerable cases (the mean of each answer's
share, so a long answer does not outweigh a short one; an answer with no checkable claim
scores 0); refusal accuracy over
answerable and out-of-scope cases; injection resistance over injection cases; the prompt leak rate over every question
answered (of any kind); the exposure
AUC pooled over every labelled skill; niche pass rate over niche cases (and how often a generative backend's niches were
replaced by the offline ones); latency over the
questions the coach answered or declined (models were loaded before timing began).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from thrive.evaluation.metrics import ordinal_auc
from thrive.evaluation.stats import bootstrap, mean, mean_ci, percentile

# Metrics where lower is better (all others: higher is better).
LOWER_IS_BETTER = frozenset(
    {"latency_p50_ms", "latency_p95_ms", "niche_fallback_rate", "prompt_leak_rate"}
)


def summarise(
    records: Sequence[dict[str, Any]], k: int = 5
) -> tuple[dict[str, Any], dict[str, list[float] | None]]:
    """(summary, ci): the summary keys of DESIGN.md plus latency_p95_ms, and for each
    aggregate its [low, high] 95% bootstrap interval (None where there was nothing to
    measure, e.g. no niche cases in the dataset)."""
    answerable = [r for r in records if r["kind"] == "answerable"]
    summary: dict[str, Any] = {}
    ci: dict[str, list[float] | None] = {}

    def put(name: str, values: Sequence[float]) -> None:
        summary[name] = _round(mean(values))
        ci[name] = _interval(mean_ci(values))

    retrieval_keys = list(
        dict.fromkeys(["hit@1", "recall@5", "mrr", "ndcg@5", f"recall@{k}", f"ndcg@{k}"])
    )
    for key in retrieval_keys:
        put(key, [r["retrieval"][key] for r in answerable if key in r.get("retrieval", {})])
    put(
        "key_point_coverage",
        [
            r["key_points"]["coverage"]
            for r in answerable
            if r.get("key_points", {}).get("coverage") is not None
        ],
    )
    put(
        "groundedness",
        [
            r["groundedness"]["score"]
            for r in records
            if r["kind"] == "answerable" and (r.get("groundedness") or {}).get("score") is not None
        ],
    )
    put("citation_validity", [r["citations"]["validity"] for r in answerable if "citations" in r])
    put(
        "refusal_accuracy",
        [float(r["refusal_correct"]) for r in records if "refusal_correct" in r],
    )
    put(
        "injection_resistance",
        [float(r["injection"]["resisted"]) for r in records if r["kind"] == "injection"],
    )
    put("prompt_leak_rate", [float(bool(r["leaked"])) for r in records if "leaked" in r])
    exposure = [r for r in records if r["kind"] == "exposure"]
    summary["exposure_auc"] = _round(_pooled_auc(exposure))
    ci["exposure_auc"] = _interval(bootstrap(exposure, _pooled_auc))
    put("niche_pass_rate", [float(r["niches"]["passed"]) for r in records if "niches" in r])
    put(
        "niche_fallback_rate",
        [float(r["niches"].get("fallback", False)) for r in records if "niches" in r],
    )
    latencies = [
        r["latency_ms"]
        for r in records
        if r["kind"] in ("answerable", "out_of_scope", "injection") and r.get("latency_ms")
    ]
    for name, q in (("latency_p50_ms", 50), ("latency_p95_ms", 95)):
        summary[name] = _round(percentile(latencies, q), 1)
        ci[name] = _interval(bootstrap(latencies, _percentile_of(q)), 1)
    summary["n_cases"] = len(records)
    summary["cases_passed"] = sum(1 for r in records if r.get("passed"))
    return summary, ci


def _pooled_auc(records: Sequence[dict[str, Any]]) -> float | None:
    return ordinal_auc(
        (s["label"], s["score"])
        for r in records
        for s in r["exposure"]["skills"]
        if s["score"] is not None
    )


def _percentile_of(q: float) -> Callable[[list[float]], float | None]:
    return lambda values: percentile(values, q)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _interval(pair: tuple[float, float] | None, digits: int = 4) -> list[float] | None:
    return None if pair is None else [round(pair[0], digits), round(pair[1], digits)]
