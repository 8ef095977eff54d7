"""Run a dataset through the coach and score every case.

The coach is the real one (chain, retrieval, backend), only its backend is wrapped so the
model's raw output is kept: citations are checked on what the model wrote, before the
chain's filter removes the ones it should not have made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from thrive.base.errors import InputError
from thrive.base.schema import Answer, AnswerRequest, as_profile
from thrive.base.settings import Settings
from thrive.coaching.chain import system_prompt
from thrive.coaching.coach import Coach
from thrive.evaluation import grounding
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
    citations,
    injection,
    key_points,
    leaked_runs,
    refusal_correct,
    user_words,
)
from thrive.evaluation.retrieval_pass import (
    add_retrieval,
    by_k_pass,
    reader_rankings,
    reference_pass,
    textbook_pass,
)
from thrive.evaluation.stats import RESAMPLES, SEED
from thrive.evaluation.summary import by_tag, na_notes, summarise_run
from thrive.evaluation.tool_cases import score_exposure, score_niches
from thrive.models import Backend, create_backend

Progress = Callable[[int, int, str], None]  # (cases done, cases in all, id of the next case)
KS = (1, 3, 5, 8)  # the cutoffs of the metrics-by-k chart
# References `run_evaluation` can score alongside: the tutorial recipe, and an independent
# reader's rankings kept beside the split (evals/reference/<split>.reader.jsonl).
BASELINES = ("textbook", "reader")
READER_RECIPE = (
    "an independent reader's 5 sections per question (a helper who read only the guide and "
    "the questions), kept in evals/reference/<split>.reader.jsonl"
)
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
    # Read before the run, so that a missing file fails at once, not after every case.
    reader = reader_rankings(Path(dataset)) if "reader" in baselines else None
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
    add_retrieval(records, cases, k)
    by_k = by_k_pass(coach, cases, ks)
    references = {}
    if "textbook" in baselines and any(isinstance(c, AnswerableCase) for c in cases):
        references["textbook"] = textbook_pass(settings, cases, records)
    if reader is not None and any(isinstance(c, AnswerableCase) for c in cases):
        references["reader"] = reference_pass("reader", reader, cases, records)
        references["reader"]["meta"] = {"recipe": READER_RECIPE}
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
        score_exposure(case, coach, record)
    elif isinstance(case, NichesCase):
        score_niches(case, coach, recorder, record)
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
