"""The guide's structure as its text carries it: "The Threat:" and "Strategy:" labels, an
"Examples:" list under each threat and strategy, and sentences that lean on the one before.

The one place that reads this markup: the coaching tools (through `Guide`) and the backends
(through `Passage.sentences`) get its result as data.
"""

from __future__ import annotations

import re

from thrive.base.schema import GuideSentence
from thrive.base.text import split_sentences

_LABEL = re.compile(r"^(?:The Threat|Strategy|Examples?)\s*:\s*", re.I)
_EXAMPLES_HEADING = re.compile(r"^Examples?\s*:?\s*$", re.I)
_CLAIM_LABEL = re.compile(r"^(The Threat|Strategy)\s*:", re.I)
_BACK_REFERENCE = re.compile(r"^(This|These|That|Those|It|They|Such)\b")
MIN_SENTENCE_WORDS = 4  # shorter pieces are headings or fragments, not claims


def guide_lines(plain: str) -> list[GuideSentence]:
    """The lines of a section in plain text, labels removed, "Examples:" headings dropped
    and the lines under them marked as examples."""
    out = []
    in_examples = False
    for line in plain.splitlines():
        line = line.strip()
        if not line:
            continue
        if _EXAMPLES_HEADING.match(line):
            in_examples = True
            continue
        if _CLAIM_LABEL.match(line):
            in_examples = False
        out.append(GuideSentence(_LABEL.sub("", line), in_examples))
    return out


def guide_sentences(plain: str) -> tuple[GuideSentence, ...]:
    """The section's sentences. "This can lead to ..." means nothing without the sentence
    before it: the two stay together, as the guide wrote them."""
    out: list[GuideSentence] = []
    for line in guide_lines(plain):
        pieces: list[str] = []
        for piece in split_sentences(line.text):
            if pieces and _BACK_REFERENCE.match(piece):
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
        out += [
            GuideSentence(p, line.is_example)
            for p in pieces
            if len(p.split()) >= MIN_SENTENCE_WORDS
        ]
    return tuple(out)
