"""The one interface every answer backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from thrive.base.schema import AnswerRequest


class Backend(ABC):
    """Turns an `AnswerRequest` (question, passages, prompt) into streamed text."""

    #: "extractive", "openai:gpt-4o-mini", ... as shown to the user.
    name: str = "backend"
    #: True when answers come from a language model (and may need checking).
    generative: bool = True

    @abstractmethod
    def stream(self, request: AnswerRequest) -> Iterator[str]:
        """Yield the answer piece by piece."""

    def complete(self, request: AnswerRequest) -> str:
        return "".join(self.stream(request))
