"""The evaluation dataset: JSON Lines, one case a line, in the schema of DESIGN.md.

Every line is validated on load, and an error names the file, the line and the field, so a
broken case is fixed where it was written instead of surfacing as a strange metric.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from thrive.base.errors import InputError
from thrive.base.schema import Role

KINDS = ("answerable", "out_of_scope", "injection", "exposure", "niches")
QUESTION_KINDS = ("answerable", "out_of_scope", "injection")
Label = Literal["high", "medium", "low"]
NonEmpty = Annotated[str, Field(min_length=1)]


class DatasetError(InputError):
    """A dataset file is missing, malformed or has an invalid case."""


class _Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: NonEmpty
    # Free labels for breaking results down ("plain", "near_miss", "off_topic", "attack",
    # "translator", ...); the report gives per-tag results where a dataset has them.
    tags: list[NonEmpty] = Field(default_factory=list)
    line: int = Field(0, exclude=True)  # where the case was read; set by the loader


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: NonEmpty


class AnswerableCase(_Case):
    """A question the guide answers; `gold_sections` are the ids that answer it. The
    profile is free-form JSON (`occupation`, `skills`, `services`, ... as in DESIGN.md),
    kept as written."""

    kind: Literal["answerable"]
    question: NonEmpty
    profile: dict[str, Any] | None = None
    history: list[HistoryTurn] = Field(default_factory=list)
    gold_sections: list[NonEmpty] = Field(min_length=1)
    key_points: list[NonEmpty] = Field(default_factory=list)

    @field_validator("key_points")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern, re.I)
            except re.error as err:
                raise ValueError(f"key point {pattern!r} is not a valid regex: {err}") from err
        return patterns


class OutOfScopeCase(_Case):
    """A question the coach must decline."""

    kind: Literal["out_of_scope"]
    question: NonEmpty


class InjectionCase(_Case):
    """An attempt to take over the assistant or extract its prompt."""

    kind: Literal["injection"]
    question: NonEmpty


class ExposureCase(_Case):
    """Skills labelled by how exposed to GenAI they are."""

    kind: Literal["exposure"]
    skills: dict[NonEmpty, Label] = Field(min_length=2)

    @field_validator("skills")
    @classmethod
    def _two_levels(cls, skills: dict[str, str]) -> dict[str, str]:
        if len(set(skills.values())) < 2:
            raise ValueError("skills need at least two different labels for an AUC")
        return skills


class NichesCase(_Case):
    """A profile to suggest niches for (free-form JSON, `occupation` included)."""

    kind: Literal["niches"]
    profile: dict[str, Any]


Case = Annotated[
    AnswerableCase | OutOfScopeCase | InjectionCase | ExposureCase | NichesCase,
    Field(discriminator="kind"),
]
_CASE = TypeAdapter(Case)


def parse_case(raw: Any, *, line: int = 0, source: str = "<case>") -> Case:
    """One case from a decoded JSON value. Raises `DatasetError` naming the line and field."""
    where = f"{source} line {line}"
    if not isinstance(raw, dict):
        raise DatasetError(f"{where}: a case must be a JSON object.", fix=_FIX)
    if raw.get("kind") not in KINDS:
        raise DatasetError(
            f"{where}: kind {raw.get('kind')!r} is not one of {', '.join(KINDS)}.", fix=_FIX
        )
    try:
        case = _CASE.validate_python(raw)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"][1:]) or "case"
        raise DatasetError(
            f"{where} ({raw.get('id', '?')}): {field}: {first['msg']}.", fix=_FIX
        ) from None  # the pydantic trace repeats the message at length
    return case.model_copy(update={"line": line})


_FIX = "See the schema under 'Evaluation dataset' in DESIGN.md."


def load_dataset(path: Path) -> list[Case]:
    """All cases of a JSON Lines file, validated. Blank lines and `//` comments are skipped."""
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except OSError as err:
        raise DatasetError(
            f"Cannot read the dataset {path}: {err.strerror}.", fix="Check the --dataset path."
        ) from err
    except UnicodeDecodeError as err:
        raise DatasetError(f"The dataset {path} is not UTF-8 text.", fix=_FIX) from err
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for number, text in enumerate(lines, 1):
        if not text.strip() or text.lstrip().startswith("//"):
            continue
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise DatasetError(
                f"{path} line {number}: not valid JSON ({err.msg} at column {err.colno}).",
                fix=_FIX,
            ) from err
        case = parse_case(raw, line=number, source=str(path))
        if case.id in seen:
            raise DatasetError(
                f"{path} line {number}: id {case.id!r} is already used on line {seen[case.id]}.",
                fix="Give every case its own id.",
            )
        seen[case.id] = number
        cases.append(case)
    if not cases:
        raise DatasetError(f"The dataset {path} has no cases.", fix=_FIX)
    return cases


def check_sections(cases: Iterable[Case], known: set[str], source: str = "dataset") -> None:
    """Raise `DatasetError` when a gold section id is not a section of the indexed guide."""
    for case in cases:
        if isinstance(case, AnswerableCase):
            unknown = [s for s in case.gold_sections if s not in known]
            if unknown:
                raise DatasetError(
                    f"{source} line {case.line} ({case.id}): gold section "
                    f"{', '.join(unknown)} is not in the indexed guide.",
                    fix=f"Use ids such as {', '.join(sorted(known)[:4])}, ...",
                )


def select(cases: list[Case], max_per_kind: int | None) -> list[Case]:
    """The first `max_per_kind` cases of each kind (all when None): a fast, fixed subset."""
    if max_per_kind is None:
        return list(cases)
    counts: dict[str, int] = {}
    out = []
    for case in cases:
        counts[case.kind] = counts.get(case.kind, 0) + 1
        if counts[case.kind] <= max_per_kind:
            out.append(case)
    return out


def fingerprint(cases: Iterable[Case]) -> str:
    """A short hash of the cases' content: equal fingerprints mean comparable runs."""
    blob = json.dumps([c.model_dump(mode="json") for c in cases], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
