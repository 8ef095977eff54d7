"""`thrive bench`: how fast Thrive is, next to floors measured in the same run.

A floor is the same work done by the bare library (sentence-transformers' `encode`, a plain
Chroma query, bare llama-cpp-python), so each ratio says what Thrive adds on top. Corpora
for the scale rows are synthetic but deterministic: guide sentences drawn with a fixed seed.
Large stores reuse encoded vectors with a little seeded noise (`"vectors": "perturbed"`),
because encoding 50,000 chunks would take ~14 minutes on a 2-core machine.

Everything runs in a temporary folder: the user's `vectorstore/` is never touched.
The benchmark reports; it never fails on time. Targets are issue 6's, judged in `targets`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thrive.base import embeddings
from thrive.base.errors import ThriveError
from thrive.base.schema import Profile
from thrive.base.settings import Settings
from thrive.base.text import split_sentences
from thrive.coaching.coach import Coach
from thrive.knowledge.corpus import chunk_sections, plain_text, read_corpus
from thrive.knowledge.ingest import ingest
from thrive.knowledge.retrieval import GuideSearcher
from thrive.knowledge.store import GuideIndex, connect

Progress = Callable[[str, int, int], None]  # (stage, done, total)

# Issue 6's targets for a 2-core machine: (key in `targets`, comparison, bound).
RETRIEVAL_RATIO_MAX = 1.5
RETRIEVAL_LARGEST_MS_MAX = 25.0
INGEST_RATIO_MIN = 0.8
REINGEST_S_MAX = 1.0
COLD_START_S_MAX = 8.0
LLAMACPP_RATIO_MIN = 0.95

SYNTHETIC_WORDS = 57  # a body of >= 57 words: chunks average ~70, as in the figures
PERTURB_NORM = 0.35  # noise norm against unit vectors: cosine ~0.94 to the encoded original


@dataclass(frozen=True)
class BenchConfig:
    """Sizes of one run. The default takes ~5 minutes on 2 cores; `quick()` well under one."""

    queries: int = 200  # retrieval latency on the guide: questions alone, as `thrive ask`
    profile_queries: int = 60  # and with a profile, as the page asks them (in `details`)
    answers: int = 40  # extractive answers
    cold_starts: int = 3
    ingest_sizes: tuple[int, ...] = (100, 1_000, 5_000)  # encoded: ingest vs encode floor
    store_sizes: tuple[int, ...] = (10_000, 50_000)  # perturbed: retrieval only
    scale_queries: int = 60
    llama_tokens: int = 64
    llama_runs: int = 3
    seed: int = 6
    quick: bool = False

    @classmethod
    def quick_run(cls) -> BenchConfig:
        """Small sizes, for tests and a first look; not for the numbers in a report."""
        return cls(
            queries=24,
            profile_queries=12,
            answers=4,
            cold_starts=1,
            ingest_sizes=(20, 70),
            store_sizes=(300, 600),
            scale_queries=12,
            llama_tokens=8,
            llama_runs=1,
            quick=True,
        )


# -- inputs: questions, profiles, synthetic corpora -------------------------------------------

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


# -- measuring ----------------------------------------------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def percentile(values: Iterable[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    return float(np.percentile(np.asarray(data), q))


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def interleaved(
    runs: dict[str, Callable[[Query], object]],
    queries: list[Query],
    progress: Progress | None = None,
    stage: str = "",
    warmup: list[Query] | None = None,
) -> dict[str, list[float]]:
    """Seconds per query for each way of answering it, alternating the order query by query
    so that a burst of load on a shared machine hits every contender alike."""
    for query in warmup or []:
        for run in runs.values():
            run(query)
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for i, query in enumerate(queries):
        for name in names if i % 2 == 0 else reversed(names):
            times[name].append(_timed(functools.partial(runs[name], query)))
        if progress and (i % 10 == 9 or i + 1 == len(queries)):
            progress(stage, i + 1, len(queries))
    return times


def retrieval_runs(
    searcher: GuideSearcher, k: int, *, profiles: bool = False
) -> dict[str, Callable[[Query], object]]:
    """The retriever and its floors on one store.

    `floor`: the bare sentence-transformers embedding of the text(s) the retriever embeds
    (the question; with a profile, also question + profile) and one bare Chroma query for k
    results: the least a dense retriever does. `floor_minilm`: the same with Thrive's NumPy
    engine, to show what retrieval adds beyond embedding the question.
    """
    model = embeddings.load_model()
    collection = searcher.collection

    def texts(q: Query) -> list[str]:
        return [q.question, f"{q.question} {q.profile_text}"] if profiles else [q.question]

    def hybrid(q: Query) -> object:
        return searcher.search(q.question, profile_text=q.profile_text if profiles else "", k=k)

    def floor(q: Query) -> object:
        vectors = model.encode(texts(q), normalize_embeddings=True, show_progress_bar=False)
        return collection.query(query_embeddings=vectors, n_results=k)

    def floor_minilm(q: Query) -> object:  # the engine itself: no cache of recent texts
        vectors = embeddings.load_encoder().encode(texts(q))
        return collection.query(query_embeddings=vectors, n_results=k)

    return {"hybrid": hybrid, "floor": floor, "floor_minilm": floor_minilm}


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux and bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20, 1)


# -- the stages -------------------------------------------------------------------------------


@dataclass
class Bench:
    """One run: a temporary workspace, the settings for it, the results as they come."""

    settings: Settings
    config: BenchConfig
    work: Path
    progress: Progress | None = None

    def __post_init__(self) -> None:
        self.result: dict[str, Any] = {}
        self.details: dict[str, Any] = {}
        self.scale: list[dict[str, Any]] = []
        self.pool = QuestionPool(guide_topics(self.settings), self.config.seed)
        self.started: dict[str, float] = {}  # stage -> when it began

    def tick(self, stage: str, done: int = 0, total: int = 1) -> None:
        self.started.setdefault(stage, time.perf_counter())
        if self.progress:
            self.progress(stage, done, total)

    def _offset(self, stage: str, offset: int, total: int, done: int, _: int) -> None:
        """Ingest progress within a stage that also encodes the floor around it."""
        self.tick(stage, offset + done, total)

    def stage_seconds(self) -> dict[str, float]:
        """How long each stage took, in the order they ran."""
        order = sorted(self.started, key=self.started.__getitem__)
        ends = [self.started[s] for s in order[1:]] + [time.perf_counter()]
        return {s: round(end - self.started[s], 1) for s, end in zip(order, ends, strict=True)}

    def store_settings(self, name: str, corpus: Path | None = None) -> Settings:
        return self.settings.model_copy(
            update={
                "vectorstore_dir": self.work / f"store-{name}",
                "corpus_dir": corpus or self.settings.corpus_dir,
                "chroma_url": None,
            }
        )

    # guide: ingest, re-ingest, retrieval, answers

    def guide(self) -> Settings:
        stage = "Ingest the guide"
        self.tick(stage)
        started = time.perf_counter()
        embeddings.load_encoder()
        self.details["encoder_load_s"] = round(time.perf_counter() - started, 3)
        settings = self.store_settings("guide")
        report = ingest(settings)
        self.result["ingest_s"] = round(report.seconds, 3)
        self.details["guide_chunks"] = report.embedded
        again = [ingest(settings).seconds for _ in range(3)]
        self.result["reingest_unchanged_s"] = round(statistics.median(again), 3)
        self.tick(stage, 1, 1)
        return settings

    def retrieval(self, settings: Settings) -> None:
        stage = f"Retrieval on the guide ({self.config.queries} queries)"
        self.tick(stage, 0, self.config.queries)
        started = time.perf_counter()
        embeddings.load_model()  # the floor's engine; loaded here so no query pays for it
        self.details["model_load_s"] = round(time.perf_counter() - started, 3)
        searcher = GuideSearcher.open(settings)
        k = settings.top_k
        runs = retrieval_runs(searcher, k)
        queries, warmup = self.pool.take(self.config.queries), self.pool.take(3)
        times = interleaved(runs, queries, self.progress, stage, warmup)
        self.result["retrieval_p50_ms"] = _ms(percentile(times["hybrid"], 50))
        self.result["retrieval_p95_ms"] = _ms(percentile(times["hybrid"], 95))
        self.result["retrieval_floor_p50_ms"] = _ms(percentile(times["floor"], 50))
        self.details.update(
            retrieval_floor_p95_ms=_ms(percentile(times["floor"], 95)),
            retrieval_floor_minilm_p50_ms=_ms(percentile(times["floor_minilm"], 50)),
            searcher_reopen_ms=_ms(_timed(functools.partial(GuideSearcher.open, settings))),
        )
        n = self.config.profile_queries
        stage = f"Retrieval with a profile ({n} queries)"
        runs = retrieval_runs(searcher, k, profiles=True)
        queries, warmup = self.pool.take(n), self.pool.take(3)
        times = interleaved(runs, queries, self.progress, stage, warmup)
        self.details["with_profile"] = {
            "retrieval_p50_ms": _ms(percentile(times["hybrid"], 50)),
            "retrieval_p95_ms": _ms(percentile(times["hybrid"], 95)),
            "retrieval_floor_p50_ms": _ms(percentile(times["floor"], 50)),
            "retrieval_floor_minilm_p50_ms": _ms(percentile(times["floor_minilm"], 50)),
        }

    def answers(self, settings: Settings) -> Coach:
        """Whole extractive answers: without a profile (the headline, as `thrive ask`), and
        other questions with one (in `details`)."""
        n = self.config.answers
        stage = f"Extractive answers ({n} without, {n} with a profile)"
        coach = Coach.from_settings(settings, llm="extractive")
        coach.ask(self.pool.take(1)[0].question)  # the first answer builds the backend
        times: dict[bool, list[float]] = {False: [], True: []}
        plain, personal = self.pool.take(n, off_topic=False), self.pool.take(n, off_topic=False)
        for i, (a, b) in enumerate(zip(plain, personal, strict=True)):
            times[False].append(_timed(functools.partial(coach.ask, a.question)))
            times[True].append(_timed(functools.partial(coach.ask, b.question, profile=b.profile)))
            self.tick(stage, i + 1, n)
        self.result["answer_extractive_p50_ms"] = _ms(percentile(times[False], 50))
        self.details["answer_extractive_p95_ms"] = _ms(percentile(times[False], 95))
        self.details["with_profile"]["answer_extractive_p50_ms"] = _ms(percentile(times[True], 50))
        self.details["rss_after_guide_mb"] = peak_rss_mb()
        return coach

    def cold_start(self, settings: Settings) -> None:
        stage = "Cold start (`thrive ask --json` in a new process)"
        runs = []
        for i in range(self.config.cold_starts):
            self.tick(stage, i, self.config.cold_starts)
            runs.append(cold_start(settings, "Will clients pay me less because of AI?"))
        self.tick(stage, self.config.cold_starts, self.config.cold_starts)
        self.result["cold_start_s"] = round(statistics.median(r[0] for r in runs), 3)
        self.details["cold_start_runs_s"] = [round(r[0], 3) for r in runs]
        peaks = [r[1] for r in runs if r[1] is not None]
        self.details["cold_start_rss_mb"] = max(peaks) if peaks else None

    def llamacpp(self, coach: Coach) -> None:
        stage = "llama.cpp: Thrive's backend vs bare llama-cpp-python"
        self.tick(stage, 0, self.config.llama_runs)
        ours, bare, info = llamacpp_rates(
            coach, self.config, lambda d: self.tick(stage, d, self.config.llama_runs)
        )
        self.result["llamacpp_tokens_per_s"] = ours
        self.result["llamacpp_floor_tokens_per_s"] = bare
        self.details["llamacpp"] = info

    # scale: ingest throughput (encoded) and retrieval latency (encoded, then perturbed)

    def scale_ingest(self, sentences: list[str]) -> tuple[list[str], np.ndarray]:
        texts: list[str] = []
        vectors = np.zeros((0, embeddings.DIMENSIONS), dtype=np.float32)
        model = embeddings.load_model()
        for n in self.config.ingest_sizes:
            stage = f"Scale: ingest {n:,} chunks and bare-encode them"
            self.tick(stage, 0, 2 * n)
            corpus = self.work / f"corpus-{n}"
            write_synthetic_corpus(corpus, sentences, n, self.config.seed + n)
            settings = self.store_settings(str(n), corpus)
            texts = [c.text for c in chunk_sections(read_corpus(corpus), settings.chunk_words)]
            # The floor: the bare library on the same chunks, with its default batching. Half
            # is encoded before the ingest and half after, so that load coming or going on a
            # shared machine weighs on both alike.
            half, total = len(texts) // 2, 2 * len(texts)
            first, first_s = self._encode_floor(model, texts[:half])
            self.tick(stage, half, total)
            report = ingest(settings, progress=functools.partial(self._offset, stage, half, total))
            second, second_s = self._encode_floor(model, texts[half:])
            floor_s = first_s + second_s
            vectors = np.concatenate([first, second])
            self.tick(stage, total, total)
            row = {
                "chunks": len(texts),
                "vectors": "encoded",
                "ingest_chunks_per_s": round(len(texts) / report.seconds, 2),
                "encode_floor_chunks_per_s": round(len(texts) / floor_s, 2),
            }
            row.update(self.scale_retrieval(settings, n))
            self.scale.append(row)
        return texts, np.asarray(vectors, dtype=np.float32)

    @staticmethod
    def _encode_floor(model: Any, texts: list[str]) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        vectors = model.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32), time.perf_counter() - started

    def scale_stores(self, texts: list[str], vectors: np.ndarray) -> None:
        """Stores larger than anything encoded here: one collection grown size by size."""
        settings = self.store_settings("perturbed")
        client = connect(settings)
        index = GuideIndex(client, settings.collection)
        meta = {"embedding_model": embeddings.MODEL_NAME, "chunk_words": settings.chunk_words}
        collection = index.new_collection({**meta, "corpus_version": ""})
        index.activate(collection)
        sizes = sorted(self.config.store_sizes)
        all_texts, all_vectors = perturbed(texts, vectors, sizes[-1], self.config.seed)
        batch = max(1, min(5_000, client.get_max_batch_size()))
        have = 0
        for n in sizes:
            stage = f"Scale: store of {n:,} chunks (perturbed vectors)"
            self.tick(stage, 0, n - have)
            started = time.perf_counter()
            for start in range(have, n, batch):
                stop = min(n, start + batch)
                collection.add(
                    ids=[f"note-{i + 1}#0" for i in range(start, stop)],
                    embeddings=all_vectors[start:stop],
                    documents=all_texts[start:stop],
                    metadatas=[
                        {
                            "section_id": f"note-{i + 1}",
                            "section_title": f"Note {i + 1}",
                            "kind": "section",
                            "source": "synthetic.md",
                            "order": i,
                        }
                        for i in range(start, stop)
                    ],
                )
                self.tick(stage, stop - have, n - have)
            have = n
            self.details.setdefault("store_add_s", {})[str(n)] = round(
                time.perf_counter() - started, 2
            )
            collection.modify(metadata={**meta, "corpus_version": f"synthetic-{n}"})
            row = {
                "chunks": n,
                "vectors": "perturbed",
                "ingest_chunks_per_s": None,
                "encode_floor_chunks_per_s": None,
            }
            row.update(self.scale_retrieval(settings, n))
            self.scale.append(row)

    def scale_retrieval(self, settings: Settings, n: int) -> dict[str, Any]:
        stage = f"Scale: open the searcher and retrieve at {n:,} chunks"
        self.tick(stage, 0, self.config.scale_queries)
        started = time.perf_counter()
        searcher = GuideSearcher.open(settings)  # reads every chunk, builds the BM25 index
        opened = time.perf_counter() - started
        queries, warmup = self.pool.take(self.config.scale_queries), self.pool.take(3)
        started = time.perf_counter()
        searcher.search(warmup[0].question, k=self.settings.top_k)
        first = time.perf_counter() - started
        runs = retrieval_runs(searcher, self.settings.top_k)
        times = interleaved(runs, queries, self.progress, stage, warmup)
        return {
            "searcher_open_s": round(opened, 2),
            "retrieval_p50_ms": _ms(percentile(times["hybrid"], 50)),
            "retrieval_p95_ms": _ms(percentile(times["hybrid"], 95)),
            "retrieval_floor_p50_ms": _ms(percentile(times["floor"], 50)),
            "retrieval_floor_minilm_p50_ms": _ms(percentile(times["floor_minilm"], 50)),
            "first_query_ms": _ms(first),
        }


def cold_start(settings: Settings, question: str) -> tuple[float, float | None]:
    """Seconds from launching `thrive ask --json` to its complete answer, and the process'
    peak RSS in MB (None where /proc is missing). The file cache is warm: this process has
    loaded the same libraries."""
    script = Path(sys.executable).with_name("thrive")
    cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "thrive.cli"]
    cmd += ["ask", question, "--json", "--llm", "extractive"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("THRIVE_")}
    env.update(
        THRIVE_VECTORSTORE_DIR=str(settings.vectorstore_dir),
        THRIVE_CORPUS_DIR=str(settings.corpus_dir),
        THRIVE_DATA_DIR=str(settings.data_dir),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONUNBUFFERED="1",  # the answer is timed when it is printed, not at exit
    )
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)
        assert proc.stdout is not None
        text, answered, peak = "", None, None
        for line in proc.stdout:
            text += line
            if answered is None and line.rstrip() == "}":
                try:
                    json.loads(text)
                except ValueError:
                    continue
                answered = time.perf_counter() - started
                peak = _peak_rss_of(proc.pid)  # read while it is alive, before it exits
        if proc.wait() or answered is None:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace")[-2000:]
            raise RuntimeError(
                f"`{' '.join(cmd)}` gave no answer (exit {proc.returncode}): {detail}"
            )
    return answered, peak


def _peak_rss_of(pid: int) -> float | None:
    """VmHWM of a live process, in MB. Not the rusage of the child: Linux carries the
    parent's RSS at fork time into it, which here would be the bench's own ~1 GB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return round(int(found.group(1)) / 1024, 1) if found else None


