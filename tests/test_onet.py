"""The O*NET task evidence: shipped data and vectors, the index, the matcher, the evidence
score and the leave-occupation-out evaluation, all on the real shipped files."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from thrive.base import embeddings
from thrive.base.errors import ConfigurationError
from thrive.evaluation.onet import FREELANCE_TITLES, freelance_socs, is_dev, run_onet_eval
from thrive.evaluation.onet_stats import auc
from thrive.knowledge.onet import evidence
from thrive.knowledge.onet.build import SIDECAR, TASK_VECTORS, TITLE_VECTORS
from thrive.knowledge.onet.index import _check_sidecar, task_index
from thrive.knowledge.onet.tasks import (
    data_dir,
    load_occupations,
    load_tasks,
    occupation_by_title,
    tasks_of,
    texts_sha256,
)

REPO = Path(__file__).resolve().parents[1]
# Lay job names -> O*NET title: the set TITLE_WEIGHT, LEXICAL_WEIGHT and MATCH_THRESHOLD in
# thrive.knowledge.onet.index were chosen on (23/26 right at top 1 when they were set).
MATCH_DEV = {
    "court interpreter": "Interpreters and Translators",
    "wedding photographer": "Photographers",
    "freelance copywriter": "Writers and Authors",
    "logo designer": "Graphic Designers",
    "bookkeeper for small businesses": "Bookkeeping, Accounting, and Auditing Clerks",
    "video editor": "Film and Video Editors",
    "web developer": "Web Developers",
    "technical writer": "Technical Writers",
    "proofreader": "Proofreaders and Copy Markers",
    "medical transcriptionist": "Medical Transcriptionists",
    "data entry clerk": "Data Entry Keyers",
    "math tutor": "Tutors",
    "PR consultant": "Public Relations Specialists",
    "SEO specialist": "Search Marketing Strategists",
    "UX designer": "Web and Digital Interface Designers",
    "3D animator": "Special Effects Artists and Animators",
    "music composer": "Music Directors and Composers",
    "interior decorator": "Interior Designers",
    "truck driver": "Heavy and Tractor-Trailer Truck Drivers",
    "dental hygienist": "Dental Hygienists",
    "real estate agent": "Real Estate Sales Agents",
    "software engineer": "Software Developers",
    "tax preparer": "Tax Preparers",
    "yoga instructor": "Exercise Trainers and Group Fitness Instructors",
    "hairdresser": "Hairdressers, Hairstylists, and Cosmetologists",
    "chef": "Chefs and Head Cooks",
}
NOT_JOBS = ["asdf qwerty zxcv", "the weather tomorrow", "lorem ipsum dolor sit amet", "xjqv kkzp"]


def test_the_loader_reads_every_task_and_label() -> None:
    tasks = load_tasks()
    assert len(tasks) == 19_265
    assert Counter(t.human_label for t in tasks) == {"E0": 10_256, "E1": 2_862, "E2": 6_147}
    assert len({t.task_id for t in tasks}) == len(tasks)
    assert all(t.text and t.soc_code and t.occupation for t in tasks)
    assert load_tasks() is tasks  # read once


def test_occupations_match_the_tasks_and_carry_the_human_beta() -> None:
    occupations = load_occupations()
    assert len(occupations) == 923
    assert {o.soc_code for o in occupations} == {t.soc_code for t in load_tasks()}
    interpreters = occupation_by_title()["interpreters and translators"]
    assert 0 <= interpreters.human_beta <= 1
    rows = tasks_of(interpreters.soc_code)
    assert rows and all(t.occupation == "Interpreters and Translators" for t in rows)


def test_the_licence_and_credit_ship_with_the_data() -> None:
    assert "OpenAI" in data_dir().joinpath("LICENSE").read_text("utf-8")
    readme = data_dir().joinpath("README.md").read_text("utf-8")
    assert "GPTs are GPTs" in readme and "0471612fef3cc22b74fb884d27bff9dbd3770582" in readme


def test_the_shipped_vectors_fit_the_rows() -> None:
    with data_dir().joinpath(TASK_VECTORS).open("rb") as fh:
        vectors = np.load(fh)
    assert vectors.dtype == np.float16 and vectors.shape == (19_265, 384)
    norms = np.linalg.norm(vectors.astype(np.float32), axis=1)
    assert np.allclose(norms, 1, atol=1e-3)
    with data_dir().joinpath(TITLE_VECTORS).open("rb") as fh:
        assert np.load(fh).shape == (923, 384)
    meta = json.loads(data_dir().joinpath(SIDECAR).read_text("utf-8"))
    assert meta["model"] == embeddings.MODEL_NAME
    assert meta["tasks_sha256"] == texts_sha256([t.text for t in load_tasks()])


def test_vectors_for_other_rows_are_refused_with_the_fix() -> None:
    tasks, titles = load_tasks(), [o.title for o in load_occupations()]
    with pytest.raises(ConfigurationError, match=r"do not match.*onet\.build"):
        _check_sidecar(tasks[:-1], titles)


def test_a_sample_of_shipped_vectors_equals_fresh_encodings() -> None:
    rng = np.random.default_rng(7)
    rows = rng.choice(len(load_tasks()), size=20, replace=False)
    fresh = embeddings.encode([load_tasks()[r].text for r in rows])
    shipped = task_index().matrix[rows]
    assert (np.sum(fresh * shipped, axis=1) >= 0.999).all()


def test_nearest_finds_a_task_itself_and_excludes_an_occupation() -> None:
    index = task_index()
    row = 1234
    task = index.tasks[row]
    (hits,) = index.nearest(index.matrix[row], k=5)
    assert hits[0].task == task and hits[0].similarity == pytest.approx(1, abs=1e-3)
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
    (hits,) = index.nearest(index.matrix[row], k=50, exclude_soc={task.soc_code})
    assert len(hits) == 50 and all(h.task.soc_code != task.soc_code for h in hits)


def test_the_matcher_maps_job_names_and_rejects_gibberish() -> None:
    index = task_index()
    court = index.match_occupation("court interpreter")
    assert court is not None and court.occupation.title == "Interpreters and Translators"
    wedding = index.match_occupation("wedding photographer")
    assert wedding is not None and wedding.occupation.title == "Photographers"
    for text in NOT_JOBS:
        assert index.match_occupation(text) is None, text
    right = sum(
        (m := index.match_occupation(q)) is not None and m.occupation.title == title
        for q, title in MATCH_DEV.items()
    )
    assert right >= 22, f"{right}/{len(MATCH_DEV)} lay job names matched"


def test_evidence_ranks_routine_data_work_above_wedding_photography() -> None:
    data_entry, wedding = evidence.evidence_for(
        ["data entry of invoices into spreadsheets", "wedding photography on location"]
    )
    assert data_entry.score > wedding.score + 0.2
    assert 0 <= wedding.score <= 1 and data_entry.k == evidence.K == len(data_entry.tasks)
    shown = data_entry.to_json()
    assert len(shown) == evidence.SHOWN
    assert set(shown[0]) == {"task", "occupation", "label", "similarity"}
    assert shown[0]["label"] in {"E0", "E1", "E2"}


def test_the_occupation_view_shows_the_rating_and_example_tasks() -> None:
    view = evidence.occupation_view("court interpreter")
    assert view is not None
    data = view.to_json()
    assert data["occupation"] == "Interpreters and Translators"
    assert data["most_exposed"] and all(t["label"] != "E0" for t in data["most_exposed"])
    assert all(t["label"] == "E0" for t in data["least_exposed"])
    assert "GPTs are GPTs" in data["credit"]
    assert evidence.occupation_view("asdf qwerty zxcv") is None


def test_the_freelance_list_exists_and_stays_out_of_dev() -> None:
    socs = freelance_socs()
    assert len(socs) == len(FREELANCE_TITLES) >= 25
    assert not any(is_dev(s) for s in socs)
    dev = [o.soc_code for o in load_occupations() if is_dev(o.soc_code)]
    assert 300 < len(dev) < 600  # about half of the rest


def test_the_rank_auc_equals_sklearn() -> None:
    rng = np.random.default_rng(3)
    positive = rng.random(500) < 0.3
    scores = np.round(rng.random(500) + positive * 0.3, 1)  # rounded: many ties
    assert auc(positive, scores) == pytest.approx(roc_auc_score(positive, scores))
    assert auc(np.ones(3, dtype=bool), np.arange(3.0)) is None


def smallest(socs: list[str], n: int) -> list[str]:
    return sorted(socs, key=lambda s: len(tasks_of(s)))[:n]


def test_the_loo_eval_on_a_few_occupations_writes_the_documented_keys(tmp_path: Path) -> None:
    everyone = [o.soc_code for o in load_occupations()]
    # The smallest occupations: under 64 texts the guide-only scorer stays on the ONNX
    # engine, which keeps this test from importing torch.
    socs = [
        *smallest(freelance_socs(), 2),
        *smallest([s for s in everyone if is_dev(s)], 1),
        *smallest([s for s in everyone if not is_dev(s) and s not in freelance_socs()], 1),
    ]
    report = run_onet_eval(tmp_path, socs=socs, resamples=50, corpus_dir=REPO / "corpus")
    assert json.loads((tmp_path / "onet.json").read_text("utf-8")) == report
    for split in ("all", "freelance", "dev"):
        assert set(report[split]) >= {"thrive", "guide_only", "gpt4"}
        for scorer in ("thrive", "guide_only", "gpt4"):
            row = report[split][scorer]
            assert set(row) >= {"auc_e1_e0", "auc_e12_e0", "ci95_e1_e0"}
            for value in (row["auc_e1_e0"], row["auc_e12_e0"]):
                assert value is None or 0 <= value <= 1
    assert report["dev"]["calibration_set"] is True
    assert report["freelance_occupations"] == list(FREELANCE_TITLES)
    assert report["n_tasks"]["freelance"]["total"] == sum(len(tasks_of(s)) for s in socs[:2])
