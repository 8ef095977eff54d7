"""The routes of `thrive serve-api`. Thin, like the CLI: read the body, call the `Coach`,
answer with the CLI's JSON.

Routes are plain functions, so FastAPI runs each in its threadpool: the Coach blocks
(retrieval, the model) and must not stall the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, format_sse_event

from thrive.api.models import (
    AnswerOut,
    AskRequest,
    ErrorOut,
    ExposureOut,
    ExposureRequest,
    HealthOut,
    NicheOut,
    NichesRequest,
)
from thrive.base.errors import ThriveError
from thrive.coaching.coach import AnswerStream, Coach

log = logging.getLogger("thrive.api")
_bearer = HTTPBearer(auto_error=False, description="THRIVE_API_TOKEN, when the server sets one")


class Unauthorized(ThriveError):
    """No token, or not the server's."""


def error_body(err: ThriveError) -> dict[str, Any]:
    return {"detail": str(err), "message": err.message, "fix": err.fix}


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    expected: str | None = request.app.state.api_token
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    # compare_digest: the time taken does not tell how much of a guess was right.
    if not (given and secrets.compare_digest(given.encode(), expected.encode())):
        what = "The token is wrong." if given else "This API needs a token."
        raise Unauthorized(what, fix="Send the header 'Authorization: Bearer <THRIVE_API_TOKEN>'.")


def _coach(request: Request) -> Coach:
    coach: Coach = request.app.state.coach
    return coach


CoachDep = Annotated[Coach, Depends(_coach)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (401, 413, 422, 500, 503)
}

health = APIRouter()
v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_token)], responses=_ERRORS)


@health.get("/healthz", response_model=HealthOut, tags=["health"])
def healthz() -> dict[str, str]:
    """Up and answering (no token needed)."""
    return {"status": "ok"}


@v1.post(
    "/ask",
    response_model=AnswerOut,
    tags=["coach"],
    responses={200: {"content": {"text/event-stream": {}}}},
)
def ask(body: AskRequest, coach: CoachDep) -> Response:
    """The answer as `thrive ask --json` prints it; with `"stream": true` as server-sent
    events: `token` events (each a JSON string), then `answer` with the same JSON."""
    if not body.stream:
        answer = coach.ask(body.question, profile=body.profile, history=body.history)
        return JSONResponse(answer.to_json())
    # Bad input fails here, before the first event, as a 422 like the JSON route's.
    stream = coach.stream(body.question, profile=body.profile, history=body.history)
    return EventSourceResponse(_relay(_events(stream)))


def _event(name: str, data: object) -> bytes:
    return format_sse_event(event=name, data_str=json.dumps(data, ensure_ascii=False))


def _events(stream: AnswerStream) -> Iterator[bytes]:
    try:
        for piece in stream:
            yield _event("token", piece)
    except ThriveError as err:  # the status is sent already: the error is the last event
        yield _event("error", error_body(err))
        return
    assert stream.answer is not None
    yield _event("answer", stream.answer.to_json())


async def _relay(events: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The events as one thread of their own makes them, sent in as few writes as they come.
    (Iterated from the threadpool instead, each token cost a round trip through it: under
    20 users a streamed answer took seconds where the same answer as JSON took one.)"""
    loop = asyncio.get_running_loop()
    ready: asyncio.Queue[bytes | None] = asyncio.Queue()
    gone = threading.Event()

    def hand_over(item: bytes | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is stopping
            loop.call_soon_threadsafe(ready.put_nowait, item)

    def produce() -> None:
        try:
            for event in events:
                if gone.is_set():  # the client left: stop generating for nobody
                    return
                hand_over(event)
        except Exception:
            log.exception("A streamed answer failed")
            failed = ThriveError(
                "The server failed to answer.", fix="Try again; the server's log has the details."
            )
            hand_over(_event("error", error_body(failed)))
        finally:
            hand_over(None)

    threading.Thread(target=produce, name="thrive-stream", daemon=True).start()
    try:
        while True:
            batch = [await ready.get()]
            while not ready.empty():
                batch.append(ready.get_nowait())
            data = b"".join(item for item in batch if item is not None)
            if data:
                yield data
            if batch[-1] is None:  # the producer's last word
                return
    finally:
        gone.set()


@v1.post("/exposure", response_model=list[ExposureOut], tags=["tools"])
def exposure(body: ExposureRequest, coach: CoachDep) -> Response:
    """Each skill's exposure to generative AI, as `thrive exposure --json` prints it."""
    return JSONResponse([row.to_json() for row in coach.exposure(body.skills)])


@v1.post("/niches", response_model=list[NicheOut], tags=["tools"])
def niches(body: NichesRequest, coach: CoachDep) -> Response:
    """At least three niches for the profile, as `thrive niches --json` prints them."""
    return JSONResponse(coach.niches(body.profile).to_json())