def llamacpp_rates(
    coach: Coach, config: BenchConfig, tick: Callable[[int], None]
) -> tuple[float | None, float | None, dict[str, Any]]:
    """Tokens per second of Thrive's llamacpp backend and of bare llama-cpp-python on the
    same prompt, sampling, seed and max tokens. Each run starts from an empty KV cache, so
    both pay the whole prompt; the rate is output tokens over request-to-last-token time."""
    from thrive.models import create_backend
    from thrive.models.llamacpp import chat_messages, model_file

    try:
        path = model_file("", coach.settings)
        backend = create_backend(f"llamacpp:{path}", coach.settings)
        from llama_cpp import Llama
    except (ThriveError, ImportError) as err:
        return None, None, {"skipped": str(err)}
    llama: Any = backend.llama  # type: ignore[attr-defined]
    bare: Any = Llama(model_path=str(path), n_ctx=llama.n_ctx(), verbose=False)
    bare.chat_format = llama.chat_format  # the same prompt, whatever format the backend chose
    prepared = coach.prepare("Will clients pay me less for my copywriting because of AI?")
    assert prepared.request is not None
    request = dataclasses.replace(prepared.request, max_tokens=config.llama_tokens)
    # The very messages the backend sends (for gemma, the system text folded into the first
    # user turn), so both sides process the same prompt and generate from the same state.
    messages = chat_messages(request.messages, llama.chat_format)

    def ours() -> Iterator[str]:
        return backend.stream(request)

    def floor() -> Iterator[str]:
        events = bare.create_chat_completion(
            messages=messages, stream=True, max_tokens=config.llama_tokens, temperature=0.2
        )
        return (e["choices"][0]["delta"].get("content") or "" for e in events)

    contenders = {"ours": (llama, ours), "bare": (bare, floor)}
    tokens = {name: 0 for name in contenders}
    seconds = {name: 0.0 for name in contenders}
    first: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for run in range(config.llama_runs):
            for name in list(contenders) if run % 2 == 0 else reversed(list(contenders)):
                model, generate = contenders[name]
                model.reset()  # no prompt reuse from the previous run
                model.set_seed(config.seed)
                started = time.perf_counter()
                pieces: list[str] = []
                for piece in generate():
                    if not pieces:
                        first[name].append(time.perf_counter() - started)
                    pieces.append(piece)
                seconds[name] += time.perf_counter() - started
                text = "".join(pieces).encode("utf-8")
                tokens[name] += len(model.tokenize(text, add_bos=False, special=True))
            tick(run + 1)
    finally:
        bare.close()  # now, not in __del__ at interpreter exit, when llama.cpp is gone
    rates = {n: round(tokens[n] / seconds[n], 2) if seconds[n] else None for n in contenders}
    info = {
        "model": path.name,
        "chat_format": llama.chat_format,
        "max_tokens": config.llama_tokens,
        "runs": config.llama_runs,
        "tokens": tokens,
        "first_token_ms": {n: _ms(statistics.median(v)) if v else None for n, v in first.items()},
        "threads": {"ours": llama.n_threads, "bare": bare.n_threads},
    }
    return rates["ours"], rates["bare"], info


