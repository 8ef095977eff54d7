"""Ingestion: the corpus into the vector store, incrementally.

Every ingest that changes anything fills a new collection version: unchanged chunks (same
id, same content hash) are copied with their vectors from the active version, never embedded
again; changed and new ones are embedded; removed ones are left out. A change of embedding
model or `--rebuild` stores everything anew. Texts this machine's bundled model has embedded
before, in any store, take their saved vectors (thrive.base.saved_vectors). The new version
replaces the old one only once it is complete (see store.py). One ingest at a time: a lock
file beside the embedded store, a lock record in the server for a Chroma server (shared by
every host).
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from filelock import FileLock, Timeout

from thrive.base import embeddings
from thrive.base.errors import StoreError
from thrive.base.settings import Settings
from thrive.knowledge import outside, tuned
from thrive.knowledge.corpus import Chunk, chunk_sections, read_corpus, tuning_pairs
from thrive.knowledge.lexical import persist_lexical, prune_lexical
from thrive.knowledge.store import (
    PAGE,
    GuideIndex,
    SharedLock,
    connect,
    get_all,
    move_aside,
    translated,
)

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)
# Chunks per upsert. Chroma stores the guide's 3,136 chunks in 2.4 s in batches of 64, 1.6 s in
# batches of 512 (this machine); 256 keeps progress lively while embedding.
BATCH = 256


@dataclass
class IngestReport:
    added: int
    updated: int
    deleted: int
    unchanged: int
    rebuilt: bool
    seconds: float
    corpus_version: str
    moved_aside: str | None = None

    @property
    def embedded(self) -> int:
        return self.added + self.updated


def corpus_version(chunks: list[Chunk]) -> str:
    digest = hashlib.sha256("|".join(c.content_hash for c in chunks).encode())
    return digest.hexdigest()[:16]


def _embed_and_store(
    target: Collection, todo: list[Chunk], progress: Progress | None, reuse_vectors: bool
) -> None:
    """Embed the chunks a batch at a time and upsert them, Chroma storing one batch while
    the encoder works on the next (both release the GIL), so that the store's ~6% of an
    ingest's time mostly hides behind the encoder's. With `reuse_vectors`, texts this
    machine has embedded before take their saved vectors, and new ones are saved."""
    saved = embeddings.saved_vectors() if reuse_vectors else None
    known = saved.lookup([c.text for c in todo]) if saved else {}
    # The engine is chosen once for the whole job: a few edited chunks never import torch,
    # and a large ingest does not switch engines for its last, short batch.
    bulk = sum(1 for c in todo if c.text not in known) >= embeddings.BULK_MIN
    # Longest first, so that chunks of similar length share a batch and less padding is
    # computed; the order chunks are stored in does not matter.
    todo = sorted(todo, key=lambda c: -len(c.text))
    stored = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="thrive-upsert") as writer:
        pending: tuple[Future[None], int] | None = None  # the upsert in flight, its size
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            texts = [c.text for c in batch]
            encode = functools.partial(embeddings.encode, bulk=bulk)
            vectors = saved.vectors(texts, encode, known) if saved else encode(texts)
            if pending is not None:  # one upsert at a time, in order; its errors surface here
                stored = _finish(pending, stored, len(todo), progress)
            upsert = writer.submit(
                target.upsert,
                ids=[c.chunk_id for c in batch],
                embeddings=vectors,
                documents=[c.text for c in batch],
                metadatas=[c.metadata for c in batch],  # type: ignore[arg-type]
            )
            pending = (upsert, len(batch))
        if pending is not None:
            _finish(pending, stored, len(todo), progress)


def _finish(
    pending: tuple[Future[None], int], stored: int, total: int, progress: Progress | None
) -> int:
    """Wait for an upsert and report it; returns the chunks stored so far."""
    upsert, size = pending
    upsert.result()
    if progress:
        progress(stored + size, total)
    return stored + size


def lock_path(settings: Settings) -> Path:
    path = Path(settings.vectorstore_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path / ".ingest.lock"


class _FileLock:
    """The embedded store's lock: a file lock, released by the OS if the process dies."""

    def __init__(self, settings: Settings) -> None:
        self._lock = FileLock(str(lock_path(settings)))
        self.lock_file = self._lock.lock_file

    def acquire(self, timeout: float) -> bool:
        try:
            self._lock.acquire(timeout=timeout)
        except Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()


def ingest(
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait_s: float = 120.0,
    on_wait: Callable[[], None] | None = None,
    on_tuning: Callable[[int], None] | None = None,
    on_tuning_wait: Callable[[], None] | None = None,
    reuse_vectors: bool = True,
) -> IngestReport:
    """Bring the index in line with `corpus/`, and the search encoder with its question
    keys and outside topics (tuned.py; `on_tuning(examples)` is called before a training
    starts, `on_tuning_wait()` before waiting for another process's training). Returns what
    changed. `reuse_vectors=False` embeds every new chunk, even those this machine has
    embedded before (`thrive bench` measures encoding so)."""
    started = time.perf_counter()
    chunks = chunk_sections(read_corpus(Path(settings.corpus_dir)), settings.chunk_words)
    keys = tuning_pairs(chunks)
    # Read before the index is touched: a broken outside-topics file stops the ingest first.
    pairs = tuned.training_pairs(keys, outside.training_pairs(Path(settings.corpus_dir)))
    report = _ingest(settings, chunks, rebuild, progress, wait_s, on_wait, started, reuse_vectors)
    if keys:
        tuned.ensure_built(pairs, on_train=on_tuning, on_wait=on_tuning_wait)
        report.seconds = time.perf_counter() - started
    return report


