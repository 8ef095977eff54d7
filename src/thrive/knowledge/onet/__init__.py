"""Task evidence from O*NET: 19,265 task statements with human exposure labels.

Data: Eloundou, Manning, Mishkin, Rock, "GPTs are GPTs", Science 384 (2024); MIT, OpenAI.

    from thrive.knowledge.onet import evidence_for, occupation_view, task_index
    evidence_for(["court interpreting"])[0].score       # 0..1, higher = more exposed
    task_index().match_occupation("wedding photographer")  # OccupationMatch | None

Importing this package is cheap; the index (vectors, ~15 MB) loads on first use.
"""

from thrive.knowledge.onet.evidence import (
    Evidence,
    EvidenceTask,
    OccupationView,
    blend,
    evidence_for,
    evidence_for_vectors,
    occupation_view,
)
from thrive.knowledge.onet.index import OccupationMatch, TaskHit, TaskIndex, task_index
from thrive.knowledge.onet.tasks import (
    CREDIT,
    LABEL_VALUE,
    Label,
    Occupation,
    Task,
    load_occupations,
    load_tasks,
    tasks_of,
)

__all__ = [
    "CREDIT",
    "LABEL_VALUE",
    "Evidence",
    "EvidenceTask",
    "Label",
    "Occupation",
    "OccupationMatch",
    "OccupationView",
    "Task",
    "TaskHit",
    "TaskIndex",
    "blend",
    "evidence_for",
    "evidence_for_vectors",
    "load_occupations",
    "load_tasks",
    "occupation_view",
    "task_index",
    "tasks_of",
]