# -- the run, its verdicts and its plot ----------------------------------------------------------


def _versions() -> dict[str, str]:
    out = {}
    for name in ("chromadb", "sentence-transformers", "torch", "bm25s", "llama_cpp_python"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run_bench(
    settings: Settings, config: BenchConfig | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Run every measurement and return the report (DESIGN.md's keys, plus ratios, targets,
    details and the machine it ran on). Takes ~5 minutes with the default config."""
    config = config or BenchConfig()
    started = time.perf_counter()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="thrive-bench-"))
    try:
        bench = Bench(settings, config, work, progress)
        guide = bench.guide()
        bench.retrieval(guide)
        coach = bench.answers(guide)
        bench.cold_start(guide)
        bench.llamacpp(coach)
        texts, vectors = bench.scale_ingest(guide_sentences(settings))
        bench.scale_stores(texts, vectors)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = dict(bench.result)
    result["peak_rss_mb"] = peak_rss_mb()
    result["scale"] = bench.scale
    result["details"] = {**bench.details, "stage_s": bench.stage_seconds()}
    result["ratios"] = ratios(result)
    result["targets"] = targets(result)
    result["run"] = {
        "quick": config.quick,
        "config": dataclasses.asdict(config),
        "seconds": round(time.perf_counter() - started, 1),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": _versions(),
    }
    return result


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Thrive over its floor, for every pair measured in the run."""
    scale = result["scale"]
    ingest_rows = [r for r in scale if r["ingest_chunks_per_s"] is not None]
    largest = max(scale, key=lambda r: r["chunks"]) if scale else None
    return {
        "retrieval": _ratio(result["retrieval_p50_ms"], result["retrieval_floor_p50_ms"]),
        # Against the same floor run on Thrive's own NumPy engine: what retrieval itself adds.
        "retrieval_vs_own_engine_floor": _ratio(
            result["retrieval_p50_ms"],
            result.get("details", {}).get("retrieval_floor_minilm_p50_ms"),
        ),
        "retrieval_largest": _ratio(largest["retrieval_p50_ms"], largest["retrieval_floor_p50_ms"])
        if largest
        else None,
        "retrieval_by_chunks": {
            str(r["chunks"]): _ratio(r["retrieval_p50_ms"], r["retrieval_floor_p50_ms"])
            for r in scale
        },
        "ingest_by_chunks": {
            str(r["chunks"]): _ratio(r["ingest_chunks_per_s"], r["encode_floor_chunks_per_s"])
            for r in ingest_rows
        },
        "llamacpp": _ratio(result["llamacpp_tokens_per_s"], result["llamacpp_floor_tokens_per_s"]),
    }


def _verdict(measured: float | None, op: str, bound: float, **extra: Any) -> dict[str, Any]:
    met = None if measured is None else (measured <= bound if op == "<=" else measured >= bound)
    return {"measured": measured, "target": f"{op} {bound:g}", "met": met, **extra}


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Issue 6's targets, each with what was measured and whether it is met (None: not run)."""
    r = result["ratios"]
    scale = result["scale"]
    largest = max(scale, key=lambda row: row["chunks"]) if scale else None
    ingest = [v for v in r["ingest_by_chunks"].values() if v is not None]
    return {
        "retrieval_p50_vs_floor": _verdict(r["retrieval"], "<=", RETRIEVAL_RATIO_MAX),
        "retrieval_p50_vs_floor_at_largest": _verdict(
            r["retrieval_largest"],
            "<=",
            RETRIEVAL_RATIO_MAX,
            chunks=largest["chunks"] if largest else None,
        ),
        "retrieval_p50_ms_at_largest": _verdict(
            largest["retrieval_p50_ms"] if largest else None,
            "<=",
            RETRIEVAL_LARGEST_MS_MAX,
            chunks=largest["chunks"] if largest else None,
        ),
        "ingest_vs_encode_floor": _verdict(min(ingest) if ingest else None, ">=", INGEST_RATIO_MIN),
        "reingest_unchanged_s": _verdict(result["reingest_unchanged_s"], "<=", REINGEST_S_MAX),
        "cold_start_s": _verdict(result["cold_start_s"], "<=", COLD_START_S_MAX),
        "llamacpp_vs_bare": _verdict(r["llamacpp"], ">=", LLAMACPP_RATIO_MIN),
    }


def write_report(result: dict[str, Any], out: Path, plot: Path | None = None) -> Path:
    """Write the JSON report and its PNG plot (beside it unless `plot` says where)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    plot = plot or out.with_suffix(".png")
    write_plot(result, plot)
    return plot


def _size_label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def write_plot(result: dict[str, Any], path: Path) -> None:
    """Retrieval latency and ingest throughput against corpus size, each next to its floor."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server or in CI
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    scale = sorted(result["scale"], key=lambda r: r["chunks"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    n = [r["chunks"] for r in scale]
    left.plot(n, [r["retrieval_p50_ms"] for r in scale], "o-", label="Thrive hybrid retrieval p50")
    left.plot(
        n,
        [r["retrieval_floor_p50_ms"] for r in scale],
        "s--",
        label="floor: bare embedding + Chroma query p50",
    )
    for r in scale:
        if r["vectors"] == "perturbed":
            left.annotate(
                "perturbed",
                (r["chunks"], r["retrieval_p50_ms"]),
                fontsize=7,
                textcoords="offset points",
                xytext=(4, 6),
            )
    left.axhline(RETRIEVAL_LARGEST_MS_MAX, color="grey", lw=0.8, ls=":", label="target at 50k")
    left.set(
        xscale="log", xlabel="chunks in the store", ylabel="ms per query", title="Retrieval latency"
    )
    left.set_ylim(bottom=0)
    left.legend(fontsize=8)
    rows = [r for r in scale if r["ingest_chunks_per_s"] is not None]
    m = [r["chunks"] for r in rows]
    right.plot(m, [r["ingest_chunks_per_s"] for r in rows], "o-", label="thrive ingest")
    right.plot(
        m, [r["encode_floor_chunks_per_s"] for r in rows], "s--", label="floor: bare model.encode"
    )
    right.set(
        xscale="log",
        xlabel="chunks ingested",
        ylabel="chunks per second",
        title="Ingest throughput",
    )
    right.set_ylim(bottom=0)
    right.legend(fontsize=8)
    run = result.get("run", {})
    for axis, sizes in ((left, n), (right, m)):
        axis.set_xticks(sizes, [_size_label(x) for x in sizes])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig.suptitle(
        f"thrive bench{' --quick' if run.get('quick') else ''}: {run.get('cpus')} CPUs, "
        f"load {run.get('load_average_before', ['?'])[0]} before the run",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
