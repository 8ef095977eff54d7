"""The bundled guide as the coaching tools read it: its sections by id, as plain lines.

The tools read the corpus files directly rather than the vector store: they need whole
sections in order (every example of a threat, every action step), not the best chunks for
a query, and they must work before anything has been indexed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import Stemmer

from thrive.base.errors import CorpusError
from thrive.knowledge.corpus import Section, guide_files, plain_text, read_corpus
from thrive.knowledge.structure import guide_lines

THREATS = tuple(f"threat-{n}" for n in range(1, 6))
STRATEGIES = tuple(f"strategy-{n}" for n in range(1, 8))
ACTIONS = tuple(f"action-{n}" for n in range(1, 8))


@dataclass(frozen=True)
class Guide:
    """The sections of the bundled guide the tools need, with their fixed ids."""

    sections: dict[str, Section]
    fingerprint: tuple[tuple[str, int, int], ...]

    def title(self, section_id: str) -> str:
        return self.sections[section_id].title

    def lines(self, section_id: str) -> list[str]:
        """The section as plain lines: no "The Threat:"/"Strategy:" labels, no "Examples:"."""
        return [line.text for line in guide_lines(plain_text(self.sections[section_id].text))]

    def text(self, section_id: str) -> str:
        return " ".join(self.lines(section_id))

    def names(self, work: str) -> bool:
        """Whether the guide itself names this work: every telling word of it (four letters
        or more) has the stem of a word in the guide ("designs" matches "design")."""
        words = [w for w in re.findall(r"[a-z]+", work.lower()) if len(w) >= 4]
        return bool(words) and set(_stems(words)) <= self._stems

    @cached_property
    def _stems(self) -> frozenset[str]:
        body = " ".join(self.text(sid) for sid in self.sections).lower()
        return frozenset(_stems(re.findall(r"[a-z]+", body)))


def _stems(words: list[str]) -> list[str]:
    # A stemmer per call: PyStemmer's objects are not safe to share between threads.
    return list(Stemmer.Stemmer("english").stemWords(words))


_cache: dict[tuple[tuple[str, int, int], ...], Guide] = {}
_lock = threading.Lock()


def _fingerprint(corpus_dir: Path) -> tuple[tuple[str, int, int], ...]:
    files = guide_files(corpus_dir)
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


_sections_cache: dict[tuple[tuple[str, int, int], ...], dict[str, Section]] = {}


def read_sections(corpus_dir: Path) -> dict[str, Section]:
    """Every section of the guides in `corpus_dir` by id, parsed once per version of its
    files (one entry kept: a corpus is edited, not switched back and forth)."""
    key = _fingerprint(corpus_dir)
    with _lock:
        if key not in _sections_cache:
            _sections_cache.clear()
            _sections_cache[key] = {s.section_id: s for s in read_corpus(corpus_dir)}
        return _sections_cache[key]


def load_guide(corpus_dir: Path) -> Guide:
    """The guide in `corpus_dir`, parsed once per version of its files."""
    key = _fingerprint(corpus_dir)
    with _lock:
        if key not in _cache:
            sections = {s.section_id: s for s in read_corpus(corpus_dir)}
            missing = [i for i in (*THREATS, *STRATEGIES, *ACTIONS) if i not in sections]
            if missing:
                raise CorpusError(
                    f"The coaching tools need the bundled guide's threats, strategies and "
                    f"action steps, but {corpus_dir} lacks {', '.join(missing[:3])}"
                    f"{' and more' if len(missing) > 3 else ''}.",
                    fix="Put genai-threats-and-solutions.md back in the corpus folder.",
                )
            _cache[key] = Guide(sections, key)
        return _cache[key]
