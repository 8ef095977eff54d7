"""A tiny OpenAI-compatible server for tests, whose faults a test sets.

It speaks just enough of the protocol for the real `openai` client (and langchain-openai's
`ChatOpenAI` on top of it): `GET /v1/models` and `POST /v1/chat/completions`, streamed as
server-sent events or not. Each request is counted, so a test can assert how many attempts
the product made. Faults (`FaultServer.behave`):

    ok         answer normally
    slow       wait `delay` seconds before answering (and between streamed tokens)
    429        Too Many Requests with `Retry-After: <retry_after>`
    500        an internal server error
    malformed  200 with a body that is not JSON (or SSE events that are not)
    cut        a stream that stops after `tokens` pieces, with no finish and no [DONE]
               (not streamed: a body shorter than its Content-Length, then the socket closes)
    stall      a stream that sends `tokens` pieces, then nothing more (until the test ends)
    hang       read the request, then never answer (until the test ends)
    echo_key   500 whose body repeats the request's Authorization header (a leaky proxy)

`fail_times=N` makes only the first N chat requests fail, then answer normally. "Down"
is `FaultServer.stop()`: the port is closed and a connection is refused.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = (
    "Niche down into work that needs your judgement [strategy-2], and use GenAI as a "
    "tool for the routine parts [strategy-3]."
)


@dataclass
class Behaviour:
    kind: str = "ok"
    delay: float = 0.0
    retry_after: str = "1"
    tokens: int = 3
    fail_times: int | None = None  # None: every request
    model_ids: list[str] = field(default_factory=lambda: ["fault-model"])
    answer: str = ANSWER


class FaultServer:
    """Runs on 127.0.0.1 on a free port in a thread; `url` is its `/v1` base URL."""

    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.chat_requests: list[dict[str, Any]] = []  # bodies, in order
        self.model_requests = 0
        self.authorizations: list[str] = []  # each request's Authorization header
        self._released = threading.Event()  # ends hanging requests
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self._stopped = False

    def behave(self, kind: str = "ok", **params: Any) -> FaultServer:
        """Set how the next requests are answered (see the module's docstring)."""
        self.behaviour = Behaviour(kind=kind, **params)
        return self

    @property
    def attempts(self) -> int:
        """How many chat completions were requested."""
        return len(self.chat_requests)

    def stop(self) -> None:
        """Close the port: the server is down."""
        if self._stopped:
            return
        self._stopped = True
        self._released.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- used by the handler --------------------------------------------------------------

    def _record(self, body: dict[str, Any]) -> Behaviour:
        """Count the request and say how to answer it."""
        with self._lock:
            self.chat_requests.append(body)
            behaviour = self.behaviour
            n = len(self.chat_requests)
        if behaviour.fail_times is not None and n > behaviour.fail_times:
            return Behaviour(kind="ok", model_ids=behaviour.model_ids, answer=behaviour.answer)
        return behaviour


def _handler(server: FaultServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            server.authorizations.append(self.headers.get("Authorization", ""))
            if self.path.rstrip("/") != "/v1/models":
                return self._json(404, {"error": {"message": "not found"}})
            server.model_requests += 1
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "tests"}
                for m in server.behaviour.model_ids
            ]
            self._json(200, {"object": "list", "data": data})

        def do_POST(self) -> None:
            server.authorizations.append(self.headers.get("Authorization", ""))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._json(404, {"error": {"message": "not found"}})
            body = json.loads(raw or b"{}")
            b = server._record(body)
            stream = bool(body.get("stream"))
            if b.kind == "hang":
                server._released.wait(60)
                self.close_connection = True
                return
            if b.kind == "slow":
                time.sleep(b.delay)
            if b.kind == "429":
                return self._json(
                    429,
                    {"error": {"message": "Rate limit reached", "type": "rate_limit"}},
                    {"Retry-After": b.retry_after},
                )
            if b.kind == "500":
                return self._json(500, {"error": {"message": "The model crashed"}})
            if b.kind == "echo_key":
                seen = self.headers.get("Authorization", "")
                return self._json(500, {"error": {"message": f"bad upstream for {seen}"}})
            if b.kind == "malformed":
                kind = "text/event-stream" if stream else "application/json"
                payload = b"data: {not json\n\n" if stream else b'{"id": "x", "choices": [{'
                return self._raw(200, kind, payload)
            if stream:
                return self._stream(body, b)
            if b.kind == "cut":
                payload = json.dumps(_completion(body, b.answer)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self._json(200, _completion(body, b.answer))

        def _stream(self, body: dict[str, Any], b: Behaviour) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            # No length and no chunking: the body ends when the connection closes, so a
            # cut stream looks to the client like a stream that simply ended.
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            words = [w + " " for w in b.answer.split(" ")]
            if b.kind in ("cut", "stall"):
                words = words[: b.tokens]
            model = body.get("model", "fault-model")
            for word in words:
                self._event(_chunk(model, {"content": word}, None))
                if b.kind == "slow":
                    time.sleep(b.delay)
            if b.kind == "cut":
                return
            if b.kind == "stall":
                server._released.wait(60)
                return
            self._event(_chunk(model, {}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _event(self, data: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            self._raw(status, "application/json", json.dumps(data).encode(), headers)

        def _raw(
            self, status: int, kind: str, payload: bytes, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()

    return Handler


def _chunk(model: str, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(body: dict[str, Any], answer: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fault",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fault-model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
