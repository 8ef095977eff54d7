"""The retrieval chain, in LCEL:

    question + history -> standalone question -> retrieve -> prompt -> backend -> cited answer

Declines (out of scope, attempts to take over the assistant) are decided before any backend
is called. Citations of sections that were not retrieved are removed from the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from thrive.base.errors import InputError
from thrive.base.schema import AnswerRequest, Citation, Passage, Profile, Turn, WorkNote
from thrive.base.text import CITATION, citation_ids, cited_ids, has_undecodable_bytes, is_section_id
from thrive.coaching.fitting import approx_tokens, fit
from thrive.coaching.safety import clean_question, looks_like_injection
from thrive.coaching.untrusted import (
    history_content,
    passages_block,
    profile_block,
    screened_passage,
    user_block,
)
from thrive.knowledge.retrieval import Hit, SearchResult

HISTORY_TURNS = 6
HISTORY_CHARS = 2000
# The profile as the prompt gives it: fields may hold 500 characters each, 50 items a list.
PROFILE_PROMPT_CHARS = 2000

DECLINE_OUT_OF_SCOPE = (
    "That is outside what I can help with. I coach freelancers on how generative AI "
    "threatens their work and how to respond, using the guide. You could ask, for example: "
    '"Which of my skills are most exposed to AI?" or "Which niche should I move into?"'
)


def decline_outside(topic: str) -> str:
    """The decline for a question on a topic the guide leaves out, naming that topic."""
    return (
        f"That is outside what I can help with: the guide I coach from doesn't cover {topic}. "
        "I coach freelancers on how generative AI threatens their work and how to respond. "
        'You could ask, for example: "Which of my skills are most exposed to AI?"'
    )


DECLINE_INJECTION = (
    "I can't change my role or share my instructions. I'm here to coach you on freelancing "
    'in the age of generative AI. You could ask, for example: "How do I stop competing on '
    'price with AI tools?"'
)

_FOLLOW_UP = re.compile(
    r"\b(it|its|that|this|those|these|them|they|there|more|else|also|another|"
    r"instead|which one|the first|the second|the last|same)\b|^(and|but|so|what about|how about)\b",
    re.I,
)


@cache
def system_prompt() -> str:
    """The one system prompt, kept in `prompts/system.md`."""
    return (
        resources.files("thrive.coaching").joinpath("prompts/system.md").read_text("utf-8").strip()
    )


# Every untrusted text sits in a delimited block (thrive.coaching.untrusted); the values are
# inserted by the template, never parsed as template syntax themselves.
PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "{system}\n\nAbout the user:\n{profile}\n\nGuide passages:\n{context}"),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ]
)


def as_turn(item: object, index: int) -> Turn:
    """One item of a conversation's history, or an `InputError` naming what is wrong."""
    if isinstance(item, Turn):
        return item
    if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
        raise InputError(
            f"History item {index + 1} is not a turn of the conversation.",
            fix='Give each item as {"role": "user" or "assistant", "content": "..."}.',
        )
    content = item.get("content")
    if not isinstance(content, str):
        raise InputError(
            f"History item {index + 1} has no text in its 'content'.",
            fix="Give the turn's text as a string.",
        )
    if has_undecodable_bytes(content):
        raise InputError(
            f"History item {index + 1} is not UTF-8 text.", fix="Send the turn's text as UTF-8."
        )
    return Turn(item["role"], content[:HISTORY_CHARS])


def is_follow_up(question: str, history: list[Turn]) -> bool:
    has_user_turn = any(t.role == "user" for t in history)
    return has_user_turn and (bool(_FOLLOW_UP.search(question)) or len(question.split()) <= 4)


def standalone_question(question: str, history: list[Turn]) -> str:
    """A follow-up ("what should I do about it?") joined to the question it follows.

    Deterministic rather than asking the LLM to rewrite: it costs no model call, works the
    same with every backend, and retrieval only needs the topic words of the earlier turn.
    """
    if not is_follow_up(question, history):
        return question
    previous = next(t.content for t in reversed(history) if t.role == "user")
    return f"{previous[:HISTORY_CHARS]} {question}"


def unique_passages(hits: list[Hit]) -> list[Passage]:
    """One passage per section (chunks of one section joined), best first, each screened
    for instruction-like sentences (a file in `corpus/` is data like any other)."""
    merged: dict[str, Passage] = {}
    for hit in hits:
        p = hit.passage()
        if p.section_id in merged:
            old = merged[p.section_id]
            merged[p.section_id] = replace(
                old, text=f"{old.text}\n{p.text}", sentences=old.sentences + p.sentences
            )
        else:
            merged[p.section_id] = p
    return [screened_passage(p) for p in merged.values()]


def to_messages(prompt_value: Any) -> list[tuple[str, str]]:
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [(roles.get(m.type, m.type), str(m.content)) for m in prompt_value.to_messages()]


@dataclass
class Prepared:
    """What the chain knows before any backend runs."""

    question: str
    standalone: str
    profile: Profile
    history: list[Turn]
    search: SearchResult | None
    passages: list[Passage]
    refusal: str | None
    request: AnswerRequest | None

    @property
    def retrieved(self) -> list[str]:
        """The passages' sections, best first: the search's top k, then any strategy or
        action step added from its reserve (`for_work`), which ranked below them."""
        return [p.section_id for p in self.passages]


# What an answer about someone's work gives beside the risks (issue 10: "the strategies that
# answer it and one next step"), each from the search's reserve when the top k has none.
FOR_WORK = ("strategy", "action")


