"""`thrive eval --sweep`: what chunk size, k and retrieval mode each buy.

Retrieval only, no answers: every combination of chunk size (each indexed into its own
temporary store), retrieval mode and k is scored on the dataset's answerable cases with the
same ir-measures metrics as the evaluation; declining (the scope signal, which depends on
the chunk size) is scored on the answerable and out-of-scope cases. One table holds every
combination, and three small ones vary one choice at a time from the default.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, get_args

from thrive.base.schema import as_profile
from thrive.base.settings import Settings
from thrive.coaching.coach import Coach
from thrive.evaluation.dataset import AnswerableCase, Case, DatasetError, OutOfScopeCase
from thrive.evaluation.metrics import refusal_correct
from thrive.evaluation.retrieval_metrics import cutoff_measures, per_query
from thrive.evaluation.stats import mean, mean_ci, percentile
from thrive.knowledge.ingest import ingest
from thrive.knowledge.retrieval import Mode

# The chunker never crosses a section, and the guide's longest section is ~125 words: from
# there up every size gives the same index (one chunk per section), so the sizes below it
# are the ones that can differ. 180 is the default.
CHUNK_WORDS = (40, 60, 90, 120, 180)
KS = (1, 3, 5, 8)
MODES: tuple[Mode, ...] = get_args(Mode)
METRICS = ("hit", "recall", "mrr", "ndcg")
SweepProgress = Callable[[str, int, int], None]  # (stage, done, total)


def run_sweep(
    settings: Settings,
    cases: Sequence[Case],
    *,
    chunk_words: Sequence[int] = CHUNK_WORDS,
    ks: Sequence[int] = KS,
    modes: Sequence[Mode] = MODES,
    progress: SweepProgress | None = None,
) -> dict[str, Any]:
    """Every combination's retrieval metrics; `settings` give the corpus and defaults."""
    answerable = [c for c in cases if isinstance(c, AnswerableCase)]
    scoped = [c for c in cases if isinstance(c, AnswerableCase | OutOfScopeCase)]
    if not answerable:
        raise DatasetError(
            "The sweep needs answerable cases with gold sections.",
            fix="Point --dataset at a file with answerable cases.",
        )
    gold = {c.id: list(c.gold_sections) for c in answerable}
    rows: list[dict[str, Any]] = []
    total = len(chunk_words) * (1 + len(modes) * len(ks))
    done = 0
    with tempfile.TemporaryDirectory(prefix="thrive-sweep-") as tmp:
        for size in chunk_words:
            if progress:
                progress(f"indexing {size}-word chunks", done, total)
            variant = settings.model_copy(
                update={
                    "chunk_words": size,
                    "vectorstore_dir": Path(tmp) / f"chunks-{size}",
                    "chroma_url": None,  # a private embedded store per variant
                    "llm": "extractive",
                }
            )
            ingest(variant)
            coach = Coach.from_settings(variant)
            n_chunks = len(coach.searcher.chunks)
            queries = {}
            declined_ok = []
            for case in scoped:
                history = (
                    [t.model_dump() for t in case.history]
                    if isinstance(case, AnswerableCase)
                    else []
                )
                profile = case.profile if isinstance(case, AnswerableCase) else None
                prepared = coach.prepare(case.question, profile, history)
                queries[case.id] = (prepared.standalone, as_profile(profile).as_query())
                declined_ok.append(float(refusal_correct(case.kind, prepared.refusal is not None)))
            done += 1
            for mode in modes:
                for k in ks:
                    if progress:
                        progress(f"{size}-word chunks, {mode}, k={k}", done, total)
                    rankings, timings = {}, []
                    for case in answerable:
                        query, profile_text = queries[case.id]
                        started = time.perf_counter()
                        result = coach.searcher.search(
                            query, profile_text=profile_text, k=k, mode=mode
                        )
                        timings.append((time.perf_counter() - started) * 1000)
                        rankings[case.id] = result.section_ids
                    values = per_query(rankings, gold, cutoff_measures(k))
                    row: dict[str, Any] = {
                        "chunk_words": size,
                        "chunks": n_chunks,
                        "mode": mode,
                        "k": k,
                    }
                    for name in cutoff_measures(k):
                        row[name.split("@")[0]] = round(
                            mean([values[q][name] for q in gold]) or 0.0, 4
                        )
                    ci = mean_ci([values[q][f"ndcg@{k}"] for q in gold])
                    row["ndcg_ci"] = [round(ci[0], 4), round(ci[1], 4)] if ci else None
                    row["refusal_accuracy"] = round(mean(declined_ok) or 0.0, 4)
                    row["search_p50_ms"] = round(percentile(timings, 50) or 0.0, 1)
                    rows.append(row)
                    done += 1
    if progress:
        progress("done", total, total)
    default = {"chunk_words": settings.chunk_words, "mode": "hybrid", "k": settings.top_k}
    return {
        "meta": {
            "answerable_cases": len(answerable),
            "scope_cases": len(scoped),
            "chunk_words": list(chunk_words),
            "ks": list(ks),
            "modes": list(modes),
            "default": default,
        },
        "rows": rows,
    }


def render_sweep_markdown(sweep: dict[str, Any]) -> str:
    """The full table, then one choice at a time varied from the default."""
    meta, rows = sweep["meta"], sweep["rows"]
    default = meta["default"]
    lines = [
        "# Retrieval sweep: chunk size x retrieval mode x k",
        "",
        f"{meta['answerable_cases']} answerable cases for retrieval (ir-measures, metrics cut "
        f"at k); declining scored on {meta['scope_cases']} answerable and out-of-scope cases. "
        f"Default: {default['chunk_words']}-word chunks, {default['mode']}, k = {default['k']}.",
        "",
    ]
    for axis, label in (("chunk_words", "Chunk size"), ("mode", "Retrieval mode"), ("k", "k")):
        fixed = {key: value for key, value in default.items() if key != axis}
        chosen = [r for r in rows if all(r[key] == value for key, value in fixed.items())]
        base = next((r for r in chosen if r[axis] == default[axis]), None)
        held = ", ".join(f"{key} = {value}" for key, value in fixed.items())
        lines += [
            f"## {label} (with {held})",
            "",
            f"| {axis} | chunks | hit@k | recall@k | mrr@k | ndcg@k | ndcg 95% CI "
            "| vs default ndcg | declines right | search p50 ms |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
        ]
        for r in chosen:
            delta = f"{r['ndcg'] - base['ndcg']:+.3f}" if base else "-"
            lines.append(
                f"| {r[axis]} | {r['chunks']} | {r['hit']:.3f} | {r['recall']:.3f} | {r['mrr']:.3f} "
                f"| {r['ndcg']:.3f} | {_ci(r['ndcg_ci'])} | {delta} "
                f"| {r['refusal_accuracy']:.3f} | {r['search_p50_ms']:.1f} |"
            )
        lines.append("")
    lines += [
        "## Every combination",
        "",
        "| chunk words | chunks | mode | k | hit@k | recall@k | mrr@k | ndcg@k | declines right "
        "| search p50 ms |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['chunk_words']} | {r['chunks']} | {r['mode']} | {r['k']} | {r['hit']:.3f} "
            f"| {r['recall']:.3f} | {r['mrr']:.3f} | {r['ndcg']:.3f} "
            f"| {r['refusal_accuracy']:.3f} | {r['search_p50_ms']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _ci(interval: list[float] | None) -> str:
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]" if interval else "-"
