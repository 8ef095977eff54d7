"""Compare a run with a baseline: deltas, and the gate.

A metric *regresses* when it worsens from the baseline's point estimate by more than one
case's worth: more than the most that a single case can move it, which the baseline
records per metric (`one_case`, see `thrive.evaluation.summary`). For a rate or a mean of
per-case values in 0..1 over n cases that is 1/n: on 112 answerable cases, hit@1 may fall
by one question (1/112) and no more; two questions that lose their gold section at rank 1
fail the gate. A metric where lower is better (prompt leaks, niche fallbacks) regresses
when it rises by more than that instead. This is stricter than the baseline's 95% interval,
which on a hundred cases would let a dozen go wrong, and the extractive backend is
deterministic, so a two-case drop is a change in behaviour, not noise.

Not gated: latency (it depends on the machine and its load, not on the code alone), the
case counts, and metrics reported as n/a for the backend (`notes`, e.g. groundedness of
the extractive coach). A baseline without `one_case` predates this rule: its metrics are
shown, not gated, with a warning to regenerate it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from thrive.base.errors import InputError
from thrive.evaluation.summary import LOWER_IS_BETTER

# Summary values are rounded to 4 decimals: two roundings can add up to 1e-4 to a change.
ROUNDING = 1e-4
EPSILON = 1e-9  # float noise, not a change
BASELINE_TAG_CASES = 5  # smaller tags stay in the reports, out of the committed baseline
NOT_GATED = frozenset({"latency_p50_ms", "latency_p95_ms", "n_cases", "cases_passed"})


@dataclass(frozen=True)
class Delta:
    metric: str
    baseline: float | None
    current: float | None
    allowed_drop: float | None  # how far it may worsen: one case's worth of the baseline
    gated: bool
    lower_is_better: bool = False

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline

    @property
    def regressed(self) -> bool:
        if not self.gated or self.allowed_drop is None:
            return False
        if self.change is None:  # measured before, not now: something stopped working
            return self.baseline is not None
        worse = self.change if self.lower_is_better else -self.change
        return worse > self.allowed_drop + ROUNDING + EPSILON


@dataclass
class Comparison:
    deltas: list[Delta]
    warnings: list[str]

    @property
    def regressions(self) -> list[Delta]:
        return [d for d in self.deltas if d.regressed]

    @property
    def passed(self) -> bool:
        return not self.regressions

    def message(self) -> str:
        """One readable line per regression, for a failing gate."""
        lines = []
        for d in self.regressions:
            if d.current is None:
                lines.append(f"{d.metric} was {d.baseline:.4f} and is no longer measured")
                continue
            verb = "rose" if d.lower_is_better else "fell"
            lines.append(
                f"{d.metric} {verb} from {d.baseline:.4f} to {d.current:.4f} (by "
                f"{abs(d.change or 0):.4f}; one case's worth is {d.allowed_drop or 0:.4f})"
            )
        return "\n".join(lines)


def load_report(path: Path) -> dict[str, Any]:
    """A report.json or baseline.json: anything with a `summary` (and ideally a `ci`)."""
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except OSError as err:
        raise InputError(
            f"Cannot read the baseline {path}: {err.strerror}.",
            fix="Check the --compare path, or make one with `thrive eval --write-baseline`.",
        ) from err
    except json.JSONDecodeError as err:
        raise InputError(f"The baseline {path} is not valid JSON ({err.msg}).") from err
    if not isinstance(data, dict) or not isinstance(data.get("summary"), dict):
        raise InputError(
            f"The baseline {path} has no summary.",
            fix="Point --compare at a report.json or baseline.json written by `thrive eval`.",
        )
    return data


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> Comparison:
    """Deltas of every summary metric present in both, and which of them regressed."""
    warnings = []
    b_meta, c_meta = baseline.get("meta", {}), current.get("meta", {})
    if b_meta.get("dataset_fingerprint") != c_meta.get("dataset_fingerprint"):
        warnings.append(
            f"The baseline was made on other cases ({b_meta.get('dataset_fingerprint')} vs "
            f"{c_meta.get('dataset_fingerprint')}): deltas may reflect the dataset, not the coach."
        )
    if b_meta.get("backend") and b_meta.get("backend") != c_meta.get("backend"):
        warnings.append(
            f"The baseline used {b_meta.get('backend')}, this run {c_meta.get('backend')}."
        )
    one_case = baseline.get("one_case")
    if not isinstance(one_case, dict):
        one_case = {}
        warnings.append(
            "The baseline records no one-case weights (it predates the one-case gate): "
            "nothing is gated. Regenerate it with `make eval-baseline`."
        )
    not_applicable = set(current.get("notes") or {}) | set(baseline.get("notes") or {})
    deltas = []
    for metric, base in baseline["summary"].items():
        if metric not in current["summary"] or not _number(base):
            continue
        now = current["summary"][metric]
        weight = one_case.get(metric)
        allowed = float(weight) if _number(weight) else None
        deltas.append(
            Delta(
                metric,
                base,
                now if _number(now) else None,
                allowed,
                gated=metric not in NOT_GATED
                and metric not in not_applicable
                and allowed is not None,
                lower_is_better=metric in LOWER_IS_BETTER,
            )
        )
    return Comparison(deltas, warnings)


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def baseline_of(report: dict[str, Any]) -> dict[str, Any]:
    """What a committed baseline keeps of a report: its meta, summary, CIs, counts, one
    case's weight per metric, n/a notes, by-k table, the results of tags with at least
    `BASELINE_TAG_CASES` cases and the reference baselines' summaries (not the answers,
    which would make every change to the wording a large diff)."""
    keep = ("backend", "llm", "k", "dataset", "dataset_fingerprint", "cases_by_kind")
    out: dict[str, Any] = {
        "meta": {k: report["meta"][k] for k in keep if k in report["meta"]},
        "summary": report["summary"],
        "ci": report["ci"],
        "counts": report.get("counts", {}),
        "one_case": report.get("one_case", {}),
        "notes": report.get("notes", {}),
        "by_k": report.get("by_k", {}),
    }
    tags = {
        name: {key: row[key] for key in ("kind", "n", "values", "wrong")}
        for name, row in (report.get("by_tag") or {}).items()
        if row["n"] >= BASELINE_TAG_CASES
    }
    if tags:
        out["by_tag"] = tags
    if report.get("baselines"):
        out["baselines"] = {
            name: {key: b[key] for key in ("meta", "summary", "ci", "difference") if key in b}
            for name, b in report["baselines"].items()
        }
    return out
