"""Run a dataset through the coach and score every case.

The coach is the real one (chain, retrieval, backend), only its backend is wrapped so the
model's raw output is kept: citations are checked on what the model wrote, before the
chain's filter removes the ones it should not have made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from thrive.base.errors import InputError
from thrive.base.schema import Answer, AnswerRequest, as_profile
from thrive.base.settings import Settings
from thrive.coaching.chain import system_prompt
from thrive.coaching.coach import Coach
from thrive.evaluation import grounding, textbook
from thrive.evaluation.dataset import (
    AnswerableCase,
    Case,
    ExposureCase,
    InjectionCase,
    NichesCase,
    OutOfScopeCase,
    check_sections,
    fingerprint,
)
from thrive.evaluation.metrics import (
    check_niches,
    citations,
    injection,
    key_points,
    leaked_runs,
    ordinal_auc,
    refusal_correct,
    user_words,
)
from thrive.evaluation.retrieval_metrics import cutoff_measures, per_query, summary_measures
from thrive.evaluation.stats import RESAMPLES, SEED, mean, mean_ci
from thrive.evaluation.summary import RETRIEVAL_KEYS, by_tag, na_notes, summarise_run
from thrive.models import Backend, create_backend

Progress = Callable[[int, int, str], None]  # (cases done, cases in all, id of the next case)
KS = (1, 3, 5, 8)  # the cutoffs of the metrics-by-k chart
BASELINES = ("textbook",)  # reference retrievers `run_evaluation` can run alongside
UNCUT = 1000  # a cutoff past any ranking: the whole list
WARM_UP = "How can a freelance writer stay valuable as AI tools spread?"


class RecordingBackend(Backend):
    """Passes a backend through and keeps the raw text of its last answer."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.generative = inner.generative
        self.last = ""

    def stream(self, request: AnswerRequest) -> Iterator[str]:
        self.last = ""
        for piece in self.inner.stream(request):
            self.last += piece
            yield piece

    def complete(self, request: AnswerRequest) -> str:
        # The inner backend's own `complete`, in case it does more than join its stream.
        self.last = self.inner.complete(request)
        return self.last


def run_evaluation(
    settings: Settings,
    cases: Sequence[Case],
    *,
    k: int = 5,
    ks: Sequence[int] = KS,
    progress: Progress | None = None,
    dataset: str = "",
    baselines: Sequence[str] = (),
) -> dict[str, Any]:
    """Evaluate `cases` with the backend named by `settings.llm`; the report as a dict
    (`meta`, `summary`, `ci`, `counts`, `one_case`, `notes`, `by_k`, `cases`; `by_tag`
    when cases have tags; `baselines` when reference retrievers such as "textbook" were
    asked for), ready for `thrive.evaluation.report`."""
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown:
        raise InputError(
            f"No baseline named {', '.join(unknown)}.", fix=f"Use one of: {', '.join(BASELINES)}."
        )
    settings = settings.model_copy(update={"top_k": k})
    recorder = RecordingBackend(create_backend(settings.llm, settings))
    coach = Coach(settings, recorder)
    known = {str(c.metadata.get("section_id")) for c in coach.searcher.chunks}
    check_sections(cases, known, dataset or "dataset")
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    warm_up_s = _warm_up(coach, cases)
    records: list[dict[str, Any]] = []
    prompt = system_prompt()
    for done, case in enumerate(cases):
        if progress:
            progress(done, len(cases), case.id)
        records.append(_evaluate(case, coach, recorder, known, prompt))
    if progress:
        progress(len(cases), len(cases), "")
    _add_retrieval(records, cases, k)
    by_k = _by_k(coach, cases, ks)
    references = {}
    if "textbook" in baselines and any(isinstance(c, AnswerableCase) for c in cases):
        references["textbook"] = _textbook(settings, cases, records)
    result = summarise_run(records, k, na_notes(recorder.generative))
    meta = {
        "backend": recorder.name,
        "generative": recorder.generative,
        "llm": settings.llm,
        "k": k,
        "dataset": dataset,
        "dataset_fingerprint": fingerprint(cases),
        "cases_by_kind": _count_kinds(cases),
        "chunk_words": settings.chunk_words,
        "started": started_at,
        "warm_up_s": round(warm_up_s, 2),
        "run_s": round(time.perf_counter() - started - warm_up_s, 2),
        "bootstrap": {"resamples": RESAMPLES, "seed": SEED, "level": 0.95},
        "groundedness_thresholds": {
            "strong_similarity": grounding.STRONG_SIM,
            "min_similarity": grounding.MIN_SIM,
            "min_overlap": grounding.MIN_OVERLAP,
            "min_claim_words": grounding.MIN_CLAIM_WORDS,
        },
    }
    report: dict[str, Any] = {
        "meta": meta,
        "summary": result.values,
        "ci": result.ci,
        "counts": result.counts,
        "one_case": result.one_case,
        "notes": result.notes,
        "by_k": by_k,
    }
    tags = by_tag(records)
    if tags:
        report["by_tag"] = tags
    if references:
        report["baselines"] = references
    report["cases"] = records
    return report


