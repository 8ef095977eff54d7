"""The bodies of the HTTP API: what each route takes and answers, for validation and /docs.

Profiles and histories are passed through untyped on purpose: the `Coach` validates them,
so a bad one gets the same message here as in the CLI, the page and Python.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from thrive.base.schema import Profile

ProfileField = Annotated[Any, WithJsonSchema(Profile.model_json_schema())]
HistoryField = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "role": {"enum": ["user", "assistant"]},
                    "content": {"type": "string"},
                },
                "required": ["role", "content"],
            },
        }
    ),
]


class AskRequest(BaseModel):
    """One question, with the asker's situation and the conversation so far."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(examples=["I write blog posts. Will AI lower what clients pay me?"])
    profile: ProfileField = Field(None, examples=[{"occupation": "copywriter"}])
    history: HistoryField = Field(None, description="The conversation before the question.")
    stream: bool = Field(
        False,
        description="Answer as server-sent events: `token` events, then one `answer` event "
        "with the full JSON (or an `error` event).",
    )


class ExposureRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skills: list[str] = Field(examples=[["basic data entry", "brand strategy"]])


class NichesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile: ProfileField = Field(None, examples=[{"skills": ["copywriting"], "goals": "..."}])


# -- answers (documentation only: routes return the CLI's JSON as it is) -----------------


class CitationOut(BaseModel):
    section_id: str
    title: str
    snippet: str


class AnswerOut(BaseModel):
    """The JSON of `thrive ask --json`."""

    answer: str
    backend: str
    refused: bool
    citations: list[CitationOut]
    retrieved: list[str]


class EvidenceOut(BaseModel):
    task: str
    occupation: str
    label: Literal["E0", "E1", "E2"]
    similarity: float


class ExposureOut(BaseModel):
    """One row of `thrive exposure --json`."""

    skill: str
    score: int = Field(ge=0, le=100)
    level: Literal["high", "medium", "low"]
    threats: list[str]
    strategies: list[str]
    why: str
    evidence: list[EvidenceOut]


class NicheOut(BaseModel):
    """One item of `thrive niches --json`."""

    niche: str
    why: str
    exposure: Literal["low", "medium", "high"]
    strategies: list[str]
    first_steps: list[str]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ErrorOut(BaseModel):
    """Every error: `detail` is the whole message the CLI prints after "Error:"."""

    detail: str
    message: str
    fix: str | None = None
