"""Backends backed by a LangChain chat model: OpenAI, any OpenAI-compatible server, fakes.

Retries and timeouts are the openai client's own (`max_retries` with exponential backoff,
Retry-After honoured): Thrive only sets them from the settings and caps a server's
Retry-After, so that a 429 asking for an hour is retried after `retry_after_cap_s`
instead of not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel

from thrive.base.errors import BackendUnavailable, ConfigurationError, ThriveError
from thrive.base.schema import AnswerRequest
from thrive.base.settings import Settings
from thrive.models.base import Backend
from thrive.models.registry import register

#: `openai-compatible:auto` (or no model at all) asks the server which model it serves.
AUTO_MODEL = "auto"


class ChatModelBackend(Backend):
    """Any LangChain chat model, fed the prompt the chain built."""

    def __init__(
        self,
        model: BaseChatModel,
        name: str,
        where: str = "",
        *,
        secret: str | None = None,
        expect_finish: bool = False,
    ) -> None:
        self.model = model
        self.name = name
        self.where = where  # shown in errors: the server the model lives on
        self._secret = secret  # masked in every message, should a server echo it back
        # OpenAI-compatible servers end a complete answer with a finish reason; a stream
        # that just stops without one was cut (a dropped connection, a crashed server).
        self.expect_finish = expect_finish

    def stream(self, request: AnswerRequest) -> Iterator[str]:
        finished = False
        try:
            for chunk in self.model.stream(request.messages):
                if isinstance(chunk, str):
                    piece = chunk
                else:
                    piece = chunk.text
                    finished = finished or bool(chunk.response_metadata.get("finish_reason"))
                if piece:
                    yield piece
        except Exception as err:
            translated = _translate(err, self.name, self.where)
            if self._secret and self._secret in str(err):
                # the server echoed the key: keep its text out of the message and traceback
                raise _masked(translated, self._secret) from None
            if translated is err:
                raise
            raise translated from err
        if self.expect_finish and not finished:
            raise BackendUnavailable(
                f"The answer from {self.name} was cut off: the server stopped sending before "
                "the end, so the text so far is incomplete.",
                fix="Ask again; if it keeps happening, check the server at "
                f"{self.where or 'its address'}, or use THRIVE_LLM=extractive.",
            )


def _masked(err: Exception, secret: str | None) -> Exception:
    """`err` with the API key blanked out of its message (a proxy may echo headers)."""
    if not secret or secret not in str(err):
        return err
    if isinstance(err, ThriveError):
        return type(err)(
            err.message.replace(secret, "[key hidden]"),
            fix=err.fix.replace(secret, "[key hidden]") if err.fix else None,
        )
    return BackendUnavailable(str(err).replace(secret, "[key hidden]"))


def _translate(err: Exception, name: str, where: str) -> Exception:
    """openai's exceptions to ours, each naming the fix. (Raised `from None` by the
    caller: the original's text, which may carry a server's reply, stays out of tracebacks.)"""
    import openai

    if isinstance(err, openai.AuthenticationError):
        return ConfigurationError(
            f"The server rejected the API key for {name}.", fix="Check OPENAI_API_KEY."
        )
    if isinstance(err, openai.NotFoundError):
        return ConfigurationError(
            f"The model of {name} was not found on {where or 'the server'}.",
            fix="Check the model name in THRIVE_LLM, or use openai-compatible:auto to take "
            "the model the server serves.",
        )
    if isinstance(err, openai.RateLimitError):
        return BackendUnavailable(
            f"The LLM server for {name} is rate-limiting requests (429) and still was after "
            "the retries.",
            fix="Wait a minute and ask again, raise THRIVE_MAX_RETRIES, or use "
            "THRIVE_LLM=extractive.",
        )
    if isinstance(err, openai.APITimeoutError):
        return BackendUnavailable(
            f"The LLM server for {name} at {where or 'its address'} did not answer in time.",
            fix="Check that it is running and not overloaded, raise THRIVE_REQUEST_TIMEOUT_S, "
            "or use THRIVE_LLM=extractive.",
        )
    if _dropped(err):
        return BackendUnavailable(
            f"The connection to the LLM server for {name} dropped mid-answer; the text so "
            "far is incomplete.",
            fix="Ask again; if it keeps happening, check the server, or use THRIVE_LLM=extractive.",
        )
    if isinstance(err, openai.APIConnectionError):
        return BackendUnavailable(
            f"Cannot reach the LLM server for {name} at {where or 'its address'}.",
            fix="Start the server or fix OPENAI_BASE_URL; or use THRIVE_LLM=extractive.",
        )
    if isinstance(err, openai.APIStatusError):
        return BackendUnavailable(
            f"The LLM server for {name} failed with HTTP {err.status_code}: {_short(err.message)}.",
            fix="Try again, check the server's log, or use THRIVE_LLM=extractive.",
        )
    if isinstance(err, openai.APIError):
        return BackendUnavailable(
            f"The LLM server for {name} failed: {_short(str(err))}.",
            fix="Try again, or use THRIVE_LLM=extractive.",
        )
    if isinstance(err, ThriveError):
        return err
    if isinstance(err, json.JSONDecodeError):
        return BackendUnavailable(
            f"The LLM server for {name} sent a reply that is not valid JSON.",
            fix="Check that OPENAI_BASE_URL points at an OpenAI-compatible /v1 endpoint, or "
            "use THRIVE_LLM=extractive.",
        )
    if isinstance(err, TimeoutError) or "Timeout" in type(err).__name__:
        return BackendUnavailable(
            f"The LLM server for {name} stopped sending mid-answer for longer than the "
            "timeout; the text so far is incomplete.",
            fix="Ask again, raise THRIVE_REQUEST_TIMEOUT_S, or use THRIVE_LLM=extractive.",
        )
    # Anything else (an unexpected reply, a bug in a client library) is still the
    # backend failing: said as such, so the page's fallback to the offline coach runs.
    return BackendUnavailable(
        f"The LLM backend {name} failed ({type(err).__name__}: {_short(str(err))}).",
        fix="Try again, or use THRIVE_LLM=extractive.",
    )


def _dropped(err: BaseException) -> bool:
    """Whether the connection broke after the server began to answer (not refused)."""
    seen: BaseException | None = err
    for _ in range(8):  # the client wraps httpx, which wraps httpcore, which wraps h11
        if seen is None:
            return False
        if type(seen).__name__ in ("RemoteProtocolError", "ReadError"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cap_retry_after(cap_s: float) -> Any:
    """An httpx response hook that lowers a server's Retry-After to `cap_s`. The openai
    client honours Retry-After only up to two minutes and does not retry at all above that;
    capped, a page waits at most `cap_s` a retry and still gets its bounded retries."""

    def hook(response: Any) -> None:
        for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
            value = response.headers.get(header)
            if value is None:
                continue
            try:
                seconds = float(value) / scale
            except ValueError:  # an HTTP date: the cap stands in for it
                seconds = cap_s + 1
            if seconds > cap_s:
                response.headers[header] = f"{cap_s * scale:g}"

    return hook


def _http_client(settings: Settings) -> Any:
    import openai

    return openai.DefaultHttpxClient(
        timeout=settings.request_timeout_s,
        event_hooks={"response": [_cap_retry_after(settings.retry_after_cap_s)]},
    )


def _chat_openai(model: str, settings: Settings, **kwargs: Any) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        timeout=settings.request_timeout_s,
        max_retries=settings.max_retries,
        http_client=_http_client(settings),
        streaming=True,
        stream_usage=True,
        **kwargs,
    )


@register("openai")
def _openai(model: str, settings: Settings) -> Backend:
    key = settings.api_key()
    if not key:
        raise ConfigurationError(
            f"The LLM setting ({settings.llm}) asks for OpenAI but OPENAI_API_KEY is not set.",
            fix="Run `export OPENAI_API_KEY=sk-...`, or choose the offline coach "
            "(--llm extractive, or THRIVE_LLM=extractive).",
        )
    model = model or "gpt-4o-mini"
    chat = _chat_openai(
        model,
        settings,
        api_key=key,
        base_url=settings.openai_base_url,
        max_completion_tokens=settings.max_answer_tokens,
    )
    where = settings.openai_base_url or "api.openai.com"
    return ChatModelBackend(chat, f"openai:{model}", where, secret=key, expect_finish=True)


def served_model(settings: Settings) -> str:
    """The model an OpenAI-compatible server serves, from its `/v1/models` (the first one
    listed). Ollama and vLLM reject the name "default"; llama.cpp's server lists its one."""
    import openai

    assert settings.openai_base_url
    client = openai.OpenAI(
        base_url=settings.openai_base_url,
        api_key=settings.api_key() or "not-needed",
        timeout=settings.request_timeout_s,
        max_retries=settings.max_retries,
        http_client=_http_client(settings),
    )
    try:
        models = [m.id for m in client.models.list()]
    except Exception as err:
        name = f"openai-compatible:{AUTO_MODEL}"
        raise _masked(_translate(err, name, settings.openai_base_url), settings.api_key()) from None
    finally:
        client.close()
    if not models:
        raise ConfigurationError(
            f"The server at {settings.openai_base_url} lists no models.",
            fix="Load a model on it (e.g. `ollama pull llama3.2`), or name one: "
            "THRIVE_LLM=openai-compatible:<model>.",
        )
    return models[0]


@register("openai-compatible")
def _openai_compatible(model: str, settings: Settings) -> Backend:
    if not settings.openai_base_url:
        raise ConfigurationError(
            f"The LLM setting ({settings.llm}) asks for an OpenAI-compatible server but "
            "OPENAI_BASE_URL is not set.",
            fix="Set it to the server's /v1 URL, e.g. `export OPENAI_BASE_URL="
            "http://127.0.0.1:11434/v1` for Ollama.",
        )
    if not model or model == AUTO_MODEL:
        model = served_model(settings)
    key = settings.api_key()
    # Local servers (llama.cpp's among them) ignore `max_completion_tokens`, which
    # langchain-openai sends, and would run to the context limit; `max_tokens` bounds them.
    chat = _chat_openai(
        model,
        settings,
        api_key=key or "not-needed",
        base_url=settings.openai_base_url,
        extra_body={"max_tokens": settings.max_answer_tokens},
    )
    return ChatModelBackend(
        chat,
        f"openai-compatible:{model}",
        settings.openai_base_url,
        secret=key,
        expect_finish=True,
    )
