"""deploy/compose.yaml: valid by the Compose Specification's own schema (vendored in
deploy/schema/, so a fresh clone checks it offline), wired as docs/deploy.md says, and
running only `thrive` commands that exist and that the tests run."""

from __future__ import annotations

import ast
import copy
import inspect
import json
from pathlib import Path
from typing import Any

import chromadb
import jsonschema
import pytest
import typer.main
import yaml

from thrive.bench.servers import api_server
from thrive.cli.main import app

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"

# Each `thrive` subcommand the deployment runs, and the test that runs it for real.
TESTED_BY = {
    "app": ("tests/test_cli.py", "test_thrive_app_serves_the_page_without_a_terminal"),
    "ingest": ("tests/test_cli.py", "test_ingest_as_a_subprocess_reports_what_changed"),
    "serve-api": ("tests/test_api_http.py", "test_healthz_answers_without_a_token"),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text())
    assert schema["$schema"].startswith("https://json-schema.org/draft-07/")
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_schema_is_vendored_with_its_licence():
    assert "Apache License" in (DEPLOY / "schema" / "LICENSE").read_text()
    assert "compose-spec/compose-spec" in (DEPLOY / "schema" / "SOURCE").read_text()


def test_compose_yaml_is_valid_by_the_compose_specification(compose, validator):
    problems = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert problems == []


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c["services"]["page"].update(comand=["thrive", "app"]),
        lambda c: c["services"]["page"]["depends_on"]["ingest"].update(condition="done"),
        lambda c: c["services"]["postgres"]["healthcheck"].update(interval=[10]),
        lambda c: c.update(secrets={"thrive_auth": {"path": "./x"}}),
    ],
    ids=["misspelt-key", "unknown-condition", "bad-healthcheck", "bad-secret"],
)
def test_the_validation_catches_a_broken_file(compose, validator, breakage):
    broken = copy.deepcopy(compose)
    breakage(broken)
    assert list(validator.iter_errors(broken))


def _commands(compose: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: service["command"]
        for name, service in compose["services"].items()
        if isinstance(service.get("command"), list) and service["command"][0] == "thrive"
    }


def test_every_thrive_command_is_real_and_run_by_a_test(compose):
    commands = _commands(compose)
    assert set(commands) == {"page", "api", "ingest"}
    cli = typer.main.get_command(app)
    for service, argv in commands.items():
        # Parsing the arguments as `thrive` would: an unknown command or option fails here.
        ctx = cli.make_context("thrive", argv[1:], resilient_parsing=False)
        name, command, rest = cli.resolve_command(ctx, argv[1:])  # type: ignore[attr-defined]
        assert command is not None, service
        command.make_context(name, rest)
        assert name in TESTED_BY, f"{service}: no test runs `thrive {name}`"
        path, test_name = TESTED_BY[name]
        source = (REPO / path).read_text()
        tests = {n.name: n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
        assert test_name in tests, f"{path}::{test_name} is gone"
        body = ast.get_source_segment(source, tests[test_name]) or ""
        runs_it = f'"{name}"' in body or f"'{name}'" in body
        if name == "serve-api":  # through its fixture, which starts api_server
            runs_it = "def api(" in source and '"serve-api"' in inspect.getsource(api_server)
        assert runs_it, f"{path}::{test_name} does not run `thrive {name}`"


def test_page_and_api_scale_out_behind_the_proxy(compose):
    services = compose["services"]
    for name in ("page", "api"):
        assert services[name]["deploy"]["replicas"] >= 2
        assert "ports" not in services[name], f"{name} is reached only through the proxy"
    mounts = [v.split(":") for v in services["proxy"]["volumes"]]
    config = next(DEPLOY / src for src, dst, *_ in mounts if dst == "/etc/caddy/Caddyfile")
    caddyfile = config.read_text()
    page_site = caddyfile.split(":80 {")[1].split("\n}\n")[0]
    assert "dynamic a page 8501" in page_site and "lb_policy cookie" in page_site
    assert "dynamic a api 8000" in caddyfile
    assert {"--host", "0.0.0.0"} <= set(services["page"]["command"])
    assert {"--host", "0.0.0.0"} <= set(services["api"]["command"])


def test_the_shared_parts_are_wired(compose):
    services = compose["services"]
    assert services["chroma"]["image"] == f"chromadb/chroma:{chromadb.__version__}"
    assert any(v.startswith("chroma-data:") for v in services["chroma"]["volumes"])
    assert services["postgres"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert set(compose["volumes"]) == {"chroma-data", "postgres-data"}
    for name in ("page", "api", "ingest"):
        env = services[name]["environment"]
        assert env["THRIVE_CHROMA_URL"] == "http://chroma:8000"
        assert "@postgres:5432/" in env["THRIVE_DATABASE_URL"]
        assert env["OPENAI_BASE_URL"] == "http://model:8080/v1"
    assert services["api"]["environment"]["THRIVE_API_TOKEN"].startswith("${THRIVE_API_TOKEN:?")
    depends = services["page"]["depends_on"]
    assert depends["ingest"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == "service_healthy"


def test_sign_in_settings_are_a_secret_mounted_where_streamlit_reads_them(compose):
    (secret,) = compose["services"]["page"]["secrets"]
    assert secret["target"] == "/app/.streamlit/secrets.toml"
    assert compose["secrets"][secret["source"]]["file"] == "./secrets/auth.toml"
    example = (DEPLOY / "secrets" / "auth.toml.example").read_text()
    assert "[auth]" in example and "cookie_secret" in example
    assert "secrets/*" in (DEPLOY / ".gitignore").read_text()


def test_the_image_builds_from_the_repo_with_the_dockerfile_here(compose):
    build = compose["x-thrive"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO and (context / build["dockerfile"]).is_file()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for copied in ("pyproject.toml", "src/", "app.py", "corpus/"):
        assert f"COPY {copied}" in dockerfile


def test_docs_walk_through_every_service(compose):
    guide = (REPO / "docs" / "deploy.md").read_text()
    for name in compose["services"]:
        assert f"`{name}`" in guide, f"docs/deploy.md does not mention the `{name}` service"
