"""Shared fixtures: an isolated environment and one index of the bundled guide per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# No test may reach a real model provider or read a developer's configuration by accident.
for _name in list(os.environ):
    if _name.startswith("THRIVE_") or _name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        del os.environ[_name]
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from thrive.base.settings import Settings  # noqa: E402
from thrive.coaching.coach import Coach  # noqa: E402
from thrive.knowledge.ingest import ingest  # noqa: E402


def make_settings(root: Path, **overrides: object) -> Settings:
    """Settings rooted in a temporary folder, with a copy of the bundled corpus."""
    corpus = root / "corpus"
    if not corpus.exists():
        shutil.copytree(REPO / "corpus", corpus)
    values: dict[str, object] = {
        "corpus_dir": corpus,
        "vectorstore_dir": root / "vectorstore",
        "data_dir": root / "data",
        "llm": "extractive",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def guide_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The bundled guide, indexed once for the whole session. Tests must not change it."""
    settings = make_settings(tmp_path_factory.mktemp("guide"))
    ingest(settings)
    return settings


@pytest.fixture()
def fresh_settings(tmp_path: Path) -> Settings:
    """A private corpus copy and an empty store, for tests that change things."""
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def coach(guide_settings: Settings) -> Coach:
    return Coach.from_settings(guide_settings, llm="extractive")


@pytest.fixture()
def data_dir(guide_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The page's environment: the shared index, a private data folder, the offline coach."""
    monkeypatch.setenv("THRIVE_CORPUS_DIR", str(guide_settings.corpus_dir))
    monkeypatch.setenv("THRIVE_VECTORSTORE_DIR", str(guide_settings.vectorstore_dir))
    monkeypatch.setenv("THRIVE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("THRIVE_LLM", "extractive")
    return tmp_path / "data"


@pytest.fixture()
def chdir_tmp(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


# The storage suite's databases: `user_db` runs a test on SQLite and on a real PostgreSQL.
from pg_server import postgres, user_db  # noqa: E402, F401
