"""The Chroma store: embedded under `vectorstore/`, or a Chroma server at THRIVE_CHROMA_URL.

A guide index is a series of collection *versions* (`<name>-<time_ns>`) and a pointer
collection whose metadata names the active one. Every ingest fills a new version and only
then moves the pointer (one metadata write), so a reader sees the old index or the new one,
never half of one; an interrupted ingest leaves the old one in use. The version the pointer
left is kept (KEEP_VERSIONS) so a session that read the pointer just before the switch can
still finish its question; sessions move on at their next question.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from pydantic import SecretStr

from thrive.base.errors import ConfigurationError, StoreError
from thrive.base.settings import Settings

KEEP_VERSIONS = 2  # the active version and the one it replaced
DB_FILE = "chroma.sqlite3"
LEXICAL_DIR = "thrive-bm25"  # persisted BM25 indexes, one folder per version
REBUILD_FIX = "Run `thrive ingest --rebuild`: it moves the broken store aside and builds a new one from corpus/."


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def where(settings: Settings) -> str:
    """The store's address: the server's URL or the embedded store's folder."""
    return settings.chroma_url or str(Path(settings.vectorstore_dir).resolve())


def broken(err: Exception, settings: Settings) -> StoreError:
    """Any failure of Chroma reading the store, as one message naming the fix."""
    if isinstance(err, StoreError):
        return err
    if settings.chroma_url:
        return StoreError(
            f"The Chroma server at {settings.chroma_url} failed ({type(err).__name__}: {err}).",
            fix="Check that it is running and of the release Thrive uses "
            f"(chromadb {chromadb.__version__}); then run `thrive ingest --rebuild`.",
        )
    return StoreError(
        f"The vector store in {where(settings)} cannot be read ({type(err).__name__}: {err}).",
        fix=REBUILD_FIX,
    )


@contextmanager
def translated(settings: Settings) -> Iterator[None]:
    """Chroma's own errors (SQLite, HNSW, HTTP) become a StoreError naming the fix."""
    try:
        yield
    except StoreError:
        raise
    except Exception as err:
        raise broken(err, settings) from err


# -- connecting ------------------------------------------------------------------------------

# The database file each embedded store had when this process opened it (device, inode):
# chromadb caches one client per path, which keeps reading a store that was moved aside,
# deleted or rebuilt by another process through its still-open files.
_opened: dict[str, tuple[int, int]] = {}
_opened_lock = threading.Lock()


def _identity(db: Path) -> tuple[int, int] | None:
    try:
        st = db.stat()
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def _forget(path: str) -> None:
    """Drop chromadb's cached client of an embedded store, so the next one reopens its files."""
    system = SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
    if system is not None:
        # stopping a client of a vanished store may fail; it is dropped all the same
        with contextlib.suppress(Exception):
            system.stop()


def check_embedded(settings: Settings) -> None:
    """Cheap (one stat): raise if the embedded store this process opened is gone, reconnect
    on next `connect` if another process replaced it (a rebuild)."""
    if settings.chroma_url:
        return
    path = where(settings)
    now = _identity(Path(path) / DB_FILE)
    with _opened_lock:
        seen = _opened.get(path)
        if seen is None or now == seen:
            return
        if now is None:
            raise StoreError(
                f"The vector store in {path} was removed while Thrive was running.",
                fix="Run `thrive ingest --rebuild` to build it again from corpus/.",
            )
        _forget(path)
        del _opened[path]


def store_identity(settings: Settings) -> tuple[int, int] | None:
    """Which files an embedded store is (None for a server): a rebuild makes new ones."""
    return None if settings.chroma_url else _identity(Path(where(settings)) / DB_FILE)


def connect(settings: Settings, *, create: bool = True) -> ClientAPI:
    """Open the configured Chroma: a server when THRIVE_CHROMA_URL is set, else embedded.
    Readers pass `create=False`: a missing store is an error, not a new empty one."""
    if settings.chroma_url:
        return _connect_server(settings)
    path = Path(where(settings))
    db = path / DB_FILE
    check_embedded(settings)
    if not create and not db.exists():
        raise StoreError(
            f"There is no vector store in {path} (never built, or deleted).",
            fix="Run `thrive ingest --rebuild` to build it from corpus/.",
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        client.heartbeat()
    except Exception as err:
        _forget(str(path))
        raise broken(err, settings) from err
    with _opened_lock:
        identity = _identity(db)
        if identity is not None:
            _opened.setdefault(str(path), identity)
    return client


def _headers(settings: Settings) -> dict[str, str]:
    secret: object = settings.chroma_token
    # model_copy(update=...) may have put a plain str here
    token = secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret or "")
    # Both common forms: a proxy usually reads Authorization; Chroma's own token auth reads
    # whichever header its server is configured for.
    return {"Authorization": f"Bearer {token}", "X-Chroma-Token": token} if token else {}


