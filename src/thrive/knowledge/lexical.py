"""The lexical side of retrieval: BM25 (bm25s) with English stemming, persisted per version.

Building it means reading every chunk and tokenising it (~10 s at 50,000 chunks), so each
collection version's index is saved once, with the chunks in the order it numbers them, in
a folder named by the version (`store.lexical_root`), and loaded by every later open.
A version never changes after it is activated, so its folder never goes stale; a folder that
does not match its version (count, name) is rebuilt.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import bm25s
import numpy as np
import Stemmer
from bm25s.tokenization import Tokenizer
from chromadb.api.models.Collection import Collection

from thrive.base.settings import Settings
from thrive.knowledge.corpus import KEY
from thrive.knowledge.store import StoredChunk, all_chunks, lexical_root

try:  # chromadb depends on orjson; it reads the chunks ~4x faster than json
    import orjson

    def _loads(data: bytes) -> Any:
        return orjson.loads(data)

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)
except ImportError:  # pragma: no cover

    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(value: Any) -> bytes:
        return json.dumps(value).encode()


log = logging.getLogger(__name__)
FORMAT = 1
MANIFEST = "manifest.json"
COLUMNS = "columns.json"  # ids, section ids, line-key flags: what an open needs at once
TEXTS, METAS, OFFSETS = "texts.bin", "metadatas.bin", "offsets.npy"


def _tokenizer() -> Tokenizer:
    return Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"), lower=True)


class LexicalIndex:
    """BM25 (bm25s, sparse matrices: ~0.3 ms a query at 50k chunks) with English stemming."""

    def __init__(self, texts: list[str]) -> None:
        self.tokenizer = _tokenizer()
        ids = self.tokenizer.tokenize(texts, return_as="ids", show_progress=False)
        self.bm25 = bm25s.BM25()
        self.bm25.index(ids, show_progress=False)
        self.size = len(texts)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        self = cls.__new__(cls)
        self.tokenizer = _tokenizer()
        self.tokenizer.load_vocab(str(folder))
        self.bm25 = bm25s.BM25.load(str(folder), mmap=False, show_progress=False)
        self.bm25.vocab_dict = {int(k): v for k, v in self.bm25.vocab_dict.items()}
        self.size = size
        self._lock = threading.Lock()
        return self

    def save(self, folder: Path) -> None:
        # Indexed from token ids, bm25s keys its vocabulary by int, which JSON cannot hold:
        # saved with str keys, turned back on load.
        vocab = self.bm25.vocab_dict
        self.bm25.vocab_dict = {str(k): v for k, v in vocab.items()}
        try:
            self.bm25.save(str(folder), show_progress=False)
        finally:
            self.bm25.vocab_dict = vocab
        self.tokenizer.save_vocab(str(folder))

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        # One session at a time in the tokenizer: its stemmer and vocabulary are shared state.
        with self._lock:
            tokens = self.tokenizer.tokenize(
                [query], update_vocab=False, return_as="ids", show_progress=False
            )
        if not tokens or not tokens[0] or self.size == 0:
            return []
        docs, scores = self.bm25.retrieve(
            tokens, k=min(n, self.size), show_progress=False, n_threads=1
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


class ChunkTable(Sequence[StoredChunk]):
    """A version's chunks, in the order the BM25 index numbers them. Opened from disk it
    holds ids and sections as lists and texts and metadata as bytes, decoding a chunk only
    when it is read: the few a query returns, not all 50,000 at every open."""

    def __init__(
        self,
        ids: list[str],
        section_ids: list[str],
        is_key: list[bool],
        row: Callable[[int], StoredChunk],
    ) -> None:
        self.ids, self.section_ids, self.is_key = ids, section_ids, is_key
        self._row = row

    @classmethod
    def of(cls, chunks: list[StoredChunk]) -> ChunkTable:
        return cls(
            [c.chunk_id for c in chunks],
            [str(c.metadata.get("section_id")) for c in chunks],
            [c.metadata.get("granularity") == KEY for c in chunks],
            chunks.__getitem__,
        )

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, i: int) -> StoredChunk: ...
    @overload
    def __getitem__(self, i: slice) -> list[StoredChunk]: ...
    def __getitem__(self, i: int | slice) -> StoredChunk | list[StoredChunk]:
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._row(i)

    def __iter__(self) -> Iterator[StoredChunk]:
        return (self._row(i) for i in range(len(self)))


def _folder(settings: Settings, collection: Collection) -> Path:
    version = str((collection.metadata or {}).get("corpus_version", ""))
    return lexical_root(settings) / f"{collection.name}@{version or 'none'}"


def _blob(values: list[bytes]) -> tuple[bytes, np.ndarray]:
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in values], out=offsets[1:])
    return b"".join(values), offsets


def _load(folder: Path, collection: Collection, count: int) -> tuple[ChunkTable, LexicalIndex]:
    manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    if manifest != {"format": FORMAT, "collection": collection.name, "count": count}:
        raise ValueError(f"{folder} is for another version")
    columns = _loads((folder / COLUMNS).read_bytes())
    ids, section_ids, is_key = columns["ids"], columns["section_ids"], columns["is_key"]
    texts, metas = (folder / TEXTS).read_bytes(), (folder / METAS).read_bytes()
    offsets = np.load(folder / OFFSETS, allow_pickle=False)
    if not len(ids) == len(section_ids) == len(is_key) == count == offsets.shape[1] - 1:
        raise ValueError(f"{folder} is incomplete")
    text_at, meta_at = offsets[0].tolist(), offsets[1].tolist()

    def row(i: int) -> StoredChunk:
        text = texts[text_at[i] : text_at[i + 1]].decode("utf-8")
        return StoredChunk(ids[i], text, _loads(metas[meta_at[i] : meta_at[i + 1]]))

    return ChunkTable(ids, section_ids, is_key, row), LexicalIndex.load(folder, count)


def _save(
    folder: Path, collection: Collection, chunks: list[StoredChunk], lexical: LexicalIndex
) -> None:
    """Written to a temporary folder and renamed: a reader sees all of it or none."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        lexical.save(tmp)
        table = ChunkTable.of(chunks)
        columns = {"ids": table.ids, "section_ids": table.section_ids, "is_key": table.is_key}
        (tmp / COLUMNS).write_bytes(_dumps(columns))
        texts, text_at = _blob([c.text.encode("utf-8") for c in chunks])
        metas, meta_at = _blob([_dumps(c.metadata) for c in chunks])
        (tmp / TEXTS).write_bytes(texts)
        (tmp / METAS).write_bytes(metas)
        np.save(tmp / OFFSETS, np.stack([text_at, meta_at]), allow_pickle=False)
        manifest = {"format": FORMAT, "collection": collection.name, "count": len(chunks)}
        (tmp / MANIFEST).write_text(json.dumps(manifest), "utf-8")  # last: marks it complete
        if folder.exists():  # a broken one is left, or another process saved one meanwhile
            shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)
        if not folder.exists():
            raise


