"""The GPTs-are-GPTs data as typed rows: 19,265 O*NET tasks and 923 occupations.

Read once per process from the package's `data/` folder through importlib.resources, so it
works from a checkout, an installed wheel or a zip alike.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Literal

from thrive.base.errors import ConfigurationError

Label = Literal["E0", "E1", "E2"]
LABELS: tuple[Label, ...] = ("E0", "E1", "E2")
# The paper's own weights: beta = E1 + 0.5 * E2 (E2 needs extra software on top of an LLM).
LABEL_VALUE: dict[str, float] = {"E0": 0.0, "E1": 1.0, "E2": 0.5}
TASKS_FILE = "full_labelset.tsv"
OCCUPATIONS_FILE = "occ_level.csv"
CREDIT = (
    'Task exposure labels: Eloundou, Manning, Mishkin, Rock, "GPTs are GPTs", '
    "Science 384 (2024); MIT licence, OpenAI."
)
_lock = threading.Lock()


@dataclass(frozen=True)
class Task:
    """One O*NET task statement with the annotators' and GPT-4's exposure labels."""

    task_id: int
    soc_code: str
    occupation: str
    text: str
    task_type: str  # "Core", "Supplemental" or "" (O*NET leaves some unrated)
    human_label: Label
    gpt4_label: Label

    @property
    def human_value(self) -> float:
        return LABEL_VALUE[self.human_label]


@dataclass(frozen=True)
class Occupation:
    """One O*NET occupation; the ratings are shares of its tasks (alpha E1, beta E1 + E2/2,
    gamma E1 + E2), from the annotators (`human_*`) and GPT-4 (`gpt4_*`)."""

    soc_code: str
    title: str
    human_alpha: float
    human_beta: float
    human_gamma: float
    gpt4_alpha: float
    gpt4_beta: float
    gpt4_gamma: float


def data_dir() -> Traversable:
    """The folder of the shipped data files (a Traversable, maybe inside a zip)."""
    return resources.files("thrive.knowledge.onet").joinpath("data")


def _read(name: str) -> str:
    try:
        return data_dir().joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigurationError(
            f"The O*NET data file {name} is missing from the thrive package.",
            fix="Reinstall thrive-coach (`pip install -e .`); the file ships in "
            "src/thrive/knowledge/onet/data/.",
        ) from err


def _label(value: str, row: int) -> Label:
    if value not in LABELS:
        raise ConfigurationError(
            f"{TASKS_FILE} row {row} has the label {value!r}, not E0, E1 or E2.",
            fix="Copy the file again from openai/GPTs-are-GPTs; it must be unchanged.",
        )
    return value  # type: ignore[return-value]  # checked just above


@cache
def load_tasks() -> tuple[Task, ...]:
    """All task rows, in the TSV's order (the order of the shipped vectors)."""
    with _lock:
        reader = csv.DictReader(io.StringIO(_read(TASKS_FILE)), delimiter="\t")
        return tuple(
            Task(
                task_id=int(float(r["Task ID"])),  # the file writes ids as "8823.0"
                soc_code=r["O*NET-SOC Code"],
                occupation=r["Title"],
                text=r["Task"].strip(),
                task_type=r["Task Type"],
                human_label=_label(r["human_labels"], i),
                gpt4_label=_label(r["gpt4_exposure"], i),
            )
            for i, r in enumerate(reader)
        )


@cache
def load_occupations() -> tuple[Occupation, ...]:
    """All occupations, in occ_level.csv's order (the order of the shipped title vectors)."""
    with _lock:
        reader = csv.DictReader(io.StringIO(_read(OCCUPATIONS_FILE)))
        return tuple(
            Occupation(
                soc_code=r["O*NET-SOC Code"],
                title=r["Title"].strip(),
                human_alpha=float(r["human_rating_alpha"]),
                human_beta=float(r["human_rating_beta"]),
                human_gamma=float(r["human_rating_gamma"]),
                gpt4_alpha=float(r["dv_rating_alpha"]),
                gpt4_beta=float(r["dv_rating_beta"]),
                gpt4_gamma=float(r["dv_rating_gamma"]),
            )
            for r in reader
        )


@cache
def occupations_by_soc() -> dict[str, Occupation]:
    return {o.soc_code: o for o in load_occupations()}


@cache
def occupation_by_title() -> dict[str, Occupation]:
    """Exact titles (case-folded) to occupations; titles are unique in occ_level.csv."""
    return {o.title.casefold(): o for o in load_occupations()}


@cache
def _tasks_by_soc() -> dict[str, tuple[Task, ...]]:
    grouped: dict[str, list[Task]] = {}
    for task in load_tasks():
        grouped.setdefault(task.soc_code, []).append(task)
    return {soc: tuple(tasks) for soc, tasks in grouped.items()}


def tasks_of(soc_code: str) -> tuple[Task, ...]:
    """The tasks of one occupation, in file order; () for an unknown code."""
    return _tasks_by_soc().get(soc_code, ())


def texts_sha256(texts: list[str] | tuple[str, ...]) -> str:
    """A fingerprint of texts in order: tells whether shipped vectors fit the shipped rows."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
