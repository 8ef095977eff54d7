"""The Python API of DESIGN.md: everything one import away."""

import importlib
import subprocess
import sys
from datetime import date, timedelta

import pytest

import thrive

ERRORS = {
    "BackendUnavailable",
    "ConfigurationError",
    "CorpusError",
    "InputError",
    "StoreError",
}


def test_from_thrive_import_star_gives_every_exported_name_as_itself():
    namespace: dict[str, object] = {}
    exec("from thrive import *", namespace)
    assert set(thrive.__all__) <= namespace.keys()
    for name in thrive.__all__:
        value = namespace[name]
        # the object named, not another one wired to the wrong name
        assert value.__name__ == name, (name, value)
        home = importlib.import_module(value.__module__)
        assert getattr(home, name) is value, name
    assert {"Coach", "Answer", "Settings", "ThriveError", "ingest"} <= set(thrive.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        thrive.Nope  # noqa: B018


def test_one_except_catches_every_thrive_error():
    assert set(thrive.__all__) >= ERRORS
    for name in ERRORS:
        err = getattr(thrive, name)("Something went wrong.", fix="Do this.")
        with pytest.raises(thrive.ThriveError):
            raise err
        assert str(err) == "Something went wrong. Do this."


def test_importing_settings_does_not_load_the_heavy_parts():
    code = (
        "import sys, thrive.base.settings; "
        "print(any(m.startswith(('chromadb', 'langchain', 'torch')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_design_md_snippet_does_what_it_says(guide_settings):
    """DESIGN.md's Python API, call by call, on the offline coach."""
    coach = thrive.Coach.from_settings(guide_settings, llm="extractive")
    assert isinstance(coach, thrive.Coach)

    answer = coach.ask(
        "Am I at risk?",
        profile={"skills": ["basic data entry"]},
        history=[{"role": "user", "content": "I do data entry for small shops."}],
    )
    assert isinstance(answer, thrive.Answer)
    assert {"answer", "backend", "refused", "citations", "retrieved"} == set(answer.to_json())
    assert answer.backend == "extractive" and not answer.refused
    assert answer.text and answer.retrieved
    cited = [c.section_id for c in answer.citations]
    assert cited and set(cited) <= set(answer.retrieved)
    assert all(f"[{sid}]" in answer.text for sid in cited)

    stream = coach.stream("How do I build a personal brand as a freelancer?")
    tokens = list(stream)
    assert len(tokens) > 1 and stream.answer is not None
    assert "".join(tokens).strip() == stream.answer.text

    exposed, safe = coach.exposure(["basic data entry", "brand strategy"])
    assert (exposed.skill, safe.skill) == ("basic data entry", "brand strategy")
    assert exposed.score > safe.score and (exposed.level, safe.level) == ("high", "low")

    profile = {"skills": ["copywriting"], "interests": ["healthcare"]}
    niches = coach.niches(profile).to_json()
    assert len(niches) >= 3 and all(n["niche"] and n["first_steps"] for n in niches)

    start = date(2026, 3, 2)
    plan = coach.plan(profile, start=start)
    assert (plan.start, plan.end) == (start, start + timedelta(days=29))
    assert len(plan.steps) == 7 and plan.items
