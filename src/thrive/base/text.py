"""Text helpers every layer shares: sentences, citations, mentions of a person's work.

One home for each, so that the offline coach, the exposure check, the evaluation and the
benchmark split a sentence, read a citation and match a profile the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

# A sentence ends at . ! or ? (a closing quote or bracket may follow, and stays with it)
# before a space and a capital or a digit: "e.g. writing" and "3.5 hours" do not split.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=[\"'“‘(]?[A-Z0-9])")
# A citation as the chain writes it: "[threat-1]", also "[threat-1, strategy-2]".
CITATION = re.compile(r"\[\s*([a-z0-9][a-z0-9-]*(?:\s*[,;]\s*[a-z0-9][a-z0-9-]*)*)\s*\]", re.I)
_WORD = re.compile(r"[a-z0-9]+", re.I)


def has_undecodable_bytes(text: str) -> bool:
    """True when `text` holds lone surrogates: bytes that were not UTF-8, as Python hands
    them over from the command line or a pipe (surrogate escapes), or as a JSON escape can
    spell them. The embedding tokenizer fails on them, so input with them is refused."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def split_sentences(text: str) -> list[str]:
    """The sentences of one line of prose, stripped, blanks dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def is_section_id(candidate: str) -> bool:
    """Section ids have a hyphen ("threat-1", "my-guide-intro") or are overview/summary;
    "[1]" and "[sic]" are not citations."""
    return "-" in candidate or candidate in ("overview", "summary")


def citation_ids(bracket_body: str) -> list[str]:
    """The ids inside one citation's brackets ("threat-1, strategy-2"), lower-cased."""
    return [i.strip().lower() for i in re.split(r"[,;]", bracket_body) if i.strip()]


def cited_ids(text: str) -> list[str]:
    """Section ids cited in the text, in order, once each."""
    out: list[str] = []
    for match in CITATION.finditer(text):
        for sid in citation_ids(match.group(1)):
            if is_section_id(sid) and sid not in out:
                out.append(sid)
    return out


def word_set(text: str) -> set[str]:
    """Lower-case words of the text, for whole-word matching."""
    return {w.lower() for w in _WORD.findall(text)}


def mentions(text: str, terms: Iterable[str], ignore: AbstractSet[str] = frozenset()) -> bool:
    """True when the text names one of the terms (a skill, a service, a domain): the whole
    term, or a telling word of it (three letters or more, not in `ignore`)."""
    lowered = text.lower()
    found = word_set(text)
    for term in terms:
        term = term.strip().lower()
        if not term:
            continue
        if term in lowered:
            return True
        if any(len(w) >= 3 and w not in ignore and w in found for w in word_set(term)):
            return True
    return False
