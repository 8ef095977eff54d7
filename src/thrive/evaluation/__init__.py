"""Offline answer-quality evaluation: datasets, metrics, runs, reports, gates and sweeps.

cases = load_dataset(Path("evals/test.jsonl"))  # evals/dev.jsonl to calibrate
report = run_evaluation(settings, cases, baselines=["textbook"])
write_reports(report, Path("evals/report"))
compare(report, load_report(Path("evals/baseline.json"))).passed
"""

from thrive.evaluation.compare import Comparison, baseline_of, compare, load_report
from thrive.evaluation.dataset import DatasetError, load_dataset, select
from thrive.evaluation.report import render_comparison, render_markdown, write_reports
from thrive.evaluation.runner import run_evaluation
from thrive.evaluation.sweep import render_sweep_markdown, run_sweep

__all__ = [
    "Comparison",
    "DatasetError",
    "baseline_of",
    "compare",
    "load_dataset",
    "load_report",
    "render_comparison",
    "render_markdown",
    "render_sweep_markdown",
    "run_evaluation",
    "run_sweep",
    "select",
    "write_reports",
]
