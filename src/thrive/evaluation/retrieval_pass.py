"""The retrieval side of a run: ranking metrics per case, the metrics by k, and the textbook
recipe on the same cases."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from thrive.base.errors import InputError
from thrive.base.settings import Settings
from thrive.coaching.coach import Coach
from thrive.evaluation import textbook
from thrive.evaluation.dataset import (
    AnswerableCase,
    Case,
)
from thrive.evaluation.retrieval_metrics import cutoff_measures, per_query, summary_measures
from thrive.evaluation.stats import mean, mean_ci
from thrive.evaluation.summary import RETRIEVAL_KEYS

Progress = Callable[[int, int, str], None]  # (cases done, cases in all, id of the next case)


def add_retrieval(records: list[dict[str, Any]], cases: Sequence[Case], k: int) -> None:
    """Retrieval metrics of each answerable case, on what the chain actually retrieved."""
    gold = {c.id: list(c.gold_sections) for c in cases if isinstance(c, AnswerableCase)}
    if not gold:
        return
    by_id = {r["id"]: r for r in records}
    # The search's top k: a strategy or step the chain adds after them for an answer about
    # someone's work (chain.for_work) is not part of the ranking measured.
    rankings = {qid: by_id[qid].get("retrieved", [])[:k] for qid in gold}
    measures = {**summary_measures(5), **summary_measures(k)}
    for qid, values in per_query(rankings, gold, measures).items():
        record = by_id[qid]
        record["retrieval"] = values
        gold_set = set(gold[qid])
        record["retrieved"] = [
            {"rank": rank, "section_id": sid, "gold": sid in gold_set}
            for rank, sid in enumerate(rankings[qid], 1)
        ]
        if not gold_set & set(rankings[qid]):
            record["issues"].append("no gold section retrieved")
            record["passed"] = False


UNCUT = 1000  # a cutoff past any ranking: the whole list


def by_k_pass(coach: Coach, cases: Sequence[Case], ks: Sequence[int]) -> dict[str, Any]:
    """Retrieval alone at each cutoff k (the search the chain makes, asked for k sections),
    for the metrics-by-k chart. Unlike the summary it ignores declines."""
    answerable = [c for c in cases if isinstance(c, AnswerableCase)]
    if not answerable:
        return {}
    gold = {c.id: list(c.gold_sections) for c in answerable}
    queries = {}
    for case in answerable:
        history = [t.model_dump() for t in case.history]
        try:
            queries[case.id] = coach.prepare(case.question, case.profile, history).standalone
        except InputError:
            continue  # not a usable question: nothing retrieved, scored 0 at every k
    out: dict[str, Any] = {}
    for cutoff in ks:
        rankings = {
            c.id: coach.search(queries[c.id], c.profile, k=cutoff).section_ids
            for c in answerable
            if c.id in queries
        }
        values = per_query(rankings, gold, cutoff_measures(cutoff))
        out[str(cutoff)] = {
            name.split("@")[0]: sum(v[name] for v in values.values()) / len(values)
            for name in cutoff_measures(cutoff)
        }
    return out


def textbook_pass(
    settings: Settings, cases: Sequence[Case], records: list[dict[str, Any]]
) -> dict[str, Any]:
    """The textbook recipe (`thrive.evaluation.textbook`) on the same answerable cases,
    scored by the same ir-measures code: its summary with 95% intervals, and the paired
    difference Thrive minus textbook per case (each case's two values are taken together,
    so the interval is of the difference itself). Each case record gets its ranking."""
    answerable = [c for c in cases if isinstance(c, AnswerableCase)]
    started = time.perf_counter()
    with textbook.TextbookRetriever(settings.corpus_dir) as retriever:
        ranked = retriever.search([c.question for c in answerable], textbook.TOP_K)
        meta = textbook.describe(retriever.chunks)
    rankings = {c.id: r for c, r in zip(answerable, ranked, strict=True)}
    out = reference_pass("textbook", rankings, cases, records)
    # Without the cut at 5 sections: every section the 5 chunks touch (a chunk may overlap
    # several), for the reader to see what the recipe retrieves in all.
    gold = {c.id: list(c.gold_sections) for c in answerable}
    uncut = per_query(rankings, gold, {"recall": cutoff_measures(UNCUT)[f"recall@{UNCUT}"]})
    series = [uncut[c.id]["recall"] for c in answerable]
    out["summary"]["recall_all_sections"] = _round4(mean(series))
    out["ci"]["recall_all_sections"] = _pair(mean_ci(series))
    out["summary"]["sections_returned"] = _round4(mean([float(len(r)) for r in ranked]))
    meta["run_s"] = round(time.perf_counter() - started, 2)
    return {**out, "meta": meta}


def reader_rankings(dataset: Path) -> dict[str, list[str]]:
    """An independent reader's 5 sections per question, kept beside the split as
    `evals/reference/<split>.reader.jsonl` ({"id", "ranked"} per line)."""
    path = dataset.parent / "reference" / f"{dataset.stem}.reader.jsonl"
    if not path.is_file():
        raise InputError(
            f"No reader rankings for {dataset} ({path} is missing).",
            fix="Run without --baseline reader, or add that file.",
        )
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {str(r["id"]): [str(s) for s in r["ranked"]] for r in rows}


def reference_pass(
    name: str,
    rankings: dict[str, list[str]],
    cases: Sequence[Case],
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    """A reference ranking on the same answerable cases, scored by the same ir-measures
    code: its summary with 95% intervals, and the paired difference Thrive minus it per
    case. Each case record gets the reference's ranking under `name`."""
    answerable = [c for c in cases if isinstance(c, AnswerableCase)]
    missing = [c.id for c in answerable if c.id not in rankings]
    if missing:
        raise InputError(
            f"The {name} rankings lack {len(missing)} answerable cases ({', '.join(missing[:5])}).",
            fix="Rank every answerable case of the split, or run without that baseline.",
        )
    gold = {c.id: list(c.gold_sections) for c in answerable}
    values = per_query(rankings, gold, summary_measures(5))
    by_id = {r["id"]: r for r in records}
    for qid, scores in values.items():
        by_id[qid][name] = {"retrieved": rankings[qid], "retrieval": scores}
    summary: dict[str, Any] = {}
    ci: dict[str, list[float] | None] = {}
    difference: dict[str, Any] = {}
    for key in RETRIEVAL_KEYS:
        series = [values[c.id][key] for c in answerable]
        summary[key] = _round4(mean(series))
        ci[key] = _pair(mean_ci(series))
        paired = [
            by_id[c.id]["retrieval"][key] - values[c.id][key]
            for c in answerable
            if key in by_id[c.id].get("retrieval", {})
        ]
        difference[key] = {"value": _round4(mean(paired)), "ci": _pair(mean_ci(paired))}
    summary["n_cases"] = len(answerable)
    return {"meta": {}, "summary": summary, "ci": ci, "difference": difference}


def _round4(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [round(interval[0], 4), round(interval[1], 4)]