def for_work(passages: list[Passage], result: SearchResult) -> list[Passage]:
    """What to add to `passages`: the best-ranked strategy and action step of the search's
    reserve, for each of the two kinds they hold none of, in the reserve's order. An answer
    about someone's work tells them what to do about it and what to do first, and a question
    such as "What should I do this month?" can rank only action steps and threats first,
    "Am I at risk?" only threats."""
    missing = {kind for kind in FOR_WORK if not any(p.kind == kind for p in passages)}
    best: dict[str, Hit] = {}  # each kind's first hit, in the reserve's order
    for hit in result.reserve:
        best.setdefault(hit.passage().kind, hit)
    return unique_passages([hit for kind, hit in best.items() if kind in missing])


def build_prepare_chain(
    search: Callable[[str, Profile], SearchResult],
    max_chars: int,
    max_tokens: int,
    note_work: Callable[[str, Profile, list[str]], WorkNote | None] = lambda q, p, e: None,
    context_tokens: int = 4096,
) -> Runnable[dict[str, Any], Prepared]:
    """validate -> condense -> (decline | retrieve -> prompt), as one LCEL runnable."""

    def validate(x: dict[str, Any]) -> dict[str, Any]:
        history = [as_turn(t, i) for i, t in enumerate(x.get("history") or [])][-HISTORY_TURNS:]
        return {**x, "question": clean_question(x["question"], max_chars), "history": history}

    def condense(x: dict[str, Any]) -> str:
        return standalone_question(x["question"], x["history"])

    def retrieve(x: dict[str, Any]) -> SearchResult | None:
        if looks_like_injection(x["question"]):
            return None  # declined: nothing to retrieve
        return search(x["standalone"], x["profile"])

    def assemble(x: dict[str, Any]) -> Prepared:
        result: SearchResult | None = x["search"]
        refusal = None
        if result is None:
            refusal = DECLINE_INJECTION
        elif result.outside_topic:
            refusal = decline_outside(result.outside_topic)
        elif not result.in_scope:
            refusal = DECLINE_OUT_OF_SCOPE
        passages = unique_passages(result.hits) if result and not refusal else []
        request = None
        if refusal is None:
            assert result is not None
            # The work named in this question, else in the person's earlier ones.
            work = note_work(
                x["standalone"],
                x["profile"],
                [t.content for t in reversed(x["history"]) if t.role == "user"],
            )
            added = for_work(passages, result) if work is not None else []
            passages = passages + added
            profile = profile_block(_bounded(x["profile"].describe(), PROFILE_PROMPT_CHARS))
            question = user_block(x["question"])
            fitted, history = fit(
                passages,
                x["history"],
                fixed_tokens=sum(map(approx_tokens, (system_prompt(), profile, question))),
                context_tokens=context_tokens,
                answer_tokens=max_tokens,
                # What the answer about the work ends on; its next step is the last to go.
                keep=sorted(added, key=lambda p: p.kind != "action"),
            )
            prompt = PROMPT.invoke(
                {
                    "system": system_prompt(),
                    "profile": profile,
                    "context": passages_block(fitted),
                    "history": [
                        (t.role if t.role == "user" else "ai", history_content(t)) for t in history
                    ],
                    "question": question,
                }
            )
            request = AnswerRequest(
                question=x["question"],
                passages=passages,
                profile=x["profile"],
                history=x["history"],
                messages=to_messages(prompt),
                max_tokens=max_tokens,
                work=work,
            )
        return Prepared(
            x["question"],
            x["standalone"],
            x["profile"],
            x["history"],
            result,
            passages,
            refusal,
            request,
        )

    return (
        RunnableLambda(validate)
        | RunnablePassthrough.assign(standalone=RunnableLambda(condense))
        | RunnablePassthrough.assign(search=RunnableLambda(retrieve))
        | RunnableLambda(assemble)
    )


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def filter_citations(tokens: Iterable[str], allowed: set[str]) -> Iterator[str]:
    """Stream tokens through, dropping `[ids]` not in `allowed`. Text after an open `[` is held
    back until its `]` (or until it clearly is not a citation) so nothing invalid leaks out."""
    buffer = ""
    for token in tokens:
        buffer += token
        while buffer:
            start = buffer.find("[")
            if start == -1:
                yield buffer
                buffer = ""
                break
            if start:
                yield buffer[:start]
                buffer = buffer[start:]
            end = buffer.find("]")
            if end == -1:
                if len(buffer) > 80:  # too long to be a citation: plain text
                    yield buffer[0]
                    buffer = buffer[1:]
                    continue
                break
            yield _clean_bracket(buffer[: end + 1], allowed)
            buffer = buffer[end + 1 :]
    if buffer:
        yield buffer


def _clean_bracket(bracket: str, allowed: set[str]) -> str:
    match = CITATION.fullmatch(bracket)
    if not match:
        return bracket  # a Markdown link or plain brackets, not a citation
    ids = citation_ids(match.group(1))
    if not any(is_section_id(i) for i in ids):
        return bracket  # "[sic]", "[1]": not one of our ids
    return " ".join(f"[{i}]" for i in ids if i in allowed)


def tidy(text: str) -> str:
    """Spaces left where invalid citations were removed."""
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def citations_for(text: str, passages: list[Passage]) -> list[Citation]:
    by_id = {p.section_id: p for p in passages}
    out = []
    for section_id in cited_ids(text):
        p = by_id.get(section_id)
        if p:
            snippet = " ".join(p.text.split())
            out.append(
                Citation(
                    section_id, p.title, snippet if len(snippet) <= 240 else snippet[:237] + "..."
                )
            )
    return out
