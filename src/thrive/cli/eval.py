"""`thrive eval`: the offline evaluation on the command line, with a progress bar.

Added to the main app by `thrive.cli.main`. The measuring is
`thrive.evaluation`'s; this module reads options, shows progress and prints the verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from thrive.base.errors import ThriveError
from thrive.base.files import write_atomic
from thrive.cli.common import console, err_console, fail, progress_bar, settings_for

# The held-out test split is for reporting; every calibration (and the sweep) uses dev.
DEFAULT_DATASET = Path("evals/test.jsonl")
DEV_DATASET = Path("evals/dev.jsonl")

commands = typer.Typer()


@commands.command("eval")
def eval_command(
    dataset: Annotated[
        Path | None,
        typer.Option(
            "--dataset",
            help="JSON Lines cases (schema: DESIGN.md). Default evals/test.jsonl, the held-out "
            "split for reports; with --sweep, evals/dev.jsonl, the calibration split.",
        ),
    ] = None,
    llm: Annotated[
        str,
        typer.Option(
            "--llm", help="Backend to evaluate: extractive, llamacpp:<path.gguf>, openai:<model>..."
        ),
    ] = "extractive",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for the reports (default evals/report, evals/sweep)."),
    ] = None,
    k: Annotated[
        int, typer.Option("--k", min=1, max=50, help="Passages retrieved per question.")
    ] = 5,
    compare_to: Annotated[
        Path | None,
        typer.Option(
            "--compare",
            help="A baseline.json or report.json: print deltas, exit 1 if a metric worsens "
            "by more than one case's worth from the baseline's value (latency not gated).",
        ),
    ] = None,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep", help="Compare chunk sizes, k and retrieval modes (retrieval only)."
        ),
    ] = False,
    max_per_kind: Annotated[
        int | None,
        typer.Option("--max-per-kind", min=1, help="Only the first N cases of each kind."),
    ] = None,
    write_baseline: Annotated[
        Path | None,
        typer.Option("--write-baseline", help="Also save this run's summary as a baseline."),
    ] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option(
            "--baseline",
            help="Also score a reference on the same answerable cases and report it side by "
            "side: textbook (the LangChain tutorial recipe), reader (an independent reader's "
            "rankings, evals/reference/<split>.reader.jsonl). Repeatable.",
        ),
    ] = None,
    fit_ranker: Annotated[
        bool,
        typer.Option(
            "--fit-ranker",
            help="Instead: fit the section ranker on the dev split (never on test), choosing "
            "its regularisation by cross-validation, and write its weights file.",
        ),
    ] = False,
    onet: Annotated[
        bool,
        typer.Option(
            "--onet",
            help="Instead: exposure scores against the O*NET tasks' human labels, leave one "
            "occupation out (writes onet.json).",
        ),
    ] = False,
) -> None:
    """Evaluate answer quality offline and write report.json, report.md and report.html."""
    from thrive.evaluation import load_dataset, select

    if onet:
        _onet(out or Path("evals/report"))
        return

    dataset = dataset or (DEV_DATASET if sweep or fit_ranker else DEFAULT_DATASET)
    if fit_ranker:
        _fit_ranker(dataset, llm)
        return
    try:
        cases = select(load_dataset(dataset), max_per_kind)
        settings = settings_for(llm).model_copy(update={"top_k": k})
        if sweep:
            _sweep(settings, cases, out or Path("evals/sweep"))
            return
        report = _run(settings, cases, k, str(dataset), baseline or [])
    except ThriveError as err:
        raise fail(err) from err
    from thrive.evaluation import baseline_of, write_reports

    paths = write_reports(report, out or Path("evals/report"))
    _print_summary(report)
    console.print(f"Wrote {', '.join(str(p) for p in paths)}.")
    if write_baseline:
        # Atomic: a failed write keeps the old baseline that the gate compares against.
        write_atomic(write_baseline, json.dumps(baseline_of(report), indent=2) + "\n")
        console.print(f"Saved the baseline {write_baseline}.")
    if compare_to:
        _compare(report, compare_to)


def _fit_ranker(dataset: Path, llm: str) -> None:
    from thrive.coaching.coach import Coach
    from thrive.evaluation import load_dataset
    from thrive.evaluation.fit_ranker import fit_ranker

    with progress_bar() as bar:
        task = bar.add_task("Loading models", total=None)
        try:
            cases = load_dataset(dataset)
            coach = Coach(settings_for(llm))
            report = fit_ranker(
                coach, cases, dataset, progress=lambda s: bar.update(task, description=s)
            )
        except ThriveError as err:
            raise fail(err) from err
    table = Table(
        title=f"Section ranker: {report['cross_validation']['folds']}-fold "
        f"cross-validation on {dataset} ({report['answerable_cases']} questions)"
    )
    for column in ("C", "hit@1", "recall@5", "mrr"):
        table.add_column(column, justify="right")
    for c, row in report["cross_validation"]["by_C"].items():
        mark = " (chosen)" if float(c) == report["C"] else ""
        table.add_row(c + mark, *(f"{row[m]:.3f}" for m in ("hit@1", "recall@5", "mrr")))
    console.print(table)
    console.print(
        f"Wrote {report['weights_file']}; no `thrive ingest` is needed, searchers read it."
    )


def _onet(out: Path) -> None:
    from thrive.evaluation.onet import run_onet_eval

    with progress_bar() as bar:
        task = bar.add_task("Loading the task index", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=stage.capitalize())

        try:
            report = run_onet_eval(out, progress)
        except ThriveError as err:
            raise fail(err) from err
    table = Table(title="Leave-occupation-out AUC against the human labels (GPTs are GPTs)")
    for column in ("set", "scorer", "E1 > E0", "95% CI", "E1 or E2 > E0"):
        table.add_column(column)
    for subset in ("all", "freelance", "dev"):
        for scorer in ("thrive", "guide_only", "gpt4"):
            row = report[subset][scorer]
            low, high = row["ci95_e1_e0"]
            table.add_row(
                subset + (" (calibration)" if subset == "dev" else ""),
                scorer,
                f"{row['auc_e1_e0']:.3f}",
                f"[{low:.3f}, {high:.3f}]",
                f"{row['auc_e12_e0']:.3f}",
            )
    console.print(table)
    console.print(f"Wrote {out / 'onet.json'}.")


def _run(
    settings: Any, cases: list[Any], k: int, dataset: str, baselines: list[str]
) -> dict[str, Any]:
    from thrive.evaluation import run_evaluation

    with progress_bar() as bar:
        task = bar.add_task("Loading models", total=len(cases))

        def progress(done: int, total: int, case_id: str) -> None:
            label = f"Evaluating {case_id}" if case_id else "Scoring retrieval by k"
            bar.update(task, completed=done, total=total, description=label)

        return run_evaluation(
            settings, cases, k=k, progress=progress, dataset=dataset, baselines=baselines
        )


def _print_summary(report: dict[str, Any]) -> None:
    from thrive.evaluation.report import METRIC_HELP, fmt_ci, fmt_metric

    meta = report["meta"]
    notes = report.get("notes") or {}
    table = Table(
        title=f"{meta['backend']} on {meta.get('dataset')}: {report['summary']['n_cases']} cases",
        title_justify="left",
    )
    for column, justify in (("metric", "left"), ("value", "right"), ("95% CI", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_column("measures", style="dim")
    for name, value in report["summary"].items():
        table.add_row(
            name,
            fmt_metric(name, value, notes),
            fmt_ci(report["ci"].get(name)),
            escape(notes.get(name) or METRIC_HELP.get(name, "")),
        )
    console.print(table)
    _print_baselines(report)
    _print_tags(report)


def _print_baselines(report: dict[str, Any]) -> None:
    from thrive.evaluation.report import fmt, fmt_ci
    from thrive.evaluation.summary import side_by_side

    rows = side_by_side(report)
    for name in report.get("baselines") or {}:
        table = Table(title=f"Retrieval: Thrive and {name} (same cases)", title_justify="left")
        for column in ("metric", "Thrive", "95% CI", name, "95% CI ", "difference", "95% CI  "):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for r in (r for r in rows if r["baseline"] == name):
            diff = "-" if r["difference"] is None else f"{r['difference']:+.3f}"
            table.add_row(
                r["metric"],
                fmt(r["thrive"]),
                fmt_ci(r["thrive_ci"]),
                fmt(r["other"]),
                fmt_ci(r["other_ci"]),
                diff,
                fmt_ci(r["difference_ci"]),
            )
        console.print(table)


MIN_TAG_CASES = 5  # smaller tags are in the reports only


def _print_tags(report: dict[str, Any]) -> None:
    from thrive.evaluation.report import fmt, fmt_ci

    tags = {
        name: row for name, row in (report.get("by_tag") or {}).items() if row["n"] >= MIN_TAG_CASES
    }
    if not tags:
        return
    table = Table(
        title=f"By tag ({MIN_TAG_CASES}+ cases; all in the reports)", title_justify="left"
    )
    for column in ("tag", "kind", "n", "right", "95% CI", "recall@5", "textbook recall@5"):
        table.add_column(column, justify="left" if column in ("tag", "kind") else "right")
    for name, row in tags.items():
        handled, values = row.get("handled"), row["values"]
        right = f"{fmt(values.get(handled))} {handled}" if handled in values else "-"
        table.add_row(
            escape(name),
            row["kind"],
            str(row["n"]),
            right,
            fmt_ci(row["ci"].get(handled)),
            fmt(values.get("recall@5")),
            fmt(values.get("textbook recall@5")),
        )
    console.print(table)


def _compare(report: dict[str, Any], path: Path) -> None:
    from thrive.evaluation import compare, load_report
    from thrive.evaluation.report import fmt

    try:
        comparison = compare(report, load_report(path))
    except ThriveError as err:
        raise fail(err) from err
    table = Table(title=f"Against {path}", title_justify="left")
    for column in ("metric", "baseline", "now", "change", "may worsen by", ""):
        table.add_column(column, justify="left" if column in ("metric", "") else "right")
    for d in comparison.deltas:
        status = (
            "[bold red]REGRESSED[/]" if d.regressed else "ok" if d.gated else "[dim]not gated[/]"
        )
        change = "-" if d.change is None else f"{d.change:+.4f}"
        table.add_row(
            d.metric,
            fmt(d.baseline),
            fmt(d.current),
            change,
            fmt(d.allowed_drop if d.gated else None),
            status,
        )
    console.print(table)
    for warning in comparison.warnings:
        err_console.print(f"[yellow]{escape(warning)}[/]")
    if not comparison.passed:
        err_console.print(f"[bold red]Regression:[/] {escape(comparison.message())}")
        raise typer.Exit(1)
    console.print("[green]No metric worsened by more than one case's worth.[/]")


def _sweep(settings: Any, cases: list[Any], out: Path) -> None:
    from thrive.evaluation import render_sweep_markdown, run_sweep

    with progress_bar() as bar:
        task = bar.add_task("Sweep", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=stage)

        result = run_sweep(settings, cases, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "sweep.json", json.dumps(result, indent=2) + "\n")
    markdown = render_sweep_markdown(result)
    write_atomic(out / "sweep.md", markdown)
    console.print(markdown, markup=False, highlight=False)
    console.print(f"Wrote {out / 'sweep.json'} and {out / 'sweep.md'}.")
