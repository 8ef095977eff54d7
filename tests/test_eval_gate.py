"""The evaluation gate: the whole dataset through the real coach on the extractive backend,
in process, against the committed baseline; and `thrive eval` on the command line.

If a change is meant to move a metric, refresh the baseline with `make eval-baseline` and
commit `evals/baseline.json` with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from thrive.cli.main import app
from thrive.evaluation import compare, load_dataset, load_report, run_evaluation, select
from thrive.evaluation.dataset import parse_case
from thrive.evaluation.sweep import render_sweep_markdown, run_sweep

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO / "evals" / "dataset.jsonl"
BASELINE = REPO / "evals" / "baseline.json"
DESIGN_KEYS = {
    "hit@1", "recall@5", "mrr", "ndcg@5", "key_point_coverage", "groundedness",
    "citation_validity", "refusal_accuracy", "injection_resistance", "exposure_auc",
    "niche_pass_rate", "latency_p50_ms", "n_cases",
}  # fmt: skip
runner = CliRunner()


@pytest.fixture(scope="module")
def report(guide_settings):
    return run_evaluation(guide_settings, load_dataset(DATASET), dataset="evals/dataset.jsonl")


def test_extractive_answers_do_not_fall_below_the_baseline(report):
    comparison = compare(report, load_report(BASELINE))
    assert not comparison.warnings, comparison.warnings
    assert comparison.passed, (
        "Answer quality fell below evals/baseline.json:\n"
        f"{comparison.message()}\n"
        "See evals/report/report.md after `make eval` for the cases behind it; if the change "
        "is intended, run `make eval-baseline` and commit the new baseline."
    )


def test_the_summary_has_the_design_keys_with_intervals(report):
    summary, ci = report["summary"], report["ci"]
    assert DESIGN_KEYS | {"latency_p95_ms"} <= set(summary)
    for key in DESIGN_KEYS - {"n_cases"}:
        assert summary[key] is not None, key
        low, high = ci[key]
        assert low <= summary[key] <= high or key.startswith("latency"), key
    assert summary["n_cases"] == len(load_dataset(DATASET))


def test_every_case_carries_what_a_reader_needs(report):
    for case in report["cases"]:
        assert {"id", "kind", "issues", "passed"} <= set(case)
        if case["kind"] == "answerable":
            assert case["answer"] and case["latency_ms"] is not None
            assert [r["rank"] for r in case["retrieved"]] == list(
                range(1, len(case["retrieved"]) + 1)
            )
            assert set(case["key_points"]) == {"matched", "missed", "coverage"}
            assert "unsupported" in case["groundedness"]
    assert set(report["by_k"]) == {"1", "3", "5", "8"}


def test_wrong_behaviour_is_scored_as_failure(guide_settings):
    """Mislabelled cases stand in for a coach that gets them wrong."""
    cases = [
        parse_case({"id": "a1", "kind": "answerable", "question": "What's a good banana bread "
                    "recipe?", "gold_sections": ["threat-1"], "key_points": ["automat"]}),
        parse_case({"id": "o1", "kind": "out_of_scope",
                    "question": "Will AI tools lower what clients pay for blog posts?"}),
        parse_case({"id": "a2", "kind": "answerable", "question": "x" * 5000,
                    "gold_sections": ["threat-1"]}),
    ]  # fmt: skip
    report = run_evaluation(guide_settings, cases)
    by_id = {c["id"]: c for c in report["cases"]}
    assert by_id["a1"]["issues"][0] == "declined"
    assert by_id["a1"]["retrieval"]["mrr"] == 0.0 and by_id["a1"]["key_points"]["coverage"] == 0
    assert by_id["o1"]["issues"][0] == "not declined"
    assert by_id["a2"]["issues"][0].startswith("error: The question is 5,000 characters long")
    assert report["summary"]["refusal_accuracy"] == 0.0
    assert report["summary"]["hit@1"] == 0.0 and report["summary"]["cases_passed"] == 0


# -- the command line, on a small subset ---------------------------------------------------


@pytest.fixture()
def guide_env(guide_settings, monkeypatch):
    monkeypatch.setenv("THRIVE_CORPUS_DIR", str(guide_settings.corpus_dir))
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(guide_settings.vectorstore_dir))
    return guide_settings


def test_eval_writes_reports_and_gates_against_a_baseline(guide_env, tmp_path):
    out, baseline = tmp_path / "report", tmp_path / "baseline.json"
    args = ["eval", "--dataset", str(DATASET), "--max-per-kind", "1", "--out", str(out)]
    result = runner.invoke(app, [*args, "--write-baseline", str(baseline)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "report.html"}
    assert "groundedness" in result.stdout and "95% CI" in result.stdout

    result = runner.invoke(app, [*args, "--compare", str(baseline)])
    assert result.exit_code == 0, result.output
    assert "No metric fell below" in result.stdout

    data = json.loads(baseline.read_text())
    data["summary"]["key_point_coverage"] = 1.5  # a baseline this run cannot reach
    data["ci"]["key_point_coverage"] = [1.4, 1.6]
    baseline.write_text(json.dumps(data))
    result = runner.invoke(app, [*args, "--compare", str(baseline)])
    assert result.exit_code == 1
    assert "REGRESSED" in result.stdout and "key_point_coverage fell from 1.5000" in result.output


def test_eval_explains_a_broken_dataset(guide_env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "kind": "answerable", "question": "?"}\n')
    result = runner.invoke(app, ["eval", "--dataset", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "line 1 (x): gold_sections" in result.output


def test_the_sweep_scores_each_choice(guide_settings):
    cases = select(load_dataset(DATASET), 4)
    sweep = run_sweep(
        guide_settings, cases, chunk_words=(60, 180), ks=(1, 3), modes=("dense", "bm25")
    )
    rows = sweep["rows"]
    assert len(rows) == 2 * 2 * 2
    chunks = {r["chunk_words"]: r["chunks"] for r in rows}
    assert chunks[60] > chunks[180]  # smaller chunks, more of them
    for r in rows:
        assert 0 <= r["hit"] <= 1 and 0 <= r["ndcg"] <= 1
        assert r["recall"] <= 1 and r["refusal_accuracy"] > 0
    # Asking for more sections can only find more of the gold ones.
    for size in (60, 180):
        for mode in ("dense", "bm25"):
            at = {r["k"]: r for r in rows if r["chunk_words"] == size and r["mode"] == mode}
            assert at[3]["recall"] >= at[1]["recall"]
    assert "## Chunk size" in render_sweep_markdown(sweep)
