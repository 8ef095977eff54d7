"""The models layer: answer backends behind one interface and a `provider:model` registry.

It never imports the knowledge layer: passages arrive as data in an `AnswerRequest`.
"""

from thrive.models.base import Backend
from thrive.models.registry import create_backend, providers, register, resolve_spec

__all__ = ["Backend", "create_backend", "providers", "register", "resolve_spec"]
