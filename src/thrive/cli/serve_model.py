"""`thrive serve-model GGUF`: llama-cpp-python's OpenAI-compatible server for a GGUF model.

Added to the main app by `thrive.cli.main`. Thrive then talks to it like to Ollama or vLLM,
through `OPENAI_BASE_URL` and `THRIVE_LLM=openai-compatible:auto`.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import signal
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from thrive.base.errors import BackendUnavailable, ConfigurationError
from thrive.cli.common import console, err_console, fail

commands = typer.Typer()


@commands.command("serve-model")
def serve_model(
    gguf: Annotated[Path, typer.Argument(help="The GGUF model file to serve.")],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    host: Annotated[
        str, typer.Option(help="Address to listen on; loopback unless you mean otherwise.")
    ] = "127.0.0.1",
    n_ctx: Annotated[int, typer.Option("--n-ctx", help="Context window in tokens.")] = 4096,
) -> None:
    """Serve a GGUF model over the OpenAI API (llama.cpp), for Thrive or anything else."""
    from thrive.coaching.coach import Coach

    path = gguf.expanduser()
    if not path.is_file():
        raise fail(
            ConfigurationError(f"The GGUF model file {path} does not exist.", fix="Check the path.")
        )
    if importlib.util.find_spec("llama_cpp") is None:
        raise fail(
            BackendUnavailable(
                "llama-cpp-python is not installed.",
                fix="Run `pip install 'thrive-coach[local]'` (it builds in about 4 minutes).",
            )
        )
    if not _is_loopback(host):
        # the server has no sign-in: anyone who can reach the port can use the model
        err_console.print(f"[yellow]Warning:[/] {host} is not loopback; the server has no auth.")
    command = Coach.model_server_command(path, host=host, port=port, n_ctx=n_ctx)
    url = f"http://{host}:{port}/v1"
    console.print(f"Serving {path.name} as [bold]{path.stem}[/] on {url} (Ctrl-C to stop).")
    console.print(
        f"Point Thrive at it: export OPENAI_BASE_URL={url} THRIVE_LLM=openai-compatible:auto",
        highlight=False,
    )
    server = subprocess.Popen(command)
    # Stopping `thrive serve-model` stops the server with it.
    signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        raise typer.Exit(server.wait())
    except KeyboardInterrupt:
        server.terminate()
        raise typer.Exit(server.wait()) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
