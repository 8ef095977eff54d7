"""Sessions that never step on each other: 20 people asking one `Coach` at the same moment
(the page's threads share one, as Streamlit's sessions do) each get their own answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from thrive.base.settings import Settings
from thrive.coaching.coach import Coach

# Work the guide never names, so a name in an answer can only come from that person's request.
OCCUPATIONS = [
    "translator",
    "bookkeeper",
    "voice-over artist",
    "illustrator",
    "transcriptionist",
    "tutor",
    "video editor",
    "wedding photographer",
    "tax preparer",
    "interior designer",
    "yoga instructor",
    "genealogist",
    "sommelier",
    "calligrapher",
    "event planner",
    "proofreader",
    "subtitler",
    "recruiter",
    "florist",
    "locksmith",
]
SESSIONS = len(OCCUPATIONS)


def at_once(work: Callable[[int], Any], n: int = SESSIONS) -> list[Any]:
    """`work(i)` for each i in n threads, released together by a barrier."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait(timeout=60)
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def others(i: int) -> list[str]:
    return [o for j, o in enumerate(OCCUPATIONS) if j != i]


@pytest.mark.timeout(600)
def test_twenty_sessions_asking_at_once_each_get_their_own_answer(
    guide_settings: Settings,
) -> None:
    coach = Coach(guide_settings)  # fresh: the backend, searcher and tools are built in the race

    def ask(i: int) -> Any:
        occupation = OCCUPATIONS[i]
        history = [{"role": "user", "content": f"I have worked as a {occupation} for years."}]
        return coach.ask(
            f"I'm a freelance {occupation}. What should I do this month?",
            profile={"occupation": occupation},
            history=history,
        )

    answers = at_once(ask)
    for i, answer in enumerate(answers):
        text = answer.text.lower()
        assert not answer.refused, (OCCUPATIONS[i], answer.text)
        assert OCCUPATIONS[i] in text, (OCCUPATIONS[i], answer.text[:300])
        crossed = [o for o in others(i) if o in text]
        assert not crossed, f"{OCCUPATIONS[i]}'s answer names {crossed}"
        assert answer.citations


@pytest.mark.timeout(600)
def test_twenty_streams_at_once_keep_their_own_tokens(guide_settings: Settings) -> None:
    coach = Coach(guide_settings)

    def stream(i: int) -> tuple[str, Any]:
        s = coach.stream(f"As a freelance {OCCUPATIONS[i]}, which of my skills are exposed?")
        shown = "".join(s)
        return shown, s.answer

    for i, (shown, answer) in enumerate(at_once(stream)):
        assert answer is not None and shown.strip() == answer.text.strip()
        assert OCCUPATIONS[i] in shown.lower()
        assert not [o for o in others(i) if o in shown.lower()]


def test_racing_sessions_build_one_backend_and_one_searcher(guide_settings: Settings) -> None:
    coach = Coach(guide_settings)
    backends = at_once(lambda i: coach.backend)
    assert len({id(b) for b in backends}) == 1
    # One searcher object per index version, however many sessions ask for it at once.
    searchers = at_once(lambda i: coach.searcher)
    assert len({id(s) for s in searchers}) == 1


@pytest.mark.timeout(600)
def test_the_coaching_tools_answer_twenty_sessions_at_once(guide_settings: Settings) -> None:
    coach = Coach(guide_settings)
    skills = [f"{o} work" for o in OCCUPATIONS]
    results = at_once(lambda i: coach.exposure([skills[i], "basic data entry"]))
    alone = Coach(guide_settings).exposure(["basic data entry"])[0]
    for i, rows in enumerate(results):
        assert [r.skill for r in rows] == [skills[i], "basic data entry"]
        # The same skill scores the same whoever else is asking at that moment.
        assert rows[1].score == alone.score and rows[1].level == alone.level


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_backends_of_one_gguf_take_turns_on_its_one_context(
    guide_settings: Settings, gguf: object
) -> None:
    from thrive.models.llamacpp import LlamaCppBackend

    # Two coaches (two sessions' settings) with the same model file share one llama.cpp
    # context; generating on it from two threads at once would corrupt both answers.
    first, second = LlamaCppBackend(gguf), LlamaCppBackend(gguf)  # type: ignore[arg-type]
    assert first.llama is second.llama and first._lock is second._lock
    settings = guide_settings.model_copy(update={"max_answer_tokens": 24})
    coaches = [Coach(settings, first), Coach(settings, second)]
    question = "How can I use AI tools to write faster without losing my voice?"
    answers = at_once(lambda i: coaches[i].ask(question), n=2)
    for answer in answers:
        # Each finished on the model itself (the tiny base model may recite its prompt, which
        # the output guard turns into a decline: still a whole answer, not a crash).
        assert answer.backend == first.name and not answer.notice
        assert answer.text.strip(), answer
