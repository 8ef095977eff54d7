"""Thrive's settings: one typed object, read once from the environment and passed down."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The repository root when running from a checkout (src/thrive/base/settings.py -> ../../..).
_REPO_ROOT = Path(__file__).resolve().parents[3]


def _default_dir(name: str) -> Path:
    """`corpus/` and `vectorstore/` beside the package in a checkout, else under the cwd."""
    in_checkout = _REPO_ROOT / name
    return in_checkout if (_REPO_ROOT / "pyproject.toml").exists() else Path.cwd() / name


class Settings(BaseSettings):
    """Every knob Thrive has. Environment variables use the prefix `THRIVE_`."""

    model_config = SettingsConfigDict(env_prefix="THRIVE_", extra="ignore")

    llm: str = Field(
        "auto",
        description="auto, extractive, openai:<model>, "
        "openai-compatible:<model>, llamacpp:<path.gguf>",
    )
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server")
    # Sent as a header to the Chroma server (for a proxy in front of it); never logged.
    chroma_token: SecretStr | None = Field(None, description="token for the Chroma server")
    # Guards `thrive serve-api` (all but /healthz) when set; a SecretStr never shows in logs.
    api_token: SecretStr | None = Field(None, description="Bearer token of the HTTP API")
    gguf: Path | None = Field(None, description="GGUF model for the llamacpp backend")
    data_dir: Path = Field(Path(".thrive"), description="conversations, profiles, feedback")
    # A database shared by several hosts, e.g. postgresql+psycopg://user:password@host/thrive;
    # unset means SQLite (thrive.sqlite3) under data_dir. A SecretStr, as it may carry a
    # password: read it through `database()`.
    database_url: SecretStr | None = Field(None, description="SQLAlchemy URL of a shared database")
    corpus_dir: Path = Field(default_factory=lambda: _default_dir("corpus"))
    vectorstore_dir: Path = Field(default_factory=lambda: _default_dir("vectorstore"))
    collection: str = "thrive-guide"
    top_k: int = Field(5, ge=1, le=50)
    # A question whose best dense similarity to any chunk or line key of the guide is below
    # this is "not about the guide" (unless it is a short question about the user's own
    # work). Calibrated on the dev split (evals/dev.jsonl): off-topic questions score up to
    # 0.219 but one (0.301, learning the guitar), standalone coaching questions from 0.227.
    scope_threshold: float = 0.22
    chunk_words: int = Field(180, ge=40, le=2000)
    max_input_chars: int = Field(4000, ge=100)
    max_answer_tokens: int = Field(512, ge=16)
    # The answering model's context window: prompts are trimmed to fit it (coaching/fitting).
    # 4,096 is llama.cpp's default here and well inside every hosted model's window.
    context_tokens: int = Field(4096, ge=1024)
    # A SecretStr: printed, logged or dumped it shows as '**********'.
    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "THRIVE_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "THRIVE_OPENAI_BASE_URL")
    )
    # Per attempt: the wait for a connection, and for each piece of a streamed answer.
    request_timeout_s: float = Field(60.0, gt=0)
    # Retries of a failed request to an LLM server (429, 5xx, timeouts, refused connections),
    # with the openai client's backoff; a server's Retry-After is honoured up to the cap.
    max_retries: int = Field(2, ge=0, le=10)
    retry_after_cap_s: float = Field(10.0, ge=0)

    @property
    def uses_server_store(self) -> bool:
        return bool(self.chroma_url)

    def api_key(self) -> str | None:
        """The key itself, for the one place that sends it (the openai client)."""
        return _revealed(self.openai_api_key)

    def database(self) -> str | None:
        """The shared database's URL itself, for the places that connect to it."""
        return _revealed(self.database_url)

    def cache_key(self) -> str:
        """Identifies these settings for a cache. Secrets (the API key, tokens) enter only
        as SHA-256 digests: never themselves, yet two different keys never share a cached
        coach, as their '**********' dumps would."""
        secret = [n for n, f in type(self).model_fields.items() if "SecretStr" in str(f.annotation)]
        digests = {}
        for name in secret:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            digests[name] = hashlib.sha256(value.encode()).hexdigest() if value else ""
        return f"{self.model_dump_json(exclude=set(secret))}|{sorted(digests.items())}"


def _revealed(value: SecretStr | str | None) -> str | None:
    if isinstance(value, SecretStr):  # model_copy(update=...) may have put a plain str here
        return value.get_secret_value() or None
    return value or None


def load_settings(**overrides: object) -> Settings:
    """Read the environment once; keyword overrides win (e.g. `llm="extractive"`)."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
