"""The exposure check: ranks skills the way the guide's logic does, deterministically."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from sklearn.metrics import roc_auc_score

from thrive.base.errors import CorpusError, InputError
from thrive.base.settings import Settings
from thrive.coaching.coach import Coach
from thrive.coaching.tools.exposure import ExposureScorer, parse_skills
from thrive.knowledge.guide import STRATEGIES, THREATS, load_guide
from thrive.models.chat_model import ChatModelBackend

LABELLED = Path(__file__).parent / "data" / "labelled_skills.jsonl"
MIN_AUC = 0.9


def labelled() -> list[dict[str, str]]:
    return [json.loads(line) for line in LABELLED.read_text("utf-8").splitlines() if line]


def test_the_labelled_set_is_big_enough_and_mostly_beyond_the_guide() -> None:
    rows = labelled()
    assert len(rows) >= 30
    assert sum(r["source"] == "logic" for r in rows) * 2 >= len(rows)
    assert {r["label"] for r in rows} == {"exposed", "safe"}
    assert len({r["skill"].lower() for r in rows}) == len(rows), "duplicate skills"


def test_exposure_ranks_labelled_skills_with_auc_at_least_0_9(coach: Coach) -> None:
    rows = labelled()
    results = coach.exposure([r["skill"] for r in rows])
    truth = [r["label"] == "exposed" for r in rows]
    scores = [r.score for r in results]
    auc = roc_auc_score(truth, scores)
    # The worst-ranked: exposed skills scored lowest and safe skills scored highest.
    exposed = sorted((s, r["skill"]) for s, r, t in zip(scores, rows, truth, strict=True) if t)
    safe = sorted(
        ((s, r["skill"]) for s, r, t in zip(scores, rows, truth, strict=True) if not t),
        reverse=True,
    )
    worst = [f"exposed {n!r}={s}" for s, n in exposed[:5]] + [
        f"safe {n!r}={s}" for s, n in safe[:5]
    ]
    assert auc >= MIN_AUC, f"exposure AUC {auc:.3f} < {MIN_AUC}; worst ranked: {worst}"


def test_skills_the_guide_names_as_exposed_score_above_its_human_centric_ones(
    coach: Coach,
) -> None:
    rows = [r for r in labelled() if r["source"] == "guide"]
    results = {r.skill: r for r in coach.exposure([r["skill"] for r in rows])}
    exposed = [results[r["skill"]] for r in rows if r["label"] == "exposed"]
    safe = [results[r["skill"]] for r in rows if r["label"] == "safe"]
    lowest = min(exposed, key=lambda r: r.score)
    highest = max(safe, key=lambda r: r.score)
    assert lowest.score > highest.score, (
        f"guide-named exposed {lowest.skill!r} ({lowest.score}) is not above guide-named "
        f"safe {highest.skill!r} ({highest.score})"
    )
    assert all(r.level != "low" for r in exposed), [(r.skill, r.score) for r in exposed]
    assert all(r.level == "low" for r in safe), [(r.skill, r.score) for r in safe]


def test_each_result_has_the_design_md_shape_and_cites_real_sections(coach: Coach) -> None:
    results = coach.exposure("basic data entry; brand strategy; video editing")
    assert [r.skill for r in results] == ["basic data entry", "brand strategy", "video editing"]
    for r in results:
        data = r.to_json()
        assert list(data) == ["skill", "score", "level", "threats", "strategies", "why", "evidence"]
        assert data["evidence"] and all(
            set(e) == {"task", "occupation", "label", "similarity"}
            and e["label"] in ("E0", "E1", "E2")
            for e in data["evidence"]
        )
        assert isinstance(data["score"], int) and 0 <= data["score"] <= 100
        assert data["level"] in ("high", "medium", "low")
        assert data["threats"] and set(data["threats"]) <= set(THREATS)
        assert data["strategies"] and set(data["strategies"]) <= set(STRATEGIES)
        cited = re.findall(r"\[([a-z]+-\d)\]", data["why"])
        assert cited and set(cited) <= set(THREATS) | set(STRATEGIES), data["why"]
        assert "\n" not in data["why"]
    assert results[0].level == "high" and results[1].level == "low"
    assert "strategy-1" in results[0].strategies  # exposed work moves to human-centric work


def test_levels_follow_the_score_thresholds(coach: Coach) -> None:
    for r in coach.exposure([row["skill"] for row in labelled()]):
        expected = "high" if r.score >= 60 else "medium" if r.score >= 50 else "low"
        assert r.level == expected, r


def test_the_score_is_the_same_with_every_backend_and_every_batch(
    coach: Coach, guide_settings: Settings
) -> None:
    fake = GenericFakeChatModel(messages=iter([AIMessage("unused")]))
    with_llm = Coach(guide_settings, backend=ChatModelBackend(fake, "fake:model"))
    skills = ["logo design", "AI ethics consulting", "bookkeeping"]
    offline = [r.to_json() for r in coach.exposure(skills)]
    assert [r.to_json() for r in with_llm.exposure(skills)] == offline
    one_by_one = [coach.exposure([s])[0].to_json() for s in skills]
    assert one_by_one == offline


def test_scores_come_from_the_guide_text(coach: Coach, fresh_settings: Settings) -> None:
    """Take the logo example out of the guide and logo design is no longer close to it."""
    guide_file = fresh_settings.corpus_dir / "genai-threats-and-solutions.md"
    before = coach.exposure(["logo design"])[0]
    text = guide_file.read_text("utf-8")
    line = next(ln for ln in text.splitlines() if "create logos" in ln)
    guide_file.write_text(text.replace(line + "\n", ""), "utf-8")
    after = ExposureScorer(load_guide(fresh_settings.corpus_dir)).score(["logo design"])[0]
    assert after.score < before.score
    # the reason no longer quotes the removed line (O*NET's tasks may still mention logos)
    assert "create logos" not in after.why


def test_a_corpus_without_the_bundled_guide_says_how_to_fix_it(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nSomething else entirely.\n", "utf-8")
    with pytest.raises(CorpusError, match=r"genai-threats-and-solutions\.md"):
        load_guide(tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("copywriting; logo design", ["copywriting", "logo design"]),
        ("copywriting, logo design", ["copywriting", "logo design"]),
        ("scheduling, email management; SEO", ["scheduling, email management", "SEO"]),
        ("  SEO ;SEO;  ", ["SEO"]),
        (["UX  design", "", "UX design"], ["UX design"]),
    ],
)
def test_parse_skills(text: str | list[str], expected: list[str]) -> None:
    assert parse_skills(text) == expected


@pytest.mark.parametrize("bad", ["", " ; ; ", "x" * 201, ";".join(f"s{i}" for i in range(101))])
def test_parse_skills_rejects_unusable_input_with_a_fix(bad: str) -> None:
    with pytest.raises(InputError) as err:
        parse_skills(bad)
    assert err.value.fix
