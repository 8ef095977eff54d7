"""Timing helpers shared by the stages, and the retrieval floors they time against."""

from __future__ import annotations

import functools
import resource
import sys
import time
from collections.abc import Callable, Iterable

import numpy as np

from thrive.base import embeddings
from thrive.bench.config import Progress
from thrive.bench.inputs import Query
from thrive.knowledge.retrieval import GuideSearcher


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def percentile(values: Iterable[float], q: float) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    return float(np.percentile(np.asarray(data), q))


def timed(fn: Callable[[], object]) -> float:
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
            times[name].append(timed(functools.partial(runs[name], query)))
        if progress and (i % 10 == 9 or i + 1 == len(queries)):
            progress(stage, i + 1, len(queries))
    return times


def retrieval_runs(
    searcher: GuideSearcher, k: int, *, profiles: bool = False
) -> dict[str, Callable[[Query], object]]:
    """The retriever and its floors on one store.

    `floor`: the bare sentence-transformers embedding of the text(s) the retriever embeds
    (the question; with a profile, also question + profile) and one bare Chroma query for k
    results: the least a dense retriever does. `floor_minilm`: the same with Thrive's own
    query engine (ONNX Runtime), to show what retrieval adds beyond embedding the question.
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
