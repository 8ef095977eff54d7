"""The prompt fits the model's context: with every passage of the guide retrieved and a long
history, the real llama.cpp server (4,096 tokens) still answers, and what is trimmed is the
oldest history and the lowest-ranked passages, then those the chain keeps for the person's
work, never the question or the best passage."""

from __future__ import annotations

import pytest

from thrive.base.schema import Passage, Turn
from thrive.base.settings import Settings
from thrive.coaching.coach import Coach
from thrive.coaching.fitting import approx_tokens, fit

QUESTION = "What should a freelance copywriter do about cheaper AI drafts?"
# Six long turns, each about 2,000 characters (the history's limit per turn).
HISTORY = [
    {
        "role": "user" if i % 2 == 0 else "assistant",
        "content": f"Turn {i}: " + "I write product pages and blog posts for small shops. " * 36,
    }
    for i in range(6)
]


def passage(i: int, words: int) -> Passage:
    return Passage(f"strategy-{i}", f"Strategy {i}", "strategy", " ".join(["word"] * words))


def test_the_oldest_history_goes_first_then_the_lowest_passages() -> None:
    passages = [passage(i, 300) for i in range(1, 8)]
    history = [Turn("user", f"turn {i} " + "x " * 400) for i in range(6)]
    kept, turns = fit(passages, history, fixed_tokens=400, context_tokens=2048, answer_tokens=256)
    assert turns == history[len(history) - len(turns) :]  # the newest, in order
    assert kept[0] == passages[0] and kept == passages[: len(kept)]
    used = sum(approx_tokens(p.text) + 8 for p in kept) + sum(
        approx_tokens(t.content) + 8 for t in turns
    )
    assert used <= 2048 - 256 - 400


def test_a_single_huge_passage_is_cut_to_fit() -> None:
    (kept,), turns = fit(
        [passage(1, 20_000)], [], fixed_tokens=300, context_tokens=1024, answer_tokens=128
    )
    assert turns == [] and kept.text.endswith("…")
    assert approx_tokens(kept.text) <= 1024 - 128 - 300


@pytest.fixture()
def everything_retrieved(guide_settings: Settings, llama_server: str) -> Settings:
    return guide_settings.model_copy(
        update={
            "llm": "openai-compatible:gemma3-270m",
            "openai_base_url": llama_server,
            "max_answer_tokens": 16,
            "top_k": 50,  # every section of the guide
            # Inside the server's n_ctx of 4,096; smaller, so the test's prompt stays quick
            # to read for a model on two busy cores.
            "context_tokens": 2048,
        }
    )


@pytest.mark.integration
@pytest.mark.slow
def test_the_real_model_answers_a_prompt_bigger_than_its_context(
    everything_retrieved: Settings,
) -> None:
    coach = Coach(everything_retrieved)  # no fallback: the model itself must answer
    prepared = coach.prepare(QUESTION, history=HISTORY)
    assert prepared.request is not None
    full = sum(approx_tokens(p.text) for p in prepared.passages) + sum(
        approx_tokens(t["content"]) for t in HISTORY
    )
    assert full > 2048  # sent whole it could not fit
    messages = prepared.request.messages
    assert messages[-1][1].endswith(QUESTION + "\n</user_message>")
    assert "Turn 5:" in messages[-2][1]  # the newest history stays
    assert prepared.passages[0].section_id in messages[0][1]  # so does the best passage
    answer = coach.ask(QUESTION, history=HISTORY)
    assert answer.backend == "openai-compatible:gemma3-270m" and answer.text


def test_passages_to_keep_go_only_after_every_other_but_the_best() -> None:
    passages = [passage(i, 300) for i in range(1, 8)]
    step = Passage("action-1", "Action step 1", "action", " ".join(["step"] * 20))
    kept, _ = fit(
        [*passages, step],
        [],
        fixed_tokens=400,
        context_tokens=1800,
        answer_tokens=256,
        keep=[step],
    )
    assert kept[0] == passages[0] and kept[-1] == step  # the best first, the step still last
    assert 1 < len(kept) < 8 and kept[:-1] == passages[: len(kept) - 1]
    # Room for the best and one more: of the kept ones, the last of `keep` goes first.
    strategy = passage(9, 60)
    kept, _ = fit(
        [passages[0], strategy, step],
        [],
        fixed_tokens=400,
        context_tokens=1256,  # 600 for passages: the best (513) and the step (47), not both
        answer_tokens=256,
        keep=[step, strategy],
    )
    assert kept == [passages[0], step]
    # No room even for the best passage: the step goes too, and the best is cut.
    (kept,), _ = fit(
        [passages[0], step],
        [],
        fixed_tokens=400,
        context_tokens=1024,
        answer_tokens=256,
        keep=[step],
    )
    assert kept.section_id == "strategy-1" and kept.text.endswith("…")
    assert approx_tokens(kept.text) + approx_tokens(kept.title) + 8 <= 1024 - 256 - 400


def test_a_small_context_keeps_the_next_step_added_for_the_persons_work(
    guide_settings: Settings,
) -> None:
    # The bookkeeper's top five hold no action step; the one added from the reserve is what
    # the answer ends on, so a small model's context drops the other passages before it.
    small = guide_settings.model_copy(
        update={"llm": "extractive", "context_tokens": 1024, "max_answer_tokens": 128}
    )
    prepared = Coach(small).prepare("I'm a bookkeeper. Is AI coming for my clients?")
    assert prepared.request is not None
    step = prepared.passages[-1].section_id
    assert step.startswith("action-") and len(prepared.passages) == 6
    context = prepared.request.messages[0][1]
    assert f'id="{step}"' in context and f'id="{prepared.passages[0].section_id}"' in context
    assert context.count("<passage ") < 6  # the others made room
