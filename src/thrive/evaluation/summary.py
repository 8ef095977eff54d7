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

Besides each value and its interval, `summarise_run` says how many cases each aggregate is
over (`counts`) and how far one case can move it (`one_case`): 1/n for a mean of per-case
values in 0..1 over n cases, and for the pooled exposure AUC the largest share of the
skill pairs that involve one case's skills. The gate (`thrive.evaluation.compare`) allows a
metric to worsen by exactly that much and no more.

Metrics that do not apply to a backend are reported as None with a note instead of a
number: for a backend that is not generative (the extractive coach copies the guide's
sentences and cites what it copied) groundedness and citation validity are 1.0 by
construction, so they read "n/a (by construction)" and are not gated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from thrive.evaluation.metrics import ordinal_auc
from thrive.evaluation.stats import bootstrap, mean, mean_ci, percentile

# Metrics where lower is better (all others: higher is better).
LOWER_IS_BETTER = frozenset(
    {"latency_p50_ms", "latency_p95_ms", "niche_fallback_rate", "prompt_leak_rate"}
)


BY_CONSTRUCTION = "n/a (by construction)"
# What a backend that is not generative cannot fail, and why.
EXTRACTIVE_NA = {
    "groundedness": f"{BY_CONSTRUCTION}: the backend answers with the guide's own sentences",
    "citation_validity": f"{BY_CONSTRUCTION}: the backend cites the passages it copied",
}


def na_notes(generative: bool) -> dict[str, str]:
    """The metrics that do not apply to a backend, each with the note the reports show."""
    return {} if generative else dict(EXTRACTIVE_NA)


@dataclass
class Summary:
    values: dict[str, Any]
    ci: dict[str, list[float] | None]
    counts: dict[str, int] = field(default_factory=dict)  # cases each aggregate is over
    one_case: dict[str, float] = field(default_factory=dict)  # how far one case can move it
    notes: dict[str, str] = field(default_factory=dict)  # metrics reported as None, and why


def summarise(
    records: Sequence[dict[str, Any]], k: int = 5, not_applicable: Mapping[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, list[float] | None]]:
    """(summary, ci): the summary keys of DESIGN.md plus latency_p95_ms, and for each
    aggregate its [low, high] 95% bootstrap interval (None where there was nothing to
    measure, e.g. no niche cases in the dataset)."""
    result = summarise_run(records, k, not_applicable)
    return result.values, result.ci


def summarise_run(
    records: Sequence[dict[str, Any]], k: int = 5, not_applicable: Mapping[str, str] | None = None
) -> Summary:
    """The summary with intervals, case counts, one case's weight and the n/a notes."""
    not_applicable = not_applicable or {}
    answerable = [r for r in records if r["kind"] == "answerable"]
    summary: dict[str, Any] = {}
    ci: dict[str, list[float] | None] = {}
    counts: dict[str, int] = {}
    one_case: dict[str, float] = {}

    def put(name: str, values: Sequence[float]) -> None:
        if name in not_applicable:
            summary[name], ci[name] = None, None
            return
        summary[name] = _round(mean(values))
        ci[name] = _interval(mean_ci(values))
        counts[name] = len(values)
        if values:
            one_case[name] = 1 / len(values)

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
    if summary["exposure_auc"] is not None:
        counts["exposure_auc"] = len(exposure)
        one_case["exposure_auc"] = _largest_pair_share(exposure)
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
    notes = {name: note for name, note in not_applicable.items() if name in summary}
    return Summary(summary, ci, counts, one_case, notes)


def _pooled_auc(records: Sequence[dict[str, Any]]) -> float | None:
    return ordinal_auc(
        (s["label"], s["score"])
        for r in records
        for s in r["exposure"]["skills"]
        if s["score"] is not None
    )


def _largest_pair_share(records: Sequence[dict[str, Any]]) -> float:
    """The largest share of the pooled AUC's pairs (skills with different labels) that
    involve one case's skills: how far one case can move the AUC."""
    labels = [
        [s["label"] for s in r["exposure"]["skills"] if s["score"] is not None] for r in records
    ]
    every = [label for case in labels for label in case]
    total = _pairs(every)
    if not total:
        return 0.0
    return max((total - _pairs(_without(every, case))) / total for case in labels)


def _pairs(labels: Sequence[str]) -> int:
    n, same = len(labels), 0
    for label in set(labels):
        c = labels.count(label)
        same += c * (c - 1) // 2
    return n * (n - 1) // 2 - same


def _without(labels: Sequence[str], removed: Sequence[str]) -> list[str]:
    rest = list(labels)
    for label in removed:
        rest.remove(label)
    return rest


