"""Leave-occupation-out evaluation of the exposure scores on the GPTs-are-GPTs human labels.

Every task of an evaluated occupation is scored as if it were a user's skill, with that
occupation's own tasks removed from the index, so no task is ever its own evidence. The
scores are compared with the annotators' labels by ROC AUC over the pairs E1 > E0 and
(E1 or E2) > E0, with 95% bootstrap intervals that resample occupations (tasks of one
occupation are not independent). Three scorers: `thrive` (the evidence score, blended with
the guide as the product does), `guide_only` (the guide-anchor scorer alone) and `gpt4`
(GPT-4's labels in the same file, E0 = 0, E2 = 0.5, E1 = 1).

Splits, fixed by the SOC code alone: DEV = occupations whose sha256 is even, minus the
freelance list; it is the only set the constants in `thrive.knowledge.onet.evidence` were
tuned on. `all` = every other occupation (the held-out set, freelance ones included);
`freelance` = the fixed list below.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thrive.base.settings import load_settings
from thrive.evaluation.onet_stats import RESAMPLES, SEED, summarise
from thrive.knowledge.onet import evidence
from thrive.knowledge.onet.index import TaskIndex, task_index
from thrive.knowledge.onet.tasks import LABEL_VALUE, occupation_by_title

Progress = Callable[[str, int, int], None]  # (stage, done, total)
K_MAX = 200  # neighbours kept per task: the largest k the calibration tries
# Freelance-relevant O*NET occupations (exact titles of occ_level.csv): writing, language,
# design, media, code, marketing, admin and teaching work commonly sold by freelancers.
FREELANCE_TITLES = (
    "Writers and Authors",
    "Poets, Lyricists and Creative Writers",
    "Technical Writers",
    "Editors",
    "Proofreaders and Copy Markers",
    "Interpreters and Translators",
    "Court Reporters and Simultaneous Captioners",
    "Medical Transcriptionists",
    "Graphic Designers",
    "Desktop Publishers",
    "Art Directors",
    "Fine Artists, Including Painters, Sculptors, and Illustrators",
    "Special Effects Artists and Animators",
    "Fashion Designers",
    "Interior Designers",
    "Photographers",
    "Film and Video Editors",
    "Camera Operators, Television, Video, and Film",
    "Sound Engineering Technicians",
    "Music Directors and Composers",
    "Musicians and Singers",
    "Web Developers",
    "Web and Digital Interface Designers",
    "Video Game Designers",
    "Computer Programmers",
    "Software Developers",
    "Public Relations Specialists",
    "Market Research Analysts and Marketing Specialists",
    "Search Marketing Strategists",
    "Management Analysts",
    "Bookkeeping, Accounting, and Auditing Clerks",
    "Tax Preparers",
    "Data Entry Keyers",
    "Tutors",
    "Self-Enrichment Teachers",
)


def freelance_socs() -> list[str]:
    """SOC codes of FREELANCE_TITLES; raises KeyError naming a title the data lacks."""
    titles = occupation_by_title()
    return [titles[t.casefold()].soc_code for t in FREELANCE_TITLES]


def is_dev(soc_code: str) -> bool:
    """The calibration split: an even sha256 of the SOC code (stable across runs and
    machines, unlike hash()), freelance occupations never included."""
    even = int(hashlib.sha256(soc_code.encode()).hexdigest(), 16) % 2 == 0
    return even and soc_code not in set(freelance_socs())


@dataclass(frozen=True)
class Neighbours:
    """Leave-occupation-out neighbours of tasks: rows into the index, (n, K_MAX) each."""

    rows: np.ndarray  # the evaluated tasks' own rows
    neighbour_rows: np.ndarray
    similarities: np.ndarray


def loo_neighbours(
    index: TaskIndex, socs: Sequence[str], progress: Progress | None = None, strict: bool = False
) -> Neighbours:
    """Each task of `socs` against the index without its own occupation's tasks. The query
    is the task's shipped vector (cosine >= 0.999 to a fresh encoding, see the tests).

    `strict` also leaves out the sibling occupations of the same SOC broad group (the first
    six characters: Editors, Technical Writers and Writers and Authors are all 27-304x) and
    any task with the very same text (8.7% of tasks are verbatim copies in another
    occupation), to show how much of the figure rests on near-copies."""
    every = list(dict.fromkeys(index.soc_codes.tolist()))
    extra = 40 if strict else 0  # room for dropped copies (at most 34 of one text)
    rows, nrows, nsims = [], [], []
    for i, soc in enumerate(socs):
        own = index.rows_of(soc)
        exclude = {s for s in every if s[:6] == soc[:6]} if strict else {soc}
        top, sims = index.nearest_arrays(index.matrix[own], K_MAX + extra, exclude_soc=exclude)
        if strict:
            top, sims = _drop_copies(index, own, top, sims)
        rows.append(own)
        nrows.append(top)
        nsims.append(sims)
        if progress and (i % 25 == 0 or i == len(socs) - 1):
            progress("nearest tasks (strict)" if strict else "nearest tasks", i + 1, len(socs))
    return Neighbours(np.concatenate(rows), np.concatenate(nrows), np.concatenate(nsims))


def _drop_copies(
    index: TaskIndex, own: np.ndarray, top: np.ndarray, sims: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per query row, the first K_MAX neighbours whose text differs from the query's."""
    keep_rows, keep_sims = [], []
    for query, row, sim in zip(own.tolist(), top, sims, strict=True):
        text = index.tasks[query].text
        ok = np.array([index.tasks[r].text != text for r in row.tolist()])
        keep_rows.append(row[ok][:K_MAX])
        keep_sims.append(sim[ok][:K_MAX])
    return np.stack(keep_rows), np.stack(keep_sims)