def _connect_server(settings: Settings) -> ClientAPI:
    assert settings.chroma_url
    url = urlparse(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigurationError(
            f"THRIVE_CHROMA_URL={settings.chroma_url!r} is not an http(s) URL.",
            fix="Set it like http://127.0.0.1:8000, or unset it to use vectorstore/.",
        )
    release = f"chromadb {chromadb.__version__}"
    try:
        client = chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 80),
            ssl=url.scheme == "https",
            headers=_headers(settings),
            settings=_chroma_settings(),
        )
        client.heartbeat()
        server_version = client.get_version()
    except Exception as err:
        text = str(err)
        if "404" in text or "Not Found" in text:
            raise StoreError(
                f"The server at {settings.chroma_url} does not speak Chroma's v2 API "
                "(an older Chroma, or not Chroma at all).",
                fix=f"Run a Chroma server of the release Thrive uses ({release}): "
                f"`chroma run --path vectorstore --port {url.port or 8000}`.",
            ) from err
        if "401" in text or "403" in text or "Unauthorized" in text or "Forbidden" in text:
            raise StoreError(
                f"The Chroma server at {settings.chroma_url} refused Thrive's credentials.",
                fix="Set THRIVE_CHROMA_TOKEN to the token its proxy expects.",
            ) from err
        raise StoreError(
            f"Cannot reach the Chroma server at {settings.chroma_url} ({type(err).__name__}).",
            fix="Start it (`chroma run --path vectorstore --port 8000`) or unset "
            "THRIVE_CHROMA_URL to use the embedded store.",
        ) from err
    # A chromadb 1.x server reports its API's version (1.0.0 for 1.5.9), not its release:
    # the major number is what a client and a server must share.
    major = chromadb.__version__.split(".")[0]
    if server_version.split(".")[0] != major:
        raise StoreError(
            f"The Chroma server at {settings.chroma_url} runs release {server_version}; "
            f"Thrive uses {release}, whose client needs a Chroma {major}.x server.",
            fix=f"Run the server of release {chromadb.__version__} (`chroma run` from this "
            f"environment, or the image chromadb/chroma:{chromadb.__version__}).",
        )
    return client


def move_aside(settings: Settings) -> Path | None:
    """Keep a broken embedded store for inspection instead of deleting it."""
    path = Path(settings.vectorstore_dir)
    if settings.chroma_url or not path.exists():
        return None
    _forget(where(settings))
    with _opened_lock:
        _opened.pop(where(settings), None)
    target = path.with_name(f"{path.name}.broken-{time.time_ns()}")
    shutil.move(str(path), str(target))
    path.mkdir(parents=True)
    (path / ".gitkeep").touch()
    return target


def lexical_root(settings: Settings) -> Path:
    """Where persisted BM25 indexes live: beside the collections in the embedded store; for
    a server, in a local cache keyed by its URL (every host builds its own once)."""
    if settings.chroma_url:
        key = hashlib.sha256(settings.chroma_url.rstrip("/").encode()).hexdigest()[:16]
        return Path(settings.data_dir) / "cache" / f"bm25-{key}"
    return Path(settings.vectorstore_dir) / LEXICAL_DIR


# -- versions ------------------------------------------------------------------------------


