"""Fitting a prompt to the model's context window.

`top_k` may be 50 and a chunk 2,000 words, while a small local model has 4,096 tokens: sent
whole, such a prompt fails ("exceeds context window") or is cut by the server from the
front, losing the instructions. So the chain trims before sending: the oldest history first
(the newest turns carry the follow-up's meaning), then the lowest-ranked passages, then
those the chain asks to keep (the strategy and step added for the person's work, the step
last), then the tail of the best passage, the only one ever cut. The best passage and the
question always stay.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from thrive.base.schema import Passage, Turn

# Tokens are counted without the model's tokenizer (the chain does not know which model
# will answer): one token per 3 bytes of UTF-8 overestimates English (~4.5 bytes a token)
# and matches CJK text (3 bytes a character, about a token each), so the estimate errs
# on the safe side for every language.
BYTES_PER_TOKEN = 3
# Per message: role markers and separators of a chat template.
MESSAGE_OVERHEAD = 8


def approx_tokens(text: str) -> int:
    return len(text.encode("utf-8")) // BYTES_PER_TOKEN + 1


def fit(
    passages: list[Passage],
    history: list[Turn],
    *,
    fixed_tokens: int,
    context_tokens: int,
    answer_tokens: int,
    keep: Sequence[Passage] = (),
) -> tuple[list[Passage], list[Turn]]:
    """The passages and history that fit beside `fixed_tokens` (system prompt, profile and
    question) and the answer's own `answer_tokens` in `context_tokens`, in their order;
    those in `keep` are trimmed only once no other passage but the best is left, the last
    of `keep` first."""
    budget = context_tokens - answer_tokens - fixed_tokens
    kept_history = list(history)

    def history_cost() -> int:
        return sum(approx_tokens(t.content) + MESSAGE_OVERHEAD for t in kept_history)

    def passages_cost(ps: list[Passage]) -> int:
        return sum(approx_tokens(p.text) + approx_tokens(p.title) + MESSAGE_OVERHEAD for p in ps)

    kept = list(passages)

    def next_to_trim() -> int:
        """The lowest-ranked passage but the best outside `keep`; once there is none, the
        one latest in `keep`."""
        others = [i for i in range(1, len(kept)) if kept[i] not in keep]
        if others:
            return others[-1]
        return max(range(1, len(kept)), key=lambda i: list(keep).index(kept[i]))

    while kept_history and history_cost() + passages_cost(kept[:1]) > budget:
        kept_history.pop(0)  # oldest first
    while len(kept) > 1 and history_cost() + passages_cost(kept) > budget:
        kept.pop(next_to_trim())
    room = budget - history_cost() - passages_cost(kept[:-1]) if kept else 0
    if (
        kept
        and approx_tokens(kept[-1].text) + approx_tokens(kept[-1].title) + MESSAGE_OVERHEAD > room
    ):
        last = kept[-1]
        # Room for the title and the " …" that marks the cut, too.
        spare = room - MESSAGE_OVERHEAD - approx_tokens(last.title) - approx_tokens(" …")
        keep_bytes = max(spare, 0) * BYTES_PER_TOKEN
        text = last.text.encode("utf-8")[:keep_bytes].decode("utf-8", "ignore")
        # Sentences the text no longer holds are dropped too, for backends that read them.
        sentences = tuple(s for s in last.sentences if s.text in text)
        kept[-1] = replace(last, text=text.rsplit(" ", 1)[0] + " …", sentences=sentences)
    return kept, kept_history