def guide_scores(index: TaskIndex, rows: np.ndarray, corpus_dir: Path) -> np.ndarray:
    """The guide-only score (0-100) of each task, as `ExposureScorer.score` gives it.
    Through `raw` + `to_score` (the same two steps `score` takes) because `score` accepts
    at most 100 skills of at most 200 characters, and some tasks are longer; on the shipped
    task vectors (float16, cosine >= 0.999 to a fresh encoding), which saves re-encoding
    19,265 tasks (~24 minutes on 2 busy cores)."""
    from thrive.coaching.tools.exposure import ExposureScorer  # the coach layer, lazily
    from thrive.knowledge.guide import load_guide

    scorer = ExposureScorer.for_guide(load_guide(corpus_dir))
    texts = [index.tasks[r].text for r in rows.tolist()]
    raws = scorer.raw(texts, index.matrix[rows])
    return np.array([scorer.to_score(float(r)) for r in raws], dtype=np.float64)


def thrive_scores(index: TaskIndex, nb: Neighbours, guide: np.ndarray) -> np.ndarray:
    """The product's score of each task from its LOO neighbours: evidence, blended."""
    k = evidence.K
    ev = evidence.weighted_scores(nb.similarities[:, :k], index.values[nb.neighbour_rows[:, :k]])
    return (1 - evidence.GUIDE_WEIGHT) * ev + evidence.GUIDE_WEIGHT * guide / 100


def run_onet_eval(
    out_dir: Path | str,
    progress: Progress | None = None,
    *,
    socs: Sequence[str] | None = None,
    resamples: int = RESAMPLES,
    corpus_dir: Path | None = None,
) -> dict[str, Any]:
    """Write `out_dir/onet.json` (DESIGN.md's `thrive eval --onet`) and return it. `socs`
    limits the run to some occupations (tests); by default all 923 are scored. The guide
    comes from `corpus_dir` (default: the settings' corpus folder)."""
    corpus = corpus_dir or load_settings().corpus_dir
    index = task_index()
    every = list(dict.fromkeys(index.soc_codes.tolist()))
    chosen = list(every if socs is None else dict.fromkeys(socs))
    freelance = set(freelance_socs())
    nb = loo_neighbours(index, chosen, progress)
    tasks = [index.tasks[r] for r in nb.rows.tolist()]
    if progress:
        progress("guide-only scores", 0, 1)
    guide = guide_scores(index, nb.rows, corpus)
    if progress:
        progress("guide-only scores", 1, 1)
    labels = np.array([t.human_label for t in tasks])
    groups = np.array([t.soc_code for t in tasks])
    scorers = {
        "thrive": thrive_scores(index, nb, guide),
        "guide_only": guide,
        "gpt4": np.array([LABEL_VALUE[t.gpt4_label] for t in tasks]),
    }
    dev = np.array([is_dev(s) for s in groups.tolist()], dtype=bool)
    masks = {"all": ~dev, "freelance": np.isin(groups, list(freelance)), "dev": dev}
    report: dict[str, Any] = {}
    for i, (name, mask) in enumerate(masks.items()):
        if progress:
            progress("bootstrap", i, len(masks))
        report[name] = {
            scorer: summarise(labels[mask], scores[mask], groups[mask], resamples)
            for scorer, scores in scorers.items()
        }
    report["dev"]["calibration_set"] = True
    strict = thrive_scores(index, loo_neighbours(index, chosen, progress, strict=True), guide)
    report["strict"] = {
        name: {"thrive": summarise(labels[mask], strict[mask], groups[mask], resamples)}
        for name, mask in masks.items()
    }
    report["freelance_occupations"] = list(FREELANCE_TITLES)
    report["n_tasks"] = {name: _counts(labels[mask]) for name, mask in masks.items()}
    report["n_occupations"] = {n: len(set(groups[m].tolist())) for n, m in masks.items()}
    report["per_occupation"] = _per_occupation(index, labels, groups, scorers["thrive"], freelance)
    report["constants"] = {
        "k": evidence.K,
        "temperature": evidence.TEMPERATURE,
        "guide_weight": evidence.GUIDE_WEIGHT,
        "calibrated_on": "dev",
    }
    report["splits"] = {
        "dev": "sha256(SOC code) even, freelance occupations excluded; constants tuned here",
        "all": "every other occupation (held out; includes the freelance ones)",
        "freelance": "the occupations named in freelance_occupations",
        "method": "leave-occupation-out; bootstrap over occupations, "
        f"{resamples} resamples, seed {SEED}",
        "strict": "thrive with the SOC broad group and verbatim copies left out too",
    }
    report["source"] = evidence.CREDIT
    _write_json(Path(out_dir) / "onet.json", report)
    return report


def _counts(labels: np.ndarray) -> dict[str, int]:
    return {label: int((labels == label).sum()) for label in ("E0", "E1", "E2")} | {
        "total": len(labels)
    }


def _per_occupation(
    index: TaskIndex, labels: np.ndarray, groups: np.ndarray, thrive: np.ndarray, keep: set[str]
) -> list[dict[str, Any]]:
    """Freelance occupations: task counts, the human beta and Thrive's mean task score."""
    titles = {o.soc_code: o for o in index.occupations}
    out = []
    for soc in sorted(keep & set(groups.tolist()), key=lambda s: titles[s].title):
        mask = groups == soc
        out.append(
            {"occupation": titles[soc].title, "soc_code": soc, **_counts(labels[mask])}
            | {"human_beta": round(titles[soc].human_beta, 3)}
            | {"thrive_mean": round(float(thrive[mask].mean()), 3)}
        )
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Temp file + os.replace: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".onet.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes files private; a report is for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