class GuideIndex:
    """The versions of a guide index in one store, and the pointer naming the active one."""

    def __init__(self, client: ClientAPI, name: str) -> None:
        self.client = client
        self.name = name
        self._version = re.compile(rf"^{re.escape(name)}-(\d+)$")

    def _pointer(self) -> Collection:
        return self.client.get_or_create_collection(f"{self.name}-pointer", embedding_function=None)

    def active_name(self) -> str | None:
        """The active version's name: one small read, made before every question."""
        try:
            name = (self._pointer().metadata or {}).get("active")
        except Exception as err:
            raise StoreError(
                f"The vector store cannot be read ({type(err).__name__}: {err}).", fix=REBUILD_FIX
            ) from err
        return str(name) if name else None

    def active(self) -> Collection | None:
        """The collection queries should use, or None when nothing was ever ingested."""
        name = self.active_name()
        if not name:
            return None
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as err:
            if type(err).__name__ in ("NotFoundError", "InvalidCollectionException"):
                return None
            raise StoreError(
                f"The vector store cannot be read ({type(err).__name__}: {err}).", fix=REBUILD_FIX
            ) from err

    def require_active(self) -> Collection:
        collection = self.active()
        try:
            empty = collection is None or collection.count() == 0
        except Exception as err:
            raise StoreError(
                f"The vector store cannot be read ({type(err).__name__}: {err}).", fix=REBUILD_FIX
            ) from err
        if empty:
            raise StoreError(
                "The guide has not been indexed yet.",
                fix="Run `thrive ingest` (or `make run`, which does it for you).",
            )
        assert collection is not None
        return collection

    def new_collection(self, metadata: dict[str, Any]) -> Collection:
        """A new, empty version; nobody reads it until `activate`."""
        name = f"{self.name}-{time.time_ns()}"
        return self.client.create_collection(
            name,
            metadata={"hnsw:space": "cosine", **metadata},
            embedding_function=None,
        )

    def versions(self) -> list[str]:
        """Every version in the store, oldest first."""
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        found = [(int(m.group(1)), n) for n in names if (m := self._version.match(n))]
        return [n for _, n in sorted(found)]

    def activate(self, collection: Collection) -> list[str]:
        """Point queries at `collection` (one metadata write), then drop the versions older
        than the one it replaces. Returns the versions kept."""
        previous = self.active_name()
        self._pointer().modify(metadata={"active": collection.name, "previous": previous or ""})
        versions = self.versions()
        keep = [collection.name] + ([previous] if previous and previous in versions else [])
        keep = keep[:KEEP_VERSIONS]
        newest_kept = max(versions.index(n) for n in keep if n in versions)
        for i, name in enumerate(versions):
            # Versions newer than the active one may be another ingest's work in progress
            # (the server lock is best-effort): only older ones are dropped.
            if name not in keep and i < newest_kept:
                try:
                    self.client.delete_collection(name)
                except Exception as err:  # already gone: another ingest dropped it
                    if type(err).__name__ != "NotFoundError":
                        raise
        return keep


# -- the ingest lock of a server store ---------------------------------------------------------


class SharedLock:
    """The ingest lock of a Chroma server, kept in the server: a collection whose metadata
    holds the owner and an expiry, renewed while the ingest runs.

    Chroma has no compare-and-set, so this is write-then-verify: take a free or expired lock,
    wait SETTLE_S, and hold it only if the record still names us (the last writer wins, the
    others back off). Two ingests can both hold it only if one stalls for over SETTLE_S
    between reading the record and writing it; even then no index breaks: each fills its own
    new version and the pointer names one whole version, the later one. An owner that dies
    (SIGKILL, lost host) blocks others for at most TTL_S.
    """

    TTL_S = 30.0
    SETTLE_S = 0.5

    def __init__(self, client: ClientAPI, name: str) -> None:
        self.client = client
        self.lock_file = f"{name}-lock (on the Chroma server)"
        self._name = f"{name}-lock"
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._renew: threading.Thread | None = None

    def _record(self) -> dict[str, Any]:
        col = self.client.get_or_create_collection(self._name, embedding_function=None)
        return dict(col.metadata or {})

    def _write(self, owner: str, expires: float) -> None:
        col = self.client.get_or_create_collection(self._name, embedding_function=None)
        col.modify(metadata={"owner": owner or "-", "expires": expires})

    def _try(self) -> bool:
        meta = self._record()
        holder, expires = str(meta.get("owner", "-")), float(meta.get("expires", 0.0))
        if holder not in ("-", self.owner) and expires > time.time():
            return False
        self._write(self.owner, time.time() + self.TTL_S)
        time.sleep(self.SETTLE_S)
        return self._record().get("owner") == self.owner

    def acquire(self, timeout: float) -> bool:
        """True once held; False when `timeout` passed first (0: one try)."""
        deadline = time.monotonic() + timeout
        while not self._try():
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        self._stop.clear()
        self._renew = threading.Thread(target=self._keep, name="thrive-lock", daemon=True)
        self._renew.start()
        return True

    def _keep(self) -> None:
        while not self._stop.wait(self.TTL_S / 3):
            try:
                if self._record().get("owner") == self.owner:
                    self._write(self.owner, time.time() + self.TTL_S)
            except Exception:  # the server blipped: the next beat tries again
                pass

    def release(self) -> None:
        self._stop.set()
        if self._renew is not None:
            self._renew.join()
        try:
            if self._record().get("owner") == self.owner:
                self._write("-", 0.0)
        except Exception:  # the lock expires by itself
            pass


# -- reading ---------------------------------------------------------------------------------

# Embedded Chroma cannot return ~32k records at once (SQLite: "too many SQL variables").
PAGE = 5_000


def get_all(collection: Collection, include: list[str]) -> dict[str, list[Any]]:
    """`collection.get(include=...)` for every record, fetched a page at a time."""
    out: dict[str, list[Any]] = {"ids": [], **{field: [] for field in include}}
    offset = 0
    while True:
        got = collection.get(include=include, limit=PAGE, offset=offset)  # type: ignore[arg-type]
        for field, values in out.items():
            got_values = got[field]  # type: ignore[literal-required]
            values.extend(got_values if got_values is not None else [])
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
