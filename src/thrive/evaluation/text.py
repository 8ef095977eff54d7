"""Text helpers shared by the metrics: answer sentences, content words, word runs."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from thrive.base.text import CITATION, cited_ids, split_sentences

_LIST_MARK = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+.*|\*\*[^*]+\*\*:?|__[^_]+__:?|[^.!?]{1,60}:)\s*$")
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*", re.I)
# Words about the conversation rather than the subject ("Here is what the guide says",
# "You told me you work in ..."): a sentence made of them connects, it claims nothing.
DISCOURSE = frozenset(
    "guide guide's says say said tell told applies apply answer question asked ask let "
    "look see mention mentioned also like may might could would".split()
)
_STOP = frozenset(STOPWORDS_EN_PLUS) | DISCOURSE


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer: its text without markup, and the ids it cites."""

    text: str
    cited: tuple[str, ...]


def strip_markup(text: str) -> str:
    """Plain text: no citations, emphasis or list marks, spaces normalised."""
    text = CITATION.sub("", text)
    text = _LIST_MARK.sub("", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return " ".join(text.split())


def sentences(text: str) -> list[Sentence]:
    """The answer's sentences, line by line (list items are sentences of their own);
    headings ("**What to do about it**", "Next step:") are left out."""
    out = []
    for line in text.splitlines():
        if not line.strip() or _HEADING.match(line):
            continue
        line = _LIST_MARK.sub("", line)
        for piece in split_sentences(line):
            cited = tuple(cited_ids(piece))
            plain = strip_markup(piece)
            if plain and any(ch.isalnum() for ch in plain):
                out.append(Sentence(plain, cited))
    return out


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """One stemmer per thread: PyStemmer's objects are not safe to share between threads."""
    if not hasattr(_local, "stemmer"):
        _local.stemmer = Stemmer.Stemmer("english")
    return _local.stemmer


def content_words(text: str) -> list[str]:
    """Stemmed words that carry meaning (stop words and one-letter tokens dropped)."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    kept = [w for w in words if w not in _STOP and len(w) > 1]
    return list(_stemmer().stemWords(kept))


def words(text: str) -> list[str]:
    """Lower-case words, for matching runs of words."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def word_runs(text: str, n: int) -> set[tuple[str, ...]]:
    """Every run of `n` consecutive words in the text."""
    w = words(text)
    return {tuple(w[i : i + n]) for i in range(len(w) - n + 1)}
