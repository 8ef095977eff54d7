"""Cold start: `thrive ask --json` timed in a new process, with that process' peak RSS."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from thrive.base.settings import Settings


def cold_start(settings: Settings, question: str) -> tuple[float, float | None]:
    """Seconds from launching `thrive ask --json` to its complete answer, and the process'
    peak RSS in MB (None where /proc is missing). The file cache is warm: this process has
    loaded the same libraries."""
    script = Path(sys.executable).with_name("thrive")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "thrive.cli"]
    cmd += ["ask", question, "--json", "--llm", "extractive"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THRIVE_")}
    env.update(
        THRIVE_VECTORSTORE_DIR=str(settings.vectorstore_dir),
        THRIVE_CORPUS_DIR=str(settings.corpus_dir),
        THRIVE_DATA_DIR=str(settings.data_dir),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONUNBUFFERED="1",  # the answer is timed when it is printed, not at exit
    )
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)
        assert proc.stdout is not None
        text, answered, peak = "", None, None
        for line in proc.stdout:
            text += line
            if answered is None and line.rstrip() == "}":
                try:
                    json.loads(text)
                except ValueError:
                    continue
                answered = time.perf_counter() - started
                peak = _peak_rss_of(proc.pid)  # read while it is alive, before it exits
        if proc.wait() or answered is None:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(
                f"`{' '.join(cmd)}` gave no answer (exit {proc.returncode}): {detail}"
            )
    return answered, peak


def _peak_rss_of(pid: int) -> float | None:
    """VmHWM of a live process, in MB. Not the rusage of the child: Linux carries the
    parent's RSS at fork time into it, which here would be the bench's own ~1 GB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(found.group(1)) / 1024, 1) if found else None
