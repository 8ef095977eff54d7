"""Ratios of Thrive over its floors, and issue 6's targets judged from them."""

from __future__ import annotations

from typing import Any

# Issue 6's targets for a 2-core machine: (key in `targets`, comparison, bound).
RETRIEVAL_RATIO_MAX = 1.5
RETRIEVAL_LARGEST_MS_MAX = 25.0
INGEST_RATIO_MIN = 0.8
REINGEST_S_MAX = 1.0
COLD_START_S_MAX = 8.0
LLAMACPP_RATIO_MIN = 0.95
EXPOSURE_10_MS_MAX = 100.0  # issue 11's goal: 10 skills scored after load


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def ratios(result: dict[str, Any]) -> dict[str, Any]:
    """Thrive over its floor, for every pair measured in the run."""
    scale = result["scale"]
    ingest_rows = [r for r in scale if r["ingest_chunks_per_s"] is not None]
    largest = max(scale, key=lambda r: r["chunks"]) if scale else None
    return {
        "retrieval": _ratio(result["retrieval_p50_ms"], result["retrieval_floor_p50_ms"]),
        # Against the same floor run on Thrive's own query engine: what retrieval itself adds.
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
        "exposure_10_skills_p50_ms": _verdict(
            result.get("exposure_10_skills_p50_ms"), "<=", EXPOSURE_10_MS_MAX
        ),
    }
