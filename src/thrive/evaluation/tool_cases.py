"""Scoring the coaching tools' cases: exposure levels against labels, niches against the
metric's own checks (never the product's validation)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from thrive.coaching.coach import Coach
from thrive.evaluation.dataset import (
    ExposureCase,
    NichesCase,
)
from thrive.evaluation.metrics import (
    check_niches,
    ordinal_auc,
)

Progress = Callable[[int, int, str], None]  # (cases done, cases in all, id of the next case)


def score_exposure(case: ExposureCase, coach: Coach, record: dict[str, Any]) -> None:
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


if TYPE_CHECKING:
    from thrive.evaluation.runner import RecordingBackend


def _far(label: str, level: str) -> bool:
    """High scored low or low scored high: a real disagreement, not a boundary case."""
    return {label, level} == {"high", "low"}


def score_niches(
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
