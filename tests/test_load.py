"""The load test's short version (5 users for 10 s, after one user for 5 s): the real
`python -m thrive.bench.load` in a subprocess, with locust, `thrive serve-api` and a Chroma
server of its own on loopback. It asserts what a user would notice (every request
answered, each with its own answer), never a time."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from thrive.bench.crosstalk import marker, problem

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_five_users_get_their_own_answers_without_errors(tmp_path):
    short = ["--users", "5", "--run-time", "10", "--single-run-time", "5"]
    done = subprocess.run(
        [sys.executable, "-m", "thrive.bench.load", *short, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert (tmp_path / "load.json").exists(), done.stderr[-3000:]
    report = json.loads((tmp_path / "load.json").read_text())
    failures = report["single_user"]["failure_examples"] + report["load"]["failure_examples"]
    assert report["errors"] == 0 and report["cross_talk"] == 0, failures
    assert done.returncode == 0, done.stderr[-3000:]
    for phase, users in (("single_user", 1), ("load", 5)):
        assert report[phase]["users"] == users
        assert set(report[phase]["by_route"]) >= {"/v1/ask", "/v1/ask (stream)"}
    assert "| 5 | 10 |" in (tmp_path / "load.md").read_text()
    assert "Chroma server" in report["setup"]["vector_store"]


def test_the_cross_talk_check_tells_another_answer_from_ones_own():
    mine, theirs = marker(3, 7), marker(4, 1)
    opening = f"**Your work: translator {mine}.**"
    assert problem(f"{opening} More.", opening, mine) is None
    other = problem(f"**Your work: translator {theirs}.** More.", opening, mine)
    assert other is not None and other.startswith("cross-talk:")
    assert marker(3, 7) != marker(37, 0) != marker(3, 70)
    wrong = problem("**Your work: building things.**", opening, mine)
    assert wrong is not None and wrong.startswith("wrong answer:")
