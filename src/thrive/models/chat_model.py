"""Backends backed by a LangChain chat model: OpenAI, any OpenAI-compatible server, fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from thrive.base.errors import BackendUnavailable, ConfigurationError, ThriveError
from thrive.base.schema import AnswerRequest
from thrive.base.settings import Settings
from thrive.models.base import Backend
from thrive.models.registry import register


class ChatModelBackend(Backend):
    """Any LangChain chat model, fed the prompt the chain built."""

    def __init__(self, model: BaseChatModel, name: str, where: str = "") -> None:
        self.model = model
        self.name = name
        self.where = where  # shown in errors: the server the model lives on
        self._chain = model | StrOutputParser()

    def stream(self, request: AnswerRequest) -> Iterator[str]:
        try:
            yield from self._chain.stream(request.messages)
        except Exception as err:
            raise _translate(err, self.name, self.where) from err


def _translate(err: Exception, name: str, where: str) -> Exception:
    """openai's exceptions to ours, each naming the fix."""
    import openai

    if isinstance(err, openai.AuthenticationError):
        return ConfigurationError(
            f"The server rejected the API key for {name}.", fix="Check OPENAI_API_KEY."
        )
    if isinstance(err, openai.NotFoundError):
        return ConfigurationError(
            f"The model of {name} was not found on {where or 'the server'}.",
            fix="Check the model name in THRIVE_LLM.",
        )
    if isinstance(err, openai.APIConnectionError | openai.APITimeoutError):
        return BackendUnavailable(
            f"Cannot reach the LLM server for {name} at {where or 'its address'}.",
            fix="Start the server or fix OPENAI_BASE_URL; or use THRIVE_LLM=extractive.",
        )
    if isinstance(err, openai.APIError):
        return BackendUnavailable(
            f"The LLM server for {name} failed: {err}.",
            fix="Try again, or use THRIVE_LLM=extractive.",
        )
    if isinstance(err, ThriveError):
        return err
    # Anything else (a malformed reply the client could not parse, a cut stream) is still
    # the backend failing: said as such, so the page's fallback to the offline coach runs.
    return BackendUnavailable(
        f"The LLM backend {name} failed ({type(err).__name__}: {err}).",
        fix="Try again, or use THRIVE_LLM=extractive.",
    )


def _chat_openai(model: str, settings: Settings, **kwargs: Any) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        timeout=settings.request_timeout_s,
        max_retries=1,
        streaming=True,
        stream_usage=True,
        **kwargs,
    )


@register("openai")
def _openai(model: str, settings: Settings) -> Backend:
    if not settings.openai_api_key:
        raise ConfigurationError(
            "THRIVE_LLM asks for OpenAI but OPENAI_API_KEY is not set.",
            fix="Run `export OPENAI_API_KEY=sk-...`, or set THRIVE_LLM=extractive for the "
            "offline coach.",
        )
    model = model or "gpt-4o-mini"
    chat = _chat_openai(
        model,
        settings,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        max_completion_tokens=settings.max_answer_tokens,
    )
    return ChatModelBackend(chat, f"openai:{model}", settings.openai_base_url or "api.openai.com")


@register("openai-compatible")
def _openai_compatible(model: str, settings: Settings) -> Backend:
    if not settings.openai_base_url:
        raise ConfigurationError(
            "THRIVE_LLM asks for an OpenAI-compatible server but OPENAI_BASE_URL is not set.",
            fix="Set it to the server's /v1 URL, e.g. `export OPENAI_BASE_URL="
            "http://127.0.0.1:11434/v1` for Ollama.",
        )
    model = model or "default"
    # Local servers (llama.cpp's among them) ignore `max_completion_tokens`, which
    # langchain-openai sends, and would run to the context limit; `max_tokens` bounds them.
    chat = _chat_openai(
        model,
        settings,
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url,
        extra_body={"max_tokens": settings.max_answer_tokens},
    )
    return ChatModelBackend(chat, f"openai-compatible:{model}", settings.openai_base_url)
