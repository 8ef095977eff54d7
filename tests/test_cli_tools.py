"""`thrive exposure`, `thrive niches` and `thrive plan`: JSON exactly as DESIGN.md fixes it."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from thrive.base.settings import Settings
from thrive.cli.main import app
from thrive.knowledge.guide import ACTIONS, STRATEGIES, THREATS

runner = CliRunner()


@pytest.fixture()
def env(guide_settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "THRIVE_CORPUS_DIR": str(guide_settings.corpus_dir),
        "THRIVE_VECTORSTORE_DIR": str(guide_settings.vectorstore_dir),
        "THRIVE_DATA_DIR": str(tmp_path / "data"),
        "THRIVE_LLM": "extractive",
    }


@pytest.fixture()
def profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"skills": ["copywriting", "SEO"], "interests": ["fintech"]}))
    return path


def test_exposure_json(env: dict[str, str]) -> None:
    got = runner.invoke(
        app, ["exposure", "--skills", "basic data entry; brand strategy", "--json"], env=env
    )
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert [d["skill"] for d in data] == ["basic data entry", "brand strategy"]
    for item in data:
        assert set(item) == {"skill", "score", "level", "threats", "strategies", "why", "evidence"}
        assert item["evidence"] and {"task", "occupation", "label", "similarity"} == set(
            item["evidence"][0]
        )
        assert isinstance(item["score"], int) and 0 <= item["score"] <= 100
        assert item["level"] in ("high", "medium", "low")
        assert set(item["threats"]) <= set(THREATS) and set(item["strategies"]) <= set(STRATEGIES)
        assert isinstance(item["why"], str) and item["why"]
    assert data[0]["score"] > data[1]["score"]


def test_exposure_of_an_occupation(env: dict[str, str]) -> None:
    got = runner.invoke(app, ["exposure", "--occupation", "court interpreter", "--json"], env=env)
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    view = data["occupation"]
    assert view["occupation"] == "Interpreters and Translators" and data["skills"] == []
    assert 0 < view["human_beta"] <= 1 and view["most_exposed"] and view["least_exposed"]
    assert all(t["label"] == "E0" for t in view["least_exposed"])
    shown = runner.invoke(app, ["exposure", "--occupation", "court interpreter"], env=env)
    assert "Interpreters and Translators" in shown.stdout and "GPTs are GPTs" in shown.stdout
    none = runner.invoke(app, ["exposure", "--occupation", "zxqv blorp", "--json"], env=env)
    assert none.exit_code == 0 and json.loads(none.stdout)["occupation"] is None


def test_exposure_table_and_profile_skills(env: dict[str, str], profile_file: Path) -> None:
    got = runner.invoke(app, ["exposure", "--profile", str(profile_file)], env=env)
    assert got.exit_code == 0, got.output
    assert "copywriting" in got.stdout and "SEO" in got.stdout and "threat-" in got.stdout


def test_exposure_without_skills_says_what_to_do(env: dict[str, str]) -> None:
    got = runner.invoke(app, ["exposure"], env=env)
    assert got.exit_code == 1
    assert "--skills" in got.stderr


def test_niches_json(env: dict[str, str], profile_file: Path) -> None:
    got = runner.invoke(app, ["niches", "--profile", str(profile_file), "--json"], env=env)
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert len(data) >= 3
    for item in data:
        assert set(item) == {"niche", "why", "exposure", "strategies", "first_steps"}
        assert item["exposure"] in ("low", "medium", "high")
        assert item["strategies"] and set(item["strategies"]) <= set(STRATEGIES)
        assert len(item["first_steps"]) == 3


def test_niches_for_an_empty_profile_explain_themselves(env: dict[str, str]) -> None:
    got = runner.invoke(app, ["niches", "--json"], env=env)
    assert got.exit_code == 0, got.output
    assert len(json.loads(got.stdout)) >= 3
    assert "profile is empty" in got.stderr


def test_niches_with_a_broken_profile_file(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{skills: copywriting")
    got = runner.invoke(app, ["niches", "--profile", str(bad)], env=env)
    assert got.exit_code == 1 and "not valid JSON" in got.stderr


def test_plan_json_ticks_and_exports(
    env: dict[str, str], profile_file: Path, tmp_path: Path
) -> None:
    ics, md = tmp_path / "plan.ics", tmp_path / "plan.md"
    args = ["plan", "--profile", str(profile_file), "--json", "--start", "2026-03-02"]
    got = runner.invoke(
        app, [*args, "--done", "niche-choose", "--ics", str(ics), "--markdown", str(md)], env=env
    )
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert data["start"] == "2026-03-02" and data["end"] == "2026-03-31"
    items = [i for week in data["weeks"] for i in week["items"]]
    assert [w["week"] for w in data["weeks"]] == [1, 2, 3, 4]
    assert {i["step"] for i in items} == set(ACTIONS)
    assert all(date(2026, 3, 2) <= date.fromisoformat(i["due"]) <= date(2026, 3, 31) for i in items)
    assert [i["id"] for i in items if i["done"]] == ["niche-choose"]
    assert len(list(Calendar.from_ical(ics.read_bytes()).walk("VEVENT"))) == len(items)
    assert "- [x] **Mon 9 Mar: Choose your niche**" in md.read_text("utf-8")
    # The tick is saved: a later run without --done still shows it.
    again = json.loads(runner.invoke(app, args, env=env).stdout)
    assert [i["id"] for w in again["weeks"] for i in w["items"] if i["done"]] == ["niche-choose"]


def test_plan_defaults_to_today_and_prints_checkboxes(env: dict[str, str]) -> None:
    got = runner.invoke(app, ["plan"], env=env)
    assert got.exit_code == 0, got.output
    assert "☐" in got.stdout and "[action-7]" in got.stdout
    assert f"{date.today() + timedelta(days=29):%d %b %Y}" in got.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--start", "tomorrow"], "YYYY-MM-DD"), (["--done", "nope"], "assess-score")],
)
def test_plan_input_errors_say_what_to_do(
    env: dict[str, str], args: list[str], message: str
) -> None:
    got = runner.invoke(app, ["plan", *args], env=env)
    assert got.exit_code == 1 and message in got.stderr


def test_plan_export_to_a_missing_folder_is_refused_and_makes_no_folder(
    env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "typo" / "dir" / "plan.ics"
    got = runner.invoke(app, ["plan", "--ics", str(target)], env=env)
    assert got.exit_code == 1 and "does not exist" in got.stderr, got.output
    assert not (tmp_path / "typo").exists()


def test_plan_keeps_its_start_day_on_later_runs(env: dict[str, str], profile_file: Path) -> None:
    base = ["plan", "--profile", str(profile_file), "--json"]
    began = date.today() - timedelta(days=2)

    def ticked(plan: dict) -> list[str]:
        return [i["id"] for w in plan["weeks"] for i in w["items"] if i["done"]]

    first = runner.invoke(app, [*base, "--start", f"{began}", "--done", "niche-choose"], env=env)
    assert first.exit_code == 0, first.output
    later = json.loads(runner.invoke(app, base, env=env).stdout)
    assert later["start"] == f"{began}" and ticked(later) == ["niche-choose"]
    moved = runner.invoke(app, [*base, "--start", f"{began + timedelta(days=7)}"], env=env)
    assert moved.exit_code == 0, moved.output
    assert "the 1 tick(s) of the plan started on" in moved.stderr
    again = json.loads(moved.stdout)
    assert again["start"] == f"{began + timedelta(days=7)}" and ticked(again) == []


def test_a_failing_plan_run_changes_nothing(env: dict[str, str], profile_file: Path) -> None:
    base = ["plan", "--profile", str(profile_file), "--json"]
    began = date.today() - timedelta(days=3)
    first = runner.invoke(app, [*base, "--start", f"{began}", "--done", "tools-try"], env=env)
    assert first.exit_code == 0, first.output
    moved = f"{began + timedelta(days=1)}"
    bad = runner.invoke(app, [*base, "--start", moved, "--done", "typo"], env=env)
    assert bad.exit_code == 1 and "no item 'typo'" in bad.stderr
    plan = json.loads(runner.invoke(app, base, env=env).stdout)
    assert plan["start"] == f"{began}"
    assert [i["id"] for w in plan["weeks"] for i in w["items"] if i["done"]] == ["tools-try"]


def test_ticks_saved_before_start_days_were_kept_survive(
    env: dict[str, str], profile_file: Path
) -> None:
    from thrive.base.schema import Profile
    from thrive.base.storage import UserData
    from thrive.coaching.tools.plan import plan_id_for

    # As `thrive plan` left them before it saved start days: a tick, and no start day.
    person = Profile.model_validate(json.loads(profile_file.read_text("utf-8")))
    UserData(Path(env["THRIVE_DATA_DIR"])).set_plan_item(plan_id_for(person), "tools-try", True)
    got = runner.invoke(app, ["plan", "--profile", str(profile_file), "--json"], env=env)
    plan = json.loads(got.stdout)
    assert plan["start"] == f"{date.today()}"
    assert [i["id"] for w in plan["weeks"] for i in w["items"] if i["done"]] == ["tools-try"]
