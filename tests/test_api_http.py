"""`thrive serve-api`: the real server (uvicorn, in a subprocess on loopback) called over
HTTP; its JSON and its error messages are the CLI's for the same input."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from thrive.api import create_app
from thrive.bench.servers import api_server
from thrive.cli.main import app as cli

pytestmark = [pytest.mark.integration]

TOKEN = "test-token-4f1c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROFILE = {"occupation": "translator", "skills": ["subtitling"], "experience_years": 6}


def _env(settings, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "THRIVE_CORPUS_DIR": str(settings.corpus_dir),
        "THRIVE_VECTORSTORE_DIR": str(settings.vectorstore_dir),
        "THRIVE_DATA_DIR": str(tmp / "data"),
        "THRIVE_LLM": "extractive",
    }


@pytest.fixture(scope="module")
def api(guide_settings, tmp_path_factory) -> Iterator[httpx.Client]:
    env = {**_env(guide_settings, tmp_path_factory.mktemp("api")), "THRIVE_API_TOKEN": TOKEN}
    with api_server(env) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


@pytest.fixture()
def cli_env(guide_settings, tmp_path, monkeypatch) -> Path:
    for name, value in _env(guide_settings, tmp_path).items():
        if name.startswith("THRIVE_"):
            monkeypatch.setenv(name, value)
    return tmp_path


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def cli_error(*args: str) -> str:
    """What the CLI says after "Error:" for this input."""
    code, _, err = run_cli(*args)
    assert code == 1 and err.startswith("Error: "), err
    return err.removeprefix("Error: ").strip()


def test_healthz_answers_without_a_token(api):
    response = api.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ask_answers_with_the_json_of_thrive_ask(api, cli_env):
    question = "I translate legal contracts. Will AI take my clients?"
    profile = cli_env / "me.json"
    profile.write_text(json.dumps(PROFILE))
    response = api.post("/v1/ask", json={"question": question, "profile": PROFILE}, headers=AUTH)
    assert response.status_code == 200, response.text
    code, out, _ = run_cli("ask", question, "--json", "--profile", str(profile))
    assert code == 0
    assert response.json() == json.loads(out)
    assert response.json()["answer"].startswith("**Your work: translating legal contracts.**")


def test_ask_follows_the_history(api):
    history = [
        {"role": "user", "content": "I'm a freelance translator."},
        {"role": "assistant", "content": "Translation is highly exposed to AI [threat-1]."},
    ]
    body = {"question": "What should I do about it?", "history": history}
    answer = api.post("/v1/ask", json=body, headers=AUTH).json()
    assert answer["refused"] is False and answer["citations"]
    alone = api.post("/v1/ask", json={"question": body["question"]}, headers=AUTH).json()
    assert answer["answer"] != alone["answer"]


def _events(response: httpx.Response) -> list[tuple[str, object]]:
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
    return events


def test_a_streamed_answer_is_tokens_then_the_full_json(api):
    body = {"question": "How do I build a personal brand?", "profile": PROFILE}
    with api.stream("POST", "/v1/ask", json={**body, "stream": True}, headers=AUTH) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    names = [name for name, _ in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"token"} and len(names) > 10
    final = events[-1][1]
    assert isinstance(final, dict)
    assert "".join(str(data) for _, data in events[:-1]).strip() == final["answer"]
    assert final == api.post("/v1/ask", json=body, headers=AUTH).json()


def test_a_client_that_leaves_mid_stream_leaves_the_server_answering(api):
    body = {"question": "How do I niche down?", "stream": True}
    for _ in range(3):
        with api.stream("POST", "/v1/ask", json=body, headers=AUTH) as response:
            assert next(response.iter_lines()) == "event: token"
    answer = api.post("/v1/ask", json={"question": "How do I niche down?"}, headers=AUTH)
    assert answer.status_code == 200 and answer.json()["citations"]


def test_exposure_and_niches_answer_with_the_cli_json(api, cli_env):
    skills = ["basic data entry", "brand strategy"]
    response = api.post("/v1/exposure", json={"skills": skills}, headers=AUTH)
    assert response.status_code == 200, response.text
    code, out, _ = run_cli("exposure", "--skills", "; ".join(skills), "--json")
    assert code == 0 and response.json() == json.loads(out)
    assert [row["level"] for row in response.json()] == ["high", "low"]

    profile = cli_env / "me.json"
    profile.write_text(json.dumps(PROFILE))
    response = api.post("/v1/niches", json={"profile": PROFILE}, headers=AUTH)
    assert response.status_code == 200, response.text
    code, out, _ = run_cli("niches", "--profile", str(profile), "--json")
    assert code == 0 and response.json() == json.loads(out)
    assert len(response.json()) >= 3


ROUTES = [
    ("/v1/ask", {"question": "Am I at risk?"}),
    ("/v1/exposure", {"skills": ["copywriting"]}),
    ("/v1/niches", {"profile": PROFILE}),
]


@pytest.mark.parametrize(("path", "body"), ROUTES)
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "This API needs a token."),
        ({"Authorization": "Bearer not-the-token"}, "The token is wrong."),
        ({"Authorization": f"Bearer {TOKEN}x"}, "The token is wrong."),
        ({"Authorization": f"Basic {TOKEN}"}, "This API needs a token."),
    ],
)
def test_every_route_but_healthz_needs_the_token(api, path, body, headers, message):
    response = api.post(path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["message"] == message
    assert "THRIVE_API_TOKEN" in response.json()["fix"]


@pytest.mark.parametrize(
    ("path", "body", "cli_args"),
    [
        ("/v1/ask", {"question": "   "}, ["ask", "   ", "--json"]),
        ("/v1/ask", {"question": "a" * 4001}, ["ask", "a" * 4001, "--json"]),
        ("/v1/ask", {"question": "hi\x00there"}, ["ask", "hi\x00there", "--json"]),
        ("/v1/exposure", {"skills": ["x" * 201]}, ["exposure", "--skills", "x" * 201]),
        (
            "/v1/exposure",
            {"skills": [f"skill {i}" for i in range(101)]},
            ["exposure", "--skills", "; ".join(f"skill {i}" for i in range(101))],
        ),
    ],
    ids=["empty", "too-long", "binary", "long-skill", "too-many-skills"],
)
def test_bad_input_gets_422_with_the_cli_message(api, cli_env, path, body, cli_args):
    response = api.post(path, json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == cli_error(*cli_args)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"question": "Am I at risk?", "profile": {"experience_years": -3}}, "profile"),
        ({"question": "Am I at risk?", "profile": ["a", "list"]}, "profile"),
        ({"question": "And then?", "history": [{"content": "no role"}]}, "History item 1 "),
        ({"profile": PROFILE}, "question: Field required"),
        ({"question": 42}, "question: Input should be a valid string"),
        ({"question": "Am I at risk?", "stream": True, "extra": 1}, "extra: Extra inputs"),
    ],
)
def test_a_malformed_body_is_422_with_a_readable_message(api, body, says):
    for stream in (False, True):
        response = api.post("/v1/ask", json={**body, "stream": stream}, headers=AUTH)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/json"
        assert says in response.json()["detail"]
        assert "Traceback" not in response.text


def test_a_body_that_is_not_json_is_422(api):
    response = api.post(
        "/v1/ask", content=b"{question", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_a_body_over_one_megabyte_is_413(api):
    response = api.post("/v1/ask", json={"question": "a" * 1_100_000}, headers=AUTH)
    assert response.status_code == 413


def test_the_openapi_docs_are_served(api):
    page = api.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    spec = api.get("/openapi.json").json()
    assert {"/v1/ask", "/v1/exposure", "/v1/niches", "/healthz"} <= set(spec["paths"])
    assert "profile" in spec["components"]["schemas"]["AskRequest"]["properties"]


def test_without_a_configured_token_the_routes_are_open(coach):
    client = TestClient(create_app(coach.settings, coach))
    response = client.post("/v1/exposure", json={"skills": ["copywriting"]})
    assert response.status_code == 200 and response.json()[0]["skill"] == "copywriting"
