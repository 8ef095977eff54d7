"""One SQLAlchemy engine per database, shared by every user and thread of the process, with
the schema brought up to date (Alembic) when the database is first opened.

SQLite runs in WAL mode with foreign keys on and a busy timeout; each checkout of the pool is
one connection used by one thread at a time. Write transactions on SQLite start with
`BEGIN IMMEDIATE`, so two writers queue on the busy timeout instead of failing when one of
them upgrades a read lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from thrive.base.errors import StoreError

BUSY_TIMEOUT_MS = 30_000
_MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_WRITE = "thrive_write"  # execution option: this transaction will write

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def sqlite_url(path: Path) -> str:
    return sa.URL.create("sqlite+pysqlite", database=str(Path(path).resolve())).render_as_string()


def shown(url: str) -> str:
    """The URL as it may be shown to a user: never with its password, nor the values of its
    query (`?password=...` is a password too). A URL that cannot be parsed is not shown:
    its parts cannot be told apart, and a password with an unescaped '@' looks like a host."""
    try:
        parsed = sa.make_url(url)
    except (exc.ArgumentError, ValueError):
        return "(an unreadable URL)"
    if parsed.query:
        parsed = parsed.set(query={key: "***" for key in parsed.query})
    return parsed.render_as_string(hide_password=True)


def engine_for(url: str) -> Engine:
    """The shared engine of `url`, created and migrated on first use. Raises StoreError."""
    with _lock:
        engine = _engines.get(url)
        if engine is not None and _is_sqlite(engine) and not _sqlite_file(engine).exists():
            engine.dispose()  # the file was removed behind our back: start a new one
            engine = None
        if engine is None:
            engine = _create(url)
            try:
                with writing(engine, url) as conn:
                    _migrate(conn)
            except BaseException:
                engine.dispose()
                raise
            _engines[url] = engine
        return engine


def dispose_all() -> None:
    """Close every pooled connection and forget the engines (tests, and a clean exit)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def reading(engine: Engine, url: str) -> Iterator[Connection]:
    """One read transaction; database errors become StoreError."""
    with _translated(engine, url), engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def writing(engine: Engine, url: str) -> Iterator[Connection]:
    """One write transaction: committed whole on success, rolled back whole on error."""
    with _translated(engine, url), engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


def _create(url: str) -> Engine:
    try:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            # Few idle connections kept per file; bursts (20 writers) get overflow connections.
            engine = sa.create_engine(parsed, pool_size=3, max_overflow=30, pool_timeout=60)
            _tune_sqlite(engine)
        elif parsed.get_backend_name() == "postgresql":
            engine = sa.create_engine(
                parsed,
                pool_size=5,
                max_overflow=20,
                pool_pre_ping=True,  # a restarted server: reconnect instead of failing once
                connect_args={"connect_timeout": 10},
            )
        else:
            raise StoreError(
                f"Thrive keeps data in SQLite or PostgreSQL, not {parsed.get_backend_name()}.",
                fix="Set THRIVE_DATABASE_URL to postgresql+psycopg://user@host/thrive, or "
                "unset it for SQLite under THRIVE_DATA_DIR.",
            )
    except (exc.ArgumentError, exc.NoSuchModuleError, ValueError) as err:
        # The parser's own message can quote the URL, password and all: only the missing
        # driver's message (it names the dialect) is shown.
        why = f": {err}" if isinstance(err, exc.NoSuchModuleError) else ""
        raise StoreError(
            f"THRIVE_DATABASE_URL is not a database URL Thrive can use ({shown(url)}{why}).",
            fix="Set it to postgresql+psycopg://user:password@host/thrive, with any '@', ':', "
            "'/' or '%' in the password percent-encoded, or unset it for SQLite.",
        ) from err
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite's own BEGIN handling off: ours below
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA synchronous = FULL")  # a committed message survives a power cut
            cur.execute("PRAGMA secure_delete = ON")  # deleted data is overwritten, not left
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _migrate(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    if conn.dialect.name == "postgresql":
        # Replicas starting at once: one migrates, the others wait and then find it done.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7463824)"))
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, "head")
    except CommandError as err:  # e.g. a revision this version does not know
        raise StoreError(
            f"The database was written by a newer version of Thrive ({err}).",
            fix="Upgrade Thrive (pip install -U thrive-coach), or point THRIVE_DATA_DIR / "
            "THRIVE_DATABASE_URL at another database.",
        ) from err


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_file(engine: Engine) -> Path:
    return Path(str(engine.url.database))


@contextmanager
def _translated(engine: Engine, url: str) -> Iterator[None]:
    try:
        yield
    except exc.SQLAlchemyError as err:
        raise _store_error(engine, url, err) from err


def _store_error(engine: Engine, url: str, err: exc.SQLAlchemyError) -> StoreError:
    orig = getattr(err, "orig", None)
    if _is_sqlite(engine):
        path = _sqlite_file(engine)
        text = str(orig or err)
        if isinstance(orig, sqlite3.OperationalError):
            if "locked" in text or "busy" in text:
                return StoreError(
                    f"The data file {path} is busy ({text}).",
                    fix="Try again; if it keeps happening, stop other Thrive processes that "
                    "use the same THRIVE_DATA_DIR.",
                )
            if "unable to open" in text or "readonly" in text or "disk I/O" in text:
                return StoreError(
                    f"Cannot write to {path.parent} ({text}).",
                    fix="Set THRIVE_DATA_DIR to a writable folder.",
                )
        if isinstance(orig, sqlite3.DatabaseError) and not isinstance(orig, sqlite3.IntegrityError):
            return StoreError(
                f"The data file {path} cannot be read ({text}).",
                fix=f"Move it aside (it is kept as it is) and restart: mv {path} {path}.broken",
            )
        return StoreError(f"The data file {path} refused a change ({text}).", fix=_REPORT)
    if isinstance(err, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return StoreError(
            f"Cannot reach the database at {shown(url)} ({_first_line(orig or err)}).",
            fix="Check that PostgreSQL is running and that THRIVE_DATABASE_URL names it "
            "(host, port, user, password, database).",
        )
    return StoreError(
        f"The database at {shown(url)} refused a change ({_first_line(orig or err)}).",
        fix=_REPORT,
    )


_REPORT = "Try again; if it keeps happening, report it with this message."


def _first_line(err: object) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
