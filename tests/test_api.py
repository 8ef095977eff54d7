"""The Python API of DESIGN.md: everything one import away."""

import subprocess
import sys

import thrive


def test_every_exported_name_resolves():
    for name in thrive.__all__:
        assert getattr(thrive, name) is not None, name


def test_importing_settings_does_not_load_the_heavy_parts():
    code = (
        "import sys, thrive.base.settings; "
        "print(any(m.startswith(('chromadb', 'langchain', 'torch')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_coach_offers_the_design_md_methods(coach):
    for method in ("ask", "stream", "exposure", "niches", "plan"):
        assert callable(getattr(coach, method)), method
    answer = coach.ask("Am I at risk?", profile={"skills": ["basic data entry"]}, history=[])
    assert {"answer", "backend", "refused", "citations", "retrieved"} == set(answer.to_json())
