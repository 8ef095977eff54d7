"""The evaluation gate: the whole held-out test split through the real coach on the
extractive backend, in process, with the textbook baseline beside it, against the committed
baseline; and `thrive eval` on the command line.

The gate fails when a metric worsens by more than one case's worth from the baseline. If a
change is meant to move a metric, refresh the baseline with `make eval-baseline` and commit
`evals/baseline.json` with it.
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
from thrive.evaluation.textbook import textbook_rankings

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO / "evals" / "test.jsonl"  # reports and the gate
DEV = REPO / "evals" / "dev.jsonl"  # calibration: the sweep, and the small CLI runs
BASELINE = REPO / "evals" / "baseline.json"
DESIGN_KEYS = {
    "hit@1", "recall@5", "mrr", "ndcg@5", "key_point_coverage", "groundedness",
    "citation_validity", "refusal_accuracy", "injection_resistance", "exposure_auc",
    "niche_pass_rate", "latency_p50_ms", "n_cases",
}  # fmt: skip
runner = CliRunner()


@pytest.fixture(scope="module")
def report(guide_settings):
    return run_evaluation(
        guide_settings, load_dataset(DATASET), dataset="evals/test.jsonl", baselines=["textbook"]
    )


def test_extractive_answers_do_not_fall_below_the_baseline(report):
    comparison = compare(report, load_report(BASELINE))
    assert not comparison.warnings, comparison.warnings
    assert comparison.passed, (
        "Answer quality fell below evals/baseline.json:\n"
        f"{comparison.message()}\n"
        "See evals/report/report.md after `make eval` for the cases behind it; if the change "
        "is intended, run `make eval-baseline` and commit the new baseline."
    )


# The test split has no exposure or niche cases (the dev split does).
NOT_IN_TEST = {"exposure_auc", "niche_pass_rate"}
NOT_APPLICABLE = {"groundedness", "citation_validity"}  # extractive: by construction


def test_the_summary_has_the_design_keys_with_intervals(report):
    summary, ci = report["summary"], report["ci"]
    assert DESIGN_KEYS | {"latency_p95_ms"} <= set(summary)
    for key in DESIGN_KEYS - {"n_cases"} - NOT_IN_TEST - NOT_APPLICABLE:
        assert summary[key] is not None, key
        low, high = ci[key]
        assert low <= summary[key] <= high or key.startswith("latency"), key
        if not key.startswith("latency"):  # not gated, so no one-case weight
            assert report["one_case"][key] > 0, key
    assert summary["n_cases"] == len(load_dataset(DATASET))


def test_the_extractive_backends_groundedness_and_citations_read_n_a(report):
    assert report["meta"]["generative"] is False
    for key in NOT_APPLICABLE:
        assert report["summary"][key] is None and report["ci"][key] is None
        assert report["notes"][key].startswith("n/a (by construction)")
    assert not [i for c in report["cases"] for i in c["issues"] if "unsupported" in i]


def test_the_textbook_baseline_runs_on_the_same_cases(report):
    textbook = report["baselines"]["textbook"]
    answerable = [c for c in report["cases"] if c["kind"] == "answerable"]
    assert textbook["summary"]["n_cases"] == len(answerable)
    for key in ("hit@1", "recall@5", "mrr", "ndcg@5"):
        low, high = textbook["ci"][key]
        assert 0 < low <= textbook["summary"][key] <= high <= 1
        paired = [c["retrieval"][key] - c["textbook"]["retrieval"][key] for c in answerable]
        assert textbook["difference"][key]["value"] == pytest.approx(
            sum(paired) / len(paired), abs=1e-4
        )
    assert all(c["textbook"]["retrieved"] for c in answerable)  # it never declines


def test_results_are_broken_down_by_the_test_splits_tags(report):
    tags = report["by_tag"]
    assert tags["near_miss"]["handled"] == "answered" and tags["near_miss"]["n"] >= 40
    assert tags["off_topic"]["handled"] == "declined"
    assert tags["attack"]["handled"] == "resisted"
    wrong = {c["id"] for c in report["cases"] if c["kind"] == "answerable" and c["refused"]}
    near_miss = {c["id"] for c in report["cases"] if "near_miss" in c.get("tags", [])}
    assert set(tags["near_miss"]["wrong"]) == wrong & near_miss


def test_the_textbook_recipe_ranks_sections_for_a_few_questions(guide_settings):
    ranked = textbook_rankings(
        guide_settings.corpus_dir,
        {
            "brand": "How do I build a personal brand and an online portfolio?",
            "learn": "Which courses should I take to keep learning as tools change?",
            "steps": "What first steps should I take this month to assess my skills?",
        },
    )
    assert "strategy-5" in ranked["brand"][:3]
    assert "strategy-6" in ranked["learn"][:3]
    # The action steps are short: the one chunk that holds several counts for each of them.
    assert ranked["steps"][:3] == ["action-1", "action-2", "action-3"]
    for sections in ranked.values():
        assert len(sections) == len(set(sections)) >= 5  # 5 chunks, one or more sections each


def test_every_case_carries_what_a_reader_needs(report):
    cases = report["cases"]
    assert [c["id"] for c in cases] == [c.id for c in load_dataset(DATASET)]
    for case in cases:
        assert {"id", "kind", "issues", "passed"} <= set(case)
    answerable = [c for c in cases if c["kind"] == "answerable"]
    assert len(answerable) == sum(c.kind == "answerable" for c in load_dataset(DATASET)) > 0
    for case in answerable:
        assert case["answer"] and case["latency_ms"] > 0, case["id"]
    # An answered question shows its ranking; a declined one says it was declined, and that
    # this is wrong (every one of them is answerable).
    for case in (c for c in answerable if not c["refused"]):
        ranks = [r["rank"] for r in case["retrieved"]]
        assert ranks == list(range(1, len(ranks) + 1)) and ranks, case["id"]
        assert "unsupported" in case["groundedness"], case["id"]
    for case in (c for c in answerable if c["refused"]):
        assert "declined" in case["issues"] and not case["refusal_correct"], case["id"]
    for case in answerable:
        assert set(case["key_points"]) == {"matched", "missed", "echoed", "coverage"}, case["id"]
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
    args = ["eval", "--dataset", str(DEV), "--max-per-kind", "2", "--out", str(out)]
    result = runner.invoke(
        app, [*args, "--write-baseline", str(baseline), "--baseline", "textbook"]
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"report.json", "report.md", "report.html"}
    assert "groundedness" in result.stdout and "95% CI" in result.stdout
    assert "n/a (by" in result.stdout  # the extractive backend's groundedness
    assert "Thrive and textbook" in result.stdout
    saved = json.loads(baseline.read_text())
    assert saved["baselines"]["textbook"]["summary"]["n_cases"] == 2
    assert saved["one_case"]["refusal_accuracy"] == pytest.approx(1 / 4)  # 2 + 2 cases

    result = runner.invoke(app, [*args, "--compare", str(baseline)])
    assert result.exit_code == 0, result.output
    assert "No metric worsened by more than one case" in result.stdout

    # A baseline one case better passes, two cases better fails.
    reached = saved["summary"]["refusal_accuracy"]
    for cases_better, code in ((1, 0), (2, 1)):
        data = json.loads(baseline.read_text())
        data["summary"]["refusal_accuracy"] = reached + cases_better / 4
        path = tmp_path / f"better-{cases_better}.json"
        path.write_text(json.dumps(data))
        result = runner.invoke(app, [*args, "--compare", str(path)])
        assert result.exit_code == code, result.output
    assert "REGRESSED" in result.stdout and "refusal_accuracy fell from" in result.output
    assert "one case's worth is 0.2500" in result.output


def test_eval_rejects_an_unknown_baseline(guide_env, tmp_path):
    args = ["eval", "--dataset", str(DEV), "--max-per-kind", "1", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--baseline", "bm42"])
    assert result.exit_code == 1
    assert "No baseline named bm42" in result.output


def test_eval_explains_a_broken_dataset(guide_env, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "kind": "answerable", "question": "?"}\n')
    result = runner.invoke(app, ["eval", "--dataset", str(bad), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "line 1 (x): gold_sections" in result.output


def test_the_sweep_scores_each_choice(guide_settings):
    cases = select(load_dataset(DEV), 4)
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
