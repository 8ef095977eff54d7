"""The report's plot: retrieval latency and ingest throughput against corpus size."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from thrive.base.files import write_atomic
from thrive.bench.verdicts import RETRIEVAL_LARGEST_MS_MAX


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
    png = io.BytesIO()
    fig.savefig(png, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    write_atomic(path, png.getvalue())
