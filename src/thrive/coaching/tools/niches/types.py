"""What the niche finder returns: `Niche` items in a `NicheSuggestions` list."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from thrive.coaching.tools.exposure import Level

DEFAULT_COUNT = 4
MIN_COUNT = 3


@dataclass(frozen=True)
class Niche:
    """One suggested niche. `score` is its exposure score (0-100) behind `exposure`."""

    niche: str
    why: str
    exposure: Level
    strategies: list[str]
    first_steps: list[str]
    score: int = 0

    def to_json(self) -> dict[str, Any]:
        """The `thrive niches --json` item shape fixed in DESIGN.md."""
        return {
            "niche": self.niche,
            "why": self.why,
            "exposure": self.exposure,
            "strategies": list(self.strategies),
            "first_steps": list(self.first_steps),
        }


@dataclass
class NicheSuggestions:
    """The niches for one profile; iterate it like a list. `notice` explains a fallback."""

    niches: list[Niche]
    backend: str = "extractive"
    notice: str = ""
    generic: bool = False  # True when the profile was empty and the guide's own niches are shown

    def __iter__(self) -> Iterator[Niche]:
        return iter(self.niches)

    def __len__(self) -> int:
        return len(self.niches)

    def __getitem__(self, index: int) -> Niche:
        return self.niches[index]

    def to_json(self) -> list[dict[str, Any]]:
        return [n.to_json() for n in self.niches]

    def to_markdown(self) -> str:
        """A short Markdown summary, e.g. for the chat history."""
        lines = [self.notice, ""] if self.notice else []
        for n in self.niches:
            cites = " ".join(f"[{s}]" for s in n.strategies)
            lines.append(f"**{n.niche}** (exposure: {n.exposure}) {cites}  \n{n.why}")
            lines += [f"{i}. {step}" for i, step in enumerate(n.first_steps, 1)]
            lines.append("")
        return "\n".join(lines).strip()
