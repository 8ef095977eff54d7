"""Groundedness: the share of an answer's claims that a retrieved passage supports.

A *claim* is an answer sentence that says something: headings, short connecting phrases
("Here is what the guide says.") and sentences that only restate what the user told us
("You told me you work in logo design.") are not claims and are not counted.

A claim is *supported* when some window of one or two consecutive sentences of a retrieved
passage is close to it in meaning (cosine similarity of all-MiniLM-L6-v2 embeddings) and,
unless the similarity alone is decisive, shares its words:

    supported = sim >= STRONG_SIM  or  (sim >= MIN_SIM and overlap >= MIN_OVERLAP)

where overlap is the share of the claim's content words (stemmed, stop words dropped) found
in that passage. The thresholds were set on hand-written sentences against the guide (kept
as tests in tests/test_eval_metrics.py): verbatim or lightly edited guide sentences score
0.88-1.0; faithful paraphrases 0.55-0.9 with 0.55-0.85 of their words in the passage;
on-topic inventions ("87 percent of freelancers will lose their jobs", "join a union")
0.25-0.56 but share at most a third of their words. Similarity alone would accept such
inventions; overlap alone would accept any sentence built from the guide's vocabulary.

A limit to keep in mind: this measures support of topic and wording, not entailment. A
claim that reverses the guide with its own words ("raise your prices for basic blog posts
because AI makes them more valuable") passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from thrive.base import embeddings
from thrive.base.cache import VectorCache
from thrive.base.schema import Passage
from thrive.evaluation.text import Sentence, content_words, sentences

STRONG_SIM = 0.80  # this close in meaning is support whatever the wording
MIN_SIM = 0.50  # below this a sentence is about something else
MIN_OVERLAP = 0.55  # with MIN_SIM: at least half of the claim's content words are the passage's
MIN_CLAIM_WORDS = 4  # fewer content words: a connecting phrase, not a claim
RESTATES_USER = 0.6  # this share of its words from the user's own input: a restatement

# Bounded: a long eval of answers from a model that writes new sentences each time would
# otherwise grow it without end. 20,000 vectors of 384 floats are about 30 MB.
_cache = VectorCache(20_000)


@dataclass
class Grounding:
    """How one answer is grounded. `score` is None when the answer makes no claims."""

    claims: int
    supported: int
    unsupported: list[str] = field(default_factory=list)
    details: list[dict[str, object]] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        return self.supported / self.claims if self.claims else None


def _encode(texts: Sequence[str]) -> np.ndarray:
    """Embeddings, cached: the guide's sentences recur across every case of a run."""
    if not texts:
        return np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
    # The query engine (ONNX): same vectors as the bulk one, without importing torch.
    return _cache.vectors(texts, lambda batch: embeddings.encode(batch, bulk=False))


def _windows(passage: Passage) -> list[str]:
    """Each sentence of the passage and each pair of neighbours (a claim may merge two)."""
    units = [s.text for s in sentences(passage.text)]
    return units + [f"{a} {b}" for a, b in pairwise(units)]


def is_claim(sentence: Sentence, user_words: set[str]) -> bool:
    """True when the sentence says something that needs support from the guide."""
    words = content_words(sentence.text)
    if len(set(words)) < MIN_CLAIM_WORDS:
        return False
    from_user = sum(1 for w in words if w in user_words) / len(words)
    return from_user < RESTATES_USER


def groundedness(answer: str, passages: Sequence[Passage], user_text: str = "") -> Grounding:
    """Score `answer` against the retrieved `passages`; `user_text` is the question, the
    profile and the history, whose restatement is not a claim."""
    user_words = set(content_words(user_text))
    claims = [s for s in sentences(answer) if is_claim(s, user_words)]
    if not claims:
        return Grounding(0, 0)
    windows: list[tuple[str, int]] = [
        (w, i) for i, p in enumerate(passages) for w in _windows(p) if w
    ]
    passage_words = [set(content_words(p.text)) for p in passages]
    claim_vectors = _encode([c.text for c in claims])
    window_vectors = _encode([w for w, _ in windows])
    sims = claim_vectors @ window_vectors.T if windows else np.zeros((len(claims), 0))
    result = Grounding(len(claims), 0)
    for row, claim in enumerate(claims):
        words = content_words(claim.text)
        # The top few windows, not only the first: a paraphrase may sit in the passage that
        # shares its words while a window of another passage is a hair closer in embedding.
        candidates = [
            (
                float(sims[row, col]),
                _overlap(words, passage_words[windows[col][1]]),
                windows[col][1],
            )
            for col in np.argsort(-sims[row])[:3]
        ]
        best_sim, best_overlap, pid = next(
            (c for c in candidates if _supports(c[0], c[1])),
            candidates[0] if candidates else (0.0, 0.0, -1),
        )
        best_section = passages[pid].section_id if pid >= 0 else ""
        ok = _supports(best_sim, best_overlap)
        result.supported += ok
        if not ok:
            result.unsupported.append(claim.text)
        result.details.append(
            {
                "sentence": claim.text,
                "supported": ok,
                "similarity": round(best_sim, 3),
                "overlap": round(best_overlap, 3),
                "section_id": best_section,
            }
        )
    return result


def _overlap(words: list[str], passage_words: set[str]) -> float:
    return sum(1 for w in words if w in passage_words) / len(words)


def _supports(sim: float, overlap: float) -> bool:
    return sim >= STRONG_SIM or (sim >= MIN_SIM and overlap >= MIN_OVERLAP)
