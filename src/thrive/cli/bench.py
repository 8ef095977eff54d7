"""`thrive bench`: the benchmark on the command line, with progress and a verdict table.

Added to the main app by `thrive.cli.main`. The measuring is
`thrive.bench.runner`'s; this module only shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from thrive.base.errors import ThriveError
from thrive.cli.common import console, err_console, fail, settings_for

commands = typer.Typer()


@commands.command()
def bench(
    out: Annotated[Path, typer.Option("--out", help="Where to write the JSON report.")] = Path(
        "bench/bench.json"
    ),
    quick: Annotated[
        bool, typer.Option("--quick", help="Small sizes (about a minute); not for reporting.")
    ] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="The PNG plot (default: beside --out).")
    ] = None,
) -> None:
    """Measure ingest, retrieval, answers, cold start and llama.cpp against bare floors.

    Runs in a temporary folder (your vectorstore/ is not touched); ~5 minutes on 2 cores.
    """
    from thrive.bench.runner import BenchConfig, run_bench, write_report

    config = BenchConfig.quick_run() if quick else BenchConfig()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                for task in tasks.values():  # a new stage means the previous one is done
                    bar.update(task, completed=bar.tasks[task].total)
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        try:
            result = run_bench(settings_for("extractive"), config, progress)
        except ThriveError as err:
            raise fail(err) from err
        for task in tasks.values():
            bar.update(task, completed=bar.tasks[task].total)
    written = write_report(result, out, plot)
    _print_summary(result)
    console.print(f"Wrote {out} and {written} in {result['run']['seconds']:.0f} s.")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:,.3g}" if isinstance(value, float) else str(value)


def _print_summary(result: dict[str, Any]) -> None:
    table = Table(title="Targets (issue 6)", title_justify="left")
    for column in ("target", "measured", "bound", "met"):
        table.add_column(column)
    marks = {True: "[green]yes[/]", False: "[red]no[/]", None: "[dim]not run[/]"}
    for name, verdict in result["targets"].items():
        where = f" ({verdict['chunks']:,} chunks)" if verdict.get("chunks") else ""
        table.add_row(
            name + where, _fmt(verdict["measured"]), verdict["target"], marks[verdict["met"]]
        )
    console.print(table)
    rows = Table(title="Scale", title_justify="left")
    for column in ("chunks", "vectors", "ingest/s", "encode floor/s", "p50 ms", "floor p50 ms"):
        rows.add_column(column, justify="right")
    for r in result["scale"]:
        rows.add_row(
            f"{r['chunks']:,}",
            r["vectors"],
            _fmt(r["ingest_chunks_per_s"]),
            _fmt(r["encode_floor_chunks_per_s"]),
            _fmt(r["retrieval_p50_ms"]),
            _fmt(r["retrieval_floor_p50_ms"]),
        )
    console.print(rows)
    run = result["run"]
    if max(run["load_average_before"][0], run["load_average_after"][0]) > 0.5 * run["cpus"]:
        err_console.print(
            "[yellow]The machine was busy during the run (load average "
            f"{run['load_average_before'][0]} -> {run['load_average_after'][0]} on "
            f"{run['cpus']} CPUs): the figures are noisier than usual.[/]"
        )
