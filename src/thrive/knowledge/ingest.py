"""Ingestion: the corpus into the vector store, incrementally.

Unchanged chunks (same id, same content hash) are not embedded again, removed ones are
deleted, and a change of embedding model or `--rebuild` builds a fresh collection that
replaces the old one only once it is complete. One ingest at a time, guarded by a lock file.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from chromadb.api.models.Collection import Collection
from filelock import FileLock, Timeout

from thrive.base import embeddings
from thrive.base.errors import StoreError
from thrive.base.settings import Settings
from thrive.knowledge.corpus import Chunk, chunk_sections, read_corpus
from thrive.knowledge.store import GuideIndex, connect, get_all, move_aside

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)
BATCH = 64


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


def _embed_and_store(target: Collection, todo: list[Chunk], progress: Progress | None) -> None:
    """Embed the chunks a batch at a time and upsert them, Chroma storing one batch while
    the encoder works on the next (both release the GIL), so that the store's ~6% of an
    ingest's time mostly hides behind the encoder's."""
    # The engine is chosen once for the whole job: a few edited chunks never import torch,
    # and a large ingest does not switch engines for its last, short batch.
    bulk = len(todo) >= embeddings.BULK_MIN
    # Longest first, so that chunks of similar length share a batch and less padding is
    # computed; the order chunks are stored in does not matter.
    todo = sorted(todo, key=lambda c: -len(c.text))
    stored = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="thrive-upsert") as writer:
        pending: tuple[Future[None], int] | None = None  # the upsert in flight, its size
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = embeddings.encode([c.text for c in batch], bulk=bulk)
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


def ingest(
    settings: Settings,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    wait_s: float = 120.0,
    on_wait: Callable[[], None] | None = None,
) -> IngestReport:
    """Bring the index in line with `corpus/`. Returns what changed."""
    started = time.perf_counter()
    chunks = chunk_sections(read_corpus(Path(settings.corpus_dir)), settings.chunk_words)
    lock = FileLock(str(lock_path(settings)))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait:
            on_wait()
        try:
            lock.acquire(timeout=wait_s)
        except Timeout as err:
            raise StoreError(
                f"Another ingest has held the lock {lock.lock_file} for over {wait_s:.0f} s.",
                fix="Wait for it to finish, or stop it; then run `thrive ingest` again.",
            ) from err
    try:
        return _ingest_locked(settings, chunks, rebuild, progress, started)
    finally:
        lock.release()


def _ingest_locked(
    settings: Settings,
    chunks: list[Chunk],
    rebuild: bool,
    progress: Progress | None,
    started: float,
) -> IngestReport:
    moved = None
    try:
        client = connect(settings)
        index = GuideIndex(client, settings.collection)
        current = index.active()
    except StoreError:
        if not rebuild:
            raise
        moved_path = move_aside(settings)  # a broken store is kept, not deleted
        moved = str(moved_path) if moved_path else None
        client = connect(settings)
        index = GuideIndex(client, settings.collection)
        current = None

    version = corpus_version(chunks)
    meta = {"embedding_model": embeddings.MODEL_NAME, "chunk_words": settings.chunk_words}
    stale_model = current is not None and any(
        (current.metadata or {}).get(k) != v for k, v in meta.items()
    )
    fresh = rebuild or current is None or stale_model
    target = index.new_collection({**meta, "corpus_version": ""}) if fresh else current
    assert target is not None

    existing: dict[str, str] = {}
    if not fresh:
        got = get_all(target, ["metadatas"])
        existing = {
            i: str((m or {}).get("content_hash", ""))
            for i, m in zip(got["ids"], got["metadatas"], strict=True)
        }
    wanted = {c.chunk_id for c in chunks}
    todo = [c for c in chunks if existing.get(c.chunk_id) != c.content_hash]
    to_delete = sorted(set(existing) - wanted)
    added = sum(1 for c in todo if c.chunk_id not in existing)

    if progress:
        progress(0, len(todo))
    _embed_and_store(target, todo, progress)
    if to_delete:
        target.delete(ids=to_delete)
    if fresh or todo or to_delete or (target.metadata or {}).get("corpus_version") != version:
        target.modify(metadata={**meta, "corpus_version": version})
    if fresh:
        index.activate(target)
    return IngestReport(
        added=added,
        updated=len(todo) - added,
        deleted=len(to_delete),
        unchanged=len(chunks) - len(todo),
        rebuilt=fresh,
        seconds=time.perf_counter() - started,
        corpus_version=version,
        moved_aside=moved,
    )
