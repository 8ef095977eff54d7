"""The bundled model's vectors of texts it has embedded before, kept on disk per user.

Why: a fresh index of an unchanged guide (a new store, `--rebuild`, a second data folder,
each test's private copy) would otherwise embed all of its ~3,100 chunks and question keys
again, about 30 s on 2 cores plus torch's import. With this, only texts never embedded on
this machine are.

Keyed by the model's files (name, size and mtime, as the ONNX export is) and the text's
SHA-256, so a new model or package release never reads an old vector. Stored in SQLite (the
standard library's): readers and writers of several processes at once, and a write that
fails leaves the file as it was. The file is derived data, so it never stops an ingest: if it
cannot be read it is moved aside with a warning and started anew, and if it cannot be
written the vectors are simply not kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FILE_NAME = "saved-vectors.sqlite3"
SCHEMA = 1  # bump when what is stored changes: every old vector is then missed
# Enough for the guide many times over with years of edits (~1.5 kB each, so ~75 MB at
# most); past it the oldest vectors go first.
MAX_VECTORS = 50_000
# SQLite's limit on the values of one statement is 32,766 since 3.32 and 999 before.
_LOOKUP_BATCH = 900
_MODEL_FILES = ("config.json", "model.safetensors", "1_Pooling/config.json")


def model_key(name: str, model_dir: Path, engine: object = None) -> str:
    """A key that changes when the model does: its name and its files' sizes and mtimes,
    and `engine` (whatever else shapes the vectors: the export's format, library versions)."""
    parts: list[object] = [SCHEMA, name, engine]
    for file in _MODEL_FILES:
        stat = (model_dir / file).stat()
        parts += [file, stat.st_size, stat.st_mtime_ns]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def _digest(text: str) -> bytes:
    # surrogatepass: a text the caller could embed must never fail here.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class SavedVectors:
    """The saved vectors of one model, of dimension `dimensions`, in the file `path`."""

    def __init__(self, path: Path, model: str, dimensions: int) -> None:
        self.path = path
        self.model = model
        self.dimensions = dimensions

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors ("
            " id INTEGER PRIMARY KEY, model TEXT NOT NULL, text_sha256 BLOB NOT NULL,"
            " vector BLOB NOT NULL, UNIQUE (model, text_sha256))"
        )
        return db

    def lookup(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The saved vectors of those of `texts` that have one."""
        wanted = {_digest(t): t for t in dict.fromkeys(texts)}
        keys = list(wanted)
        found: dict[str, np.ndarray] = {}
        if not self.path.exists():
            return found
        try:
            db = self._connect()
            try:
                for start in range(0, len(keys), _LOOKUP_BATCH):
                    batch = keys[start : start + _LOOKUP_BATCH]
                    rows = db.execute(
                        "SELECT text_sha256, vector FROM vectors WHERE model = ? AND "
                        f"text_sha256 IN ({','.join('?' * len(batch))})",
                        [self.model, *batch],
                    )
                    for digest, blob in rows:
                        if isinstance(blob, bytes) and len(blob) == 4 * self.dimensions:
                            found[wanted[digest]] = np.frombuffer(blob, dtype=np.float32)
                        # else: not a vector of this shape, so embedded anew
            finally:
                db.close()
        except (sqlite3.OperationalError, OSError) as err:  # locked too long, a read-only disk
            log.warning("Saved vectors in %s cannot be read (%s); embedding anew.", self.path, err)
            return {}
        except sqlite3.DatabaseError as err:  # not a database, or a damaged one
            self._move_aside(err)
            return {}
        return found

    def vectors(
        self,
        texts: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
        known: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """The vectors of `texts`, in order: saved ones looked up (or taken from `known`, a
        lookup the caller made already, which this fills), the rest encoded in one call and
        saved."""
        known = self.lookup(texts) if known is None else known
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = encode(missing)
            self.save(missing, fresh)
            known.update(zip(missing, fresh, strict=True))
        return np.stack([known[t] for t in texts])

    def save(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep the vectors of `texts` (row i belongs to text i)."""
        rows = [
            (self.model, _digest(t), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        if not rows:
            return
        try:
            db = self._connect()
            try:
                with db:  # one transaction: all of them or none
                    db.executemany(
                        "INSERT OR REPLACE INTO vectors (model, text_sha256, vector) "
                        "VALUES (?, ?, ?)",
                        rows,
                    )
                    db.execute(
                        "DELETE FROM vectors WHERE id <= (SELECT MAX(id) FROM vectors) - ?",
                        (MAX_VECTORS,),
                    )
            finally:
                db.close()
        except (sqlite3.OperationalError, OSError) as err:
            log.warning("Vectors not saved in %s (%s).", self.path, err)
        except sqlite3.DatabaseError as err:
            self._move_aside(err)

    def _move_aside(self, err: Exception) -> None:
        """A file SQLite cannot read: kept under another name (never deleted), so that the
        next ingest starts a new one."""
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"  # two processes: two names
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        try:
            self.path.rename(aside)
        except OSError:
            log.warning("Saved vectors in %s are unreadable (%s); embedding anew.", self.path, err)
            return
        log.warning(
            "Saved vectors in %s were unreadable (%s): moved to %s; embedding anew.",
            self.path,
            err,
            aside,
        )