def _warm_up(coach: Coach, cases: Sequence[Case]) -> float:
    """Load the models before timing anything, so latency is that of a running coach."""
    started = time.perf_counter()
    if any(c.kind in ("answerable", "out_of_scope", "injection") for c in cases):
        coach.ask(WARM_UP)
    if any(c.kind in ("exposure", "niches") for c in cases):
        coach.exposure(["basic data entry"])
    return time.perf_counter() - started


def _count_kinds(cases: Sequence[Case]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.kind] = counts.get(case.kind, 0) + 1
    return counts


def _evaluate(
    case: Case,
    coach: Coach,
    recorder: RecordingBackend,
    known: set[str],
    prompt: str,
) -> dict[str, Any]:
    record: dict[str, Any] = {"id": case.id, "kind": case.kind, "line": case.line, "issues": []}
    if case.tags:
        record["tags"] = list(case.tags)
    if isinstance(case, ExposureCase):
        _exposure(case, coach, record)
    elif isinstance(case, NichesCase):
        _niches(case, coach, recorder, record)
    else:
        _question(case, coach, recorder, known, prompt, record)
    record["passed"] = not record["issues"]
    return record


def _question(
    case: AnswerableCase | OutOfScopeCase | InjectionCase,
    coach: Coach,
    recorder: RecordingBackend,
    known: set[str],
    prompt: str,
    record: dict[str, Any],
) -> None:
    profile = case.profile if isinstance(case, AnswerableCase) else None
    history = [t.model_dump() for t in case.history] if isinstance(case, AnswerableCase) else []
    record["question"] = case.question
    if profile:
        record["profile"] = profile
    if history:
        record["history"] = history
    recorder.last = ""
    try:
        answer = coach.ask(case.question, profile=profile, history=history)
    except InputError as err:  # the coach would show this to the user instead of an answer
        record.update(answer="", refused=False, error=str(err), latency_ms=None, retrieved=[])
        record["issues"].append(f"error: {err}")
        if isinstance(case, InjectionCase):
            record["injection"] = {"refused": False, "in_role": False, "leaked": []}
            record["injection"]["resisted"] = False
        else:
            record["refusal_correct"] = False
        if isinstance(case, AnswerableCase):
            record["gold_sections"] = list(case.gold_sections)
            record["key_points"] = {"matched": [], "missed": list(case.key_points), "echoed": []}
            record["key_points"]["coverage"] = 0.0 if case.key_points else None
        return
    record.update(
        answer=answer.text,
        refused=answer.refused,
        backend=answer.backend,
        latency_ms=answer.latency_ms,
        retrieved=list(answer.retrieved),
    )
    raw = recorder.last if not answer.refused else ""
    if raw and raw.strip() != answer.text.strip():
        record["raw_answer"] = raw
    user_turns = [t["content"] for t in history if t["role"] == "user"]
    user_text = " ".join([case.question, *user_turns, as_profile(profile).as_query()])
    grounded = None
    if not answer.refused:
        grounded = _score_answer(answer, raw, user_text, known, record, recorder.generative)
        # Any answer, not only to an injection: a weak model may recite its prompt unasked.
        record["leaked"] = leaked_runs(answer.text, prompt)
        if record["leaked"] and not isinstance(case, InjectionCase):
            record["issues"].append("repeats the system prompt")
    if isinstance(case, InjectionCase):
        result = injection(answer.text, answer.refused, grounded, bool(answer.citations), prompt)
        record["injection"] = {
            "refused": result.refused,
            "in_role": result.in_role,
            "leaked": result.leaked,
            "resisted": result.resisted,
        }
        if not result.resisted:
            record["issues"].append(
                "leaked the system prompt" if result.leaked else "answered out of role"
            )
        return
    record["refusal_correct"] = refusal_correct(case.kind, answer.refused)
    if not record["refusal_correct"]:
        record["issues"].insert(0, "declined" if answer.refused else "not declined")
    if isinstance(case, AnswerableCase):
        record["gold_sections"] = list(case.gold_sections)
        # Not counted: a key point the question, the history's user turns or the profile
        # already satisfies (the answer would earn it by repeating the user).
        own_words = user_words(case.question, case.profile, history)
        points = key_points(answer.text, case.key_points, own_words)
        record["key_points"] = {
            "matched": points.matched,
            "missed": points.missed,
            "echoed": points.echoed,
            "coverage": points.coverage,
        }
        if points.missed:
            record["issues"].append(f"missed {len(points.missed)} key point(s)")


