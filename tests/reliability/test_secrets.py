"""The API key never shows: not in settings' dumps or cache keys, log lines, error messages,
reports or exports. A fake key is planted in the environment (and in Streamlit's secrets),
the CLI, the Python API and the page are run against a server that fails, and every output
they produce is searched for it. The fault server's `echo_key` mode repeats the request's
Authorization header in its error, as a leaky proxy would: the worst case for a message."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from reliability.fault_server import FaultServer
from thrive.base.errors import BackendUnavailable
from thrive.base.settings import Settings, load_settings
from thrive.coaching.coach import Coach

PLANTED = f"sk-test-PLANTED-{uuid.uuid4().hex}"
QUESTION = "How do I find a niche as a copywriter?"


def leaks(texts: dict[str, str], folders: list[Path], secret: str = PLANTED) -> list[str]:
    """Where `secret` appears: the names of the texts and files (any file under `folders`,
    read as bytes) that contain it."""
    found = [name for name, text in texts.items() if secret in text]
    needle = secret.encode()
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if needle in path.read_bytes():
                found.append(str(path))
    return found


def assert_no_leak(texts: dict[str, str], folders: list[Path] = ()) -> None:  # type: ignore[assignment]
    where = leaks(texts, list(folders))
    assert not where, f"the API key leaked into: {', '.join(where)}"


def test_the_check_catches_a_deliberate_leak(tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "report.json").write_text(json.dumps({"key": PLANTED}))
    with pytest.raises(AssertionError, match=r"report\.json"):
        assert_no_leak({"stdout": "clean"}, [tmp_path])
    with pytest.raises(AssertionError, match="stderr"):
        assert_no_leak({"stderr": f"Error: bad key {PLANTED}"})
    assert_no_leak({"stdout": PLANTED[:-1]})  # only the whole key counts


@pytest.fixture()
def server() -> Iterator[FaultServer]:
    fault = FaultServer().behave("echo_key")
    try:
        yield fault
    finally:
        fault.stop()


def saw_the_key(server: FaultServer, authorizations: list[str]) -> bool:
    return any(PLANTED in a for a in authorizations)


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["OPENAI_API_KEY", "THRIVE_OPENAI_API_KEY"])
def test_the_key_from_the_environment_is_a_secret(monkeypatch, variable):
    monkeypatch.setenv(variable, PLANTED)
    settings = load_settings()
    assert isinstance(settings.openai_api_key, SecretStr)
    assert settings.api_key() == PLANTED  # read, so the checks below are not vacuous
    assert_no_leak(
        {
            "repr": repr(settings),
            "str": str(settings),
            "dump": json.dumps(settings.model_dump(mode="json")),
            "dump_json": settings.model_dump_json(),
            "cache_key": settings.cache_key(),
        }
    )


def test_a_database_password_from_the_environment_is_a_secret(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path}/shared.sqlite3?password={PLANTED}"
    monkeypatch.setenv("THRIVE_DATABASE_URL", url)
    settings = load_settings()
    assert settings.database() == url  # read, so the checks below are not vacuous
    assert_no_leak(
        {
            "repr": repr(settings),
            "dump_json": settings.model_dump_json(),
            "cache_key": settings.cache_key(),
        }
    )
    other = load_settings(database_url=url.replace(PLANTED, PLANTED + "x"))
    assert other.cache_key() != settings.cache_key()


def test_two_keys_never_share_a_cache_entry():
    one, other = Settings(openai_api_key=PLANTED), Settings(openai_api_key=PLANTED + "x")
    # A '**********' dump would make these collide: a coach built with one key served to
    # a configuration with another.
    assert one.model_dump_json() == other.model_dump_json()
    assert one.cache_key() != other.cache_key()
    assert one.cache_key() == Settings(openai_api_key=PLANTED).cache_key()
    assert Settings().cache_key() != one.cache_key()


# -- the Python API, against a server that fails -------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("llm", ["openai:gpt-4o-mini", "openai-compatible:auto"])
def test_errors_notices_logs_and_exports_never_carry_the_key(
    guide_settings, server, caplog, tmp_path, llm
):
    from thrive.base.storage import UserData

    caplog.set_level(logging.DEBUG)  # every logger, the openai and httpx clients' too
    settings = guide_settings.model_copy(
        update={
            "llm": llm,
            "openai_api_key": SecretStr(PLANTED),
            "openai_base_url": server.url,
            "max_retries": 0,
        }
    )
    with pytest.raises(BackendUnavailable) as err:
        Coach(settings).ask(QUESTION)
    answer = Coach(settings, fallback=True).ask(QUESTION)
    data = UserData(tmp_path / "data")
    conversation = data.new_conversation("Niche")
    data.add_message(conversation.id, "user", QUESTION)
    data.add_message(conversation.id, "assistant", answer.text, {"notice": answer.notice})
    assert saw_the_key(server, server.authorizations)  # the key was sent: not vacuous
    assert "HTTP 500" in str(err.value) and "[key hidden]" in str(err.value)
    assert answer.backend == "extractive" and "HTTP 500" in answer.notice
    assert_no_leak(
        {
            "error": str(err.value),
            "repr": repr(err.value),
            "traceback": "".join(traceback.format_exception(err.value)),
            "notice": answer.notice,
            "answer": json.dumps(answer.to_json()),
            "logs": caplog.text,
            "export": data.export_markdown(conversation.id),
        },
        [tmp_path],
    )


# -- the CLI, as a user runs it ---------------------------------------------------------------


def run_thrive(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "thrive.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture()
def cli_env(guide_settings, server, tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "OPENAI_API_KEY": PLANTED,
        "OPENAI_BASE_URL": server.url,
        "THRIVE_CORPUS_DIR": str(guide_settings.corpus_dir),
        "THRIVE_VECTORSTORE_DIR": str(guide_settings.vectorstore_dir),
        "THRIVE_DATA_DIR": str(tmp_path / "data"),
        "THRIVE_MAX_RETRIES": "0",
        "PYTHONWARNINGS": "always",  # warnings are outputs too
    }


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_thrive_ask_never_prints_the_key(cli_env, server, tmp_path):
    failed = run_thrive(["ask", "--json", QUESTION], cli_env, tmp_path)  # auto: OpenAI
    answered = run_thrive(["ask", "--json", "--llm", "extractive", QUESTION], cli_env, tmp_path)
    assert failed.returncode == 1 and "HTTP 500" in failed.stderr, failed.stderr
    assert saw_the_key(server, server.authorizations)
    assert answered.returncode == 0 and json.loads(answered.stdout)["backend"] == "extractive"
    assert_no_leak(
        {
            "ask stdout": failed.stdout,
            "ask stderr": failed.stderr,
            "extractive stdout": answered.stdout,
            "extractive stderr": answered.stderr,
        },
        [tmp_path],
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_thrive_eval_reports_never_carry_the_key(cli_env, server, tmp_path):
    dataset = tmp_path / "tiny.jsonl"
    cases = [
        {
            "id": "q01",
            "kind": "answerable",
            "question": QUESTION,
            "gold_sections": ["strategy-2"],
            "key_points": ["niche"],
        },
        {"id": "o01", "kind": "out_of_scope", "question": "How do I bake sourdough bread?"},
    ]
    dataset.write_text("".join(json.dumps(c) + "\n" for c in cases))
    failed = run_thrive(
        ["eval", "--dataset", str(dataset), "--llm", "openai:gpt-4o-mini", "--out", "failed"],
        cli_env,
        tmp_path,
    )
    done = run_thrive(["eval", "--dataset", str(dataset), "--out", "report"], cli_env, tmp_path)
    assert failed.returncode == 1 and "HTTP 500" in failed.stderr, failed.stderr
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report" / "report.json").is_file()
    assert_no_leak(
        {
            "failed stdout": failed.stdout,
            "failed stderr": failed.stderr,
            "eval stdout": done.stdout,
            "eval stderr": done.stderr,
        },
        [tmp_path],
    )


@pytest.mark.skip(
    reason="`thrive bench` takes minutes even with --quick on 2 cores; it builds its own "
    "Settings per stage and writes only measurements and its BenchConfig (no Settings "
    "field), and it never talks to an LLM server: see test_bench_writes_no_settings"
)
def test_thrive_bench_never_writes_the_key():
    """Placeholder, so the skipped output shows in the test report."""


def test_bench_writes_no_settings():
    import dataclasses

    from thrive.bench.config import BenchConfig

    names = {f.name for f in dataclasses.fields(BenchConfig)}
    assert not names & set(Settings.model_fields), names & set(Settings.model_fields)


# -- the page, with the key in Streamlit's secrets ---------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_page_reads_the_key_from_streamlit_secrets_and_never_shows_it(
    guide_settings, server, tmp_path, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    from page_driver import APP, ask

    # Streamlit copies root-level secrets into os.environ: restore it afterwards.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("THRIVE_CORPUS_DIR", str(guide_settings.corpus_dir))
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(guide_settings.vectorstore_dir))
    monkeypatch.setenv("THRIVE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("THRIVE_LLM", "openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("THRIVE_MAX_RETRIES", "0")
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.secrets["OPENAI_API_KEY"] = PLANTED
    at.run()
    assert not at.exception, at.exception
    ask(at, "I write blog posts and product descriptions. Am I at risk?")  # not a tool's
    assert saw_the_key(server, server.authorizations)  # the secret was read and sent
    reply = [m for m in at.chat_message if m.name == "assistant"][-1]
    assert any("HTTP 500" in w.value for w in reply.warning)
    shown = [
        str(getattr(e, "value", ""))
        for kind in ("markdown", "warning", "error", "caption", "info")
        for e in getattr(at, kind)
    ]
    assert_no_leak({"page": "\n".join(shown)}, [tmp_path])
