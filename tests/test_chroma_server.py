"""Thrive against a real Chroma server (`chroma run` of the same chromadb release) on loopback:
ingest, retrieval and the chain through `chromadb.HttpClient`, one index shared by two
processes, the ingest lock kept in the server, and one clear message for a server that is
down or of another release."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import chromadb
import pytest

from conftest import make_settings
from page_driver import free_port, stop, wait_until_up
from reliability.index_tools import RARE, add_rare_section, thrive
from thrive.base.errors import StoreError
from thrive.coaching.coach import Coach
from thrive.knowledge.ingest import ingest
from thrive.knowledge.retrieval import GuideSearcher
from thrive.knowledge.store import SharedLock, connect

pytestmark = pytest.mark.integration
QUESTION = "Will clients pay me less because of AI?"


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free loopback port, for the whole session."""
    port = free_port()
    chroma = Path(sys.executable).parent / "chroma"
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("w")
    args = ["run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [str(chroma), *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one below
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # The heartbeat answers with a JSON object.
        wait_until_up(f"{url}/api/v2/heartbeat", proc, path / "server.log", 90, expect=b"{")
        yield url
    finally:
        stop(proc)
        log.close()


@pytest.fixture()
def server_settings(tmp_path, chroma_url):
    """A private corpus, and a collection of its own in the shared server."""
    return make_settings(
        tmp_path, chroma_url=chroma_url, collection=f"guide-{uuid.uuid4().hex[:10]}"
    )


def test_ingest_retrieval_and_the_chain_run_against_the_server(server_settings):
    report = ingest(server_settings)
    assert report.rebuilt and report.added > 21
    assert not (server_settings.vectorstore_dir / "chroma.sqlite3").exists()  # not embedded
    result = GuideSearcher.open(server_settings).search(QUESTION)
    assert "threat-3" in result.section_ids[:3]
    answer = Coach.from_settings(server_settings, llm="extractive").ask(QUESTION)
    assert not answer.refused and answer.citations and answer.backend == "extractive"
    assert "threat-3" in answer.retrieved[:3]
    # the BM25 index is cached on this host, keyed by the server, not in vectorstore/
    assert list((server_settings.data_dir / "cache").glob("bm25-*/guide-*@*/manifest.json"))
    assert ingest(server_settings).embedded == 0


def test_an_ingest_in_another_process_is_seen_at_the_next_question(server_settings):
    ingest(server_settings)
    coach = Coach.from_settings(server_settings, llm="extractive")
    assert f"{RARE}-pricing" not in coach.ask(f"How do I price {RARE} clients?").retrieved
    add_rare_section(server_settings)
    done = thrive(server_settings, "ingest")
    assert done.returncode == 0, done.stderr
    assert server_settings.chroma_url in done.stdout and "1 added" in done.stdout
    assert coach.ask(f"How do I price {RARE} clients?").retrieved[0] == f"{RARE}-pricing"


def test_an_ingest_here_is_answered_from_another_process(server_settings):
    add_rare_section(server_settings)
    ingest(server_settings)
    ask = thrive(server_settings, "ask", f"How do I price {RARE} clients?", "--json")
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["retrieved"][0] == f"{RARE}-pricing"


def test_the_ingest_lock_lives_in_the_server(server_settings):
    client = connect(server_settings)
    here, elsewhere = SharedLock(client, server_settings.collection), None
    assert here.acquire(timeout=0)
    try:
        # another host: its own client, its own owner id
        elsewhere = SharedLock(connect(server_settings), server_settings.collection)
        assert not elsewhere.acquire(timeout=0)
        waited = []
        with pytest.raises(StoreError, match="Another ingest"):
            ingest(server_settings, wait_s=1, on_wait=lambda: waited.append(True))
        assert waited == [True]
    finally:
        here.release()
    assert elsewhere.acquire(timeout=0)
    elsewhere.release()
    assert ingest(server_settings, wait_s=5).rebuilt


def test_a_lock_whose_owner_died_expires(server_settings):
    dead = SharedLock(connect(server_settings), server_settings.collection)
    dead._write("gone-host:1:dead", time.time() - 1)  # as a SIGKILLed owner leaves it
    assert SharedLock(connect(server_settings), server_settings.collection).acquire(timeout=0)


# -- servers Thrive cannot use ---------------------------------------------------------------


class FakeChroma(BaseHTTPRequestHandler):
    """Answers like a Chroma server of another release (or with 404 on the v2 API)."""

    version = "0.4.24"
    v2 = True
    seen_headers: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        type(self).seen_headers.append(dict(self.headers))
        routes = {
            "/api/v2/heartbeat": {"nanosecond heartbeat": time.time_ns()},
            "/api/v2/version": self.version,
            "/api/v2/auth/identity": {
                "user_id": "",
                "tenant": "default_tenant",
                "databases": ["default_database"],
            },
            "/api/v2/tenants/default_tenant": {"name": "default_tenant"},
            "/api/v2/tenants/default_tenant/databases/default_database": {
                "id": str(uuid.uuid4()),
                "name": "default_database",
                "tenant": "default_tenant",
            },
        }
        if not self.v2 or self.path not in routes:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"detail": "Not Found"}')
            return
        body = json.dumps(routes[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def fake_server() -> Iterator[tuple[str, type[FakeChroma]]]:
    handler = type("Fake", (FakeChroma,), {"seen_headers": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_of_another_release_gets_one_clear_message(tmp_path, fake_server):
    url, handler = fake_server
    settings = make_settings(tmp_path, chroma_url=url, chroma_token="s3cret-token")
    with pytest.raises(StoreError, match=r"runs release 0\.4\.24") as caught:
        Coach.from_settings(settings, llm="extractive").ask(QUESTION)
    assert f"chromadb {chromadb.__version__}" in str(caught.value)
    assert "s3cret-token" not in str(caught.value)
    # the token reached the server as a header, for a proxy in front of it
    assert any(h.get("Authorization") == "Bearer s3cret-token" for h in handler.seen_headers)
    ask = thrive(settings, "ask", QUESTION)
    assert ask.returncode == 1 and "runs release 0.4.24" in ask.stderr
    assert "Traceback" not in ask.stderr


def test_a_server_without_the_v2_api_gets_one_clear_message(tmp_path, fake_server):
    url, handler = fake_server
    handler.v2 = False
    settings = make_settings(tmp_path, chroma_url=url)
    with pytest.raises(StoreError, match="does not speak Chroma's v2 API"):
        ingest(settings)


def test_a_server_that_is_down_gets_one_clear_message(tmp_path):
    settings = make_settings(tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="Cannot reach the Chroma server") as caught:
        Coach.from_settings(settings, llm="extractive").ask(QUESTION)
    assert "chroma run" in str(caught.value)
    ask = thrive(settings, "ask", QUESTION)
    assert ask.returncode == 1 and "Cannot reach the Chroma server" in ask.stderr
    assert "Traceback" not in ask.stderr
