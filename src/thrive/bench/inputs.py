"""What the bench measures on: realistic questions with profiles, and synthetic corpora.

Corpora for the scale rows are synthetic but deterministic: guide sentences drawn with a
fixed seed. Large stores reuse encoded vectors with a little seeded noise (`perturbed`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thrive.base.schema import Profile
from thrive.base.settings import Settings
from thrive.base.text import split_sentences
from thrive.knowledge.corpus import plain_text, read_corpus

SYNTHETIC_WORDS = 57  # a body of >= 57 words: chunks average ~70, as in the figures
PERTURB_NORM = 0.35  # noise norm against unit vectors: cosine ~0.94 to the encoded original

_SKILLS = (
    "copywriting",
    "logo design",
    "translation",
    "bookkeeping",
    "web development",
    "voice-over",
    "data entry",
    "illustration",
    "video editing",
    "SEO consulting",
    "virtual assistance",
    "UX research",
    "transcription",
    "social media management",
    "technical writing",
    "photo retouching",
)
_TEMPLATES = (
    "Will AI take over my {skill} work?",
    "What does the guide say about {topic}?",
    "I do {skill}. Is {topic} a risk for me?",
    "How should a {skill} freelancer respond to {topic}?",
    "Which strategy helps most with {topic}?",
    "How can I keep charging fair rates for {skill} when clients use AI tools?",
    "What should I do this month about {topic}?",
    "Can you explain {topic} in simple terms?",
    "As a {skill} freelancer, what does {topic} mean for my income?",
    "My {skill} clients ask about AI. How does {topic} fit in?",
    "Give me one concrete step on {topic} for my {skill} business.",
    "Is {topic} more urgent for {skill} than for other freelancers?",
)
_OFF_TOPIC = (
    "What is a good lasagna recipe?",
    "Who won the football world cup in 2018?",
    "Tell me a joke about cats.",
)


@dataclass(frozen=True)
class Query:
    question: str
    profile: Profile

    @property
    def profile_text(self) -> str:
        return self.profile.as_query()


class QuestionPool:
    """Realistic questions, each handed out once per run: the embedding cache must never make
    a measured query cheaper than a new question would be. Each has a profile, used only
    where a stage asks for it; with `off_topic`, one in twenty is chit-chat, as from users."""

    def __init__(self, topics: list[str], seed: int) -> None:
        self.rng = random.Random(seed)
        pool = {t.format(skill=s, topic=p) for t in _TEMPLATES for s in _SKILLS for p in topics}
        self.questions = sorted(pool)
        self.rng.shuffle(self.questions)
        self.used = 0

    def take(self, n: int, *, off_topic: bool = True) -> list[Query]:
        out: list[Query] = []
        for i in range(n):
            if off_topic and i % 20 == 19:
                question = f"{_OFF_TOPIC[(i // 20) % len(_OFF_TOPIC)]} ({self.used})"
            else:
                question = self.questions[self.used % len(self.questions)]
                if self.used >= len(self.questions):  # run out: still distinct
                    question += f" (case {self.used // len(self.questions) + 1})"
            self.used += 1
            skills = self.rng.sample(_SKILLS, 2)
            profile = Profile(skills=skills, goals=f"keep my {skills[0]} clients")
            out.append(Query(question, profile))
        return out


def guide_sentences(settings: Settings) -> list[str]:
    """The guide's sentences (5 to 60 words), the material of every synthetic corpus."""
    sentences: list[str] = []
    for section in read_corpus(Path(settings.corpus_dir)):
        for line in plain_text(section.text).splitlines():
            for piece in split_sentences(line):
                if 5 <= len(piece.split()) <= 60:
                    sentences.append(piece)
    return list(dict.fromkeys(sentences))


def guide_topics(settings: Settings) -> list[str]:
    return [s.title.lower() for s in read_corpus(Path(settings.corpus_dir)) if s.title]


def write_synthetic_corpus(folder: Path, sentences: list[str], n: int, seed: int) -> None:
    """`n` one-chunk sections of ~70 words of guide sentences, as Markdown files."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_file = 1_000  # keeps every file far below the corpus' 5 MB limit
    for start in range(0, n, per_file):
        parts = [f"# Synthetic guide {start // per_file + 1}\n"]
        for i in range(start, min(n, start + per_file)):
            body: list[str] = []
            while sum(len(s.split()) for s in body) < SYNTHETIC_WORDS:
                body.append(rng.choice(sentences))
            parts.append(f"## Note {i + 1}\n\n{' '.join(body)}\n")
        (folder / f"synthetic-{start // per_file + 1:03d}.md").write_text("\n".join(parts), "utf-8")


def perturbed(
    texts: list[str], vectors: np.ndarray, n: int, seed: int
) -> tuple[list[str], np.ndarray]:
    """`n` chunks from an encoded sample: the sample itself, then copies whose sentences are
    shuffled and whose vectors get seeded noise, so that no two chunks are the same."""
    rng = np.random.default_rng(seed)
    shuffle = random.Random(seed)
    out_texts = list(texts[:n])
    out = [vectors[: len(out_texts)]]
    extra = n - len(out_texts)
    if extra > 0:
        parents = rng.integers(0, len(texts), extra)
        for p in parents:
            pieces = split_sentences(texts[p])
            shuffle.shuffle(pieces)
            out_texts.append(" ".join(pieces))
        noise = rng.normal(0.0, PERTURB_NORM / np.sqrt(vectors.shape[1]), (extra, vectors.shape[1]))
        noisy = vectors[parents] + noise.astype(np.float32)
        out.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return out_texts, np.concatenate(out).astype(np.float32)
