"""Driving the real page (app.py): with Streamlit's AppTest, and served by a real Streamlit
process to headless Chromium (Debian's, never Playwright's download). Shared by the page's
tests and the browser tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from streamlit.testing.v1 import AppTest

if TYPE_CHECKING:
    from playwright.sync_api import Page

APP = Path(__file__).resolve().parents[1] / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PLACEHOLDER = "Describe your work, or ask what to do about AI"


def open_page() -> AppTest:
    # Generous: the first answer or tool of a session loads the embedding model and scorer.
    at = AppTest.from_file(str(APP), default_timeout=180).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


# -- a real server and a real browser ---------------------------------------------------------


def ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt-get when missing (CI machines start bare)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail("Chromium is missing: install it with `sudo apt-get install -y chromium`.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    assert CHROMIUM.exists(), "apt-get installed chromium but /usr/bin/chromium is missing"
    return CHROMIUM


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settle(page: Page) -> None:
    """Wait until the page's script run is over (Streamlit greys out stale elements while
    it runs), so a screenshot shows the page as the user will see it."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    page.wait_for_timeout(300)  # the last elements fade back in


def wait_until_up(
    url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float, expect: bytes = b"ok"
) -> None:
    """Poll `url` until its body starts with `expect`; fail with the log if the process ends
    or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.read().strip().startswith(expect):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer after {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    """Until Streamlit at `url` reports healthy."""
    wait_until_up(f"{url}/_stcore/health", proc, log, timeout_s)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started with `start_new_session=True`, with all its children."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
