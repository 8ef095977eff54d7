"""The offline coach: grounded, cited answers composed from the guide's own sentences.

No model writes anything here. The backend picks, for this question and this person, the
guide sentences that fit best (by embedding similarity) from the retrieved passages and lays
them out as coaching: what puts your work at risk, what to do about it, your next step.
Only the short connecting phrases are Thrive's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from thrive.base import embeddings
from thrive.base.cache import VectorCache
from thrive.base.schema import AnswerRequest, Passage, WorkNote
from thrive.base.settings import Settings
from thrive.models.base import Backend
from thrive.models.registry import register

STEPS_SHOWN = 3  # action steps listed when only steps were retrieved (see compose)
STEP_SENTENCES = 2  # an action step is given whole up to this (the guide's have 1-2)
_ACTION_QUESTION = re.compile(
    r"\b(what (should|can|do) i do|how (do|can|should) i|what steps|next step|strateg|advice|"
    r"adapt|stand out|protect|prepare|respond)\b",
    re.I,
)
# Bounded: the bundled guide has ~400 sentences, but a server with many large guides would
# otherwise keep every sentence it ever embedded. 50,000 vectors are about 75 MB.
_vector_cache = VectorCache(50_000)


@dataclass(frozen=True)
class Sentence:
    """A guide sentence with the passage it came from (for its citation)."""

    text: str
    passage: Passage
    is_example: bool


def split_sentences(passage: Passage) -> list[Sentence]:
    """The passage's sentences, as the knowledge layer marked them up."""
    return [Sentence(s.text, passage, s.is_example) for s in passage.sentences]


def _vectors(texts: list[str]) -> np.ndarray:
    """Sentence embeddings, cached: the guide's sentences are few and asked about often."""
    return _vector_cache.vectors(texts, embeddings.encode)


def prefetch(passages: Iterable[Passage]) -> int:
    """Embed the passages' sentences ahead of time (the page does it for the whole guide
    while the user types), so composing an answer only embeds the question. Returns how
    many sentences are cached."""
    for passage in passages:  # a passage at a time: small batches, as answers make them
        _vectors([s.text for s in split_sentences(passage)])
    return len(_vector_cache)


def _ranked(sentences: list[Sentence], query: np.ndarray) -> list[Sentence]:
    if not sentences:
        return []
    scores = _vectors([s.text for s in sentences]) @ query
    order = np.argsort(-scores, kind="stable")
    return [sentences[i] for i in order]


def _cite(sentence: Sentence) -> str:
    return _cited(sentence.text, sentence.passage.section_id)


def _cited(text: str, section_id: str) -> str:
    """`text` as a cited line: ending in a full stop (or its own ! or ?), then its id."""
    text = text.rstrip()
    if text.rstrip("\"'”)")[-1:] not in (".", "!", "?"):
        text += "."
    return f"{text} [{section_id}]"