def open_lexical(
    settings: Settings, collection: Collection
) -> tuple[Sequence[StoredChunk], LexicalIndex]:
    """The version's chunks (in a stable order) and its BM25 index: loaded when saved, else
    built from every chunk and saved for the next open."""
    folder = _folder(settings, collection)
    count = collection.count()
    if (folder / MANIFEST).exists():
        try:
            return _load(folder, collection, count)
        except Exception as err:  # a cache: anything wrong with it means build it again
            log.warning("rebuilding the BM25 index in %s (%s)", folder, err)
    chunks = all_chunks(collection)
    lexical = LexicalIndex([c.text for c in chunks])
    try:
        _save(folder, collection, chunks, lexical)
    except Exception as err:  # a read-only disk: serve from memory, build again next time
        log.warning("cannot save the BM25 index in %s (%s)", folder, err)
    return chunks, lexical


def persist_lexical(settings: Settings, collection: Collection) -> None:
    """Build and save a version's BM25 index (ingest does, before it activates a version)."""
    try:
        open_lexical(settings, collection)
    except Exception as err:  # only a cache: the first reader builds it instead
        log.warning("the BM25 index of %s was not saved (%s)", collection.name, err)


def prune_lexical(settings: Settings, keep: list[str]) -> None:
    """Drop the saved indexes of versions that are gone."""
    root = lexical_root(settings)
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name.startswith("."):  # a save in progress, or one a killed process left
            if time.time() - folder.stat().st_mtime < 3600:
                continue
        elif folder.name.split("@")[0] in keep:
            continue
        shutil.rmtree(folder, ignore_errors=True)
