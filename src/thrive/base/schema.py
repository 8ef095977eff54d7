"""Plain data shared by every layer: the user's profile, passages, answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from thrive.base.errors import InputError
from thrive.base.text import has_undecodable_bytes

Role = Literal["user", "assistant"]


# A profile describes a person in a few words; bounds keep a pasted document (or an attack)
# from filling the prompt.
MAX_FIELD_CHARS = 500
MAX_ITEMS = 50


def _utf8(text: str) -> str:
    if has_undecodable_bytes(text):
        raise ValueError("is not UTF-8 text")
    return text


ShortText = Annotated[str, StringConstraints(max_length=MAX_FIELD_CHARS), AfterValidator(_utf8)]


class Profile(BaseModel):
    """The user's situation. Every field is optional."""

    model_config = ConfigDict(extra="ignore")

    occupation: ShortText = ""  # free text ("court interpreter"), matched to O*NET titles
    skills: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    services: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    interests: list[ShortText] = Field(default_factory=list, max_length=MAX_ITEMS)
    experience_years: int | None = Field(default=None, ge=0, le=80)
    goals: Annotated[
        str, StringConstraints(max_length=2 * MAX_FIELD_CHARS), AfterValidator(_utf8)
    ] = ""

    @field_validator("skills", "services", "interests", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """Accept "a; b, c" as well as a list, and drop blanks and duplicates."""
        if value is None:
            return []
        if isinstance(value, str):
            value = [p for chunk in value.split(";") for p in chunk.split(",")]
        if isinstance(value, list):
            if any(not isinstance(v, str | int | float) for v in value):
                raise ValueError("must be a list of short texts")
            return list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))
        return value

    @property
    def is_empty(self) -> bool:
        return not (
            self.occupation
            or self.skills
            or self.services
            or self.interests
            or self.goals
            or self.experience_years
        )

    def work(self) -> list[str]:
        """What the person does: skills then services."""
        return list(dict.fromkeys([*self.skills, *self.services]))

    def as_query(self) -> str:
        """Words that describe the person, to enrich retrieval."""
        return " ".join([self.occupation, *self.work(), *self.interests, self.goals]).strip()

    def describe(self) -> str:
        parts = []
        if self.occupation:
            parts.append("occupation: " + self.occupation)
        if self.work():
            parts.append("works in: " + ", ".join(self.work()))
        if self.interests:
            parts.append("interests: " + ", ".join(self.interests))
        if self.experience_years is not None:
            parts.append(f"{self.experience_years} years of experience")
        if self.goals:
            parts.append("goals: " + self.goals)
        return "; ".join(parts) or "not given"


def as_profile(value: Profile | dict[str, Any] | None) -> Profile:
    """A profile from a dict (or None), or an `InputError` that names the bad fields."""
    if isinstance(value, Profile):
        return value
    if value is not None and not isinstance(value, dict):
        raise InputError(
            "A profile must be a JSON object.", fix='Give it like {"skills": ["copywriting"]}.'
        )
    try:
        return Profile.model_validate(value or {})
    except ValidationError as err:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in err.errors() if e["loc"]}))
        raise InputError(
            f"The profile has invalid fields ({fields or 'unknown'}).",
            fix="Give skills, services and interests as lists of short texts, "
            f"experience_years as a whole number, and keep each text under {MAX_FIELD_CHARS:,} "
            "characters.",
        ) from err


@dataclass(frozen=True)
class GuideSentence:
    """One sentence of the guide, its labels ("The Threat:") removed; `is_example` when it
    stands under the section's "Examples:"."""

    text: str
    is_example: bool = False


@dataclass(frozen=True)
class Passage:
    """A retrieved piece of the guide, as a backend sees it. The knowledge layer fills
    `sentences` with the guide's structure, so backends never parse the guide's markup."""

    section_id: str
    title: str
    kind: str
    text: str
    score: float = 0.0
    sentences: tuple[GuideSentence, ...] = ()


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


@dataclass(frozen=True)
class WorkNote:
    """The person's work as the exposure check sees it, for the answer's opening."""

    name: str  # as the person put it: "translator", "editing wedding videos"
    score: int  # 0-100, higher = more exposed
    level: str  # "high" | "medium" | "low"
    threats: list[tuple[str, str]]  # (section id, title) of the threats behind the score
    named_in_guide: bool  # whether the guide itself names this work


@dataclass
class AnswerRequest:
    """Everything a backend needs to answer: the chain builds it, the backend consumes it."""

    question: str
    passages: list[Passage]
    profile: Profile
    history: list[Turn]
    messages: list[tuple[str, str]]  # the full prompt as (role, content), for LLM backends
    max_tokens: int = 512
    work: WorkNote | None = None  # the person's work, when the question or profile names it


@dataclass(frozen=True)
class Citation:
    section_id: str
    title: str
    snippet: str


@dataclass
class Answer:
    text: str
    citations: list[Citation]
    retrieved: list[str]
    refused: bool
    backend: str
    notice: str = ""  # e.g. "The configured LLM failed; the offline coach answered."
    latency_ms: float = 0.0
    passages: list[Passage] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The `thrive ask --json` shape fixed in DESIGN.md."""
        return {
            "answer": self.text,
            "backend": self.backend,
            "refused": self.refused,
            "citations": [
                {"section_id": c.section_id, "title": c.title, "snippet": c.snippet}
                for c in self.citations
            ],
            "retrieved": self.retrieved,
        }
