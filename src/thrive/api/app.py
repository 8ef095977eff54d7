"""`create_app(settings)`: the FastAPI app of `thrive serve-api`, and its error answers.

Errors are translated here, at the edge, like the CLI does: Thrive's errors become a status
and the message with its fix; nothing answers with a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from thrive.api.routes import Unauthorized, error_body, health, v1
from thrive.base.errors import (
    BackendUnavailable,
    ConfigurationError,
    InputError,
    StoreError,
    ThriveError,
)
from thrive.base.settings import Settings, load_settings
from thrive.coaching.coach import Coach

MAX_BODY_BYTES = 1_000_000  # a question, a profile and a history fit many times over

# Most specific first: the first class an error is an instance of decides its status.
STATUS: list[tuple[type[ThriveError], int]] = [
    (Unauthorized, 401),
    (InputError, 422),
    (StoreError, 503),
    (BackendUnavailable, 503),
    (ConfigurationError, 500),
]

log = logging.getLogger("thrive.api")


def status_for(err: ThriveError) -> int:
    return next((code for cls, code in STATUS if isinstance(err, cls)), 500)


def _thrive_error(_request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ThriveError)
    code = status_for(err)
    if code >= 500:
        log.warning("%s: %s", type(err).__name__, err)
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    return JSONResponse(error_body(err), status_code=code, headers=headers)


def _describe(error: dict[str, Any]) -> str:
    """One pydantic error as a reader would say it: "question: Field required"."""
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON"
    return f"{where}: {error.get('msg')}" if where else str(error.get("msg"))


def _invalid_body(_request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    problems = "; ".join(_describe(e) for e in err.errors())
    wrong = InputError(
        f"The request is not valid: {problems}.",
        fix='Send JSON like {"question": "Am I at risk?"}; see /docs for every route.',
    )
    return JSONResponse(error_body(wrong), status_code=422)


def _http_error(_request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, HTTPException)
    fixes = {
        413: f"Send at most {MAX_BODY_BYTES:,} bytes.",
        404: "See /docs for the routes.",
        405: "See /docs for each route's method.",
    }
    fix = fixes.get(err.status_code)
    message = f"{err.detail}."
    body = {"detail": f"{message} {fix}" if fix else message, "message": message, "fix": fix}
    return JSONResponse(body, status_code=err.status_code, headers=err.headers)


def _unexpected(_request: Request, err: Exception) -> JSONResponse:
    log.error("Unexpected error", exc_info=err)  # the traceback goes to the log only
    wrong = ThriveError(
        "The server failed to answer.", fix="Try again; the server's log has the details."
    )
    return JSONResponse(error_body(wrong), status_code=500)


def create_app(settings: Settings, coach: Coach | None = None) -> FastAPI:
    """The API over one `Coach` (built from `settings` unless given), shared by every
    request; with `settings.api_token`, every route but /healthz needs that bearer token."""
    app = FastAPI(
        title="Thrive",
        summary="Coaching for freelancers facing generative AI, grounded in a guide.",
        version="1",
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.coach = coach or Coach.from_settings(settings)
    token = settings.api_token
    app.state.api_token = (token.get_secret_value() if token else "") or None
    app.include_router(health)
    app.include_router(v1)
    app.add_exception_handler(ThriveError, _thrive_error)
    app.add_exception_handler(RequestValidationError, _invalid_body)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    return app


def from_environment() -> FastAPI:
    """The app over settings from the environment, its coach loaded: what `thrive serve-api`
    hands uvicorn as a factory. Loading first means a missing index is reported before the
    port opens, and the first question is as fast as the rest once /healthz answers."""
    settings = load_settings()
    coach = Coach.from_settings(settings)
    coach.backend  # noqa: B018 - building it checks keys, URLs and model files
    coach.warm_up()
    coach.warm_up_tools()
    return create_app(settings, coach)
