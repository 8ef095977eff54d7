"""Compare a run with a baseline: deltas, and the gate.

A metric *regresses* when it falls below the lower end of the baseline's 95% interval,
i.e. it drops by more than the baseline's own sampling uncertainty. With a deterministic
backend a metric measured on every case at 1.0 has a zero-width interval, so any drop
fails: that is a real change in behaviour, not noise. A metric where lower is better (the
niche fallback rate) regresses when it rises above the upper end instead. Latency is
reported but not gated: it depends on the machine and its load, not on the code alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thrive.base.errors import InputError
from thrive.evaluation.summary import LOWER_IS_BETTER

EPSILON = 1e-9  # float noise, not a change
NOT_GATED = frozenset({"latency_p50_ms", "latency_p95_ms", "n_cases", "cases_passed"})


@dataclass(frozen=True)
class Delta:
    metric: str
    baseline: float | None
    current: float | None
    allowed_drop: float | None  # how far it may worsen: to the CI's far end from better
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
        return worse > self.allowed_drop + EPSILON


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
                f"{abs(d.change or 0):.4f}; the baseline's 95% CI allows {d.allowed_drop or 0:.4f})"
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
    deltas = []
    ci = baseline.get("ci") or {}
    for metric, base in baseline["summary"].items():
        if metric not in current["summary"] or not _number(base):
            continue
        now = current["summary"][metric]
        interval = ci.get(metric)
        lower = metric in LOWER_IS_BETTER
        allowed = None
        if interval:
            allowed = max(interval[1] - base if lower else base - interval[0], 0.0)
        deltas.append(
            Delta(
                metric,
                base,
                now if _number(now) else None,
                allowed,
                gated=metric not in NOT_GATED and interval is not None,
                lower_is_better=lower,
            )
        )
    return Comparison(deltas, warnings)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def baseline_of(report: dict[str, Any]) -> dict[str, Any]:
    """What a committed baseline keeps of a report: its meta, summary, CIs and by-k table
    (not the answers, which would make every change to the wording a large diff)."""
    keep = ("backend", "llm", "k", "dataset", "dataset_fingerprint", "cases_by_kind")
    return {
        "meta": {k: report["meta"][k] for k in keep if k in report["meta"]},
        "summary": report["summary"],
        "ci": report["ci"],
        "by_k": report.get("by_k", {}),
    }
