"""The `thrive` command line, through typer's runner and as a real subprocess."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from thrive.cli.main import app
from thrive.knowledge.corpus import chunk_sections, read_corpus

runner = CliRunner()


@pytest.fixture()
def guide_env(guide_settings, monkeypatch):
    monkeypatch.setenv("THRIVE_CORPUS_DIR", str(guide_settings.corpus_dir))
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(guide_settings.vectorstore_dir))
    monkeypatch.setenv("THRIVE_LLM", "extractive")
    return guide_settings


def test_ask_json_has_exactly_the_design_md_shape(guide_env):
    result = runner.invoke(
        app, ["ask", "Will AI lower what clients pay me for blog posts?", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"answer", "backend", "refused", "citations", "retrieved"}
    assert out["backend"] == "extractive" and out["refused"] is False
    assert out["retrieved"][0] == "threat-3"
    for citation in out["citations"]:
        assert set(citation) == {"section_id", "title", "snippet"}
        assert citation["section_id"] in out["retrieved"]


def test_ask_with_a_profile_file_personalises_the_answer(guide_env, tmp_path):
    profile = tmp_path / "me.json"
    profile.write_text(json.dumps({"skills": ["logo design"], "experience_years": 3}))
    result = runner.invoke(app, ["ask", "Am I at risk?", "--json", "--profile", str(profile)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "logo design" in out["answer"]


def test_ask_out_of_scope_is_refused_in_json(guide_env):
    out = json.loads(runner.invoke(app, ["ask", "Best pizza in Naples?", "--json"]).stdout)
    assert out["refused"] is True and out["citations"] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"experience_years": -4}', "invalid fields"),
    ],
)
def test_a_bad_profile_file_is_explained(guide_env, tmp_path, content, message):
    profile = tmp_path / "bad.json"
    profile.write_text(content)
    result = runner.invoke(app, ["ask", "Am I at risk?", "--profile", str(profile)])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


def test_a_wrong_llm_spec_is_reported_before_any_question(guide_env):
    result = runner.invoke(app, ["ask", "Am I at risk?", "--llm", "openai:gpt-4o-mini"])
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "OPENAI_API_KEY" in out
    # It names the choice the user made (--llm here), and both ways to the offline coach.
    assert "(openai:gpt-4o-mini)" in out and "--llm extractive" in out


def test_ask_in_plain_text_streams_and_lists_sources(guide_env):
    result = runner.invoke(app, ["ask", "How do I build a personal brand?"])
    assert result.exit_code == 0, result.output
    assert "[strategy-5]" in result.output and "Sources" in result.output
    assert "Answered by extractive" in result.output


def test_chat_keeps_the_history_between_turns(guide_env):
    turns = "I do basic data entry for clients.\nWhat should I do about it?\n\n"
    result = runner.invoke(app, ["chat"], input=turns)
    assert result.exit_code == 0, result.output
    assert result.output.count("Answered by extractive") == 2
    assert "outside what I can help with" not in result.output


def test_ingest_as_a_subprocess_reports_what_changed(fresh_settings):
    env = {
        **os.environ,
        "THRIVE_CORPUS_DIR": str(fresh_settings.corpus_dir),
        "THRIVE_VECTORSTORE_DIR": str(fresh_settings.vectorstore_dir),
    }
    cmd = [sys.executable, "-m", "thrive.cli", "ingest"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    n = len(chunk_sections(read_corpus(fresh_settings.corpus_dir), fresh_settings.chunk_words))
    assert f"{n} added" in first.stdout and "(full rebuild)" in first.stdout
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert f"0 added, 0 updated, 0 deleted, {n} unchanged" in second.stdout


def test_ask_before_any_ingest_says_to_run_ingest(fresh_settings, monkeypatch):
    monkeypatch.setenv("THRIVE_CORPUS_DIR", str(fresh_settings.corpus_dir))
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(fresh_settings.vectorstore_dir))
    result = runner.invoke(app, ["ask", "Am I at risk?", "--llm", "extractive"])
    assert result.exit_code == 1
    assert "thrive ingest" in result.output


def test_thrive_app_serves_the_page_without_a_terminal(guide_settings, tmp_path):
    """`make run` calls `thrive app`: it must start with no terminal to ask questions on."""
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "THRIVE_CORPUS_DIR": str(guide_settings.corpus_dir),
        "THRIVE_VECTORSTORE_DIR": str(guide_settings.vectorstore_dir),
        "THRIVE_DATA_DIR": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "thrive.cli", "app", "--port", str(port), "--no-open"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None and not healthy:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as response:
                    healthy = response.status == 200
            except OSError:
                time.sleep(0.5)
        assert healthy, f"the page did not come up (exit code {proc.poll()})"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}" in output
    assert "Email" not in output
