"""A real PostgreSQL 15 for the storage tests, started once per session on loopback.

`initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres` user
(`runuser`) in a temporary folder that user owns, which also holds the server's socket.
Each test gets a database of its own. Missing binaries skip the PostgreSQL half with the fix
(`apt-get install postgresql`); any other failure to start is an error, not a skip.

`user_db` is the fixture the storage suite uses: every test that takes it runs twice, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("THRIVE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    root: Path
    port: int
    as_postgres: list[str]  # the command prefix that runs a program as the server's owner

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, timeout=120
        )
        if done.returncode:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}\n{tail}")

    @classmethod
    def start(cls) -> PostgresServer:
        root = Path(tempfile.mkdtemp(prefix="thrive-pg-"))  # not under pytest's 0700 tmp
        as_postgres: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(root, owner.pw_uid, owner.pw_gid)
            as_postgres = ["runuser", "-u", "postgres", "--"]
        server = cls(root, 0, as_postgres)
        try:
            server._run(
                str(PG_BIN / "initdb"),
                "-D",
                str(server.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            )
            for _attempt in range(3):  # a free port can be taken between the check and start
                server.port = _free_port()
                # fsync off for speed: the crash tests kill clients, never this server.
                options = (
                    f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 "
                    "-c max_connections=200 -c fsync=off"
                )
                try:
                    server._run(
                        str(PG_BIN / "pg_ctl"),
                        "-D",
                        str(server.data),
                        "-l",
                        str(root / "server.log"),
                        "-o",
                        options,
                        "-w",
                        "-t",
                        "60",
                        "start",
                    )
                    break
                except RuntimeError:
                    if _attempt == 2:
                        raise
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return server

    def stop(self) -> None:
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL 15 server on 127.0.0.1 for this session, stopped and removed after."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(
            f"PostgreSQL 15 is not installed ({PG_BIN} has no initdb/pg_ctl): "
            "apt-get install postgresql"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("No `postgres` user to run PostgreSQL as: apt-get install postgresql")
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class UserDb:
    """Where a storage test keeps its data: `kind` is "sqlite" or "postgresql"."""

    kind: str
    data_dir: Path
    url: str | None

    def open(self, user_id: str = "local"):  # type: ignore[no-untyped-def]
        from thrive.base.storage import UserData

        return UserData(self.data_dir, user_id=user_id, database_url=self.url)


@pytest.fixture(params=["sqlite", "postgresql"])
def user_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UserDb]:
    """An empty database of each kind: SQLite under tmp_path, or a new PostgreSQL database."""
    from thrive.base.storage import dispose_all

    name = None
    url = None
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        name = server.create_database()
        url = server.url(name)
    try:
        yield UserDb(request.param, tmp_path / "data", url)
    finally:
        dispose_all()  # close the pools, so the database can be dropped
        if name is not None:
            server.drop_database(name)
