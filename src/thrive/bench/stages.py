"""The stages of one run: the guide (ingest, retrieval, answers), cold start, llama.cpp and
the scale rows, each measured next to its floor in the same run."""

from __future__ import annotations

import functools
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thrive.base import embeddings
from thrive.base.settings import Settings
from thrive.bench.cold_start import cold_start
from thrive.bench.config import BenchConfig, Progress
from thrive.bench.inputs import QuestionPool, guide_topics, perturbed, write_synthetic_corpus
from thrive.bench.llamacpp import llamacpp_rates
from thrive.bench.measure import interleaved, ms, peak_rss_mb, percentile, retrieval_runs, timed
from thrive.coaching.coach import Coach
from thrive.knowledge.corpus import chunk_sections, read_corpus
from thrive.knowledge.ingest import ingest
from thrive.knowledge.lexical import persist_lexical
from thrive.knowledge.retrieval import GuideSearcher
from thrive.knowledge.store import GuideIndex, connect

# Ten skills of the kinds freelancers name, exposed and safe alike.
EXPOSURE_SKILLS = [
    "basic data entry",
    "writing product descriptions",
    "logo design",
    "court interpreting",
    "wedding photography",
    "bookkeeping for small firms",
    "AI ethics consulting",
    "video editing",
    "podcast transcription",
    "brand strategy",
]


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
        report = ingest(settings, reuse_vectors=False)  # the encoding is what is measured
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
        self.result["retrieval_p50_ms"] = ms(percentile(times["hybrid"], 50))
        self.result["retrieval_p95_ms"] = ms(percentile(times["hybrid"], 95))
        self.result["retrieval_floor_p50_ms"] = ms(percentile(times["floor"], 50))
        self.details.update(
            retrieval_floor_p95_ms=ms(percentile(times["floor"], 95)),
            retrieval_floor_minilm_p50_ms=ms(percentile(times["floor_minilm"], 50)),
            searcher_reopen_ms=ms(timed(functools.partial(GuideSearcher.open, settings))),
        )
        n = self.config.profile_queries
        stage = f"Retrieval with a profile ({n} queries)"
        runs = retrieval_runs(searcher, k, profiles=True)
        queries, warmup = self.pool.take(n), self.pool.take(3)
        times = interleaved(runs, queries, self.progress, stage, warmup)
        self.details["with_profile"] = {
            "retrieval_p50_ms": ms(percentile(times["hybrid"], 50)),
            "retrieval_p95_ms": ms(percentile(times["hybrid"], 95)),
            "retrieval_floor_p50_ms": ms(percentile(times["floor"], 50)),
            "retrieval_floor_minilm_p50_ms": ms(percentile(times["floor_minilm"], 50)),
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
            times[False].append(timed(functools.partial(coach.ask, a.question)))
            times[True].append(timed(functools.partial(coach.ask, b.question, profile=b.profile)))
            self.tick(stage, i + 1, n)
        self.result["answer_extractive_p50_ms"] = ms(percentile(times[False], 50))
        self.details["answer_extractive_p95_ms"] = ms(percentile(times[False], 95))
        self.details["with_profile"]["answer_extractive_p50_ms"] = ms(percentile(times[True], 50))
        self.details["rss_after_guide_mb"] = peak_rss_mb()
        return coach

    def exposure(self, coach: Coach) -> None:
        """Scoring 10 skills after the scorer and the O*NET task index are loaded (the
        Tools page and `thrive exposure` at work)."""
        n = self.config.answers
        stage = f"Exposure of 10 skills ({n} runs)"
        skills = EXPOSURE_SKILLS
        coach.exposure(skills)  # loads the scorer and the task index
        times = []
        for i in range(n):
            # new texts each run, as a user's would be: none is in the recent-vector cache
            batch = [f"{s} for client {i + 1}" for s in skills]
            times.append(timed(functools.partial(coach.exposure, batch)))
            self.tick(stage, i + 1, n)
        self.result["exposure_10_skills_p50_ms"] = ms(percentile(times, 50))

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
            report = ingest(
                settings,
                progress=functools.partial(self._offset, stage, half, total),
                reuse_vectors=False,
            )
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
            # As an ingest does before it activates a version: the BM25 index saved beside it.
            started = time.perf_counter()
            persist_lexical(settings, collection)
            self.details.setdefault("lexical_build_s", {})[str(n)] = round(
                time.perf_counter() - started, 2
            )
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
        GuideSearcher._cache.clear()  # a real open, as a new process makes it
        started = time.perf_counter()
        searcher = GuideSearcher.open(settings)  # loads the version's saved BM25 index
        opened = time.perf_counter() - started
        queries, warmup = self.pool.take(self.config.scale_queries), self.pool.take(3)
        started = time.perf_counter()
        searcher.search(warmup[0].question, k=self.settings.top_k)
        first = time.perf_counter() - started
        runs = retrieval_runs(searcher, self.settings.top_k)
        times = interleaved(runs, queries, self.progress, stage, warmup)
        return {
            "searcher_open_s": round(opened, 2),
            "retrieval_p50_ms": ms(percentile(times["hybrid"], 50)),
            "retrieval_p95_ms": ms(percentile(times["hybrid"], 95)),
            "retrieval_floor_p50_ms": ms(percentile(times["floor"], 50)),
            "retrieval_floor_minilm_p50_ms": ms(percentile(times["floor_minilm"], 50)),
            "first_query_ms": ms(first),
        }
