"""Servers on loopback for the load test and its tests: `thrive serve-api` and `chroma run`,
each a subprocess that is stopped when its `with` block ends, whatever happens in it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from thrive.base.errors import ConfigurationError

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(
    url: str, proc: subprocess.Popen[bytes], log: IO[bytes], timeout_s: float, what: str
) -> None:
    """Poll `url` until it answers 200, or fail with the server's own output."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    stop(proc)
    log.seek(0)
    output = log.read().decode(errors="replace")
    raise ConfigurationError(
        f"{what} did not come up at {url} (exit code {proc.poll()}): {output[-2000:]}",
        fix="Check the output above.",
    )


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def api_server(
    env: Mapping[str, str], port: int | None = None, timeout_s: float = 180
) -> Iterator[str]:
    """`thrive serve-api` on loopback with this environment; yields its base URL once
    /healthz answers (the index and models are loaded by then)."""
    port = port or free_port()
    command = [sys.executable, "-m", "thrive.cli", "serve-api", "--host", LOOPBACK]
    with _running([*command, "--port", str(port)], dict(env)) as (proc, log):
        url = f"http://{LOOPBACK}:{port}"
        wait_until_up(f"{url}/healthz", proc, log, timeout_s, "thrive serve-api")
        yield url


@contextmanager
def _running(
    command: list[str], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    # Output goes to a file, not a pipe: a pipe nobody reads would stall a chatty server.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield proc, log
        finally:
            stop(proc)


def chroma_command() -> str:
    """The `chroma` of the installed chromadb, so server and client are one release."""
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        raise ConfigurationError(
            "The `chroma` command was not found.", fix="Install chromadb in this environment."
        )
    return found


@contextmanager
def chroma_server(path: Path, port: int | None = None, timeout_s: float = 60) -> Iterator[str]:
    """`chroma run` on loopback, persisting in `path`; yields its URL once it answers."""
    port = port or free_port()
    command = [chroma_command(), "run", "--path", str(path), "--host", LOOPBACK]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with _running([*command, "--port", str(port)], env) as (proc, log):
        url = f"http://{LOOPBACK}:{port}"
        wait_until_up(f"{url}/api/v2/heartbeat", proc, log, timeout_s, "The Chroma server")
        yield url
