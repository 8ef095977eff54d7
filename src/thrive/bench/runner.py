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
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from thrive.base.files import write_atomic
from thrive.base.settings import Settings
from thrive.base.versions import installed_version
from thrive.bench.config import BenchConfig, Progress
from thrive.bench.inputs import guide_sentences
from thrive.bench.measure import peak_rss_mb
from thrive.bench.plot import write_plot
from thrive.bench.stages import Bench
from thrive.bench.verdicts import ratios, targets

__all__ = ["BenchConfig", "Progress", "run_bench", "write_report"]


def _versions() -> dict[str, str]:
    names = ("chromadb", "sentence-transformers", "torch", "bm25s", "llama_cpp_python")
    return {name: installed_version(name, "not installed") for name in names}


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
        bench.exposure(coach)
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


def write_report(result: dict[str, Any], out: Path, plot: Path | None = None) -> Path:
    """Write the JSON report and its PNG plot (beside it unless `plot` says where)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=2) + "\n")
    plot = plot or out.with_suffix(".png")
    write_plot(result, plot)
    return plot
