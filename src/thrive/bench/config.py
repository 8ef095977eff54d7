"""The sizes of one `thrive bench` run, and the progress callback it reports through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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
