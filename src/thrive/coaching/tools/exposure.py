"""Skill exposure check: how exposed a skill is to generative AI, by the guide's own logic.

The method, deterministic and the same with every backend:

1. Anchors. Every clause of the guide's threat examples (automation, competition,
   devaluation, obsolescence: "product descriptions", "AI design tools can create logos",
   "basic customer service tasks", ...) is an *exposed* anchor; every clause of its
   human-centric strategies ("branding strategy", "AI Ethics Consulting", "empathy",
   "creative direction for marketing campaigns", ...) is a *safe* anchor.
2. Raw score. The skill is embedded with the bundled model; raw = mean similarity to its 3
   nearest exposed anchors minus the same for safe anchors, plus a small lexical prior for
   the qualifiers the guide uses to mark each side ("basic", "entry-level", "repetitive" vs
   "strategy", "consulting", "expert", ...).
3. Calibration. The anchors are scored leave-one-out; the median exposed anchor maps to 80
   and the median safe anchor to 20 on a logistic curve, so 0-100 means "how much it looks
   like what the guide itself names as exposed rather than safe".

No skill has a hard-coded answer: change the guide and the scores change with it.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np

from thrive.base import embeddings
from thrive.base.errors import InputError
from thrive.base.text import has_undecodable_bytes, split_sentences
from thrive.knowledge.guide import STRATEGIES, THREATS, Guide
from thrive.knowledge.onet import CREDIT, EvidenceTask, blend, evidence_for_vectors

Level = Literal["high", "medium", "low"]

# Which sections hold the guide's examples of exposed work and of safe, human-centric work.
# Threat 4 (quality and ethics) is left out of the exposed side: its examples list what AI
# output *lacks* ("strong storytelling", "a genuine human voice"), which is safe work.
EXPOSED_SECTIONS = ("threat-1", "threat-2", "threat-3", "threat-5")
# Strategies 1, 2, 4 and 7 describe the work itself; 3, 5 and 6 are about using AI,
# branding and learning, and would blur the line between the two sides.
SAFE_SECTIONS = ("strategy-1", "strategy-2", "strategy-4", "strategy-7")

TOP_K = 3  # nearest anchors averaged per side: one stray clause cannot decide a score
# Levels of the blended score (evidence and guide), set on the dev split's labelled skills
# (tests/data/labelled_skills.jsonl): the guide's own safe examples score 26-47, its exposed
# ones 53-84, so 50 parts them; >= 60 holds only exposed skills but one.
HIGH_AT = 60  # score >= 60: high; >= 50: medium; below: low
MEDIUM_AT = 50
MAX_SKILLS = 100
MAX_SKILL_CHARS = 200

# The qualifiers the guide itself uses for each side (threats: "basic design", "entry-level
# design services", "repetitive coding tasks", "general virtual assistants", "generic";
# strategies: "strategic", "consulting", "expert", "specialized", "complex", "empathy",
# "ethical judgment", "creative direction", "trust"). "routine" and "template" come from the
# issue's reading of the guide: template-like output is what AI generates.
EXPOSED_CUES = re.compile(
    r"\b(basic|simple|routine|repetitive|templates?|template-like|entry-level|generic|"
    r"general|bulk|data entry)\b",
    re.I,
)
SAFE_CUES = re.compile(
    r"\b(strateg\w*|consult\w*|judge?ment|empathy|coach\w*|complex|expert\w*|"
    r"speciali[sz]\w*|ethic\w*|direction|leadership|negotiat\w*|research|advis\w*|"
    r"innovat\w*|trust)\b",
    re.I,
)
CUE_STEP = 0.05  # per cue, at most two per side: a nudge, not a rule
_CLAUSE_SPLIT = re.compile(r"\s*(?:,|;|:|–|—|\(|\)|\band\b|\bor\b)\s*")
_LEADING_FILLER = re.compile(r"^(?:and|or|but|even|some)\s+", re.I)


@dataclass(frozen=True)
class Anchor:
    text: str
    section_id: str


@dataclass(frozen=True)
class SkillExposure:
    """One skill's exposure: score 0-100 (higher = more exposed), level, cited sections."""

    skill: str
    score: int
    level: Level
    threats: list[str]
    strategies: list[str]
    why: str
    # The nearest O*NET tasks and their human labels (GPTs are GPTs), most similar first.
    evidence: list[EvidenceTask] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The `thrive exposure --json` item shape fixed in DESIGN.md."""
        return {
            "skill": self.skill,
            "score": self.score,
            "level": self.level,
            "threats": list(self.threats),
            "strategies": list(self.strategies),
            "why": self.why,
            "evidence": [e.to_json() for e in self.evidence],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SkillExposure:
        """The inverse of `to_json` (a saved tool result shown again after a restart; one
        saved before the evidence existed has none)."""
        evidence = [EvidenceTask(**e) for e in data.get("evidence", [])]
        return cls(**{**data, "evidence": evidence})


def parse_skills(text: str | Iterable[str]) -> list[str]:
    """Skills from "a; b; c" (or "a, b" when there is no semicolon) or a list; trimmed,
    blanks and repeats dropped. Raises `InputError` for none, too many or too long."""
    if isinstance(text, str):
        separator = ";" if ";" in text else ","
        items: Iterable[str] = re.split(rf"[{separator}\n]", text)
    else:
        items = text
    skills = list(dict.fromkeys(" ".join(str(s).split()) for s in items if str(s).strip()))
    if not skills:
        raise InputError(
            "No skills were given.", fix='List them separated by ";", e.g. "copywriting; SEO".'
        )
    if len(skills) > MAX_SKILLS:
        raise InputError(
            f"{len(skills)} skills is more than the {MAX_SKILLS} checked at once.",
            fix="Check your main skills first, then the rest.",
        )
    if any(has_undecodable_bytes(s) for s in skills):
        raise InputError(
            "The skills are not UTF-8 text: binary data, or text in another encoding.",
            fix="Type the skills as plain text, or set your terminal to UTF-8.",
        )
    long = next((s for s in skills if len(s) > MAX_SKILL_CHARS), None)
    if long:
        raise InputError(
            f'The skill "{long[:40]}..." is longer than {MAX_SKILL_CHARS} characters.',
            fix="Name each skill in a few words.",
        )
    return skills


def clauses(line: str) -> list[str]:
    """A guide line's sentences and the clauses of its lists, each of two words or more."""
    out = []
    for sentence in split_sentences(line):
        sentence = sentence.strip().rstrip(".").strip()
        if len(sentence.split()) >= 2:
            out.append(sentence)
        for part in _CLAUSE_SPLIT.split(sentence):
            part = _LEADING_FILLER.sub("", part.strip().strip("\"'“”"))
            # One-word clauses ("writing", "design", "goals") are too vague to anchor on.
            if len(part.split()) >= 2 and part != sentence:
                out.append(part)
    return list(dict.fromkeys(out))


