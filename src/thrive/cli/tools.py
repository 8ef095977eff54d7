"""`thrive exposure`, `thrive niches` and `thrive plan`: the coaching tools on the command line.

Added to the main app by `thrive.cli.main`. Thin: each command
reads its input, calls the coach and prints; the JSON shapes are DESIGN.md's.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from thrive.base.errors import InputError, ThriveError
from thrive.cli.common import (
    JsonOption,
    LlmOption,
    ProfileOption,
    console,
    err_console,
    fail,
    make_coach,
    read_profile,
    settings_for,
)

LEVEL_STYLE = {"high": "bold red", "medium": "yellow", "low": "green"}

commands = typer.Typer()


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@commands.command()
def exposure(
    skills: Annotated[
        str | None,
        typer.Option("--skills", help='Skills separated by ";", e.g. "copywriting; logo design".'),
    ] = None,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """How exposed each skill is to generative AI (0-100), with the guide's reasons."""
    from thrive.coaching.coach import Coach

    try:
        names: str | list[str] = skills if skills is not None else read_profile(profile).work()
        if not names:
            raise InputError(
                "No skills to check.",
                fix='Use --skills "copywriting; logo design", or --profile FILE with "skills".',
            )
        results = Coach.from_settings(settings_for()).exposure(names)
    except ThriveError as err:
        raise fail(err) from err
    if json_out:
        _echo_json([r.to_json() for r in results])
        return
    table = Table(title="Exposure to generative AI (higher = more exposed)")
    for column in ("Skill", "Score", "Level", "Threats", "Strategies", "Why"):
        table.add_column(column, justify="right" if column == "Score" else "left")
    for r in sorted(results, key=lambda r: -r.score):
        table.add_row(
            escape(r.skill),
            str(r.score),
            f"[{LEVEL_STYLE[r.level]}]{r.level}[/]",
            " ".join(r.threats),
            " ".join(r.strategies),
            escape(r.why),
        )
    console.print(table)


@commands.command()
def niches(
    profile: ProfileOption = None, json_out: JsonOption = False, llm: LlmOption = None
) -> None:
    """Niches for your profile, in the guide's pattern, with first steps."""
    coach = make_coach(llm)
    try:
        result = coach.niches(read_profile(profile))
    except ThriveError as err:
        raise fail(err) from err
    if result.notice:
        err_console.print(f"[yellow]{escape(result.notice)}[/]", highlight=False)
    if json_out:
        _echo_json(result.to_json())
        return
    for n in result:
        console.print(
            f"\n[bold]{escape(n.niche)}[/]  exposure: [{LEVEL_STYLE[n.exposure]}]{n.exposure}[/]  "
            f"[cyan]{' '.join(n.strategies)}[/]",
            highlight=False,
        )
        console.print(escape(n.why), highlight=False)
        for i, step in enumerate(n.first_steps, 1):
            console.print(f"  {i}. {escape(step)}", highlight=False)
    console.print(f"\n[dim]Suggested by {result.backend}.[/]")


def _start_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise InputError(
            f"--start {value!r} is not a date.", fix="Write it as YYYY-MM-DD, e.g. 2026-03-02."
        ) from err


@commands.command()
def plan(
    profile: ProfileOption = None,
    json_out: JsonOption = False,
    ics: Annotated[
        Path | None, typer.Option("--ics", help="Write the plan as an .ics calendar.")
    ] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Write the plan as Markdown.")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="First day, YYYY-MM-DD. Default: today.")
    ] = None,
    done: Annotated[
        list[str] | None, typer.Option("--done", help="Tick an item by id (repeatable).")
    ] = None,
    undo: Annotated[
        list[str] | None, typer.Option("--undo", help="Untick an item by id (repeatable).")
    ] = None,
) -> None:
    """Your 30-day plan from the guide's seven action steps; ticks are saved."""
    from thrive.base.storage import UserData
    from thrive.coaching.coach import Coach

    settings = settings_for()
    try:
        the_plan = Coach.from_settings(settings).plan(read_profile(profile), _start_date(start))
        data = UserData(settings.data_dir)
        for item_id in done or []:
            the_plan.mark(data, item_id, True)
        for item_id in undo or []:
            the_plan.mark(data, item_id, False)
        the_plan = the_plan.load_progress(data)
        for path, content in ((ics, the_plan.to_ics()), (markdown, the_plan.to_markdown())):
            if path is None:
                continue
            try:
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content, "utf-8")
            except OSError as err:
                raise InputError(
                    f"Cannot write {path}: {err.strerror}.", fix="Choose a writable path."
                ) from err
            err_console.print(f"Wrote {path}.", highlight=False)
    except ThriveError as err:
        raise fail(err) from err
    if json_out:
        _echo_json(the_plan.to_json())
        return
    console.print(
        f"[bold]Your 30-day plan[/] ({the_plan.start:%d %b} to {the_plan.end:%d %b %Y})",
        highlight=False,
    )
    for week, items in the_plan.weeks():
        console.print(f"\n[bold]Week {week}[/]")
        for i in items:
            tick = "[green]☑[/]" if i.done else "☐"
            console.print(
                f" {tick} {i.due:%a %d %b}  [bold]{escape(i.title)}[/] "
                f"[cyan]\\[{i.step}][/] [dim]({i.id})[/]",
                highlight=False,
            )
            console.print(f"      {escape(i.detail)}", highlight=False)
    console.print("\n[dim]Tick an item with: thrive plan --done ITEM_ID (same --profile).[/]")
