"""Backends by `provider:model` name. Built-in ones register through the same door as any
other: `@register("name")` on a factory `(model, settings) -> Backend`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from thrive.base.errors import ConfigurationError
from thrive.base.settings import Settings
from thrive.models.base import Backend

Factory = Callable[[str, Settings], Backend]
_FACTORIES: dict[str, Factory] = {}
_BUILTIN_MODULES = ("extractive", "chat_model", "llamacpp")


def register(provider: str) -> Callable[[Factory], Factory]:
    def decorator(factory: Factory) -> Factory:
        _FACTORIES[provider] = factory
        return factory

    return decorator


def providers() -> list[str]:
    _load_builtins()
    return sorted(_FACTORIES)


def _load_builtins() -> None:
    # Imported lazily so that `extractive` never pays for openai or llama.cpp imports.
    import importlib

    for module in _BUILTIN_MODULES:
        importlib.import_module(f"thrive.models.{module}")


def resolve_spec(spec: str | None, settings: Settings) -> str:
    """`auto` -> the backend DESIGN.md prescribes for this environment."""
    spec = (spec or settings.llm or "auto").strip()
    if spec != "auto":
        return spec
    if settings.api_key():
        return "openai:gpt-4o-mini"
    if settings.openai_base_url:
        return "openai-compatible:auto"  # the model is asked of the server's /v1/models
    if settings.gguf and Path(settings.gguf).is_file():
        return f"llamacpp:{settings.gguf}"
    return "extractive"


def create_backend(spec: str | None, settings: Settings) -> Backend:
    """Build the backend a spec names, e.g. `extractive` or `openai:gpt-4o-mini`."""
    resolved = resolve_spec(spec, settings)
    provider, _, model = resolved.partition(":")
    _load_builtins()
    factory = _FACTORIES.get(provider)
    if factory is None:
        close = difflib.get_close_matches(provider, list(_FACTORIES), n=1)
        hint = f"Did you mean `{close[0]}`? " if close else ""
        raise ConfigurationError(
            f"Unknown LLM backend {resolved!r}.",
            fix=f"{hint}Use one of: auto, {', '.join(f'{p}:<model>' if p != 'extractive' else p for p in sorted(_FACTORIES))}.",
        )
    return factory(model, settings)