def _score_answer(
    answer: Answer,
    raw: str,
    user_text: str,
    known: set[str],
    record: dict[str, Any],
    generative: bool = True,
) -> float:
    """Groundedness and citations of an answer that was given; returns its groundedness.
    For a backend that is not generative both are kept per case (an injection's "in role"
    needs the groundedness) but raise no issue: they hold by construction, and the
    summary reports them as n/a."""
    g = grounding.groundedness(answer.text, answer.passages, user_text)
    # An answer with nothing checkable in it scores 0, like an uncited one: the coach was
    # asked to answer from the guide, and leaving it out would flatter a broken model.
    grounded = g.score if g.score is not None else 0.0
    record["groundedness"] = {
        "score": grounded,
        "claims": g.claims,
        "supported": g.supported,
        "unsupported": g.unsupported,
        "sentences": g.details,
    }
    if generative and g.unsupported:
        record["issues"].append(f"{len(g.unsupported)} unsupported sentence(s)")
    if generative and not g.claims:
        record["issues"].append("makes no claim that can be checked")
    # The model's own output: the chain drops citations of sections it did not retrieve.
    cites = citations(raw or answer.text, answer.retrieved, known)
    record["citations"] = {
        "cited": cites.cited,
        "invalid": cites.invalid,
        "validity": cites.validity,
    }
    if generative and not cites.cited:
        record["issues"].append("cites nothing")
    elif generative and cites.invalid:
        record["issues"].append(f"invalid citation(s): {', '.join(cites.invalid)}")
    return grounded


def _exposure(case: ExposureCase, coach: Coach, record: dict[str, Any]) -> None:
    started = time.perf_counter()
    scored = {e.skill: e for e in coach.exposure(list(case.skills))}
    record["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    rows: list[dict[str, Any]] = []
    for skill, label in case.skills.items():
        got = scored.get(" ".join(skill.split()))
        rows.append(
            {
                "skill": skill,
                "label": label,
                "score": got.score if got else None,
                "level": got.level if got else None,
            }
        )
    auc = ordinal_auc((r["label"], r["score"]) for r in rows if r["score"] is not None)
    record["exposure"] = {"skills": rows, "auc": auc}
    wrong = [r["skill"] for r in rows if r["level"] and _far(r["label"], r["level"])]
    if wrong:
        record["issues"].append(f"labelled the opposite way: {'; '.join(wrong)}")


def _far(label: str, level: str) -> bool:
    """High scored low or low scored high: a real disagreement, not a boundary case."""
    return {label, level} == {"high", "low"}


def _niches(
    case: NichesCase, coach: Coach, recorder: RecordingBackend, record: dict[str, Any]
) -> None:
    record["profile"] = case.profile
    started = time.perf_counter()
    result = coach.niches(case.profile)
    record["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    items = result.to_json()
    names = [str(n["niche"]) for n in items]
    levels = {e.skill: e.level for e in coach.exposure(names)} if names else {}
    rescored = {name: levels.get(" ".join(name.split()), "") for name in names}
    checks, overall = check_niches(items, case.profile, rescored)
    # A generative backend whose niches failed validation is replaced by the offline coach:
    # the user still gets checked niches, but they are not the model's.
    fallback = recorder.generative and result.backend != recorder.name
    record["niches"] = {
        "backend": result.backend,
        "fallback": fallback,
        "notice": result.notice,
        "items": [
            {**item, "rescored_exposure": rescored[str(item["niche"])], "problems": c.problems}
            for item, c in zip(items, checks, strict=True)
        ],
        "problems": overall,
        "passed": not overall and not any(c.problems for c in checks),
    }
    record["issues"] += overall + [f"{c.niche}: {p}" for c in checks for p in c.problems]
    if fallback:
        record["issues"].append(f"{recorder.name} gave no usable niches; the offline ones shown")


def _add_retrieval(records: list[dict[str, Any]], cases: Sequence[Case], k: int) -> None:
    """Retrieval metrics of each answerable case, on what the chain actually retrieved."""
    gold = {c.id: list(c.gold_sections) for c in cases if isinstance(c, AnswerableCase)}
    if not gold:
        return
    by_id = {r["id"]: r for r in records}
    rankings = {qid: by_id[qid].get("retrieved", []) for qid in gold}
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


def _by_k(coach: Coach, cases: Sequence[Case], ks: Sequence[int]) -> dict[str, Any]:
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


def _textbook(
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
    gold = {c.id: list(c.gold_sections) for c in answerable}
    values = per_query(rankings, gold, summary_measures(5))
    by_id = {r["id"]: r for r in records}
    for qid, scores in values.items():
        by_id[qid]["textbook"] = {"retrieved": rankings[qid], "retrieval": scores}
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
    # Without the cut at 5 sections: every section the 5 chunks touch (a chunk may overlap
    # several), for the reader to see what the recipe retrieves in all.
    uncut = per_query(rankings, gold, {"recall": cutoff_measures(UNCUT)[f"recall@{UNCUT}"]})
    summary["recall_all_sections"] = _round4(mean([uncut[c.id]["recall"] for c in answerable]))
    ci["recall_all_sections"] = _pair(mean_ci([uncut[c.id]["recall"] for c in answerable]))
    summary["sections_returned"] = _round4(mean([float(len(r)) for r in rankings.values()]))
    summary["n_cases"] = len(answerable)
    meta["run_s"] = round(time.perf_counter() - started, 2)
    return {"meta": meta, "summary": summary, "ci": ci, "difference": difference}


def _round4(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _pair(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [round(interval[0], 4), round(interval[1], 4)]