def _ingest(
    settings: Settings,
    chunks: list[Chunk],
    rebuild: bool,
    progress: Progress | None,
    wait_s: float,
    on_wait: Callable[[], None] | None,
    started: float,
    reuse_vectors: bool,
) -> IngestReport:
    lock: _FileLock | SharedLock
    if settings.chroma_url:
        lock = SharedLock(connect(settings), settings.collection)
    else:
        lock = _FileLock(settings)
    with translated(settings):
        held = lock.acquire(timeout=0)
        if not held:
            if on_wait:
                on_wait()
            held = lock.acquire(timeout=wait_s)
    if not held:
        raise StoreError(
            f"Another ingest has held the lock {lock.lock_file} for over {wait_s:.0f} s.",
            fix="Wait for it to finish, or stop it; then run `thrive ingest` again.",
        )
    try:
        with translated(settings):
            return _ingest_locked(settings, chunks, rebuild, progress, started, reuse_vectors)
    finally:
        lock.release()


def _open(settings: Settings, rebuild: bool) -> tuple[ClientAPI, Collection | None, str | None]:
    """The store and its active version; with `rebuild`, a broken store is moved aside."""
    try:
        client = connect(settings)
        with translated(settings):
            current = GuideIndex(client, settings.collection).active()
            if current is not None:
                current.count()  # a store that cannot be read fails here, not half-way
        return client, current, None
    except StoreError:
        if not rebuild:
            raise
    moved = move_aside(settings)  # a broken store is kept, not deleted
    return connect(settings), None, str(moved) if moved else None


def _copy_unchanged(source: Collection, target: Collection, skip: set[str]) -> None:
    """The unchanged chunks, vectors and all, from the active version into the new one."""
    offset = 0
    while True:
        got = source.get(
            include=["embeddings", "documents", "metadatas"],  # type: ignore[list-item]
            limit=PAGE,
            offset=offset,
        )
        keep = [j for j, i in enumerate(got["ids"]) if i not in skip]
        if keep:
            vectors = got["embeddings"]
            assert vectors is not None and got["documents"] is not None
            metas = got["metadatas"] or []
            target.add(
                ids=[got["ids"][j] for j in keep],
                embeddings=np.asarray(vectors)[keep],
                documents=[got["documents"][j] for j in keep],
                metadatas=[metas[j] for j in keep],
            )
        if len(got["ids"]) < PAGE:
            return
        offset += PAGE


def _ingest_locked(
    settings: Settings,
    chunks: list[Chunk],
    rebuild: bool,
    progress: Progress | None,
    started: float,
    reuse_vectors: bool,
) -> IngestReport:
    client, current, moved = _open(settings, rebuild)
    index = GuideIndex(client, settings.collection)

    version = corpus_version(chunks)
    meta = {"embedding_model": embeddings.MODEL_NAME, "chunk_words": settings.chunk_words}
    stale_model = current is not None and any(
        (current.metadata or {}).get(k) != v for k, v in meta.items()
    )
    fresh = rebuild or current is None or stale_model

    existing: dict[str, str] = {}
    if not fresh:
        assert current is not None
        got = get_all(current, ["metadatas"])
        existing = {
            i: str((m or {}).get("content_hash", ""))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }
    wanted = {c.chunk_id for c in chunks}
    todo = [c for c in chunks if existing.get(c.chunk_id) != c.content_hash]
    to_delete = sorted(set(existing) - wanted)
    added = sum(1 for c in todo if c.chunk_id not in existing)
    report = IngestReport(
        added=added,
        updated=len(todo) - added,
        deleted=len(to_delete),
        unchanged=len(chunks) - len(todo),
        rebuilt=fresh,
        seconds=0.0,
        corpus_version=version,
        moved_aside=moved,
    )
    same_version = current is not None and (current.metadata or {}).get("corpus_version") == version
    if not fresh and not todo and not to_delete and same_version:
        report.seconds = time.perf_counter() - started
        return report  # nothing changed: the active version stays

    # A new version, filled while readers keep using the active one.
    target = index.new_collection({**meta, "corpus_version": ""})
    if not fresh:
        assert current is not None
        _copy_unchanged(current, target, {c.chunk_id for c in todo} | set(to_delete))
    if progress:
        progress(0, len(todo))
    _embed_and_store(target, todo, progress, reuse_vectors)
    target.modify(metadata={**meta, "corpus_version": version})
    persist_lexical(settings, target)  # so that the first session to open it does not build it
    kept = index.activate(target)
    prune_lexical(settings, kept)
    report.seconds = time.perf_counter() - started
    return report