def compose(request: AnswerRequest) -> str:
    """The whole answer as Markdown, every line but the connecting phrases from the guide."""
    profile = request.profile
    query_text = " ".join([request.question, profile.as_query()]).strip()
    query = embeddings.encode([query_text])[0]
    by_kind: dict[str, list[Passage]] = {}
    for passage in request.passages:
        by_kind.setdefault(passage.kind, []).append(passage)

    used: set[str] = set()
    unnamed_work = request.work is not None and not request.work.named_in_guide

    def best(kind: str, n_passages: int, examples: bool) -> list[str]:
        lines = []
        for passage in by_kind.get(kind, [])[:n_passages]:
            ranked = [s for s in _ranked(split_sentences(passage), query) if s.text not in used]
            claims = [s for s in ranked if not s.is_example]
            samples = [s for s in ranked if s.is_example]
            if unnamed_work:
                # The guide's examples are about the work it names ("AI-designed visuals ..."
                # would be told to a voice-over artist): for other work, its claims only.
                samples = []
            used.update(s.text for s in (claims[:1] + (samples[:1] if examples else [])))
            if claims:
                lines.append(_cite(claims[0]))
            if examples and samples:
                lines.append(_cite(samples[0]))
        return lines

    opening = (
        work_opening(request.work, request.passages)
        if request.work
        else "Here is what the guide says about this."
    )
    risks = best("threat", 2, examples=True)
    moves = best("strategy", 2, examples=True)
    risk_part = "**What puts your work at risk**\n" + "\n".join(f"- {r}" for r in risks)
    move_part = "**What to do about it**\n" + "\n".join(f"- {m}" for m in moves)
    # "What should I do ...?" gets the strategies first; "am I at risk?" the threats.
    wants_action = bool(_ACTION_QUESTION.search(request.question))
    ordered = (
        [(moves, move_part), (risks, risk_part)]
        if wants_action
        else [(risks, risk_part), (moves, move_part)]
    )
    parts = [opening, *(part for lines, part in ordered if lines)]
    actions = by_kind.get("action", [])
    if actions and not (risks or moves):
        # Only action steps were retrieved ("What are the first steps?", "a step-by-step
        # plan?"): several of them, in the guide's order, rather than one sentence of one.
        # Three: a month's worth; `thrive plan` dates all seven. (Dev: six such questions
        # got one step, two of them only "Be honest and realistic.")
        chosen = sorted(actions[:STEPS_SHOWN], key=_order)
        steps = [line for line in map(_step, chosen) if line]
        if steps:
            parts.append("**Your next steps**\n" + "\n".join(f"- {line}" for line in steps))
            return "\n\n".join(parts)
    step = [line for line in map(_step, actions[:1]) if line]
    if not step and by_kind.get("strategy") and not unnamed_work:
        # No action step was retrieved: the best concrete example of a strategy stands in
        # (not for work the guide does not name: its examples are about other work).
        examples = [
            s
            for p in by_kind["strategy"]
            for s in split_sentences(p)
            if s.is_example and s.text not in used
        ]
        step = [_cite(s) for s in _ranked(examples, query)[:1]]
    if step:
        parts.append("**Your next step this month**\n- " + step[0])
    if not (risks or moves or step):
        general = [s for p in request.passages[:3] for s in split_sentences(p)]
        parts.append("\n".join(f"- {_cite(s)}" for s in _ranked(general, query)[:3]))
    return "\n\n".join(parts)


def _step(passage: Passage) -> str:
    """An action step whole, as the guide states it: its instruction and what follows it
    (each step is one or two sentences; the second alone, "Be honest and realistic.", says
    nothing by itself)."""
    claims = [s.text.rstrip() for s in split_sentences(passage) if not s.is_example]
    if not claims:
        return ""
    return _cited(" ".join(claims[:STEP_SENTENCES]), passage.section_id)


def _order(passage: Passage) -> tuple[int, str]:
    """Where a section stands in the guide: action-3 before action-10; others after."""
    number = passage.section_id.rpartition("-")[2]
    return (int(number), "") if number.isdigit() else (10**6, passage.section_id)


def work_opening(work: WorkNote, passages: list[Passage]) -> str:
    """The person's work by name, its exposure and the threats behind it; where the guide
    does not name that work, it says so and names the closest parts of the guide."""
    retrieved = {p.section_id for p in passages}
    threats = [f"{title} [{sid}]" if sid in retrieved else title for sid, title in work.threats]
    text = (
        f"**Your work: {work.name}.** The exposure check puts it at **{work.level}** exposure "
        f"to generative AI ({work.score}/100)"
    )
    text += f", mainly through {_and(threats)}." if threats else "."
    if not work.named_in_guide:
        # the guide's threats and strategies, not its introduction or summary
        parts = [p for p in passages if p.kind not in ("overview", "summary")] or passages
        closest = [f"{p.title} [{p.section_id}]" for p in parts[:2]]
        text += f" The guide does not name this work itself; the closest parts of it are {_and(closest)}."
    return text


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


class ExtractiveBackend(Backend):
    name = "extractive"
    generative = False

    def stream(self, request: AnswerRequest) -> Iterator[str]:
        text = compose(request)
        # Word by word, so the page and the terminal show the answer as it forms.
        yield from re.findall(r"\S+\s*|\s+", text)


@register("extractive")
def _extractive(model: str, settings: Settings) -> Backend:
    return ExtractiveBackend()
