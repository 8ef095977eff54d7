"""Rebuild the shipped vectors: `python -m thrive.knowledge.onet.build [--out DIR]`.

Encodes the 19,265 task statements and the 923 occupation titles with the bundled MiniLM
(`thrive.base.embeddings.encode`, the same vectors queries get) and writes, atomically:

- `task_vectors.npy`   float16 (19265, 384), rows L2-normalised, in the TSV's order
- `title_vectors.npy`  float16 (923, 384), in occ_level.csv's order
- `vectors.json`       model, dimensions, row counts and sha256 of the encoded texts

Encoding the tasks takes minutes on two cores, which is why the vectors ship with the package.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from thrive.base import embeddings
from thrive.knowledge.onet.tasks import load_occupations, load_tasks, texts_sha256

TASK_VECTORS = "task_vectors.npy"
TITLE_VECTORS = "title_vectors.npy"
SIDECAR = "vectors.json"
BATCH = 512  # texts per call: large enough for the bulk engine, small enough to show progress


def default_out_dir() -> Path:
    """The package's data folder in a checkout (where the shipped files live)."""
    return Path(__file__).resolve().parent / "data"


def _normalised16(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # Renormalise after rounding to float16 too, so each stored row is unit length.
    half = (vectors / np.maximum(norms, 1e-12)).astype(np.float16)
    wide = half.astype(np.float32)
    return (wide / np.maximum(np.linalg.norm(wide, axis=1, keepdims=True), 1e-12)).astype(
        np.float16
    )


def encode_all(texts: list[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Unit float16 vectors of `texts`, encoded in batches (bulk engine)."""
    parts = []
    for start in range(0, len(texts), BATCH):
        batch = texts[start : start + BATCH]
        parts.append(embeddings.encode(batch, batch_size=64, bulk=True))
        if progress:
            progress(start + len(batch), len(texts))
    if not parts:
        return np.zeros((0, embeddings.DIMENSIONS), dtype=np.float16)
    return _normalised16(np.concatenate(parts))


def _write_atomic(path: Path, write: Callable[[int], None]) -> None:
    """Write through a temp file in the same folder, then os.replace: never a half file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        write(fd)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; shipped data must be readable
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_npy(path: Path, array: np.ndarray) -> None:
    def write(fd: int) -> None:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array)

    _write_atomic(path, write)


def sidecar_for(task_texts: list[str], title_texts: list[str]) -> dict[str, object]:
    """The metadata that must match the rows for the vectors to be used."""
    return {
        "model": embeddings.MODEL_NAME,
        "dimensions": embeddings.DIMENSIONS,
        "dtype": "float16",
        "tasks": len(task_texts),
        "tasks_sha256": texts_sha256(task_texts),
        "titles": len(title_texts),
        "titles_sha256": texts_sha256(title_texts),
    }


def build(out_dir: Path, progress: Callable[[int, int], None] | None = None) -> dict[str, object]:
    """Encode everything and write the three files into `out_dir`; returns the sidecar."""
    task_texts = [t.text for t in load_tasks()]
    title_texts = [o.title for o in load_occupations()]
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = encode_all(task_texts, progress)
    titles = encode_all(title_texts)
    meta = sidecar_for(task_texts, title_texts)
    _save_npy(out_dir / TASK_VECTORS, tasks)
    _save_npy(out_dir / TITLE_VECTORS, titles)

    def write_json(fd: int) -> None:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2)
            fh.write("\n")

    # The sidecar goes last: a build interrupted before it leaves a detectable mismatch.
    _write_atomic(out_dir / SIDECAR, write_json)
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_out_dir(), help="target folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        print(f"\rencoded {done:>6}/{total} tasks  {elapsed:6.1f} s", end="", file=sys.stderr)

    meta = build(args.out, progress)
    print(f"\nwrote {args.out} ({meta['tasks']} tasks, {meta['titles']} titles)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
