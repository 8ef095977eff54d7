"""Helpers of the index tests: the CLI as a real subprocess, and a section with a rare word."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from thrive.base.settings import Settings

# A word no guide has, so that finding its section proves which index answered.
RARE = "zorblaxian"
RARE_SECTION = (
    f"# Pricing notes\n\n## {RARE.title()} pricing\nCharge {RARE} clients by the outcome.\n"
)


def cli_env(settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "THRIVE_CORPUS_DIR": str(settings.corpus_dir),
        "THRIVE_VECTORSTORE_DIR": str(settings.vectorstore_dir),
        "THRIVE_DATA_DIR": str(settings.data_dir),
        "THRIVE_LLM": "extractive",
        "THRIVE_COLLECTION": settings.collection,
    }
    if settings.chroma_url:
        env["THRIVE_CHROMA_URL"] = settings.chroma_url
    return env


def thrive(
    settings: Settings, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """`thrive ARGS` in a new process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "thrive.cli", *args],
        env=cli_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def thrive_bg(settings: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "thrive.cli", *args],
        env=cli_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def add_rare_section(settings: Settings) -> Path:
    path = Path(settings.corpus_dir) / "pricing-notes.md"
    path.write_text(RARE_SECTION, "utf-8")
    return path
