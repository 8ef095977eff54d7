"""`thrive exposure`, `thrive niches` and `thrive plan`: the coaching tools on the command line.

Added to the main app by `thrive.cli.main`. Thin: each command
reads its input, calls the coach and prints; the JSON shapes are DESIGN.md's.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from thrive.coaching.tools import SkillExposure
    from thrive.knowledge.onet import OccupationView

commands = typer.Typer()


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@commands.command()
def exposure(
    skills: Annotated[
        str | None,
        typer.Option("--skills", help='Skills separated by ";", e.g. "copywriting; logo design".'),
    ] = None,
    occupation: Annotated[
        str | None,
        typer.Option(
            "--occupation",
            help='Your occupation in your words, e.g. "court interpreter": its O*NET rating.',
        ),
    ] = None,
    profile: ProfileOption = None,
    json_out: JsonOption = False,
) -> None:
    """How exposed each skill is to generative AI (0-100), with the evidence and the guide's
    reasons; with --occupation, that occupation's human rating and tasks too."""
    from thrive.coaching.coach import Coach

    coach = Coach.from_settings(settings_for())
    try:
        user = read_profile(profile)
        names: str | list[str] = skills if skills is not None else user.work()
        occupation = occupation or user.occupation or None
        if not names and not occupation:
            raise InputError(
                "No skills or occupation to check.",
                fix='Use --skills "copywriting; logo design", --occupation "court interpreter", '
                'or --profile FILE with "skills".',
            )
        results = coach.exposure(names) if names else []
        view = coach.occupation(occupation) if occupation else None
    except ThriveError as err:
        raise fail(err) from err
    if json_out:
        rows = [r.to_json() for r in results]
        if occupation is None:
            _echo_json(rows)
        else:
            _echo_json({"occupation": view.to_json() if view else None, "skills": rows})
        return
    if occupation is not None:
        _print_occupation(occupation, view)
    if results:
        _print_exposure(results)
    from thrive.coaching.tools import EVIDENCE_CREDIT

    console.print(f"[dim]{escape(EVIDENCE_CREDIT)}[/]")


def _print_occupation(asked: str, view: OccupationView | None) -> None:
    if view is None:
        from thrive.coaching.tools import no_occupation_match

        err_console.print(escape(no_occupation_match(asked)))
        return
    occ = view.occupation
    console.print(
        f"[bold]{escape(asked)}[/] → {escape(occ.title)} (O*NET {occ.soc_code}): human "
        f"exposure rating β = {occ.human_beta:.2f} (share of its tasks exposed, E1 + ½·E2; "
        f"GPT-4 rated it {occ.gpt4_beta:.2f})"
    )
    for heading, tasks in (
        ("Most exposed tasks", view.most_exposed),
        ("Least exposed", view.least_exposed),
    ):
        console.print(f"  [bold]{heading}[/]")
        for task in tasks:
            console.print(f"    {task.human_label}  {escape(task.text)}", highlight=False)


def _print_exposure(results: list[SkillExposure]) -> None:
    table = Table(title="Exposure to generative AI (higher = more exposed)")
    for column in ("Skill", "Score", "Level", "Threats", "Strategies"):
        table.add_column(column, justify="right" if column == "Score" else "left")
    ordered = sorted(results, key=lambda r: -r.score)
    for r in ordered:
        table.add_row(
            escape(r.skill),
            str(r.score),
            f"[{LEVEL_STYLE[r.level]}]{r.level}[/]",
            " ".join(r.threats),
            " ".join(r.strategies),
        )
    console.print(table)
    for r in ordered:
        console.print(f"[bold]{escape(r.skill)}[/]: {escape(r.why)}", highlight=False)


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
        str | None,
        typer.Option(
            "--start",
            help="First day, YYYY-MM-DD (starts the plan again on that day). Default: the "
            "day it was started, or today.",
        ),
    ] = None,
    done: Annotated[
        list[str] | None, typer.Option("--done", help="Tick an item by id (repeatable).")
    ] = None,
    undo: Annotated[
        list[str] | None, typer.Option("--undo", help="Untick an item by id (repeatable).")
    ] = None,
) -> None:
    """Your 30-day plan from the guide's seven action steps; its start day and ticks are
    saved, so later runs (and the page) show the same dates."""
    from thrive.base.files import write_atomic
    from thrive.base.storage import UserData
    from thrive.coaching.coach import Coach
    from thrive.coaching.tools.plan import plan_id_for, plan_start

    settings = settings_for()
    try:
        person = read_profile(profile)
        first_day = _start_date(start)
        data = UserData(settings.data_dir, database_url=settings.database())
        plan_id = plan_id_for(person)
        saved = data.plan_start(plan_id)
        # Built and its ids checked before anything is saved: a failing run changes nothing.
        coach = Coach.from_settings(settings)
        the_plan = coach.plan(person, first_day or saved or date.today())
        for item_id in [*(done or []), *(undo or [])]:
            the_plan.item(item_id)
        if first_day is None:  # the running plan's day; a new or ended plan starts today
            first_day = plan_start(data, person, date.today(), renew_ended=True)
            if first_day != the_plan.start:
                the_plan = coach.plan(person, first_day)
        elif first_day != saved:
            ticks = sum(data.plan_items(plan_id).values())
            # Another day starts the plan again, without its ticks; a plan ticked before
            # start days were saved keeps them.
            data.start_plan(plan_id, first_day, keep_ticks=saved is None)
            if saved is not None and ticks:
                err_console.print(
                    f"The plan now starts on {first_day:%d %b %Y}; the {ticks} tick(s) of "
                    f"the plan started on {saved:%d %b %Y} were cleared.",
                    highlight=False,
                )
        for item_id in done or []:
            the_plan.mark(data, item_id, True)
        for item_id in undo or []:
            the_plan.mark(data, item_id, False)
        the_plan = the_plan.load_progress(data)
        for path, content in ((ics, the_plan.to_ics()), (markdown, the_plan.to_markdown())):
            if path is None:
                continue
            if not path.parent.is_dir():  # a typo in the path must not make a folder tree
                raise InputError(
                    f"Cannot write {path}: the folder {path.parent} does not exist.",
                    fix="Create the folder first, or choose a path in an existing one.",
                )
            try:
                write_atomic(path, content)
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