def _percentile_of(q: float) -> Callable[[list[float]], float | None]:
    return lambda values: percentile(values, q)


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _interval(pair: tuple[float, float] | None, digits: int = 4) -> list[float] | None:
    return None if pair is None else [round(pair[0], digits), round(pair[1], digits)]


# Per kind: the share of cases handled right, as the tables name it.
HANDLED = {"answerable": "answered", "out_of_scope": "declined", "injection": "resisted"}
RETRIEVAL_KEYS = ("hit@1", "recall@5", "mrr", "ndcg@5")
KIND_ORDER = ("answerable", "out_of_scope", "injection", "exposure", "niches")


TAG_COLUMNS = ("hit@1", "recall@5", "mrr", "key_point_coverage", "textbook recall@5")


def by_tag(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Results of each tag's cases, each with its 95% interval. A tag is reported per kind
    (named `tag (kind)` when it spans several). Answerable: `answered` (share not declined:
    refusal accuracy on those cases), retrieval, key points and the textbook baseline's
    retrieval when it ran; out of scope: `declined`; injection: `resisted` (declined or in
    role, no leak) and `declined`. Empty when no case has a tag."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        for tag in r.get("tags") or []:
            groups.setdefault((tag, r["kind"]), []).append(r)
    kinds_of: dict[str, set[str]] = {}
    for tag, kind in groups:
        kinds_of.setdefault(tag, set()).add(kind)
    order = sorted(
        groups,
        key=lambda g: (
            KIND_ORDER.index(g[1]) if g[1] in KIND_ORDER else len(KIND_ORDER),
            -len(groups[g]),
            g[0],
        ),
    )
    out: dict[str, dict[str, Any]] = {}
    for tag, kind in order:
        rows = groups[(tag, kind)]
        values, ci = _tag_values(kind, rows)
        name = tag if len(kinds_of[tag]) == 1 else f"{tag} ({kind})"
        out[name] = {
            "tag": tag,
            "kind": kind,
            "n": len(rows),
            "handled": HANDLED.get(kind),
            "values": values,
            "ci": ci,
            "wrong": [r["id"] for r in rows if not _handled_right(r)],
        }
    return out


def _tag_values(
    kind: str, rows: Sequence[dict[str, Any]]
) -> tuple[dict[str, float | None], dict[str, list[float] | None]]:
    """The metrics of one tag's cases of one kind, with their intervals."""
    values: dict[str, float | None] = {}
    ci: dict[str, list[float] | None] = {}

    def put(name: str, series: Sequence[float]) -> None:
        values[name] = _round(mean(series))
        ci[name] = _interval(mean_ci(series))

    if kind in ("answerable", "out_of_scope"):
        put(HANDLED[kind], [float(r["refusal_correct"]) for r in rows if "refusal_correct" in r])
    if kind == "answerable":
        for key in RETRIEVAL_KEYS:
            put(key, [r["retrieval"][key] for r in rows if key in r.get("retrieval", {})])
        put(
            "key_point_coverage",
            [
                r["key_points"]["coverage"]
                for r in rows
                if (r.get("key_points") or {}).get("coverage") is not None
            ],
        )
        scored = [r["textbook"]["retrieval"] for r in rows if "textbook" in r]
        if scored:
            for key in RETRIEVAL_KEYS:
                put(f"textbook {key}", [s[key] for s in scored])
    if kind == "injection":
        put("resisted", [float(r["injection"]["resisted"]) for r in rows if "injection" in r])
        put("declined", [float(bool(r.get("refused"))) for r in rows])
    return values, ci


def _handled_right(record: Mapping[str, Any]) -> bool:
    """Answered (answerable), declined (out of scope), resisted (injection)."""
    if record["kind"] == "injection":
        return bool((record.get("injection") or {}).get("resisted"))
    return bool(record.get("refusal_correct", True))


def side_by_side(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of the retrieval comparison: each metric for Thrive and every reference
    baseline of the run, with intervals and the paired difference."""
    rows = []
    for name, base in (report.get("baselines") or {}).items():
        for key in RETRIEVAL_KEYS:
            if key not in base.get("summary", {}):
                continue
            diff = (base.get("difference") or {}).get(key) or {}
            rows.append(
                {
                    "baseline": name,
                    "metric": key,
                    "thrive": report["summary"].get(key),
                    "thrive_ci": (report.get("ci") or {}).get(key),
                    "other": base["summary"][key],
                    "other_ci": (base.get("ci") or {}).get(key),
                    "difference": diff.get("value"),
                    "difference_ci": diff.get("ci"),
                }
            )
    return rows
