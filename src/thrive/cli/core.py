"""`thrive ingest`, `ask`, `chat` and `app`: the core commands. A thin face over `Coach`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markdown import Markdown

from thrive.base.errors import ConfigurationError, ThriveError
from thrive.cli.common import (
    JsonOption,
    LlmOption,
    ProfileOption,
    console,
    err_console,
    fail,
    make_coach,
    progress_bar,
    read_profile,
    settings_for,
)

commands = typer.Typer()


@commands.command()
def ingest(
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Store everything anew in a fresh collection (a broken store is moved aside). "
            "Vectors saved on this machine are reused; to embed everything again, delete "
            "~/.cache/thrive/saved-vectors.sqlite3 first.",
        ),
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another ingest.")] = 120.0,
) -> None:
    """Embed the guide(s) in corpus/ into the vector store (only what changed)."""
    from thrive.coaching.coach import Coach

    coach = Coach.from_settings(settings_for())
    with progress_bar() as bar:
        task = bar.add_task("Embedding chunks", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def waiting() -> None:
            err_console.print(f"Another ingest is running; waiting up to {wait:.0f} s for it...")

        def tuning(examples: int) -> None:
            bar.update(task, description="Fine-tuning the search encoder")
            err_console.print(
                f"Fine-tuning the search encoder on {examples} examples, the guide's question "
                "keys and the topics it leaves out (once per change of them; about "
                f"{Coach.minutes_to_train(examples)} minutes on 2 cores)..."
            )

        def tuning_wait() -> None:
            bar.update(task, description="Waiting for the search encoder")
            err_console.print(
                "Another process is fine-tuning the search encoder for this guide; waiting for "
                "it (some minutes on 2 cores)..."
            )

        try:
            report = coach.update_index(
                rebuild=rebuild,
                progress=progress,
                wait_s=wait,
                on_wait=waiting,
                on_tuning=tuning,
                on_tuning_wait=tuning_wait,
            )
        except ThriveError as err:
            raise fail(err) from err
    where = coach.index_location
    if report.moved_aside:
        console.print(f"The broken store was moved to {report.moved_aside}.")
    console.print(
        f"Indexed {report.added + report.updated + report.unchanged} chunks into {where}: "
        f"{report.added} added, {report.updated} updated, {report.deleted} deleted, "
        f"{report.unchanged} unchanged{' (full rebuild)' if report.rebuilt else ''} "
        f"in {report.seconds:.1f} s."
    )


def _print_answer(answer: Any) -> None:
    if answer.notice:
        err_console.print(f"[yellow]{answer.notice}[/]")
    if answer.citations:
        console.print("[bold]Sources[/]")
        for c in answer.citations:
            console.print(
                f"  [cyan][{c.section_id}][/] {c.title}: [dim]{c.snippet}[/]", highlight=False
            )
    console.print(f"[dim]Answered by {answer.backend} in {answer.latency_ms:.0f} ms.[/]")


@commands.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    json_out: JsonOption = False,
    profile: ProfileOption = None,
    llm: LlmOption = None,
) -> None:
    """Ask the coach one question."""
    coach = make_coach(llm)
    try:
        user = read_profile(profile)
        if json_out:
            answer = coach.ask(question, profile=user)
            typer.echo(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
            return
        stream = coach.stream(question, profile=user)
        for piece in stream:
            console.print(piece, end="", markup=False, highlight=False)
        console.print()
        _print_answer(stream.answer)
    except ThriveError as err:
        raise fail(err) from err


@commands.command()
def chat(profile: ProfileOption = None, llm: LlmOption = None) -> None:
    """A conversation in the terminal. Empty line or Ctrl-D to quit."""
    coach = make_coach(llm)
    try:
        user = read_profile(profile)
    except ThriveError as err:
        raise fail(err) from err
    history: list[dict[str, str]] = []
    console.print("[bold]Thrive[/] — tell me about your freelance work. Empty line to quit.")
    while True:
        try:
            question = console.input("[bold green]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        try:
            stream = coach.stream(question, profile=user, history=history)
            text = "".join(stream)
        except ThriveError as err:
            err_console.print(f"[bold red]Error:[/] {err}", highlight=False)
            continue
        console.print(Markdown(text))
        _print_answer(stream.answer)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": text}]


@commands.command("app")
def run_app(
    port: Annotated[int, typer.Option(help="Port.")] = 8501,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 in a container, behind a proxy.")
    ] = "127.0.0.1",
    open_browser: Annotated[
        bool | None,
        typer.Option("--open/--no-open", help="Open a browser (default: when there is a screen)."),
    ] = None,
) -> None:
    """Start the chat page (Streamlit), on 127.0.0.1 unless --host says otherwise."""
    page = Path(__file__).resolve().parents[3] / "app.py"
    if not page.is_file():
        page = Path(__file__).resolve().parents[1] / "ui" / "entry.py"
    url = f"http://{host}:{port}"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(page),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        # Always headless: otherwise a first run stops to ask for an e-mail address on the
        # terminal, which hangs `make run` in a script and fails without a terminal.
        "--server.headless",
        "true",
        *_secrets_files(page),
    ]
    if open_browser is None:
        open_browser = sys.platform in ("darwin", "win32") or bool(
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
    server = subprocess.Popen(cmd, env=os.environ.copy())
    # Stopping `thrive app` (or `make run`) stops the page with it.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    console.print(f"Thrive is starting on [bold]{url}[/] (Ctrl-C to stop).")
    if open_browser and _wait_healthy(url, server):
        import webbrowser

        webbrowser.open(url)
    try:
        raise typer.Exit(server.wait())
    except KeyboardInterrupt:
        server.terminate()
        raise typer.Exit(server.wait()) from None


def _secrets_files(page: Path) -> list[str]:
    """Streamlit's `secrets.files` with the file THRIVE_SECRETS names last, so that it wins:
    sign-in (`[auth]`) can live outside the checkout, e.g. in a mounted secret. Streamlit's
    own places stay first, so `.streamlit/secrets.toml` keeps working."""
    named = os.environ.get("THRIVE_SECRETS")
    if not named:
        return []
    path = Path(named).expanduser().resolve()
    if not path.is_file():
        raise fail(
            ConfigurationError(
                f"THRIVE_SECRETS names {path}, which is not a file.",
                fix="Point it at your secrets.toml (with an [auth] section) or unset it.",
            )
        )
    own = [Path.home(), Path.cwd(), page.parent]  # Streamlit's user, project and app places
    files = dict.fromkeys([*(str(d / ".streamlit" / "secrets.toml") for d in own), str(path)])
    return [arg for file in files for arg in ("--secrets.files", file)]


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout_s: float = 60) -> bool:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False