def anchors_of(guide: Guide, section_ids: Sequence[str]) -> list[Anchor]:
    seen: set[str] = set()
    out = []
    for sid in section_ids:
        for line in guide.lines(sid):
            for clause in clauses(line):
                if clause.lower() not in seen:
                    seen.add(clause.lower())
                    out.append(Anchor(clause, sid))
    return out


def cue_prior(text: str) -> float:
    exposed = min(2, len(EXPOSED_CUES.findall(text)))
    safe = min(2, len(SAFE_CUES.findall(text)))
    return CUE_STEP * (exposed - safe)


def _top_mean(similarities: np.ndarray, k: int, skip_self: bool = False) -> np.ndarray:
    ordered = -np.sort(-similarities, axis=1)
    start = 1 if skip_self else 0  # leave-one-out: an anchor is always nearest to itself
    return np.asarray(ordered[:, start : start + k].mean(axis=1))


class ExposureScorer:
    """Scores skills against one guide. Build it once (it embeds ~200 guide clauses)."""

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self.exposed = anchors_of(guide, EXPOSED_SECTIONS)
        self.safe = anchors_of(guide, SAFE_SECTIONS)
        self.threat_anchors = anchors_of(guide, THREATS)
        self.strategy_anchors = anchors_of(guide, STRATEGIES)
        # Exposed and safe anchors are subsets of the threat and strategy ones: embed each
        # clause once (embedding is the slow part on a busy CPU).
        texts = list(dict.fromkeys(a.text for a in (*self.threat_anchors, *self.strategy_anchors)))
        row = {t: i for i, t in enumerate(texts)}
        # The query engine, though there are ~230: these clauses are short, and it embeds
        # them in ~3 s where sentence-transformers takes ~15 s with its torch import.
        vectors = embeddings.encode(texts, bulk=False)

        def rows(anchors: list[Anchor]) -> np.ndarray:
            return vectors[[row[a.text] for a in anchors]]

        self._e, self._s = rows(self.exposed), rows(self.safe)
        self._t, self._st = rows(self.threat_anchors), rows(self.strategy_anchors)
        self.center, self.half_gap = self._calibrate()

    _cache: ClassVar[dict[tuple[tuple[str, int, int], ...], ExposureScorer]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def for_guide(cls, guide: Guide) -> ExposureScorer:
        """One scorer per version of the guide, shared by the process."""
        with cls._lock:
            if guide.fingerprint not in cls._cache:
                cls._cache[guide.fingerprint] = cls(guide)
            return cls._cache[guide.fingerprint]

    def _calibrate(self) -> tuple[float, float]:
        exposed_prior = np.array([cue_prior(a.text) for a in self.exposed])
        safe_prior = np.array([cue_prior(a.text) for a in self.safe])
        exposed_raw = (
            _top_mean(self._e @ self._e.T, TOP_K, skip_self=True)
            - _top_mean(self._e @ self._s.T, TOP_K)
            + exposed_prior
        )
        safe_raw = (
            _top_mean(self._s @ self._e.T, TOP_K)
            - _top_mean(self._s @ self._s.T, TOP_K, skip_self=True)
            + safe_prior
        )
        hi, lo = float(np.median(exposed_raw)), float(np.median(safe_raw))
        return (hi + lo) / 2, max((hi - lo) / 2, 1e-3)

    def raw(self, skills: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Uncalibrated scores: above `center` leans exposed, below leans safe. `vectors`,
        when given, are the skills' embeddings already made (e.g. the shipped task vectors)."""
        if vectors is None:
            vectors = embeddings.encode(list(skills))
        return self._raw(vectors @ self._e.T, vectors @ self._s.T, skills)

    @staticmethod
    def _raw(to_exposed: np.ndarray, to_safe: np.ndarray, skills: Sequence[str]) -> np.ndarray:
        prior = np.array([cue_prior(s) for s in skills])
        return np.asarray(_top_mean(to_exposed, TOP_K) - _top_mean(to_safe, TOP_K) + prior)

    def to_score(self, raw: float) -> int:
        # ln 4 makes the median exposed anchor 80 and the median safe anchor 20.
        z = math.log(4) * (raw - self.center) / self.half_gap
        return round(100 / (1 + math.exp(-z)))

    def score(self, skills: str | Iterable[str]) -> list[SkillExposure]:
        """Score each skill; accepts "a; b" or a list. Raises `InputError` for bad input."""
        names = parse_skills(skills)
        vectors = embeddings.encode(names)
        to_exposed, to_safe = vectors @ self._e.T, vectors @ self._s.T
        raws = self._raw(to_exposed, to_safe, names)
        to_threats, to_strategies = vectors @ self._t.T, vectors @ self._st.T
        evidence = evidence_for_vectors(vectors)
        results = []
        for i, name in enumerate(names):
            # The people's labels of the nearest O*NET tasks, blended with the guide's view.
            score = round(100 * blend(evidence[i].score, self.to_score(float(raws[i]))))
            level: Level = "high" if score >= HIGH_AT else "medium" if score >= MEDIUM_AT else "low"
            nearest_exposed = self.exposed[int(np.argmax(to_exposed[i]))]
            nearest_safe = self.safe[int(np.argmax(to_safe[i]))]
            threats = self._ranked(self.threat_anchors, to_threats[i])
            strategies = self._strategies(level, nearest_safe, to_strategies[i])
            results.append(
                SkillExposure(
                    skill=name,
                    score=score,
                    level=level,
                    threats=threats[: 1 if level == "low" else 2],
                    strategies=strategies,
                    why=_why(name, level, nearest_exposed, nearest_safe, evidence[i].top(2)),
                    evidence=evidence[i].top(),
                )
            )
        return results

    @staticmethod
    def _ranked(anchors: list[Anchor], similarities: np.ndarray) -> list[str]:
        """Section ids ordered by their closest anchor to the skill."""
        best: dict[str, float] = {}
        for anchor, sim in zip(anchors, similarities, strict=True):
            best[anchor.section_id] = max(best.get(anchor.section_id, -1.0), float(sim))
        return sorted(best, key=lambda sid: -best[sid])

    def _strategies(self, level: Level, nearest_safe: Anchor, sims: np.ndarray) -> list[str]:
        """The guide's answers: an exposed skill moves to human-centric work (strategy 1)
        and uses AI as a tool (3); a middling one niches down (2); a safe one is built on
        (its nearest strategy) and made visible (5). The nearest safe example always leads:
        it is the human-centric version of this very skill."""
        by_level = {
            "high": ["strategy-1", "strategy-3"],
            "medium": ["strategy-2"],
            "low": ["strategy-5"],
        }[level]
        nearest = self._ranked(self.strategy_anchors, sims)[0]
        return list(dict.fromkeys([nearest_safe.section_id, *by_level, nearest]))[:3]


def _quote(text: str, words: int = 10) -> str:
    parts = text.replace('"', "'").split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _why(skill: str, level: Level, exposed: Anchor, safe: Anchor, tasks: list[EvidenceTask]) -> str:
    return f"{_tasks_said(tasks)} {_guide_said(skill, level, exposed, safe)}".strip()


def _tasks_said(tasks: list[EvidenceTask]) -> str:
    """The closest O*NET tasks and how people labelled them."""
    if not tasks:
        return ""
    named = "; ".join(f'"{_quote(t.task)}" ({t.occupation}: {LABEL_WORDS[t.label]})' for t in tasks)
    return f"Closest O*NET tasks: {named}."


def no_occupation_match(asked: str) -> str:
    """What to tell a user whose occupation matched no O*NET title (page and CLI alike)."""
    return (
        f'No O*NET occupation matches "{asked}" closely enough. '
        'Try the usual name of the job, e.g. "interpreter" or "bookkeeper".'
    )


# Shown wherever the task evidence reaches a user (the data's licence asks for the credit).
EVIDENCE_CREDIT = CREDIT
LABEL_WORDS = {"E0": "not exposed", "E1": "exposed", "E2": "exposed with tools"}


def _guide_said(skill: str, level: Level, exposed: Anchor, safe: Anchor) -> str:
    cues = [m.lower() for m in EXPOSED_CUES.findall(skill)]
    cue = f'; "{cues[0]}" marks routine work' if cues and level != "low" else ""
    if level == "high":
        return (
            f'Close to work the guide says AI now does, like "{_quote(exposed.text)}" '
            f"[{exposed.section_id}]{cue}."
        )
    if level == "low":
        return (
            f'Close to the human-centric work the guide recommends, like "{_quote(safe.text)}" '
            f"[{safe.section_id}]."
        )
    return (
        f'Between the two: near "{_quote(exposed.text, 8)}" [{exposed.section_id}] but also '
        f'"{_quote(safe.text, 8)}" [{safe.section_id}]{cue}.'
    )
