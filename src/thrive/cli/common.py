"""What every `thrive` command shares: consoles, options, error output, profile files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from thrive.base.errors import InputError, ThriveError
from thrive.base.schema import Profile, as_profile
from thrive.base.settings import Settings, load_settings

if TYPE_CHECKING:
    from thrive.coaching.coach import Coach

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def progress_bar() -> Progress:
    """A bar on stderr (stdout stays clean for --json): a label, done of total, time."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


LlmOption = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="Backend: auto, extractive, "
        "openai:<model>, openai-compatible:<model>, "
        "llamacpp:<path.gguf>. Default: THRIVE_LLM.",
    ),
]
ProfileOption = Annotated[Path | None, typer.Option("--profile", help="A profile JSON file.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def fail(err: Exception, code: int = 1) -> typer.Exit:
    """Print a user-facing error (what happened, what to do) and exit."""
    err_console.print(f"[bold red]Error:[/] {err}", highlight=False)
    return typer.Exit(code)


# A profile is a few hundred bytes; anything past this is the wrong file (a log, a dump).
MAX_PROFILE_BYTES = 1_000_000


def read_profile(path: Path | None) -> Profile:
    """The profile in a JSON file, or an `InputError` naming what is wrong with the file."""
    if path is None:
        return Profile()
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InputError(f"{path} is a folder, not a profile file.", fix="Give a JSON file.")
        if size > MAX_PROFILE_BYTES:
            raise InputError(
                f"The profile file {path} is {size / 1e6:,.1f} MB; a profile is at most 1 MB.",
                fix="Check that you gave the right file: a profile is a small JSON object.",
            )
        data = path.read_bytes()  # bounded by the size check above
    except OSError as err:
        raise InputError(
            f"Cannot read the profile file {path}: {err.strerror}.", fix="Check the path."
        ) from err
    if b"\x00" in data:
        raise InputError(
            f"The profile file {path} is binary data, not JSON.",
            fix='Write it like {"skills": ["copywriting"], "goals": "..."}.',
        )
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(
            f"The profile file {path} is not valid JSON ({err}).",
            fix='Write it like {"skills": ["copywriting"], "goals": "..."}.',
        ) from err
    if not isinstance(raw, dict):
        raise InputError(
            f"The profile file {path} must hold a JSON object.",
            fix='Write it like {"skills": ["copywriting"]}.',
        )
    return as_profile(raw)  # names the invalid fields and the limits


def settings_for(llm: str | None = None) -> Settings:
    return load_settings(llm=llm)


def make_coach(llm: str | None, fallback: bool = False) -> Coach:
    """A coach whose backend is built now, so a bad --llm is reported before any question."""
    from thrive.coaching.coach import Coach

    coach = Coach.from_settings(settings_for(llm), fallback=fallback)
    try:
        coach.backend  # noqa: B018 - building it checks keys, URLs and model files
    except ThriveError as err:
        raise fail(err) from err
    return coach
