"""The Chroma store: embedded under `vectorstore/`, or a Chroma server at THRIVE_CHROMA_URL.

A guide index is one collection. A full rebuild fills a *new* collection and only then
moves the "active" pointer to it, so an interrupted rebuild leaves the old index in use.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from thrive.base.errors import ConfigurationError, StoreError
from thrive.base.settings import Settings


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def connect(settings: Settings) -> ClientAPI:
    """Open the configured Chroma: a server when THRIVE_CHROMA_URL is set, else embedded."""
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigurationError(
                f"THRIVE_CHROMA_URL={settings.chroma_url!r} is not an http(s) URL.",
                fix="Set it like http://127.0.0.1:8000, or unset it to use vectorstore/.",
            )
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 80),
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
            client.heartbeat()
            return client
        except Exception as err:
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({err}).",
                fix="Start it (`chroma run --path vectorstore --port 8000`) or unset "
                "THRIVE_CHROMA_URL to use the embedded store.",
            ) from err
    path = Path(settings.vectorstore_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except Exception as err:
        raise StoreError(
            f"The vector store in {path} cannot be opened ({err}).",
            fix="Run `thrive ingest --rebuild`: it moves the broken store aside and builds a "
            "new one from corpus/.",
        ) from err


def move_aside(settings: Settings) -> Path | None:
    """Keep a broken embedded store for inspection instead of deleting it."""
    path = Path(settings.vectorstore_dir)
    if settings.chroma_url or not path.exists():
        return None
    target = path.with_name(f"{path.name}.broken-{int(time.time())}")
    shutil.move(str(path), str(target))
    path.mkdir(parents=True)
    (path / ".gitkeep").touch()
    return target


class GuideIndex:
    """The active collection of a store, plus the pointer that names it."""

    def __init__(self, client: ClientAPI, name: str) -> None:
        self.client = client
        self.name = name

    def _pointer(self) -> Collection:
        return self.client.get_or_create_collection(f"{self.name}-pointer", embedding_function=None)

    def active(self) -> Collection | None:
        """The collection queries should use, or None when nothing was ever ingested."""
        try:
            meta = self._pointer().metadata or {}
            name = meta.get("active")
            return self.client.get_collection(str(name), embedding_function=None) if name else None
        except Exception as err:
            if type(err).__name__ in ("NotFoundError", "InvalidCollectionException"):
                return None
            raise StoreError(
                f"The vector store cannot be read ({err}).", fix="Run `thrive ingest --rebuild`."
            ) from err

    def require_active(self) -> Collection:
        collection = self.active()
        if collection is None or collection.count() == 0:
            raise StoreError(
                "The guide has not been indexed yet.",
                fix="Run `thrive ingest` (or `make run`, which does it for you).",
            )
        return collection

    def new_collection(self, metadata: dict[str, Any]) -> Collection:
        name = f"{self.name}-{time.time_ns()}"
        return self.client.create_collection(
            name,
            metadata={"hnsw:space": "cosine", **metadata},
            embedding_function=None,
        )

    def activate(self, collection: Collection) -> None:
        """Point queries at `collection`, then drop the collections it replaces."""
        self._pointer().modify(metadata={"active": collection.name})
        prefix = f"{self.name}-"
        for other in self.client.list_collections():
            other_name = other if isinstance(other, str) else other.name
            if (
                other_name.startswith(prefix)
                and other_name != collection.name
                and not other_name.endswith("-pointer")
            ):
                self.client.delete_collection(other_name)


# Embedded Chroma cannot return ~32k records at once (SQLite: "too many SQL variables").
PAGE = 5_000


def get_all(collection: Collection, include: list[str]) -> dict[str, list[Any]]:
    """`collection.get(include=...)` for every record, fetched a page at a time."""
    out: dict[str, list[Any]] = {"ids": [], **{field: [] for field in include}}
    offset = 0
    while True:
        got = collection.get(include=include, limit=PAGE, offset=offset)  # type: ignore[arg-type]
        for field, values in out.items():
            values.extend(got[field] or [])  # type: ignore[literal-required]
        if len(got["ids"]) < PAGE:
            return out
        offset += PAGE


def all_chunks(collection: Collection) -> list[StoredChunk]:
    """Every chunk in the collection, in a stable order (by id)."""
    got = get_all(collection, ["documents", "metadatas"])
    rows = [
        StoredChunk(i, d or "", dict(m or {}))
        for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    ]
    return sorted(rows, key=lambda r: (r.metadata.get("order", 0), r.chunk_id))
