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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from thrive.base.errors import ThriveError
from thrive.cli.common import console, err_console, fail, settings_for

DEFAULT_DATASET = Path("evals/dataset.jsonl")

commands = typer.Typer()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


@commands.command("eval")
def eval_command(
    dataset: Annotated[
        Path, typer.Option("--dataset", help="JSON Lines cases (schema: DESIGN.md).")
    ] = DEFAULT_DATASET,
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
            help="A baseline.json or report.json: print deltas, exit 1 if a metric falls "
            "below the baseline's 95% interval.",
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
) -> None:
    """Evaluate answer quality offline and write report.json, report.md and report.html."""
    from thrive.evaluation import load_dataset, select

    try:
        cases = select(load_dataset(dataset), max_per_kind)
        settings = settings_for(llm).model_copy(update={"top_k": k})
        if sweep:
            _sweep(settings, cases, out or Path("evals/sweep"))
            return
        report = _run(settings, cases, k, str(dataset))
    except ThriveError as err:
        raise fail(err) from err
    from thrive.evaluation import baseline_of, write_reports

    paths = write_reports(report, out or Path("evals/report"))
    _print_summary(report)
    console.print(f"Wrote {', '.join(str(p) for p in paths)}.")
    if write_baseline:
        write_baseline.parent.mkdir(parents=True, exist_ok=True)
        write_baseline.write_text(json.dumps(baseline_of(report), indent=2) + "\n", "utf-8")
        console.print(f"Saved the baseline {write_baseline}.")
    if compare_to:
        _compare(report, compare_to)


def _run(settings: Any, cases: list[Any], k: int, dataset: str) -> dict[str, Any]:
    from thrive.evaluation import run_evaluation

    with _progress() as bar:
        task = bar.add_task("Loading models", total=len(cases))

        def progress(done: int, total: int, case_id: str) -> None:
            label = f"Evaluating {case_id}" if case_id else "Scoring retrieval by k"
            bar.update(task, completed=done, total=total, description=label)

        return run_evaluation(settings, cases, k=k, progress=progress, dataset=dataset)


def _print_summary(report: dict[str, Any]) -> None:
    from thrive.evaluation.report import METRIC_HELP, fmt, fmt_ci

    meta = report["meta"]
    table = Table(
        title=f"{meta['backend']}: {report['summary']['n_cases']} cases", title_justify="left"
    )
    for column, justify in (("metric", "left"), ("value", "right"), ("95% CI", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_column("measures", style="dim")
    for name, value in report["summary"].items():
        table.add_row(name, fmt(value), fmt_ci(report["ci"].get(name)), METRIC_HELP.get(name, ""))
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
    console.print("[green]No metric fell below its baseline interval.[/]")


def _sweep(settings: Any, cases: list[Any], out: Path) -> None:
    from thrive.evaluation import render_sweep_markdown, run_sweep

    with _progress() as bar:
        task = bar.add_task("Sweep", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=stage)

        result = run_sweep(settings, cases, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    markdown = render_sweep_markdown(result)
    (out / "sweep.md").write_text(markdown, "utf-8")
    console.print(markdown, markup=False, highlight=False)
    console.print(f"Wrote {out / 'sweep.json'} and {out / 'sweep.md'}.")
