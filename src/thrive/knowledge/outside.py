"""Topics near the guide's subject that it does not cover: taxes, contracts, platform fees.

A similarity threshold alone cannot tell "which laptop should I buy for freelance video
editing?" from a coaching question: it shares the guide's words (freelance, AI, editing).
Each guide may have a `<guide>.outside.yaml` sidecar listing such topics with example
questions, written from the guide (what it leaves out), not from evaluation cases. A
question is outside the guide when it is clearly closer to one of those questions than to
anything in the guide: it is declined by meaning, naming the topic, never for a word.
A searcher reads the topics once, at its first question; an edit is seen by the searchers
of the next index version (`thrive ingest`) and by new processes.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from thrive.base import embeddings
from thrive.base.errors import CorpusError
from thrive.knowledge.corpus import read_sidecar

# How much closer (cosine) a question must be to an outside topic than to the guide to be
# declined. Set on the dev split (evals/dev.jsonl: 167 answerable, 54 out-of-scope cases),
# margins 0.03-0.08 tried: at 0.06 one answerable question is declined ("give me the gist",
# +0.116) and 6 out-of-scope ones are answered; at 0.03-0.05 benign questions near a topic
# ("what's the main message, in one sentence?", +0.053) are declined too. Never tuned on
# evals/test.jsonl.
MARGIN = 0.06


@dataclass(frozen=True)
class OutsideTopics:
    topics: tuple[str, ...]  # one per question
    vectors: np.ndarray  # the questions' embeddings, one row each

    def closest(self, vector: np.ndarray) -> tuple[str, float]:
        """(topic, similarity): the similarity of the outside question closest to `vector`
        (what MARGIN was set on), and the topic whose two closest questions are closest on
        average (one stray question, "paperwork" under visas, must not name the topic)."""
        if not self.topics:
            return "", -1.0
        sims = self.vectors @ vector
        by_topic: dict[str, list[float]] = {}
        for topic, similarity in zip(self.topics, sims, strict=True):
            by_topic.setdefault(topic, []).append(float(similarity))
        named = max(by_topic, key=lambda t: float(np.mean(sorted(by_topic[t])[-2:])))
        return named, float(sims.max())


_cache: dict[str, OutsideTopics] = {}
_lock = threading.Lock()


def outside_files(corpus_dir: Path) -> list[Path]:
    return sorted(p for p in corpus_dir.glob("*.outside.yaml") if p.is_file())


def load_outside(corpus_dir: Path) -> OutsideTopics:
    """The corpus's outside topics, embedded once per content (the files are small)."""
    files = outside_files(corpus_dir) if corpus_dir.is_dir() else []
    blobs = [p.read_bytes() for p in files]
    key = hashlib.sha256(b"\0".join(blobs)).hexdigest()
    with _lock:
        if key not in _cache:
            topics: list[str] = []
            questions: list[str] = []
            for path, blob in zip(files, blobs, strict=True):
                for topic, question in _parse(path, blob):
                    topics.append(topic)
                    questions.append(question)
            # The query engine (ONNX), not the bulk one: answering never loads torch.
            vectors = embeddings.encode(questions, bulk=False)
            _cache[key] = OutsideTopics(tuple(topics), np.asarray(vectors))
        return _cache[key]


def _parse(path: Path, blob: bytes) -> list[tuple[str, str]]:
    data = read_sidecar(path, blob, "a list of {topic, questions}")
    ok = isinstance(data, list) and all(
        isinstance(item, dict)
        and isinstance(item.get("topic"), str)
        and isinstance(item.get("questions"), list)
        and all(isinstance(q, str) for q in item["questions"])
        for item in data
    )
    if not ok:
        raise CorpusError(
            f"{path} must be a list of {{topic: text, questions: [text, ...]}}.",
            fix="Fix it or remove it; questions are then judged by the scope threshold alone.",
        )
    return [
        (item["topic"].strip(), q.strip()) for item in data for q in item["questions"] if q.strip()
    ]
